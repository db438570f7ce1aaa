"""The Anthropic driver against the loopback server, through the real ``anthropic`` SDK: the
request bodies it sends (system, tools, tool results, thinking sent back, cache points,
reasoning) and how it reads usage and errors."""

from __future__ import annotations

import logging

import pytest
from anthropic_wire import (
    SIGNATURE,
    AnthropicWireAdapter,
    block_events,
    error_reply,
    message_start,
    stream_reply,
)

from janito_core import Message, Tool
from janito_core import events as ev
from janito_core.errors import InvalidRequestError
from janito_core.reasoning import reset_notes
from janito_core.testing import events_of, text_of
from janito_core.testing.scenario import Call, Reasoning, Scenario, Text
from janito_core.testing.server import Reply
from janito_core.usage import Usage

MODEL = AnthropicWireAdapter.model


def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


def get_time(city: str) -> str:
    """The time in a city."""
    raise RuntimeError("no clock here")


WEATHER = Tool.from_function(get_weather)
TIME = Tool.from_function(get_time)


def reply(*steps, **kwargs):
    return AnthropicWireAdapter().reply(Scenario(steps=steps, **kwargs))


def done() -> object:
    return reply(Text("Done."))


# -- the request ------------------------------------------------------------------------------


def test_request_shape(server, make_driver) -> None:
    server.enqueue(done())
    result = make_driver().generate("Hi", system_prompt="Be brief.", tools=[WEATHER])
    assert result.text == "Done."
    request = server.requests[0]
    assert request.path == "/v1/messages"
    headers = {k.lower(): v for k, v in request.headers.items()}
    # The SDK (2.x) sends the API key as a bearer token.
    assert headers["authorization"] == f"Bearer {AnthropicWireAdapter.api_key}"
    assert "anthropic-version" in headers
    body = request.json
    assert body["model"] == MODEL
    assert body["stream"] is True
    assert body["max_tokens"] == 4096
    assert body["system"] == "Be brief."
    assert body["messages"] == [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}]
    (tool,) = body["tools"]
    assert tool["name"] == "get_weather"
    assert tool["description"] == "The weather in a city."
    assert tool["input_schema"]["properties"]["city"]["type"] == "string"
    assert "thinking" not in body


def test_options_pass_through(server, make_driver) -> None:
    server.enqueue(done())
    make_driver().generate("Hi", max_tokens=100, temperature=0.5, not_in_the_sdk={"a": 1})
    body = server.requests[0].json
    assert body["max_tokens"] == 100
    assert body["temperature"] == 0.5
    assert body["not_in_the_sdk"] == {"a": 1}


def test_reserved_options_are_refused(make_driver) -> None:
    with pytest.raises(InvalidRequestError, match="system"):
        make_driver().generate("Hi", system="no")


# -- tools and the history sent back ----------------------------------------------------------


def test_parallel_calls_results_and_errors_go_back_in_one_user_turn(server, make_driver) -> None:
    server.enqueue(
        reply(
            Text("Checking."),
            Call(name="get_weather", arguments='{"city": "Paris"}', id="toolu_a"),
            Call(name="get_time", arguments='{"city": "Rome"}', id="toolu_b"),
            finish_reason="tool_calls",
        ),
        done(),
    )
    result = make_driver().generate("Weather and time?", tools=[WEATHER, TIME])
    assert result.text.endswith("Done.")
    messages = server.requests[1].json["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert messages[1]["content"] == [
        {"type": "text", "text": "Checking."},
        {"type": "tool_use", "id": "toolu_a", "name": "get_weather", "input": {"city": "Paris"}},
        {"type": "tool_use", "id": "toolu_b", "name": "get_time", "input": {"city": "Rome"}},
    ]
    ok, failed = messages[2]["content"]
    assert ok == {"type": "tool_result", "tool_use_id": "toolu_a", "content": "sunny in Paris"}
    assert failed["tool_use_id"] == "toolu_b"
    assert failed["is_error"] is True
    assert "no clock here" in failed["content"]


def test_thinking_and_its_signature_go_back_before_the_tool_use(server, make_driver) -> None:
    server.enqueue(
        reply(
            Reasoning("Let me look."),
            Call(name="get_weather", arguments='{"city": "Oslo"}', id="toolu_c"),
            finish_reason="tool_calls",
        ),
        done(),
    )
    events = list(make_driver().stream_generate("Weather?", tools=[WEATHER]))
    assert "".join(e.reasoning_part for e in events_of(events, ev.ReasoningPartFound)) == (
        "Let me look."
    )
    assistant = server.requests[1].json["messages"][1]
    assert assistant["content"] == [
        {"type": "thinking", "thinking": "Let me look.", "signature": SIGNATURE},
        {"type": "tool_use", "id": "toolu_c", "name": "get_weather", "input": {"city": "Oslo"}},
    ]


