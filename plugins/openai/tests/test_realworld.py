"""Every recorded OpenAI exchange of ``shared/realworld-cassettes`` (Chat Completions and
Responses; OpenAI, Azure and compatible servers) replayed through the driver and the real SDK.

Each recording is served as recorded on the path it was recorded on. What the driver must give
(text, reasoning, tool calls, usage, finish reason, error status) is read from the recorded
body by the plain extraction below, written without the driver's code. Cases a driver bug
breaks today are strict xfails naming the bug: fixing it turns them into failures to flip.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from janito_driver_openai.driver import OpenAIDriver
from openai_wire import ChatWireAdapter, ResponsesWireAdapter

from janito_core import events as ev
from janito_core.harness import EventStream
from janito_core.testing import events_of
from janito_core.testing.cassettes import (
    FOLLOW_UP_TEXT,
    Cassette,
    Expected,
    ExpectedCall,
    cassette_params,
    check_description,
    check_replay,
    load_cassette,
    tools_for,
)
from janito_core.testing.scenario import Scenario, Text
from janito_core.testing.server import WireServer
from janito_core.usage import Usage

Run = Callable[[EventStream], list[ev.Event]]

# Recordings a driver bug breaks today, each with the bug in one line (strict xfails).
KNOWN_BUGS: dict[str, str] = {}


@pytest.mark.parametrize("name", cassette_params("rw_openai_", xfail=KNOWN_BUGS))
def test_recorded_exchange(name: str, server: WireServer, run: Run) -> None:
    cassette = load_cassette(name)
    api = cassette.api
    assert api in ("chat", "responses"), f"{name} names no API"
    expected = chat_expected(cassette) if api == "chat" else responses_expected(cassette)
    check_description(cassette, expected)
    adapter = ChatWireAdapter() if api == "chat" else ResponsesWireAdapter()
    server.enqueue(cassette.reply(), adapter.reply(Scenario(steps=(Text(FOLLOW_UP_TEXT),))))
    path = cassette.request["path"].split("?", 1)[0]
    endpoint = "/chat/completions" if api == "chat" else "/responses"
    assert path.endswith(endpoint), path
    recorded = cassette.request_json()
    model = recorded.get("model") if isinstance(recorded, dict) else None
    driver = OpenAIDriver(
        api=api,
        base_url=server.url + path[: -len(endpoint)],
        model=model or "gpt-4o-mini",
        api_key="sk-janito-replay-0123456789",
        retry_base_delay=0.01,
    )
    try:
        events = run(driver.stream_generate("Replay the recording.", tools=tools_for(expected)))
    finally:
        driver.close()
    check_replay(events, expected, requests=len(server.requests))
    # The SDK called the path the recording was made on.
    assert server.requests[0].path == path
    if not expected.is_error:
        first = events_of(events, ev.RequestFinished)[0]
        # Every count the body carries (check_replay compares the whole Usage); a body without
        # usage gives zeros marked missing, never an estimate.
        assert first.usage == (expected.usage or Usage(missing=True))
        # Chat streams asked for usage (these recordings come from many servers: all accept it).
        sent = server.requests[0].json
        if api == "chat":
            assert sent["stream_options"] == {"include_usage": True}
        # No reasoning= was given: nothing about reasoning is sent.
        assert not [k for k in sent if "reasoning" in k]


# -- what the recordings hold, read plainly ------------------------------------------------------


def finish_of(cassette: Cassette) -> str | None:
    """The finish reason the recording's description states (``finish stop`` ...), if any."""
    found = re.search(r"\bfinish (\w+)", cassette.exercises)
    return found.group(1) if found else None


def error_expected(cassette: Cassette) -> Expected:
    """An HTTP error: its status, and the message of OpenAI's error envelope."""
    body = json.loads(cassette.body)
    error = body.get("error", body)
    return Expected(error_status=cassette.status, error_text=error["message"])


def chat_usage(usage: dict[str, Any]) -> Usage:
    """Every count a Chat ``usage`` object carries (OpenAI's names, and DeepSeek's cache hits
    where it sends no ``prompt_tokens_details``)."""
    prompt = usage.get("prompt_tokens_details") or {}
    cached = prompt.get("cached_tokens")
    return Usage(
        input_tokens=usage["prompt_tokens"],
        output_tokens=usage["completion_tokens"],
        total_tokens=usage["total_tokens"],
        cached_input_tokens=(usage.get("prompt_cache_hit_tokens") if cached is None else cached)
        or 0,
        reasoning_tokens=(usage.get("completion_tokens_details") or {}).get("reasoning_tokens")
        or 0,
        cache_write_tokens=prompt.get("cache_write_tokens") or 0,
    )


