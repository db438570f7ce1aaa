"""Every recorded Anthropic exchange of ``shared/realworld-cassettes`` (text, thinking with
signatures, redacted thinking, tool use alone and in parallel, prompt-cache usage, max_tokens,
HTTP errors) replayed through the driver and the real SDK.

Each recording is served as recorded. What the driver must give (text, thinking, tool calls,
usage, finish reason, error) is read from the recorded body by the plain extraction below,
written without the driver's code. The recordings' ``exercises`` texts are free prose, not the
kit's "N chars of text" form, so ``check_description`` does not apply; the facts they state
that matter (stop reason, counts) are checked by the extraction itself.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from anthropic_wire import AnthropicWireAdapter, read_usage
from janito_driver_anthropic.driver import AnthropicDriver

from janito_core import events as ev
from janito_core.harness import EventStream
from janito_core.messages import Message
from janito_core.testing.cassettes import (
    FOLLOW_UP_TEXT,
    Cassette,
    Expected,
    ExpectedCall,
    cassette_params,
    check_replay,
    load_cassette,
    missing_reason,
    tools_for,
)
from janito_core.testing.scenario import Scenario, Text
from janito_core.testing.server import WireServer

# The recordings name models the SDK now warns about (deprecated on 2026-11-30): the warning
# is the SDK's to give users, not something these replays check.
pytestmark = pytest.mark.filterwarnings("ignore:The model .* is deprecated:DeprecationWarning")

Run = Callable[[EventStream], list[ev.Event]]
Make = Callable[..., AnthropicDriver]

needs_recordings = pytest.mark.skipif(missing_reason() is not None, reason=missing_reason() or "")

STOP_REASONS = {"end_turn": "stop", "max_tokens": "length", "tool_use": "tool_calls"}


@pytest.mark.parametrize("name", cassette_params("rw_anthropic_"))
def test_recorded_exchange(name: str, server: WireServer, make_driver: Make, run: Run) -> None:
    cassette = load_cassette(name)
    expected = anthropic_expected(cassette)
    follow_up = AnthropicWireAdapter().reply(Scenario(steps=(Text(FOLLOW_UP_TEXT),)))
    server.enqueue(cassette.reply(), follow_up)
    recorded = cassette.request_json()
    driver = make_driver(model=recorded["model"])
    options = {k: recorded[k] for k in ("thinking", "max_tokens") if k in recorded}
    events = run(
        driver.stream_generate("Replay the recording.", tools=tools_for(expected), **options)
    )
    check_replay(events, expected, requests=len(server.requests))
    sent = server.requests[0]
    assert sent.path == cassette.request["path"].split("?")[0]
    for key, value in options.items():
        assert sent.json[key] == value


@needs_recordings
def test_thinking_and_signature_go_back_as_recorded(
    server: WireServer, make_driver: Make, run: Run
) -> None:
    """rw_anthropic_03's answer (thinking + tool_use) answered with a tool result: the next
    request's assistant turn is exactly the one the recorded follow-up (rw_anthropic_04) sent."""
    first = load_cassette("rw_anthropic_03_thinking_then_tool_use_stream")
    second = load_cassette("rw_anthropic_04_tool_result_followup_after_thinking_stream")
    server.enqueue(first.reply(), second.reply())
    recorded = first.request_json()
    driver = make_driver(model=recorded["model"])
    tools = tools_for(anthropic_expected(first))
    events = run(
        driver.stream_generate(
            "Use the tool.", tools=tools, thinking=recorded["thinking"], max_tokens=64000
        )
    )
    finished = [e for e in events if isinstance(e, ev.GenerationFinished)]
    assert finished and finished[-1].status == "completed"
    want = second.request_json()["messages"]
    got = server.requests[1].json["messages"]
    assert got[1] == want[1]  # thinking (with its signature), then tool_use, verbatim
    (result,) = got[2]["content"]
    assert result["type"] == "tool_result"
    assert result["tool_use_id"] == want[2]["content"][0]["tool_use_id"]
    assert "is_error" not in result


