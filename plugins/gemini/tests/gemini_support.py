"""Helpers for the Gemini driver tests: run a stream to its end and pick events out."""

from __future__ import annotations

from typing import Any, TypeVar

from janito_core import events as ev
from janito_core.harness import EventStream
from janito_core.testing import validate_events

E = TypeVar("E", bound=ev.Event)


def finish(stream: EventStream) -> list[ev.Event]:
    """All events of ``stream``, validated; the worker thread must have ended."""
    events = list(stream)
    validate_events(events)
    assert stream.join(5.0), "the generation's worker thread did not end"
    return events


def of_type(events: list[ev.Event], kind: type[E]) -> list[E]:
    """The events of one type, in order."""
    return [e for e in events if isinstance(e, kind)]


def text_of(events: list[ev.Event]) -> str:
    """The concatenated answer text."""
    return "".join(e.content_part for e in of_type(events, ev.ContentPartFound))


def last(events: list[ev.Event]) -> Any:
    """The ``GenerationFinished`` event."""
    end = events[-1]
    assert isinstance(end, ev.GenerationFinished)
    return end


def order(events: list[ev.Event]) -> list[tuple[str, str]]:
    """(kind, value) for the content, reasoning and tool events, in order."""
    out: list[tuple[str, str]] = []
    for e in events:
        if isinstance(e, ev.ContentPartFound):
            out.append(("text", e.content_part))
        elif isinstance(e, ev.ReasoningPartFound):
            out.append(("reasoning", e.reasoning_part))
        elif isinstance(e, ev.ToolCallStarted):
            out.append(("call", e.name))
        elif isinstance(e, ev.ToolCallFinished):
            out.append(("result", e.result))
        elif isinstance(e, ev.ToolCallError):
            out.append(("error", e.error))
    return out
