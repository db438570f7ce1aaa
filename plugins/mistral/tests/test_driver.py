"""The Mistral driver against the loopback server, through the real ``mistralai`` SDK."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from mistral_wire import chunk, error_body, error_reply, stream_reply

from janito_core import Message, Tool
from janito_core import events as ev
from janito_core.errors import BadRequestError, InvalidRequestError
from janito_core.messages import ToolCall
from janito_core.testing import client_threads, events_of, kinds_of, text_of, validate_events
from janito_core.testing.scenario import Call, Reasoning, Scenario, Silence, Text
from janito_core.testing.server import Drop, Reply, Send, Stall
from janito_core.usage import Usage

USAGE = {"prompt_tokens": 9, "total_tokens": 13, "completion_tokens": 4}


def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


def get_time(city: str) -> str:
    """The time in a city."""
    return f"noon in {city}"


WEATHER = Tool.from_function(get_weather)
TIME = Tool.from_function(get_time)


def whole_call(call_id: str, name: str, arguments: str, index: int | None = None) -> dict:
    call: dict = {"id": call_id, "function": {"name": name, "arguments": arguments}}
    if index is not None:
        call["index"] = index
    return call


def fragment(arguments: str, *, id: str | None = None, name: str = "") -> dict:
    """A delta holding one piece of a streamed tool call at index 0."""
    call: dict = {
        "type": "function",
        "index": 0,
        "function": {"name": name, "arguments": arguments},
    }
    if id is not None:
        call["id"] = id
    return {"tool_calls": [call]}


def thinking(text: str) -> dict:
    """A delta whose content is one Magistral thinking chunk."""
    return {"content": [{"type": "thinking", "thinking": [{"type": "text", "text": text}]}]}


def done_reply(text: str = "Done.") -> Reply:
    return stream_reply([chunk({"content": text}, finish_reason="stop", usage=USAGE)])


# -- requests and plain text ---------------------------------------------------------------


def test_text_stream_request_shape_and_usage(server, make_driver, run):
    server.enqueue(
        stream_reply(
            [
                chunk({"role": "assistant", "content": ""}),
                chunk({"content": "Hello"}),
                chunk({"content": ", world"}),
                chunk(
                    {"content": ""},
                    finish_reason="stop",
                    usage={**USAGE, "prompt_tokens_details": {"cached_tokens": 5}},
                ),
            ]
        )
    )
    driver = make_driver(base_url=server.url + "/v1/")
    events = run(
        driver.stream_generate(
            "Say hello",
            system_prompt="Be brief.",
            temperature=0.2,
            max_tokens=64,
            top_p=0.9,
            seed=7,
            stop=["END"],
        )
    )
    assert text_of(events) == "Hello, world"
    finished = events[-1]
    assert finished.status == "completed" and finished.finish_reason == "stop"
    assert finished.usage.input_tokens == 9
    assert finished.usage.output_tokens == 4
    assert finished.usage.total_tokens == 13
    assert finished.usage.cached_input_tokens == 5

    (request,) = server.requests
    assert request.method == "POST" and request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {driver.config.api_key}"
    assert request.headers["accept"] == "text/event-stream"
    body = request.json
    assert body["stream"] is True
    assert body["model"] == "mistral-small-latest"
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Say hello"},
    ]
    assert body["temperature"] == 0.2
    assert body["max_tokens"] == 64
    assert body["top_p"] == 0.9
    assert body["random_seed"] == 7
    assert body["stop"] == ["END"]
    assert "tools" not in body


def test_options_are_checked_at_the_call(server, make_driver):
    driver = make_driver()
    with pytest.raises(InvalidRequestError, match="Unknown option 'temprature'"):
        driver.stream_generate("hi", temprature=0.1)
    with pytest.raises(InvalidRequestError, match="'stream'"):
        driver.stream_generate("hi", stream=False)
    assert server.requests == []


# -- tool calls ----------------------------------------------------------------------------


def test_tool_round_trip_sends_results_with_ids_and_names(server, make_driver, run):
    server.enqueue(
        stream_reply(
            [
                chunk({"role": "assistant", "content": ""}),
                chunk(
                    {
                        "content": None,
                        "tool_calls": [whole_call("qDEcl0n92", "get_weather", '{"city": "Paris"}')],
                    },
                    finish_reason="tool_calls",
                    usage=USAGE,
                ),
            ]
        ),
        done_reply("It is sunny."),
    )
    events = run(make_driver().stream_generate("Weather in Paris?", tools=[WEATHER]))
    (started,) = events_of(events, ev.ToolCallStarted)
    assert (started.tool_call_id, started.name, started.arguments) == (
        "qDEcl0n92",
        "get_weather",
        {"city": "Paris"},
    )
    (finished,) = events_of(events, ev.ToolCallFinished)
    assert finished.result == "sunny in Paris"
    assert text_of(events) == "It is sunny."
    assert events[-1].usage.input_tokens == 18

    first, second = server.requests
    assert first.json["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "The weather in a city.",
                "parameters": WEATHER.parameters,
            },
        }
    ]
    messages = second.json["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "tool"]
    assistant, tool = messages[1], messages[2]
    assert assistant["tool_calls"] == [
        {
            "id": "qDEcl0n92",
            "type": "function",
            "index": 0,
            "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
        }
    ]
    assert tool == {
        "role": "tool",
        "tool_call_id": "qDEcl0n92",
        "name": "get_weather",
        "content": "sunny in Paris",
    }


@pytest.mark.parametrize("with_index", [True, False], ids=["indexed", "no-index"])
def test_two_whole_calls_in_one_delta(server, make_driver, run, with_index):
    calls = [
        whole_call("aaaaaaaa1", "get_weather", '{"city": "Paris"}', 0 if with_index else None),
        whole_call("bbbbbbbb2", "get_time", '{"city": "Rome"}', 1 if with_index else None),
    ]
    server.enqueue(
        stream_reply([chunk({"content": "", "tool_calls": calls}, finish_reason="tool_calls")]),
        done_reply(),
    )
    events = run(make_driver().stream_generate("Both please", tools=[WEATHER, TIME]))
    results = [(e.tool_call_id, e.name, e.result) for e in events_of(events, ev.ToolCallFinished)]
    assert results == [
        ("aaaaaaaa1", "get_weather", "sunny in Paris"),
        ("bbbbbbbb2", "get_time", "noon in Rome"),
    ]
    tool_messages = [m for m in server.requests[1].json["messages"] if m["role"] == "tool"]
    assert [(m["tool_call_id"], m["name"]) for m in tool_messages] == [
        ("aaaaaaaa1", "get_weather"),
        ("bbbbbbbb2", "get_time"),
    ]


def test_fragmented_tool_call_is_accumulated_by_index(server, make_driver, run):
    # A relayed model: the continuation deltas have no id and an empty name.
    server.enqueue(
        stream_reply(
            [
                chunk(fragment("", id="chatcmpl-tool-9f1", name="get_weather")),
                chunk(fragment('{"city": ')),
                chunk(fragment('"Oslo"}')),
                chunk({"content": ""}, finish_reason="tool_calls", usage=USAGE),
            ]
        ),
        done_reply(),
    )
    events = run(make_driver().stream_generate("Oslo?", tools=[WEATHER]))
    (started,) = events_of(events, ev.ToolCallStarted)
    assert (started.tool_call_id, started.name, started.arguments) == (
        "chatcmpl-tool-9f1",
        "get_weather",
        {"city": "Oslo"},
    )
    # Sent back under an id Mistral accepts (nine letters or digits), the same on both sides.
    messages = server.requests[1].json["messages"]
    sent_id = messages[1]["tool_calls"][0]["id"]
    assert len(sent_id) == 9 and sent_id.isalnum()
    assert messages[2]["tool_call_id"] == sent_id
    assert messages[1]["tool_calls"][0]["function"]["arguments"] == '{"city": "Oslo"}'


def test_text_and_calls_keep_response_order(server, make_driver, adapter, run):
    scenario = Scenario(
        steps=(
            Text("Let me check. "),
            Call(name="get_weather", arguments='{"city": "Paris"}'),
            Text("Meanwhile..."),
        ),
        finish_reason="tool_calls",
    )
    server.enqueue(adapter.reply(scenario), done_reply(" Sunny."))
    events = run(make_driver().stream_generate("Paris?", tools=[WEATHER]))
    first_request = [
        e
        for e in events
        if isinstance(e, (ev.ContentPartFound, ev.ToolCallStarted, ev.ToolCallFinished))
        and e.request_id == events[1].request_id
    ]
    assert [
        (type(e).__name__, getattr(e, "content_part", getattr(e, "name", None)))
        for e in first_request
    ] == [
        ("ContentPartFound", "Let me check. "),
        ("ToolCallStarted", "get_weather"),
        ("ToolCallFinished", "get_weather"),
        ("ContentPartFound", "Meanwhile..."),
    ]
    assistant = events[-1].messages[0]
    assert assistant.content == "Let me check. Meanwhile..."
    assert adapter.tool_results(server.requests[1]) == [("get_weather", "sunny in Paris")]


def test_history_with_foreign_ids_is_sent_with_mistral_ids(server, make_driver, run):
    server.enqueue(done_reply())
    call = ToolCall(id="call_0123456789ab", name="get_weather", arguments={"city": "Lima"})
    history = [
        Message.user("Lima?"),
        Message.assistant("", tool_calls=(call,)),
        Message.tool_result("call_0123456789ab", "get_weather", "sunny in Lima"),
    ]
    run(make_driver().stream_generate(messages=history, tools=[WEATHER]))
    messages = server.requests[0].json["messages"]
    sent = messages[1]["tool_calls"][0]
    assert len(sent["id"]) == 9 and sent["id"].isalnum()
    assert sent["function"]["arguments"] == '{"city": "Lima"}'
    assert messages[2]["tool_call_id"] == sent["id"]


# -- content chunks and reasoning -----------------------------------------------------------


def test_thinking_chunks_become_reasoning_events(server, make_driver, adapter, run):
    text_chunk = {"content": [{"type": "text", "text": "Look both ways."}]}
    server.enqueue(
        stream_reply(
            [
                chunk(thinking("The user")),
                chunk(thinking(" asks.")),
                chunk(text_chunk),
                chunk({"content": " Then cross."}, finish_reason="stop", usage=USAGE),
            ]
        )
    )
    events = run(make_driver(model="magistral-medium-latest").stream_generate("How?"))
    kinds = [type(e).__name__ for e in events[2:-2]]
    assert kinds == [
        "ReasoningPartFound",
        "ReasoningPartFound",
        "ContentPartFound",
        "ContentPartFound",
    ]
    assert (
        "".join(e.reasoning_part for e in events_of(events, ev.ReasoningPartFound))
        == "The user asks."
    )
    assert text_of(events) == "Look both ways. Then cross."
    assert events[-1].messages[0].reasoning == "The user asks."


def test_reasoning_scenario_through_the_adapter(server, make_driver, adapter, run):
    server.enqueue(adapter.reply(Scenario(steps=(Reasoning("hmm"), Text("ok")))))
    events = run(make_driver().stream_generate("?"))
    assert [e.reasoning_part for e in events_of(events, ev.ReasoningPartFound)] == ["hmm"]
    assert text_of(events) == "ok"


# -- usage ---------------------------------------------------------------------------------


def test_usage_sent_twice_the_last_one_wins(server, make_driver, run):
    early = {"prompt_tokens": 9, "total_tokens": 10, "completion_tokens": 1}
    final = {
        "prompt_tokens": 9,
        "total_tokens": 21,
        "completion_tokens": 12,
        "prompt_tokens_details": {"cached_tokens": 8},
        "service_tier": "standard",
    }
    server.enqueue(
        stream_reply(
            [
                chunk({"content": "Hi"}, usage=early),
                chunk({"content": "!"}, finish_reason="stop", usage=final),
            ]
        )
    )
    events = run(make_driver().stream_generate("hi"))
    expected = Usage(input_tokens=9, output_tokens=12, total_tokens=21, cached_input_tokens=8)
    assert events[-2].usage == expected
    assert events[-1].usage == expected


def test_no_usage_is_marked_missing_not_estimated(server, make_driver, run):
    server.enqueue(stream_reply([chunk({"content": "Hi there"}, finish_reason="stop")]))
    events = run(make_driver().stream_generate("hi"))
    assert events[-1].status == "completed"
    assert events[-1].usage == Usage(missing=True)


@pytest.mark.parametrize(
    "cached",
    [{"num_cached_tokens": 64}, {"prompt_token_details": {"cached_tokens": 64}}],
    ids=["num_cached_tokens", "prompt_token_details"],
)
def test_cached_tokens_in_mistral_s_other_documented_fields(server, make_driver, run, cached):
    server.enqueue(
        stream_reply([chunk({"content": "Hi"}, finish_reason="stop", usage={**USAGE, **cached})])
    )
    events = run(make_driver().stream_generate("hi"))
    assert events[-1].usage.cached_input_tokens == 64


# -- finish reasons ------------------------------------------------------------------------


def test_length_finish_reason(server, make_driver, run):
    server.enqueue(stream_reply([chunk({"content": "Once upon"}, finish_reason="length")]))
    events = run(make_driver().stream_generate("story", max_tokens=2))
    assert events[-1].finish_reason == "length"


def test_error_finish_before_content_is_retried(server, make_driver, run):
    server.enqueue(
        stream_reply([chunk({"content": ""}, finish_reason="error")]),
        done_reply("Recovered."),
    )
    events = run(make_driver().stream_generate("hi"))
    (retry,) = events_of(events, ev.RequestRetry)
    assert "finish_reason 'error'" in retry.error
    assert text_of(events) == "Recovered."
    assert len(server.requests) == 2


def test_error_finish_after_content_is_kept_as_the_finish_reason(server, make_driver, run):
    server.enqueue(
        stream_reply([chunk({"content": "Partial"}), chunk({"content": ""}, finish_reason="error")])
    )
    events = run(make_driver().stream_generate("hi"))
    assert text_of(events) == "Partial"
    assert (events[-1].status, events[-1].finish_reason) == ("completed", "error")


def test_stream_ending_without_finish_reason_is_an_error(server, make_driver, run):
    server.enqueue(stream_reply([chunk({"content": "Half a"})], done=False))
    events = run(make_driver().stream_generate("hi"))
    (error,) = events_of(events, ev.RequestError)
    assert "no end marker or finish reason" in error.error and error.retryable
    assert events[-1].status == "error"
    assert len(server.requests) == 1  # content had been delivered: not retried


# -- HTTP errors ---------------------------------------------------------------------------


def test_401_names_the_key_variable_and_is_not_retried(server, make_driver, run):
    server.set_default(error_reply(401, "Unauthorized"))
    driver = make_driver()
    events = run(driver.stream_generate("hi"))
    (error,) = events_of(events, ev.RequestError)
    assert error.status_code == 401 and not error.retryable
    assert "MISTRAL_API_KEY" in error.error and "Unauthorized" in error.error
    assert driver.config.api_key not in error.error
    assert events[-1].status == "error"
    assert len(server.requests) == 1


def test_429_honours_retry_after_then_succeeds(server, make_driver, run):
    server.enqueue(error_reply(429, "Rate limit exceeded", retry_after=0.2), done_reply("Fine."))
    events = run(make_driver().stream_generate("hi"))
    (retry,) = events_of(events, ev.RequestRetry)
    assert retry.status_code == 429 and retry.delay == pytest.approx(0.2)
    assert "rate_limited" in retry.error
    first, second = server.requests
    assert second.t_start - first.t_start >= 0.2
    assert text_of(events) == "Fine."


def test_429_exhausting_retries_ends_in_error(server, make_driver, run):
    server.set_default(error_reply(429, "Rate limit exceeded"))
    events = run(make_driver(max_retries=1).stream_generate("hi"))
    assert len(events_of(events, ev.RequestRetry)) == 1
    (error,) = events_of(events, ev.RequestError)
    assert error.status_code == 429 and error.retryable
    assert "Rate limit exceeded" in error.error
    assert len(server.requests) == 2


def test_422_says_what_was_invalid(server, make_driver, run):
    server.set_default(error_reply(422, "Field required"))
    events = run(make_driver().stream_generate("hi"))
    (error,) = events_of(events, ev.RequestError)
    assert error.status_code == 422 and not error.retryable
    assert "messages: Field required" in error.error
    assert isinstance(error.exception, BadRequestError)
    assert type(error.exception.__cause__).__name__ == "HTTPValidationError"


def test_400_is_not_retried(server, make_driver, run):
    server.set_default(error_reply(400, "Invalid model: nope"))
    events = run(make_driver(model="nope").stream_generate("hi"))
    (error,) = events_of(events, ev.RequestError)
    assert error.status_code == 400 and not error.retryable
    assert "Invalid model: nope" in error.error
    assert len(server.requests) == 1


def test_503_is_retried(server, make_driver, run):
    server.enqueue(error_reply(503, "Service unavailable"), done_reply("Back."))
    events = run(make_driver().stream_generate("hi"))
    assert [r.status_code for r in events_of(events, ev.RequestRetry)] == [503]
    assert text_of(events) == "Back."


def test_tool_rounds_reuse_the_connection(server, make_driver, run):
    # The body is read to its end after [DONE], so the connection goes back to the pool.
    call = whole_call("qDEcl0n92", "get_weather", '{"city": "Paris"}')
    server.enqueue(
        stream_reply([chunk({"content": None, "tool_calls": [call]}, finish_reason="tool_calls")]),
        done_reply(),
    )
    run(make_driver().stream_generate("Weather in Paris?", tools=[WEATHER]))
    first, second = server.requests
    assert first.connection_id == second.connection_id


# -- errors inside the stream ----------------------------------------------------------------


def test_in_stream_error_before_content_is_described_and_retried(server, make_driver, run):
    overloaded = error_body(503, "Service overloaded, try again")
    server.enqueue(
        stream_reply([chunk({"role": "assistant", "content": ""}), overloaded], done=False),
        done_reply("Recovered."),
    )
    events = run(make_driver().stream_generate("hi"))
    (retry,) = events_of(events, ev.RequestRetry)
    assert "error in the stream" in retry.error and "Service overloaded" in retry.error
    assert "malformed" not in retry.error
    assert text_of(events) == "Recovered."
    assert len(server.requests) == 2


def test_in_stream_error_after_content_is_reported_not_retried(server, make_driver, run):
    overloaded = error_body(503, "Service overloaded, try again")
    server.enqueue(stream_reply([chunk({"content": "Half"}), overloaded], done=False))
    events = run(make_driver().stream_generate("hi"))
    (error,) = events_of(events, ev.RequestError)
    assert "Service overloaded" in error.error and "malformed" not in error.error
    assert error.retryable
    assert text_of(events) == "Half"
    assert len(server.requests) == 1


def test_in_stream_error_that_is_not_passing_is_not_retried(server, make_driver, run):
    invalid = error_body(400, "Prompt contains forbidden words")
    server.enqueue(stream_reply([invalid], done=False), done_reply("never sent"))
    events = run(make_driver().stream_generate("hi"))
    (error,) = events_of(events, ev.RequestError)
    assert "Prompt contains forbidden words" in error.error and not error.retryable
    assert len(server.requests) == 1


# -- broken streams ------------------------------------------------------------------------


@pytest.mark.parametrize("reset", [False, True], ids=["fin", "rst"])
def test_dropped_connection_before_content_is_retried(server, make_driver, run, reset):
    server.enqueue(
        stream_reply([chunk({"role": "assistant", "content": ""}), Drop(reset=reset)]),
        done_reply("Second try."),
    )
    events = run(make_driver().stream_generate("hi"))
    (retry,) = events_of(events, ev.RequestRetry)
    assert retry.error.startswith("the connection to the server at http://127.0.0.1:")
    assert "dropped" in retry.error
    assert text_of(events) == "Second try."


def test_dropped_connection_after_content_is_not_retried(server, make_driver, run):
    server.enqueue(stream_reply([chunk({"content": "Half"}), Drop()]))
    events = run(make_driver().stream_generate("hi"))
    (error,) = events_of(events, ev.RequestError)
    assert error.retryable and "dropped" in error.error
    assert text_of(events) == "Half"
    assert len(server.requests) == 1


def test_read_timeout_is_a_retryable_connection_problem(server, make_driver, run):
    server.enqueue(
        stream_reply([chunk({"role": "assistant", "content": ""}), Stall(5.0)]),
        done_reply("On time."),
    )
    events = run(make_driver(timeout=0.3).stream_generate("hi"))
    (retry,) = events_of(events, ev.RequestRetry)
    assert "timed out after 0.3 s waiting for" in retry.error
    assert text_of(events) == "On time."


def test_malformed_event_is_not_retried(server, make_driver, run):
    server.enqueue(stream_reply([chunk({"content": ""}), Send("data: {this is not json\n\n")]))
    events = run(make_driver().stream_generate("hi"))
    (error,) = events_of(events, ev.RequestError)
    assert not error.retryable and "malformed" in error.error
    assert len(server.requests) == 1


# -- cancellation --------------------------------------------------------------------------


def test_cancel_while_the_stream_is_stalled(server, make_driver, adapter):
    baseline = client_threads()
    server.enqueue(adapter.reply(Scenario(steps=(Text("Thinking about it"), Silence()))))
    stream = make_driver().stream_generate("hi")
    events = []
    for event in stream:
        events.append(event)
        if isinstance(event, ev.ContentPartFound):
            stream.cancel()
    (request,) = server.requests
    assert request.wait_closed(5.0)
    assert request.outcome == "client_disconnected"
    assert stream.join(5.0)
    validate_events(events)
    assert events[-2].status == "cancelled"
    assert events[-1].status == "cancelled"
    assert client_threads() == baseline


def test_cancel_while_waiting_for_the_headers(server, make_driver):
    baseline = client_threads()
    server.enqueue(Reply(status=200, headers_delay=30.0, body=""))
    cancel = threading.Event()
    stream = make_driver().stream_generate("hi", cancel_event=cancel)
    (request,) = server.wait_for_requests(1, timeout=5.0)
    cancel.set()
    events = list(stream)
    assert request.wait_closed(5.0)
    assert request.outcome == "client_disconnected"
    assert stream.join(5.0)
    validate_events(events)
    assert events[-1].status == "cancelled"
    assert client_threads() == baseline


def test_task_cancelled_while_connecting_ends_at_once():
    # No socket may stay behind: the connect is abandoned with the task.
    from janito_driver_mistral.driver import MistralDriver

    from janito_core.testing.backlog import FullBacklog

    if not FullBacklog.available():
        pytest.skip("seeing a connect in progress needs Linux's /proc/net/tcp")
    baseline = client_threads()
    with FullBacklog() as port:
        driver = MistralDriver(api_key="test-key-1234", base_url=port.url, timeout=60.0)

        async def main() -> tuple[list, float]:
            events: list = []

            async def consume() -> None:
                async for event in driver.astream_generate("hi"):
                    events.append(event)

            task = asyncio.ensure_future(consume())
            connecting = await asyncio.to_thread(port.wait_connecting, 10.0)
            assert connecting, "the driver never started connecting"
            cancelled_at = time.monotonic()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            return events, time.monotonic() - cancelled_at

        try:
            events, took = asyncio.run(main())
        finally:
            driver.close()
        assert took < 2.0, f"the task took {took:.2f}s to end"
        assert kinds_of(events) == ["GenerationStarted", "RequestStarted"]
        assert port.wait_none_connecting(2.0), "the socket was still connecting"
    assert client_threads() == baseline


class _CountingExecutor(ThreadPoolExecutor):
    """One worker; counts what is submitted, so a test can wait for the SDK's next hop."""

    def __init__(self) -> None:
        super().__init__(max_workers=1, thread_name_prefix="hops")
        self.calls = 0
        self._changed = threading.Condition()

    def submit(self, fn, /, *args, **kwargs):
        with self._changed:
            self.calls += 1
            self._changed.notify_all()
        return super().submit(fn, *args, **kwargs)

    def wait_calls(self, n: int, timeout: float) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: self.calls >= n, timeout)


