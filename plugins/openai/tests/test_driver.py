"""The driver against the loopback server, once per API (Chat Completions and Responses):
text, tool calls in response order, reasoning, usage, finish reasons, cancel and failures."""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
from collections.abc import Callable

from janito_driver_openai.driver import OpenAIDriver
from openai_wire import ChatWireAdapter

from janito_core import events as ev
from janito_core.harness import EventStream
from janito_core.testing import (
    client_threads,
    events_of,
    finished_event,
    kinds_of,
    reasoning_of,
    text_of,
    validate_events,
)
from janito_core.testing.scenario import (
    Call,
    Cut,
    Garbage,
    Reasoning,
    Scenario,
    Silence,
    Text,
)
from janito_core.testing.server import Reply, Send, WireServer
from janito_core.tools import Tool
from janito_core.usage import Usage

Run = Callable[[EventStream], list[ev.Event]]
Make = Callable[..., OpenAIDriver]


def lookup(key: str) -> str:
    """Look a key up."""
    return f"value of {key}"


def now() -> str:
    """The time, taking no arguments."""
    return "noon"


TOOLS = [Tool.from_function(lookup), Tool.from_function(now)]
USAGE = Usage(
    input_tokens=21, output_tokens=9, total_tokens=30, cached_input_tokens=5, reasoning_tokens=3
)


def test_text_usage_and_finish(
    server: WireServer, adapter: ChatWireAdapter, make_driver: Make, run: Run
) -> None:
    server.enqueue(
        adapter.reply(Scenario(steps=(Text("Hel"), Text("lo, "), Text("world")), usage=USAGE))
    )
    events = run(make_driver(api=adapter.api).stream_generate("Hi"))
    assert text_of(events) == "Hello, world"
    assert finished_event(events).status == "completed"
    request_finished = events_of(events, ev.RequestFinished)[0]
    assert request_finished.finish_reason == "stop"
    assert request_finished.usage == USAGE
    assert finished_event(events).usage == USAGE
    path = server.requests[0].path
    assert path == ("/v1/responses" if adapter.api == "responses" else "/v1/chat/completions")
    assert server.requests[0].headers["authorization"] == f"Bearer {adapter.api_key}"


def test_text_and_calls_keep_response_order(
    server: WireServer, adapter: ChatWireAdapter, make_driver: Make, run: Run
) -> None:
    first = Scenario(
        steps=(
            Text("A"),
            Call(name="lookup", arguments='{"key": "x"}', id="call_x"),
            Text("B"),
            Call(name="lookup", arguments='{"key": "y"}', id="call_y"),
            Text("C"),
        ),
        finish_reason="tool_calls",
        usage=USAGE,
    )
    server.enqueue(adapter.reply(first), adapter.reply(Scenario(steps=(Text("done"),))))
    events = run(make_driver(api=adapter.api).stream_generate("go", tools=TOOLS))
    first_id = events_of(events, ev.RequestStarted)[0].request_id
    first_request = [
        e
        for e in events
        if isinstance(e, (ev.ContentPartFound, ev.ToolCallStarted, ev.ToolCallFinished))
        and e.request_id == first_id
    ]
    assert [
        (type(e).__name__, getattr(e, "content_part", getattr(e, "name", "")))
        for e in first_request
    ] == [
        ("ContentPartFound", "A"),
        ("ToolCallStarted", "lookup"),
        ("ToolCallFinished", "lookup"),
        ("ContentPartFound", "B"),
        ("ToolCallStarted", "lookup"),
        ("ToolCallFinished", "lookup"),
        ("ContentPartFound", "C"),
    ]
    started = events_of(events, ev.ToolCallStarted)
    assert [(s.tool_call_id, s.arguments) for s in started] == [
        ("call_x", {"key": "x"}),
        ("call_y", {"key": "y"}),
    ]
    assert text_of(events) == "ABCdone"
    assert events_of(events, ev.RequestFinished)[0].finish_reason == "tool_calls"
    assert adapter.tool_results(server.requests[1]) == [
        ("lookup", "value of x"),
        ("lookup", "value of y"),
    ]


