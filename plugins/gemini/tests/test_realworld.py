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
from gemini_support import gemini_usage, recorded_chunks, recorded_usage, recorded_usages
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


def gemini_expected(cassette: Cassette) -> Expected:
    """Text, thoughts, calls and usage of a ``generateContent`` answer, streamed or whole."""
    if cassette.status >= 400:
        error = json.loads(cassette.body)["error"]
        return Expected(error_status=cassette.status, error_text=error["message"])
    text, thoughts, calls = "", "", []
    for chunk in recorded_chunks(cassette):
        blocked = (chunk.get("promptFeedback") or {}).get("blockReason")
        if blocked:
            return Expected(error_text=blocked)
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
        # Every chunk carries the running total: the last one counts, every field compared.
        usage=recorded_usage(cassette),
        finish_reason=found.group(1) if found else None,
    )


@pytest.mark.parametrize("name", cassette_params("rw_gemini_"))
def test_recorded_totals_are_input_plus_output(name: str) -> None:
    """Gemini's ``totalTokenCount`` is prompt + tool-use prompt + candidates + thoughts in
    every chunk of every recording: the reading that takes the total as sent and counts the
    thinking as output agrees with the provider's own sum."""
    usages = recorded_usages(load_cassette(name))
    if not usages:
        pytest.skip("the recording holds no token counts (an error, or a blocked prompt)")
    for metadata in usages:
        usage = gemini_usage(metadata)
        assert usage.input_tokens + usage.output_tokens == usage.total_tokens, metadata


def _camel(config: dict[str, Any]) -> dict[str, Any]:
    """Keys in camelCase: Google's JSON parser takes either spelling, and clients differ."""
    return {re.sub(r"_(\w)", lambda m: m.group(1).upper(), k): v for k, v in config.items()}


def test_reasoning_budget_sends_what_the_recorded_client_sent(
    server: WireServer, make_driver: Make
) -> None:
    """The recording asked gemini-2.5-flash for a 6400-token budget with thoughts;
    ``reasoning=6400`` sends the same ``thinkingConfig``, and the answer's thoughts and usage
    come back as recorded."""
    cassette = load_cassette("rw_gemini_11_thinking_stream_mirascope")
    expected = gemini_expected(cassette)
    server.enqueue(cassette.reply())
    driver = make_driver(model="gemini-2.5-flash")
    events = finish(driver.stream_generate("Replay the recording.", reasoning=6400))
    check_replay(events, expected, requests=len(server.requests))
    recorded = cassette.request_json()["generationConfig"]["thinkingConfig"]
    sent = server.requests[0].json["generationConfig"]["thinkingConfig"]
    assert _camel(sent) == _camel(recorded) == {"thinkingBudget": 6400, "includeThoughts": True}