def chat_expected(cassette: Cassette) -> Expected:
    """Text, reasoning, calls and usage of a Chat Completions answer, streamed or whole."""
    if cassette.status >= 400:
        return error_expected(cassette)
    if cassette.is_event_stream:
        chunks = []
        for _, data in cassette.sse_data():
            if data == "[DONE]":
                break
            chunks.append(json.loads(data))
    else:
        chunks = [json.loads(cassette.body)]
    text, reasoning, usage = "", "", None
    calls: dict[Any, dict[str, Any]] = {}
    for chunk in chunks:
        if chunk.get("usage"):
            usage = chat_usage(chunk["usage"])
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or choice.get("message") or {}
            if isinstance(delta.get("content"), str):
                text += delta["content"]
            # A refusal is what the model said instead of an answer: it is the answer text.
            text += delta.get("refusal") or ""
            # DeepSeek says reasoning_content, Cerebras and others reasoning.
            reasoning += delta.get("reasoning_content") or delta.get("reasoning") or ""
            for piece in delta.get("tool_calls") or []:
                # Pieces of one call share an index; the first names it, the rest add text.
                key = piece.get("index", piece.get("id"))
                call = calls.setdefault(key, {"id": None, "name": None, "arguments": ""})
                call["id"] = call["id"] or piece.get("id")
                call["name"] = call["name"] or piece["function"].get("name")
                call["arguments"] += piece["function"].get("arguments") or ""
    return Expected(
        text=text,
        reasoning=reasoning,
        calls=tuple(
            ExpectedCall(c["name"], json.loads(c["arguments"] or "{}"), c["id"])
            for c in calls.values()
        ),
        usage=usage,
        finish_reason=finish_of(cassette),
    )


def responses_usage(usage: dict[str, Any]) -> Usage:
    """Every count a Responses ``usage`` object carries."""
    details = usage.get("input_tokens_details") or {}
    return Usage(
        input_tokens=usage["input_tokens"],
        output_tokens=usage["output_tokens"],
        total_tokens=usage["total_tokens"],
        cached_input_tokens=details.get("cached_tokens") or 0,
        reasoning_tokens=(usage.get("output_tokens_details") or {}).get("reasoning_tokens") or 0,
        cache_write_tokens=details.get("cache_write_tokens") or 0,
    )


def responses_expected(cassette: Cassette) -> Expected:
    """Text, reasoning, calls and usage of a Responses answer, streamed or whole.

    Reasoning is one paragraph per summary part (or raw ``reasoning_text`` content part),
    paragraphs separated by a blank line.
    """
    if cassette.status >= 400:
        return error_expected(cassette)
    text = ""
    paragraphs: dict[Any, str] = {}
    items: list[dict[str, Any]] = []
    usage = None
    if cassette.is_event_stream:
        for _, data in cassette.sse_data():
            if data == "[DONE]":  # OpenRouter ends its Responses streams as chat ones
                break
            event = json.loads(data)
            kind = event["type"]
            if kind in ("response.output_text.delta", "response.refusal.delta"):
                text += event["delta"]
            elif kind == "response.reasoning_summary_text.delta":
                key = (event["item_id"], "summary", event["summary_index"])
                paragraphs[key] = paragraphs.get(key, "") + event["delta"]
            elif kind == "response.reasoning_text.delta":
                key = (event["item_id"], "content", event.get("content_index"))
                paragraphs[key] = paragraphs.get(key, "") + event["delta"]
            elif kind == "response.output_item.done":
                items.append(event["item"])
            elif kind in ("response.completed", "response.incomplete"):
                usage = event["response"].get("usage")
    else:
        response = json.loads(cassette.body)
        usage = response.get("usage")
        items = response["output"]
        for number, item in enumerate(items):
            if item["type"] == "message":
                for content in item["content"]:
                    text += content.get("text") or content.get("refusal") or ""
            elif item["type"] == "reasoning":
                pieces = [*(item.get("summary") or []), *(item.get("content") or [])]
                for index, piece in enumerate(pieces):
                    paragraphs[(number, index)] = piece["text"]
    calls = tuple(
        ExpectedCall(item["name"], json.loads(item["arguments"] or "{}"), item["call_id"])
        for item in items
        if item["type"] == "function_call"
    )
    parts = [p for p in paragraphs.values() if p]
    return Expected(
        text=text,
        # The driver keeps parts apart with a blank line, as the API shows them.
        reasoning="\n\n".join(parts),
        reasoning_chars=sum(map(len, parts)),
        calls=calls,
        usage=responses_usage(usage) if usage else None,
        finish_reason=finish_of(cassette),
    )
