"""Recorded Mistral responses replayed byte for byte from the loopback server through the driver.

Expected values are read from the recordings themselves (their SSE payloads), independently of
the driver's code, and a few are pinned literally so a misread recording cannot pass.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from mistral_wire import read_usage

from janito_core import Tool
from janito_core import events as ev
from janito_core.testing import events_of, text_of
from janito_core.testing.cassettes import RECORDED, Cassette, load_cassette
from janito_core.testing.server import Reply
from janito_core.usage import Usage


def load(name: str) -> Cassette:
    """One recording of the shared set (the test skips when the shared folder is absent)."""
    return load_cassette(name, RECORDED)


def payloads(recording: Cassette) -> list[dict[str, Any]]:
    """The JSON chunks of a recorded SSE body, read without the driver."""
    lines = [line[len("data: ") :] for line in recording.body.split("\n")]
    return [json.loads(data) for data in lines if data and data != "[DONE]"]


def deltas(recording: Cassette) -> list[dict[str, Any]]:
    return [c["choices"][0]["delta"] for c in payloads(recording) if c["choices"]]


def usage_event(events: list[ev.Event]) -> Any:
    (finished,) = events_of(events, ev.RequestFinished)
    return finished.usage


def recorded_usage(recording: Cassette) -> Usage:
    """Every count of the recording's last ``usage`` (streamed or whole), read plainly."""
    if recording.body.lstrip().startswith("{"):
        chunks = [json.loads(recording.body)]
    else:
        chunks = payloads(recording)
    (usage, *_) = [c["usage"] for c in reversed(chunks) if c.get("usage")]
    return read_usage(usage)


def test_01_text_stream_with_usage(server, make_driver, run):
    recording = load("mistral_01_stream_text_with_usage")
    server.enqueue(recording.reply())
    events = run(
        make_driver(model="mistral-tiny").stream_generate("Tell me a joke about OpenTelemetry")
    )
    expected = "".join(d.get("content") or "" for d in deltas(recording))
    assert text_of(events) == expected
    assert expected.startswith("Here's a light-hearted")
    assert len(events_of(events, ev.ContentPartFound)) == 79
    usage = usage_event(events)
    assert usage == recorded_usage(recording)
    assert (usage.input_tokens, usage.output_tokens, usage.total_tokens) == (11, 80, 91)
    assert events[-1].finish_reason == "stop"
    assert server.requests[0].path == recording.request["path"]


