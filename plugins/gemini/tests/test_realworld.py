"""Every recorded Gemini exchange of ``shared/realworld-cassettes`` (``alt=sse`` streams, a
Vertex AI one, a blocked prompt, 404s) replayed through the driver and the real SDK.

Each recording is served as recorded. What the driver must give (text, thoughts, function
calls, usage, finish reason, error status) is read from the recorded body by the plain
extraction below, written without the driver's code. Cases a driver bug breaks today are
strict xfails naming the bug: fixing it turns them into failures to flip.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from gemini_wire import GeminiWireAdapter
from janito_driver_gemini.driver import GeminiDriver

from janito_core.testing import finish
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

Make = Callable[..., GeminiDriver]

KNOWN_BUGS: dict[str, str] = {}


@pytest.mark.parametrize("name", cassette_params("rw_gemini_", xfail=KNOWN_BUGS))
def test_recorded_exchange(name: str, server: WireServer, make_driver: Make) -> None:
    cassette = load_cassette(name)
    expected = gemini_expected(cassette)
    check_description(cassette, expected)
    follow_up = GeminiWireAdapter().reply(Scenario(steps=(Text(FOLLOW_UP_TEXT),)))
    server.enqueue(cassette.reply(), follow_up)
    path = cassette.request["path"].split("?", 1)[0]
    model = path.split("/models/", 1)[1].split(":", 1)[0]
    driver = make_driver(model=model)
    events = finish(driver.stream_generate("Replay the recording.", tools=tools_for(expected)))
    check_replay(events, expected, requests=len(server.requests))
    sent = server.requests[0].path
    assert sent == f"/v1beta/models/{model}:streamGenerateContent", sent
    if path.startswith("/v1beta/") and path.endswith(":streamGenerateContent"):
        assert sent == path  # the Developer API, streamed, as recorded


# -- what the recordings hold, read plainly ------------------------------------------------------


def gemini_usage(metadata: dict[str, Any]) -> Usage:
    """``usageMetadata`` in neutral terms: the thinking counts as output, as it is billed, so
    input + output = total; tool-use prompt tokens are input."""
    thoughts = metadata.get("thoughtsTokenCount", 0)
    return Usage(
        input_tokens=metadata.get("promptTokenCount", 0)
        + metadata.get("toolUsePromptTokenCount", 0),
        output_tokens=metadata.get("candidatesTokenCount", 0) + thoughts,
        total_tokens=metadata["totalTokenCount"],
        cached_input_tokens=metadata.get("cachedContentTokenCount", 0),
        reasoning_tokens=thoughts,
    )


def gemini_expected(cassette: Cassette) -> Expected:
    """Text, thoughts, calls and usage of a ``generateContent`` answer, streamed or whole."""
    if cassette.status >= 400:
        error = json.loads(cassette.body)["error"]
        return Expected(error_status=cassette.status, error_text=error["message"])
    if cassette.is_event_stream:
        chunks = [json.loads(data) for _, data in cassette.sse_data()]
    else:
        chunks = [json.loads(cassette.body)]
    text, thoughts, calls, usage = "", "", [], None
    for chunk in chunks:
        blocked = (chunk.get("promptFeedback") or {}).get("blockReason")
        if blocked:
            return Expected(error_text=blocked)
        if chunk.get("usageMetadata"):
            # Every chunk carries the running total: the last one counts.
            usage = gemini_usage(chunk["usageMetadata"])
        for candidate in chunk.get("candidates") or []:
            for part in (candidate.get("content") or {}).get("parts") or []:
                if "functionCall" in part:
                    call = part["functionCall"]
                    calls.append(ExpectedCall(call["name"], call.get("args") or {}, call.get("id")))
                elif part.get("thought"):
                    thoughts += part.get("text", "")
                else:
                    text += part.get("text", "")
    found = re.search(r"\bfinish (\w+)", cassette.exercises)
    return Expected(
        text=text,
        reasoning=thoughts,
        calls=tuple(calls),
        usage=usage,
        finish_reason=found.group(1) if found else None,
    )
