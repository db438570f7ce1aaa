"""Exact usage, both APIs, through the real SDK to the loopback server: asked for on every Chat
stream, every count the provider reports read (cached, reasoning, cache writes), the last
report winning, and a response without usage marked missing rather than estimated."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from janito_driver_openai.driver import OpenAIDriver
from openai_wire import (
    ChatWireAdapter,
    chat_chunk,
    chat_reply,
    chat_usage_json,
    responses_events,
)

from janito_core import events as ev
from janito_core.harness import EventStream
from janito_core.testing import events_of, finished_event, text_of
from janito_core.testing.scenario import Call, Scenario, Text
from janito_core.testing.server import WireServer
from janito_core.tools import Tool
from janito_core.usage import Usage

Run = Callable[[EventStream], list[ev.Event]]
Make = Callable[..., OpenAIDriver]

FULL = Usage(
    input_tokens=2006, output_tokens=300, total_tokens=2306, cached_input_tokens=1920,
    reasoning_tokens=256,
)  # fmt: skip


LOOKUP = Call(name="lookup", arguments='{"key": "a"}')


def lookup(key: str) -> str:
    """Look a key up."""
    return f"value of {key}"


def test_every_count_is_read(
    server: WireServer, adapter: ChatWireAdapter, make_driver: Make, run: Run
) -> None:
    server.enqueue(adapter.reply(Scenario(steps=(Text("x"),), usage=FULL)))
    events = run(make_driver(api=adapter.api).stream_generate("Q"))
    assert events_of(events, ev.RequestFinished)[0].usage == FULL
    assert finished_event(events).usage == FULL


def test_no_usage_is_zeros_marked_missing(
    server: WireServer, adapter: ChatWireAdapter, make_driver: Make, run: Run
) -> None:
    server.enqueue(adapter.reply(Scenario(steps=(Text("x"),), usage=None)))
    events = run(make_driver(api=adapter.api).stream_generate("Q"))
    assert finished_event(events).status == "completed"
    assert events_of(events, ev.RequestFinished)[0].usage == Usage(missing=True)
    assert finished_event(events).usage == Usage(missing=True)


def test_usage_is_summed_over_rounds_and_missing_if_one_lacks_it(
    server: WireServer, adapter: ChatWireAdapter, make_driver: Make, run: Run
) -> None:
    server.enqueue(
        adapter.reply(Scenario(steps=(LOOKUP,), usage=FULL)),
        adapter.reply(Scenario(steps=(Text("A"),), usage=FULL)),
    )
    tools = [Tool.from_function(lookup)]
    events = run(make_driver(api=adapter.api).stream_generate("Q", tools=tools))
    assert finished_event(events).usage == FULL + FULL
    server.enqueue(
        adapter.reply(Scenario(steps=(LOOKUP,), usage=FULL)),
        adapter.reply(Scenario(steps=(Text("A"),))),
    )
    events = run(make_driver(api=adapter.api).stream_generate("Q", tools=tools))
    assert finished_event(events).usage == Usage(
        input_tokens=2006,
        output_tokens=300,
        total_tokens=2306,
        cached_input_tokens=1920,
        reasoning_tokens=256,
        missing=True,
    )


def test_chat_usage_sent_several_times_last_wins(
    server: WireServer, make_driver: Make, run: Run
) -> None:
    # vLLM's continuous_usage_stats puts running totals on every chunk; others repeat the total
    # on the finish chunk and in a usage chunk.
    def running(prompt: int, completion: int) -> dict[str, Any]:
        total = prompt + completion
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": total}

    server.enqueue(
        chat_reply(
            [
                chat_chunk({"content": "a"}, usage=running(10, 1)),
                chat_chunk({"content": "b"}, usage=running(10, 2)),
                chat_chunk({}, finish_reason="stop", usage=running(10, 3)),
                chat_chunk(usage=chat_usage_json(FULL), choices=False),
            ]
        )
    )
    events = run(make_driver().stream_generate("Q"))
    assert text_of(events) == "ab"
    assert finished_event(events).usage == FULL


def test_responses_cache_writes_are_read(server: WireServer, make_driver: Make, run: Run) -> None:
    usage = {
        "input_tokens": 4000,
        "input_tokens_details": {
            "cached_tokens": 1024,
            "cache_write_tokens": 2900,
            "cache_write_tokens_details": {"ttl_30m_tokens": 2900, "ttl_12h_tokens": 0},
        },
        "output_tokens": 40,
        "output_tokens_details": {"reasoning_tokens": 12},
        "total_tokens": 4040,
    }
    server.enqueue(
        responses_events(
            [
                {"type": "response.output_text.delta", "output_index": 0, "delta": "hi"},
                {"type": "response.completed", "response": {"status": "completed", "usage": usage}},
            ]
        )
    )
    events = run(make_driver(api="responses").stream_generate("Q"))
    assert finished_event(events).usage == Usage(
        input_tokens=4000,
        output_tokens=40,
        total_tokens=4040,
        cached_input_tokens=1024,
        reasoning_tokens=12,
        cache_write_tokens=2900,
    )


@pytest.mark.parametrize(
    ("usage", "expected"),
    [
        (
            {
                "prompt_tokens": 3000,
                "completion_tokens": 10,
                "total_tokens": 3010,
                "prompt_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 2900},
            },
            Usage(input_tokens=3000, output_tokens=10, total_tokens=3010, cache_write_tokens=2900),
        ),
        (
            # DeepSeek before it added prompt_tokens_details
            {
                "prompt_tokens": 3000,
                "completion_tokens": 10,
                "total_tokens": 3010,
                "prompt_cache_hit_tokens": 2816,
                "prompt_cache_miss_tokens": 184,
            },
            Usage(input_tokens=3000, output_tokens=10, total_tokens=3010, cached_input_tokens=2816),
        ),
    ],
    ids=["cache_write_tokens", "deepseek_cache_hits"],
)
def test_chat_cache_counts_of_other_names(
    server: WireServer, make_driver: Make, run: Run, usage: dict[str, Any], expected: Usage
) -> None:
    server.enqueue(
        chat_reply(
            [
                chat_chunk({"content": "x"}, finish_reason="stop"),
                chat_chunk(usage=usage, choices=False),
            ]
        )
    )
    events = run(make_driver().stream_generate("Q"))
    assert finished_event(events).usage == expected


# -- asking for it -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({}, {"include_usage": True}),
        # Added to stream_options passed by hand, unless they say include_usage themselves.
        (
            {"stream_options": {"include_obfuscation": False}},
            {"include_usage": True, "include_obfuscation": False},
        ),
        ({"stream_options": {"include_usage": False}}, {"include_usage": False}),
        ({"stream_options": None}, None),  # for a server that refuses the field
    ],
)
def test_chat_streams_ask_for_usage(
    server: WireServer,
    make_driver: Make,
    run: Run,
    options: dict[str, Any],
    expected: dict[str, Any] | None,
) -> None:
    # A compatible server (the loopback one is not api.openai.com) is asked too.
    server.enqueue(chat_reply([chat_chunk({"content": "x"}, finish_reason="stop")]))
    run(make_driver(model="deepseek-chat").stream_generate("Q", **options))
    assert server.requests[0].json.get("stream_options") == expected