def test_cancel_while_the_sdk_runs_its_response_hooks(server, make_driver, adapter):
    # mistralai runs its after-success hooks in the loop's default executor once the response
    # headers are in, before it hands the response over. A cancel there must still close the
    # response: the server sees the connection go at once, not when the driver is closed.
    server.enqueue(adapter.reply(Scenario(steps=(Silence(),))))
    driver = make_driver()
    hops = _CountingExecutor()
    waits = ThreadPoolExecutor(max_workers=1, thread_name_prefix="waits")
    release = threading.Event()

    async def main() -> list:
        loop = asyncio.get_running_loop()
        loop.set_default_executor(hops)
        events: list = []

        async def consume() -> None:
            async for event in driver.astream_generate("hi"):
                events.append(event)

        task = asyncio.ensure_future(consume())
        # The request is on the server: the SDK's before-request hop (call 1) is over.
        await loop.run_in_executor(waits, server.wait_for_requests, 1, 10.0)
        blocker = loop.run_in_executor(hops, release.wait, 10.0)  # call 2 holds the one worker
        queued = await loop.run_in_executor(waits, hops.wait_calls, 3, 10.0)
        assert queued, "the SDK no longer runs a hook in the executor after the response"
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        (request,) = server.requests
        closed = await loop.run_in_executor(waits, request.wait_closed, 2.0)
        release.set()
        await blocker
        assert closed, "the response stayed open after the cancel"
        assert request.outcome == "client_disconnected"
        return events

    try:
        events = asyncio.run(main())
    finally:
        release.set()
        waits.shutdown()
    assert kinds_of(events) == ["GenerationStarted", "RequestStarted"]