@needs_recordings
def test_redacted_thinking_goes_back_as_recorded(server: WireServer, make_driver: Make) -> None:
    cassette = load_cassette("rw_anthropic_09_redacted_thinking_stream")
    follow_up = AnthropicWireAdapter().reply(Scenario(steps=(Text(FOLLOW_UP_TEXT),)))
    server.enqueue(cassette.reply(), follow_up)
    driver = make_driver(model=cassette.request_json()["model"])
    result = driver.generate("Think.")
    assistant = result.messages[-1]
    blocks = [
        {"type": "redacted_thinking", "data": block["content_block"]["data"]}
        for _, data in cassette.sse_data()
        if (block := json.loads(data)).get("type") == "content_block_start"
        and block["content_block"]["type"] == "redacted_thinking"
    ]
    assert len(blocks) == 2
    assert assistant.provider_data["anthropic"]["thinking"] == blocks
    question = Message(role="user", content="Think.")
    driver.generate(messages=[question, *result.messages, Message(role="user", content="And?")])
    sent = server.requests[1].json["messages"][1]["content"]
    assert sent[:2] == blocks
    assert sent[2] == {"type": "text", "text": assistant.content}


# -- what the recordings hold, read plainly ------------------------------------------------------


def anthropic_expected(cassette: Cassette) -> Expected:
    """Text, thinking, calls, usage and stop reason of a Messages event stream (or an error)."""
    if cassette.status >= 400:
        body = json.loads(cassette.body)
        return Expected(error_status=cassette.status, error_text=body["error"]["message"])
    text, thinking = "", ""
    start_usage: dict[str, Any] | None = None
    delta_usage: dict[str, Any] | None = None
    stop = None
    calls: dict[int, dict[str, Any]] = {}
    for _, data in cassette.sse_data():
        event = json.loads(data)
        kind = event["type"]
        if kind == "message_start":
            start_usage = event["message"].get("usage")
        elif kind == "message_delta":
            delta_usage = event.get("usage")
            stop = event["delta"].get("stop_reason")
        elif kind == "content_block_start" and event["content_block"]["type"] == "tool_use":
            block = event["content_block"]
            calls[event["index"]] = {"id": block["id"], "name": block["name"], "json": ""}
        elif kind == "content_block_delta":
            delta = event["delta"]
            if delta["type"] == "text_delta":
                text += delta["text"]
            elif delta["type"] == "thinking_delta":
                thinking += delta["thinking"]
            elif delta["type"] == "input_json_delta":
                calls[event["index"]]["json"] += delta["partial_json"]
    return Expected(
        text=text,
        reasoning=thinking,
        calls=tuple(
            ExpectedCall(c["name"], json.loads(c["json"] or "{}"), c["id"]) for c in calls.values()
        ),
        usage=read_usage(start_usage, delta_usage),
        finish_reason=STOP_REASONS[stop],
    )


@needs_recordings
def test_the_extraction_reads_what_the_recordings_say() -> None:
    """The extraction agrees with facts the recordings' descriptions state."""
    cache_write = anthropic_expected(load_cassette("rw_anthropic_07_prompt_cache_write_stream"))
    assert cache_write.usage is not None
    assert cache_write.usage.cache_write_tokens == 1165
    assert cache_write.usage.input_tokens == 1169
    assert cache_write.usage.output_tokens == 201
    cache_read = anthropic_expected(load_cassette("rw_anthropic_08_prompt_cache_read_stream"))
    assert cache_read.usage is not None
    assert cache_read.usage.cached_input_tokens == 1165
    assert cache_read.usage.output_tokens == 221
    thinking = anthropic_expected(load_cassette("rw_anthropic_03_thinking_then_tool_use_stream"))
    assert thinking.usage is not None and thinking.usage.reasoning_tokens == 53
    assert [c.name for c in thinking.calls] == ["fixed_version"]
    parallel = anthropic_expected(load_cassette("rw_anthropic_06_text_then_two_tool_use_stream"))
    assert len(parallel.calls) == 2 and parallel.text
    assert anthropic_expected(load_cassette("rw_anthropic_11_max_tokens_stream")).finish_reason == (
        "length"
    )
    error = anthropic_expected(load_cassette("rw_anthropic_e1_401_authentication_error_stream"))
    assert error.error_status == 401 and error.error_text == "invalid x-api-key"
