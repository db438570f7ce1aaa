"""Every recorded Mistral exchange of ``shared/realworld-cassettes`` (text streams, a whole
tool call, Magistral thinking chunks, a whole-JSON answer) replayed through the driver and the
real SDK.

Each recording is served as recorded. What the driver must give (text, thinking, tool calls,
usage, finish reason) is read from the recorded body by the plain extraction below, written
without the driver's code. Cases a driver bug breaks today are strict xfails naming the bug:
fixing it turns them into failures to flip.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from janito_driver_mistral.driver import MistralDriver
from mistral_wire import MistralWireAdapter, read_usage

from janito_core import events as ev
from janito_core.harness import EventStream
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

Run = Callable[[EventStream], list[ev.Event]]
Make = Callable[..., MistralDriver]

KNOWN_BUGS: dict[str, str] = {}


@pytest.mark.parametrize("name", cassette_params("rw_mistral_", xfail=KNOWN_BUGS))
def test_recorded_exchange(name: str, server: WireServer, make_driver: Make, run: Run) -> None:
    cassette = load_cassette(name)
    expected = mistral_expected(cassette)
    check_description(cassette, expected)
    follow_up = MistralWireAdapter().reply(Scenario(steps=(Text(FOLLOW_UP_TEXT),)))
    server.enqueue(cassette.reply(), follow_up)
    recorded = cassette.request_json()
    driver = make_driver(model=recorded["model"])
    # The recorded effort asked as janito's reasoning= goes out as the recording sent it.
    effort = recorded.get("reasoning_effort")
    events = run(
        driver.stream_generate("Replay the recording.", tools=tools_for(expected), reasoning=effort)
    )
    check_replay(events, expected, requests=len(server.requests))
    assert server.requests[0].path == cassette.request["path"]
    assert server.requests[0].json.get("reasoning_effort") == effort


# -- what the recordings hold, read plainly ------------------------------------------------------


def mistral_expected(cassette: Cassette) -> Expected:
    """Text, thinking, calls and usage of a chat completion, streamed or whole.

    ``content`` is a string, or (Magistral) a list of chunks: ``text`` ones and ``thinking``
    ones that hold text chunks of their own.
    """
    if cassette.status >= 400:
        body = json.loads(cassette.body)
        return Expected(error_status=cassette.status, error_text=body["message"])
    if cassette.is_event_stream:
        chunks = []
        for _, data in cassette.sse_data():
            if data == "[DONE]":
                break
            chunks.append(json.loads(data))
    else:
        chunks = [json.loads(cassette.body)]
    text, thinking, usage = "", "", None
    calls: dict[Any, dict[str, Any]] = {}
    for chunk in chunks:
        if chunk.get("usage"):
            usage = read_usage(chunk["usage"])
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or choice.get("message") or {}
            content = delta.get("content")
            if isinstance(content, str):
                text += content
            for piece in content if isinstance(content, list) else []:
                if piece["type"] == "text":
                    text += piece["text"]
                elif piece["type"] == "thinking":
                    thinking += "".join(t["text"] for t in piece["thinking"] if t["type"] == "text")
            for piece in delta.get("tool_calls") or []:
                # Mistral sends a call whole, without index; relays send pieces by index.
                key = piece.get("index", piece.get("id"))
                call = calls.setdefault(key, {"id": None, "name": None, "arguments": ""})
                call["id"] = call["id"] or piece.get("id")
                call["name"] = call["name"] or piece["function"].get("name")
                call["arguments"] += piece["function"].get("arguments") or ""
    found = re.search(r"\bfinish (\w+)", cassette.exercises)
    return Expected(
        text=text,
        reasoning=thinking,
        calls=tuple(
            ExpectedCall(c["name"], json.loads(c["arguments"] or "{}"), c["id"])
            for c in calls.values()
        ),
        usage=usage,
        finish_reason=found.group(1) if found else None,
    )