# -- packaging -----------------------------------------------------------------------------


def test_plugin_module_does_not_import_the_sdk():
    code = (
        "import sys, janito_driver_mistral.plugin; "
        "print(any(m == 'mistralai' or m.startswith('mistralai.') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_close_refuses_later_requests(server, make_driver, run):
    server.enqueue(done_reply())
    driver = make_driver()
    run(driver.stream_generate("hi"))
    driver.close()
    driver.close()  # a second close does nothing
    events = run(driver.stream_generate("again"))
    (error,) = events_of(events, ev.RequestError)
    assert error.error == "the mistral driver was closed" and not error.retryable
    assert len(server.requests) == 1


def test_missing_key_names_the_variable(monkeypatch):
    from janito_driver_mistral.driver import MistralDriver

    from janito_core.errors import DriverConfigError

    monkeypatch.delenv("MISTRAL_API_KEY", raising=False)
    with pytest.raises(DriverConfigError, match="MISTRAL_API_KEY"):
        MistralDriver()


@pytest.mark.parametrize("url", ["localhost:8000", "ftp://example.com", "http://"])
def test_unusable_base_url_is_refused_at_construction(url):
    from janito_driver_mistral.driver import MistralDriver

    from janito_core.errors import DriverConfigError

    with pytest.raises(DriverConfigError, match="base_url"):
        MistralDriver(api_key="test-key-1234", base_url=url)


def test_request_body_is_json(server, make_driver, run):
    # Non-ASCII text and tool results travel as JSON the server can read back.
    server.enqueue(done_reply("Grüße"))
    events = run(make_driver().stream_generate("Sag Grüße"))
    assert text_of(events) == "Grüße"
    assert json.loads(server.requests[0].body)["messages"][0]["content"] == "Sag Grüße"


def test_refused_connection_is_retried_then_reported(make_driver, run):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    driver = make_driver(base_url=f"http://127.0.0.1:{port}", max_retries=1)
    events = run(driver.stream_generate("hi"))
    assert len(events_of(events, ev.RequestRetry)) == 1
    (error,) = events_of(events, ev.RequestError)
    assert error.retryable and "could not connect to the server at" in error.error


def test_sdk_debug_lines_are_logged_without_the_key(server, make_driver, run, caplog, monkeypatch):
    import logging

    monkeypatch.setenv("MISTRAL_DEBUG", "1")  # would make the SDK configure logging itself
    root_handlers = list(logging.getLogger().handlers)
    caplog.set_level(logging.DEBUG)
    server.enqueue(done_reply())
    driver = make_driver()
    run(driver.stream_generate("hi"))
    sdk_lines = [r.getMessage() for r in caplog.records if r.name == "janito_driver_mistral.driver"]
    assert any("/v1/chat/completions" in line for line in sdk_lines)
    assert all(driver.config.api_key not in r.getMessage() for r in caplog.records)
    assert logging.getLogger().handlers == root_handlers  # no basicConfig behind our back