def test_reasoning_from_another_driver_is_not_sent(server, make_driver) -> None:
    server.enqueue(done())
    history = [
        Message(role="user", content="Hi"),
        Message(role="assistant", content="Hello.", reasoning="thought elsewhere"),
        Message(role="user", content="Again"),
    ]
    make_driver().generate(messages=history)
    assert server.requests[0].json["messages"][1]["content"] == [{"type": "text", "text": "Hello."}]


def test_text_thinking_text_keep_their_order(server, make_driver) -> None:
    server.enqueue(reply(Text("A"), Reasoning("B"), Text("C")))
    events = list(make_driver().stream_generate("Hi"))
    found = [
        e.content_part if isinstance(e, ev.ContentPartFound) else f"<{e.reasoning_part}>"
        for e in events
        if isinstance(e, (ev.ContentPartFound, ev.ReasoningPartFound))
    ]
    assert found == ["A", "<B>", "C"]


# -- prompt caching ---------------------------------------------------------------------------


EPHEMERAL = {"type": "ephemeral"}


def test_cache_points_from_the_driver_and_a_message(server, make_driver) -> None:
    server.enqueue(done())
    history = [
        Message(role="user", content="Long document", provider_data={"anthropic": {"cache": True}}),
        Message(role="assistant", content="Read."),
        Message(role="user", content="Question"),
    ]
    make_driver(cache=("system", "tools")).generate(
        messages=history, system_prompt="Sys", tools=[WEATHER, TIME]
    )
    body = server.requests[0].json
    assert body["system"] == [{"type": "text", "text": "Sys", "cache_control": EPHEMERAL}]
    assert "cache_control" not in body["tools"][0]
    assert body["tools"][1]["cache_control"] == EPHEMERAL
    first, second, third = body["messages"]
    assert first["content"] == [
        {"type": "text", "text": "Long document", "cache_control": EPHEMERAL}
    ]
    assert "cache_control" not in second["content"][0]
    assert "cache_control" not in third["content"][0]


def test_cache_option_replaces_the_drivers_for_one_call(server, make_driver) -> None:
    server.enqueue(done())
    make_driver(cache="system").generate("Q", system_prompt="Sys", cache="messages")
    body = server.requests[0].json
    assert body["system"] == "Sys"
    assert body["messages"][-1]["content"][-1]["cache_control"] == EPHEMERAL


def test_unknown_cache_points_are_refused(make_driver) -> None:
    with pytest.raises(InvalidRequestError, match="prompt"):
        make_driver(cache=("prompt",))
    with pytest.raises(InvalidRequestError, match="everything"):
        make_driver().generate("Q", cache="everything")


# -- reasoning --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reasoning", "thinking", "max_tokens"),
    [
        ("off", {"type": "disabled"}, 4096),
        (0, {"type": "disabled"}, 4096),
        ("low", {"type": "enabled", "budget_tokens": 1024}, 4096),
        ("medium", {"type": "enabled", "budget_tokens": 8192}, 8192 + 4096),
        ("high", {"type": "enabled", "budget_tokens": 24576}, 24576 + 4096),
        (100, {"type": "enabled", "budget_tokens": 1024}, 4096),
        (2000, {"type": "enabled", "budget_tokens": 2000}, 4096),
    ],
)
def test_reasoning_becomes_thinking(
    server, make_driver, caplog, reasoning, thinking, max_tokens
) -> None:
    reset_notes()
    server.enqueue(done())
    with caplog.at_level(logging.INFO, logger="janito_driver_anthropic"):
        make_driver().generate("Q", reasoning=reasoning)
    body = server.requests[0].json
    assert body["thinking"] == thinking
    assert body["max_tokens"] == max_tokens
    raised = any("raised to" in r.getMessage() for r in caplog.records)
    assert raised == (max_tokens != 4096)


def test_a_thinking_option_passed_by_hand_wins(server, make_driver) -> None:
    server.enqueue(done())
    mine = {"type": "enabled", "budget_tokens": 3000, "display": "summarized"}
    make_driver().generate("Q", reasoning="high", thinking=mine)
    body = server.requests[0].json
    assert body["thinking"] == mine
    assert body["max_tokens"] == 4096