def test_parallel_calls_and_a_call_without_arguments(
    server: WireServer, adapter: ChatWireAdapter, make_driver: Make, run: Run
) -> None:
    calls = Scenario(
        steps=(Call(name="now", arguments=""), Call(name="lookup", arguments='{"key":"k"}')),
        finish_reason="tool_calls",
    )
    server.enqueue(adapter.reply(calls), adapter.reply(Scenario(steps=(Text("ok"),))))
    events = run(make_driver(api=adapter.api).stream_generate("go", tools=TOOLS))
    started = events_of(events, ev.ToolCallStarted)
    assert [(s.name, s.arguments) for s in started] == [("now", {}), ("lookup", {"key": "k"})]
    assert len({s.tool_call_id for s in started}) == 2
    assert not events_of(events, ev.ToolCallError)
    assert adapter.tool_results(server.requests[1]) == [("now", "noon"), ("lookup", "value of k")]


def test_reasoning_streams_before_the_answer(
    server: WireServer, adapter: ChatWireAdapter, make_driver: Make, run: Run
) -> None:
    scenario = Scenario(steps=(Reasoning("Think"), Reasoning("ing."), Text("Answer")))
    server.enqueue(adapter.reply(scenario))
    events = run(make_driver(api=adapter.api).stream_generate("Hi"))
    assert reasoning_of(events) == "Thinking."
    assert text_of(events) == "Answer"
    parts = [k for k in kinds_of(events) if k in ("ReasoningPartFound", "ContentPartFound")]
    assert parts == ["ReasoningPartFound", "ReasoningPartFound", "ContentPartFound"]
    assert finished_event(events).messages[0].reasoning == "Thinking."


def test_length_finish_reason(
    server: WireServer, adapter: ChatWireAdapter, make_driver: Make, run: Run
) -> None:
    server.enqueue(adapter.reply(Scenario(steps=(Text("cut sh"),), finish_reason="length")))
    events = run(make_driver(api=adapter.api).stream_generate("Hi", max_tokens=3))
    assert finished_event(events).finish_reason == "length"
    body = server.requests[0].json
    if adapter.api == "responses":
        assert body["max_output_tokens"] == 3
    else:  # a compatible server (base_url given) keeps the name it knows
        assert body["max_tokens"] == 3


def test_cancel_while_the_server_stalls_mid_stream(
    server: WireServer, adapter: ChatWireAdapter, make_driver: Make
) -> None:
    baseline = client_threads()
    server.enqueue(adapter.reply(Scenario(steps=(Text("partial"), Silence()))))
    stream = make_driver(api=adapter.api).stream_generate("Hi")
    events: list[ev.Event] = []
    for event in stream:
        events.append(event)
        if isinstance(event, ev.ContentPartFound):
            started = time.monotonic()
            stream.cancel()
    assert time.monotonic() - started < 2.0
    assert stream.join(5.0)
    (record,) = server.requests
    assert record.wait_closed(5.0)
    assert record.outcome == "client_disconnected"
    assert client_threads() == baseline
    validate_events(events)
    assert finished_event(events).status == "cancelled"
    assert events_of(events, ev.RequestFinished)[0].status == "cancelled"
    assert text_of(events) == "partial"


def test_cancel_before_the_response_headers(
    server: WireServer, adapter: ChatWireAdapter, make_driver: Make
) -> None:
    baseline = client_threads()
    server.enqueue(Reply(headers_delay=30, body={"never": "sent"}))
    cancel = threading.Event()
    stream = make_driver(api=adapter.api).stream_generate("Hi", cancel_event=cancel)
    server.wait_for_requests(1, timeout=5.0)
    started = time.monotonic()
    cancel.set()
    events = list(stream)
    assert time.monotonic() - started < 2.0
    assert stream.join(5.0)
    (record,) = server.requests
    assert record.wait_closed(5.0)
    assert record.outcome == "client_disconnected"
    assert client_threads() == baseline
    validate_events(events)
    assert finished_event(events).status == "cancelled"


def test_cancel_while_the_connection_is_being_made() -> None:
    # A listener whose accept queue is full: the driver's TCP connect stays pending.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        address = listener.getsockname()
        fillers = [socket.socket() for _ in range(4)]
        try:
            for filler in fillers:
                filler.setblocking(False)
                filler.connect_ex(address)
            baseline = client_threads()
            url = f"http://{address[0]}:{address[1]}/v1"
            driver = OpenAIDriver(api_key="sk-test", base_url=url, timeout=60)
            cancel = threading.Event()
            stream = driver.stream_generate("Hi", cancel_event=cancel)
            events = []
            for event in stream:
                events.append(event)
                if isinstance(event, ev.RequestStarted):
                    started = time.monotonic()
                    cancel.set()
            assert time.monotonic() - started < 2.0
            assert stream.join(5.0)
            assert client_threads() == baseline
            validate_events(events)
            assert finished_event(events).status == "cancelled"
            driver.close()
        finally:
            for filler in fillers:
                filler.close()