def test_02_whole_tool_call(server, make_driver, run):
    recording = load("mistral_02_stream_tool_call")
    server.enqueue(recording.reply())
    weather = Tool(
        name="get_weather",
        description="finds the weather for a given city",
        parameters={
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    )
    events = run(
        make_driver().stream_generate("What's the weather like in San Francisco?", tools=[weather])
    )
    # A tool without a function is handed to the caller.
    (call,) = events_of(events, ev.ToolCallRequested)
    (recorded,) = [c for d in deltas(recording) for c in d.get("tool_calls") or ()]
    assert (call.tool_call_id, call.name) == (recorded["id"], recorded["function"]["name"])
    assert call.arguments == json.loads(recorded["function"]["arguments"])
    assert (call.tool_call_id, call.arguments) == ("qDEcl0n92", {"city": "San Francisco"})
    (assistant,) = events[-1].messages
    assert assistant.tool_calls[0].raw_arguments == '{"city": "San Francisco"}'
    usage = usage_event(events)
    assert usage == recorded_usage(recording)
    assert (usage.input_tokens, usage.output_tokens, usage.total_tokens) == (96, 23, 119)
    assert events[-1].finish_reason == "tool_calls"
    assert text_of(events) == ""


def test_03_fragmented_tool_call_from_a_relayed_model(server, make_driver, run):
    recording = load("mistral_03_stream_incremental_tool_call_relay_model")
    server.enqueue(recording.reply())
    search = Tool(
        name="webSearchTool",
        parameters={"type": "object", "properties": {"query": {"type": "string"}}},
    )
    events = run(
        make_driver(model="zai-glm-5-2").stream_generate("Berlin weather?", tools=[search])
    )
    (call,) = events_of(events, ev.ToolCallRequested)
    fragments = [c for d in deltas(recording) for c in d.get("tool_calls") or ()]
    assert call.tool_call_id == fragments[0]["id"] == "chatcmpl-tool-9f149c74c42f265b"
    assert call.name == "webSearchTool"
    joined = "".join(f["function"]["arguments"] for f in fragments)
    assert call.arguments == json.loads(joined) == {"query": "current Berlin weather"}
    usage = usage_event(events)
    assert usage == recorded_usage(recording)
    assert (usage.input_tokens, usage.output_tokens, usage.total_tokens) == (171, 14, 185)
    assert usage.cached_input_tokens == 128
    assert events[-1].finish_reason == "tool_calls"


def test_04_non_streamed_json_answer_is_read_whole(server, make_driver, run):
    # Replayed as recorded: a 200 application/json completion answering the driver's streaming
    # request (what a proxy that ignores "stream": true does). The SDK raises "Unexpected
    # response received"; the driver reads the completion from it and yields its parts.
    recording = load("mistral_04_nonstream_text_with_usage")
    server.enqueue(recording.reply())
    events = run(
        make_driver(model="mistral-tiny").stream_generate("Tell me a joke about OpenTelemetry")
    )
    message = json.loads(recording.body)["choices"][0]["message"]
    assert text_of(events) == message["content"]
    assert len(events_of(events, ev.ContentPartFound)) == 1
    usage = usage_event(events)
    assert usage == recorded_usage(recording)
    assert (usage.input_tokens, usage.output_tokens, usage.total_tokens) == (11, 96, 107)
    assert events[-1].finish_reason == "stop"
    assert len(server.requests) == 1


def test_04_unreadable_json_answer_is_an_error(server, make_driver, run):
    # The same status and content type with a body that is no completion: a clear error.
    recording = load("mistral_04_nonstream_text_with_usage")
    headers = recording.headers
    server.enqueue(Reply(status=200, headers=headers, body='{"unexpected": true}'))
    events = run(make_driver().stream_generate("hi"))
    (error,) = events_of(events, ev.RequestError)
    assert not error.retryable
    assert "instead of an event stream" in error.error and "application/json" in error.error


def test_05_thinking_chunks(server, make_driver, run):
    recording = load("mistral_05_stream_thinking_content_chunks")
    server.enqueue(recording.reply())
    events = run(
        make_driver(model="magistral-medium-latest").stream_generate("How do I cross the street?")
    )
    thinking, text = [], []
    for delta in deltas(recording):
        content = delta.get("content")
        if isinstance(content, str):
            text.append(content)
        else:
            thinking += [p["text"] for c in content for p in c["thinking"]]
    reasoning = events_of(events, ev.ReasoningPartFound)
    assert "".join(e.reasoning_part for e in reasoning) == "".join(thinking)
    # One event per non-empty thinking piece (the recording holds one empty piece).
    assert len(reasoning) == len([t for t in thinking if t]) == 57
    assert reasoning[0].reasoning_part == "Okay"
    assert text_of(events) == "".join(text)
    # All the thinking comes before the answer, as recorded.
    kinds = [type(e) for e in events if isinstance(e, (ev.ReasoningPartFound, ev.ContentPartFound))]
    assert kinds == [ev.ReasoningPartFound] * 57 + [ev.ContentPartFound] * (len(kinds) - 57)
    usage = usage_event(events)
    assert usage == recorded_usage(recording)
    assert (usage.input_tokens, usage.output_tokens, usage.total_tokens) == (10, 232, 242)
    assert events[-1].messages[0].reasoning == "".join(thinking)


@pytest.mark.parametrize("max_retries", [0, 2])
def test_06_rate_limited(server, make_driver, run, max_retries):
    recording = load("mistral_06_error_429_rate_limited_ISSUE_QUOTE")
    server.set_default(recording.reply())
    events = run(make_driver(max_retries=max_retries).stream_generate("hi"))
    assert len(server.requests) == max_retries + 1
    assert [r.status_code for r in events_of(events, ev.RequestRetry)] == [429] * max_retries
    (error,) = events_of(events, ev.RequestError)
    assert error.status_code == 429 and error.retryable
    assert "Rate limit exceeded" in error.error and "rate_limited" in error.error
    assert events[-1].status == "error"
