"""The commit path: whatever the moment of a cancel, the events and the history agree."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import pytest

from janito_core import EventStream, Message, Tool
from janito_core import events as ev
from janito_core.parts import ReasoningPart, TextPart, ToolCallPart
from janito_core.testing import ScriptedDriver, SyncScriptedDriver, validate_events


def get_weather(city: str) -> str:
    """The weather."""
    return f"sunny in {city}"


def get_time() -> str:
    """The time."""
    return "noon"


TOOLS = [Tool.from_function(get_weather), Tool.from_function(get_time)]


def script() -> list[list[object]]:
    return [
        [
            ReasoningPart("think "),
            ReasoningPart("more"),
            TextPart("A"),
            ToolCallPart(id="w", name="get_weather", arguments='{"city": "Lima"}'),
            TextPart("B"),
            ToolCallPart(id="t", name="get_time", arguments="{}"),
        ],
        [ReasoningPart("again"), TextPart("done"), TextPart("!")],
    ]


def history_from_events(events: list[ev.Event]) -> list[tuple[object, ...]]:
    """The turns the events say the generation added, built from the events alone."""
    turns: list[tuple[object, ...]] = []
    order: list[str] = []
    text: dict[str, list[str]] = {}
    reasoning: dict[str, list[str]] = {}
    calls: dict[str, list[str]] = {}
    results: dict[str, list[tuple[str, str]]] = {}
    for event in events:
        request_id = getattr(event, "request_id", None)
        if request_id is None:
            continue
        if request_id not in text:
            order.append(request_id)
            text[request_id], reasoning[request_id] = [], []
            calls[request_id], results[request_id] = [], []
        if isinstance(event, ev.ContentPartFound):
            text[request_id].append(event.content_part)
        elif isinstance(event, ev.ReasoningPartFound):
            reasoning[request_id].append(event.reasoning_part)
        elif isinstance(event, ev.ToolCallStarted):
            calls[request_id].append(event.tool_call_id)
        elif isinstance(event, ev.ToolCallFinished):
            results[request_id].append((event.tool_call_id, event.result))
        elif isinstance(event, ev.ToolCallError):
            results[request_id].append((event.tool_call_id, f"Error: {event.error}"))
    for request_id in order:
        if not (text[request_id] or reasoning[request_id] or calls[request_id]):
            continue
        turns.append(
            (
                "assistant",
                "".join(text[request_id]),
                "".join(reasoning[request_id]) or None,
                tuple(calls[request_id]),
            )
        )
        answered = dict(results[request_id])
        for call_id in calls[request_id]:
            # A call the cancel cut off before it started has no event and no result.
            turns.append(("tool", call_id, answered.get(call_id, "Error: cancelled")))
    return turns


def history_of(messages: tuple[Message, ...]) -> list[tuple[object, ...]]:
    turns: list[tuple[object, ...]] = []
    for message in messages:
        if message.role == "assistant":
            turns.append(
                (
                    "assistant",
                    message.content,
                    message.reasoning,
                    tuple(c.id for c in message.tool_calls),
                )
            )
        else:
            turns.append(("tool", message.tool_call_id, message.content))
    return turns


def check_agreement(events: list[ev.Event]) -> None:
    validate_events(events)
    finished = events[-1]
    assert isinstance(finished, ev.GenerationFinished)
    assert history_of(finished.messages) == history_from_events(events)


def full_length() -> int:
    return len(ScriptedDriver(script()).generate("hi", tools=TOOLS).events)


DRIVERS: list[Callable[..., ScriptedDriver | SyncScriptedDriver]] = [
    ScriptedDriver,
    SyncScriptedDriver,
]


@pytest.mark.parametrize("make", DRIVERS, ids=["async-seam", "sync-seam"])
def test_an_observer_cancelling_at_every_event_keeps_events_and_history_in_agreement(
    make: Callable[..., ScriptedDriver],
) -> None:
    total = full_length()
    assert total >= 15
    # From 1: GenerationStarted goes out before stream_generate returns the stream to cancel.
    for index in range(1, total):
        seen: list[ev.Event] = []
        driver = make(script())
        holder: list[EventStream] = []
        ready = threading.Event()

        def cancel_at(
            event: ev.Event,
            index: int = index,
            seen: list[ev.Event] = seen,
            holder: list[EventStream] = holder,
            ready: threading.Event = ready,
        ) -> None:
            if len(seen) == index + 1:
                # The loop may reach this event before stream_generate has returned.
                assert ready.wait(5)
                holder[0].cancel()

        stream = driver.stream_generate("hi", tools=TOOLS, observers=[seen.append, cancel_at])
        holder.append(stream)
        ready.set()
        events = list(stream)
        assert stream.join(5)
        check_agreement(events)
        assert events == seen
        if index < total - 1:
            assert events[-1].status == "cancelled", index  # type: ignore[attr-defined]


@pytest.mark.parametrize("make", DRIVERS, ids=["async-seam", "sync-seam"])
def test_a_consumer_cancelling_at_every_event_keeps_events_and_history_in_agreement(
    make: Callable[..., ScriptedDriver],
) -> None:
    for index in range(full_length()):
        stream = make(script()).stream_generate("hi", tools=TOOLS)
        events: list[ev.Event] = []
        for event in stream:
            events.append(event)
            if len(events) == index + 1:
                stream.cancel()
        assert stream.join(5)
        check_agreement(events)


def test_an_async_consumer_cancelling_at_every_event_keeps_them_in_agreement() -> None:
    async def run(index: int) -> list[ev.Event]:
        stream = ScriptedDriver(script()).astream_generate("hi", tools=TOOLS)
        events: list[ev.Event] = []
        async for event in stream:
            events.append(event)
            if len(events) == index + 1:
                stream.cancel()
        assert await stream.join(5)
        return events

    for index in range(full_length()):
        check_agreement(asyncio.run(run(index)))