def test_malformed_event_is_a_clear_error_not_retried(
    server: WireServer, adapter: ChatWireAdapter, make_driver: Make, run: Run
) -> None:
    server.enqueue(adapter.reply(Scenario(steps=(Garbage(),))))
    events = run(make_driver(api=adapter.api).stream_generate("Hi"))
    (error,) = events_of(events, ev.RequestError)
    assert "sent a malformed response: an event that is not JSON" in error.error
    assert error.retryable is False
    assert len(server.requests) == 1


def test_connection_cut_before_content_is_retried(
    server: WireServer, adapter: ChatWireAdapter, make_driver: Make, run: Run
) -> None:
    server.enqueue(
        adapter.reply(Scenario(steps=(Cut(),))), adapter.reply(Scenario(steps=(Text("ok"),)))
    )
    events = run(make_driver(api=adapter.api).stream_generate("Hi"))
    (retry,) = events_of(events, ev.RequestRetry)
    assert "dropped" in retry.error
    assert text_of(events) == "ok"
    assert len(server.requests) == 2


def test_connection_cut_after_content_ends_in_error(
    server: WireServer, adapter: ChatWireAdapter, make_driver: Make, run: Run
) -> None:
    server.enqueue(adapter.reply(Scenario(steps=(Text("half"), Cut()))))
    events = run(make_driver(api=adapter.api).stream_generate("Hi"))
    (error,) = events_of(events, ev.RequestError)
    assert error.retryable is True  # retryable in kind, but content was already delivered
    assert not events_of(events, ev.RequestRetry)
    assert finished_event(events).status == "error"
    assert text_of(events) == "half"


# Raw in JSON strings as vLLM and llama.cpp send them: line and paragraph separators, NEL,
# and characters beyond Latin-1 that a wrong charset would garble.
ODD_TEXT = "line\u2028sep\u2029para\x85next \u00e9\U0001f600"


def test_raw_separators_and_utf8_whatever_the_charset(
    server: WireServer, adapter: ChatWireAdapter, make_driver: Make, run: Run
) -> None:
    reply = adapter.reply(Scenario(steps=(Text(ODD_TEXT), Text("!"))))
    latin1 = {"content-type": "text/event-stream; charset=iso-8859-1"}
    server.enqueue(dataclasses.replace(reply, headers=latin1))
    events = run(make_driver(api=adapter.api).stream_generate("Hi"))
    assert text_of(events) == ODD_TEXT + "!"
    assert finished_event(events).status == "completed"


def test_a_leading_byte_order_mark_keeps_the_first_event(
    server: WireServer, adapter: ChatWireAdapter, make_driver: Make, run: Run
) -> None:
    reply = adapter.reply(Scenario(steps=(Text("first"), Text(" second"))))
    first, *rest = reply.steps
    assert isinstance(first, Send)
    data = first.data.encode() if isinstance(first.data, str) else first.data
    server.enqueue(dataclasses.replace(reply, steps=(Send(b"\xef\xbb\xbf" + data), *rest)))
    events = run(make_driver(api=adapter.api).stream_generate("Hi"))
    assert text_of(events) == "first second"


def test_the_connection_is_reused_for_the_next_round(
    server: WireServer, adapter: ChatWireAdapter, make_driver: Make, run: Run
) -> None:
    # What follows the end of a stream is read, so the pool keeps the connection.
    call = Call(name="lookup", arguments='{"key": "k"}')
    server.enqueue(
        adapter.reply(Scenario(steps=(call,), finish_reason="tool_calls")),
        adapter.reply(Scenario(steps=(Text("ok"),))),
    )
    run(make_driver(api=adapter.api).stream_generate("Hi", tools=TOOLS))
    first, second = server.requests
    assert first.connection_id == second.connection_id


def test_read_timeout_comes_from_the_driver_config(
    server: WireServer, make_driver: Make, run: Run
) -> None:
    # The conformance suite checks the timeout for both APIs; this checks what the SDK is
    # given and what the user is told.
    server.enqueue(ChatWireAdapter().reply(Scenario(steps=(Silence(),))))
    started = time.monotonic()
    events = run(make_driver(timeout=0.3, max_retries=0).stream_generate("Hi"))
    assert time.monotonic() - started < 4.0
    (error,) = events_of(events, ev.RequestError)
    assert "timed out" in error.error and "0.3 s" in error.error
    assert error.retryable is True
    assert server.requests[0].headers["x-stainless-read-timeout"] == "0.3"
