from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
import pytest

from janito_core import events as ev
from janito_core.testing import EventOrderError, event_order_problem, validate_events

GEN = "gen-1"
DRIVER = "test"


def _e(kind: type[ev.Event], **fields: Any) -> ev.Event:
    return kind(generation_id=fields.pop("generation_id", GEN), driver=DRIVER, **fields)


def started() -> ev.Event:
    return _e(ev.GenerationStarted, model="m")


def finished(status: ev.GenerationStatus = "completed") -> ev.Event:
    return _e(ev.GenerationFinished, status=status)


def req(request_id: str = "r1") -> ev.Event:
    return _e(ev.RequestStarted, request_id=request_id)


def done(request_id: str = "r1", status: ev.RequestStatus = "completed") -> ev.Event:
    return _e(ev.RequestFinished, request_id=request_id, status=status)


def failed(request_id: str = "r1") -> ev.Event:
    return _e(ev.RequestError, request_id=request_id, error="HTTP 500", retryable=True)


def text(value: str = "hi", request_id: str = "r1") -> ev.Event:
    return _e(ev.ContentPartFound, request_id=request_id, content_part=value)


def call(call_id: str = "c1", request_id: str = "r1") -> ev.Event:
    return _e(
        ev.ToolCallStarted, request_id=request_id, tool_call_id=call_id, name="t", arguments={}
    )


def called(call_id: str = "c1", request_id: str = "r1") -> ev.Event:
    return _e(ev.ToolCallFinished, request_id=request_id, tool_call_id=call_id, name="t", result="")


def call_failed(call_id: str = "c1", request_id: str = "r1") -> ev.Event:
    return _e(ev.ToolCallError, request_id=request_id, tool_call_id=call_id, name="t", error="x")


@attrs.frozen(kw_only=True)
class Stray(ev.Event):
    """An event that is neither a request event nor a driver event."""


@attrs.frozen(kw_only=True)
class OddRequestEvent(ev.RequestEvent):
    """A request event the contract does not list."""


VALID: dict[str, list[ev.Event]] = {
    "text": [started(), req(), text("a"), text("b"), done(), finished()],
    "reasoning and retry": [
        started(),
        req(),
        _e(ev.RequestRetry, request_id="r1", attempt=1, delay=0.1, error="429"),
        _e(ev.ReasoningPartFound, request_id="r1", reasoning_part="hmm"),
        text(),
        done(),
        finished(),
    ],
    "tool loop": [
        started(),
        req("r1"),
        text("a", "r1"),
        call("c1", "r1"),
        called("c1", "r1"),
        call("c2", "r1"),
        call_failed("c2", "r1"),
        text("b", "r1"),
        done("r1"),
        req("r2"),
        text("c", "r2"),
        done("r2"),
        finished(),
    ],
    "error": [started(), req(), failed(), finished("error")],
    "error after content": [started(), req(), text(), failed(), finished("error")],
    "cancelled request": [
        started(),
        req(),
        text(),
        done(status="cancelled"),
        finished("cancelled"),
    ],
    "cancelled in a tool": [
        started(),
        req(),
        call(),
        call_failed(),
        done(status="cancelled"),
        finished("cancelled"),
    ],
    "cancelled before any request": [started(), finished("cancelled")],
    "driver events anywhere": [
        started(),
        _e(ev.DriverEvent),
        req(),
        _e(ev.ToolCallRequested, request_id="r1", tool_call_id="c9", name="t", arguments={}),
        done(),
        finished(),
    ],
}


@pytest.mark.parametrize("events", VALID.values(), ids=VALID.keys())
def test_valid_streams_pass(events: list[ev.Event]) -> None:
    assert event_order_problem(events) is None
    validate_events(events)


# (events, offending index or None, words the problem must contain)
INVALID: dict[str, tuple[Sequence[ev.Event], int | None, str]] = {
    "empty": ([], None, "no events"),
    "no GenerationStarted first": ([req(), done(), finished()], 0, "expected GenerationStarted"),
    "another generation": (
        [started(), _e(ev.RequestStarted, request_id="r1", generation_id="other")],
        1,
        "belongs to generation",
    ),
    "second GenerationStarted": ([started(), started(), finished()], 1, "second"),
    "events after the end": ([started(), finished(), req()], 1, "followed by 1 more"),
    "end with a tool open": ([started(), req(), call(), finished()], 3, "still open"),
    "end with a request open": ([started(), req(), text(), finished()], 3, "still open"),
    "request inside a request": ([started(), req("r1"), req("r2")], 2, "still open"),
    "request id reused": ([started(), req(), done(), req(), done(), finished()], 3, "reuses"),
    "event outside a request": ([started(), text(), finished()], 1, "outside any request"),
    "wrong request id": ([started(), req("r1"), text("x", "r2")], 2, "inside request"),
    "tool ended by another id": ([started(), req(), call("c1"), called("c2")], 3, "open is"),
    "text while a tool is open": ([started(), req(), call(), text()], 3, "is open"),
    "tool end without a start": ([started(), req(), called()], 2, "without a ToolCallStarted"),
    "not a contract event": ([started(), _e(Stray), finished()], 1, "not an event of the"),
    "unknown request event": (
        [started(), req(), _e(OddRequestEvent, request_id="r1")],
        2,
        "not allowed inside a request",
    ),
    "no GenerationFinished": ([started(), req(), done()], None, "no GenerationFinished"),
    "unknown final status": ([started(), finished("weird")], 1, "unknown status"),  # type: ignore[arg-type]
    "completed after an error": ([started(), req(), failed(), finished()], 3, "after a Request"),
    "error without RequestError": ([started(), req(), done(), finished("error")], 3, "no Request"),
    "completed after a cancel": (
        [started(), req(), done(status="cancelled"), finished()],
        3,
        "after a cancelled request",
    ),
}


@pytest.mark.parametrize(("events", "index", "words"), INVALID.values(), ids=INVALID.keys())
def test_each_violation_is_reported_with_its_index(
    events: Sequence[ev.Event], index: int | None, words: str
) -> None:
    problem = event_order_problem(events)
    assert problem is not None
    assert words in problem
    if index is not None:
        assert problem.startswith(f"event {index} "), problem
        assert type(events[index]).__name__ in problem
    with pytest.raises(EventOrderError) as raised:
        validate_events(events)
    assert problem in str(raised.value)


def test_error_lists_the_events() -> None:
    with pytest.raises(AssertionError, match=r"(?s)0: GenerationStarted\n  1: ContentPartFound"):
        validate_events([started(), text(), finished()])