# -- usage ------------------------------------------------------------------------------------


def test_usage_counts_cache_reads_and_writes_and_message_delta_wins(server, make_driver) -> None:
    start = message_start(MODEL, input_tokens=10, cached=5, written=3)
    text = block_events(0, {"type": "text", "text": ""}, [{"type": "text_delta", "text": "Hi"}])
    end = {
        "type": "message_delta",
        "delta": {"stop_reason": "end_turn", "stop_sequence": None},
        "usage": {"output_tokens": 20},
    }
    server.enqueue(stream_reply([start, *text, end, {"type": "message_stop"}]))
    result = make_driver().generate("Q")
    assert result.usage == Usage(
        input_tokens=18,
        output_tokens=20,
        total_tokens=38,
        cached_input_tokens=5,
        cache_write_tokens=3,
    )


# -- errors -----------------------------------------------------------------------------------


def test_529_overloaded_is_retried(server, make_driver) -> None:
    server.enqueue(error_reply(529, "Overloaded"), done())
    events = list(make_driver().stream_generate("Q"))
    (retry,) = events_of(events, ev.RequestRetry)
    assert "Anthropic is overloaded" in retry.error
    assert text_of(events) == "Done."


def test_an_error_event_before_anything_is_retried(server, make_driver) -> None:
    start = message_start(MODEL, input_tokens=3)
    failure = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    server.enqueue(stream_reply([start, failure]), done())
    events = list(make_driver().stream_generate("Q"))
    (retry,) = events_of(events, ev.RequestRetry)
    assert "Overloaded" in retry.error
    assert text_of(events) == "Done."


def test_an_error_event_after_text_ends_the_request(server, make_driver) -> None:
    start = message_start(MODEL, input_tokens=3)
    text = block_events(0, {"type": "text", "text": ""}, [{"type": "text_delta", "text": "Par"}])
    failure = {"type": "error", "error": {"type": "api_error", "message": "Internal error"}}
    server.enqueue(stream_reply([start, *text, failure]))
    events = list(make_driver().stream_generate("Q"))
    (error,) = events_of(events, ev.RequestError)
    assert "Internal error" in error.error
    assert len(server.requests) == 1


@pytest.mark.parametrize("status", [400, 401, 404, 413])
def test_client_errors_are_final_and_say_what_was_wrong(server, make_driver, status) -> None:
    server.enqueue(error_reply(status, f"problem {status}"))
    events = list(make_driver().stream_generate("Q"))
    (error,) = events_of(events, ev.RequestError)
    assert error.status_code == status
    assert f"problem {status}" in error.error
    assert not error.retryable
    if status == 401:
        assert "ANTHROPIC_API_KEY" in error.error


def test_429_honours_retry_after(server, make_driver) -> None:
    server.enqueue(error_reply(429, "slow down", retry_after=0.05), done())
    events = list(make_driver().stream_generate("Q"))
    (retry,) = events_of(events, ev.RequestRetry)
    assert retry.delay == pytest.approx(0.05, abs=0.01)
    assert text_of(events) == "Done."


def test_a_whole_json_message_is_read(server, make_driver) -> None:
    """A server that ignored ``stream: true`` answers one message: it is read whole."""
    message = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": MODEL,
        "content": [
            {"type": "thinking", "thinking": "Hmm.", "signature": SIGNATURE},
            {"type": "text", "text": "Hello."},
            {"type": "tool_use", "id": "toolu_w", "name": "get_weather", "input": {"city": "X"}},
        ],
        "stop_reason": "tool_use",
        "usage": {"input_tokens": 4, "cache_read_input_tokens": 2, "output_tokens": 6},
    }
    server.enqueue(Reply(status=200, headers={"content-type": "application/json"}, body=message))
    server.enqueue(done())
    events = list(make_driver().stream_generate("Q", tools=[WEATHER]))
    (first, _) = events_of(events, ev.RequestFinished)
    assert first.finish_reason == "tool_calls"
    assert first.usage == Usage(
        input_tokens=6, output_tokens=6, total_tokens=12, cached_input_tokens=2
    )
    assert [e.name for e in events_of(events, ev.ToolCallStarted)] == ["get_weather"]
    assert text_of(events) == "Hello.Done."
    assistant = server.requests[1].json["messages"][1]["content"]
    assert assistant[0] == {"type": "thinking", "thinking": "Hmm.", "signature": SIGNATURE}
