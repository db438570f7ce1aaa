"""The event order of the contract, written once: every driver test runs its events through it.

    GenerationStarted
    ( RequestStarted
        ( ContentPartFound | ReasoningPartFound | RequestRetry
        | ToolCallStarted (ToolCallFinished | ToolCallError) )*
      ( RequestFinished | RequestError ) )*
    GenerationFinished

``DriverEvent`` subclasses may appear anywhere between the first and the last event.
"""

from __future__ import annotations

from collections.abc import Sequence

from janito_core import events as ev

__all__ = ["EventOrderError", "event_order_problem", "validate_events"]


class EventOrderError(AssertionError):
    """The events break the contract's order; the message names the first offending event."""


_IN_REQUEST = (ev.ContentPartFound, ev.ReasoningPartFound, ev.RequestRetry)


def event_order_problem(events: Sequence[ev.Event]) -> str | None:
    """A description of the first violation of the event order, or None when there is none."""
    if not events:
        return "no events at all: a stream must start with GenerationStarted"
    first = events[0]
    if not isinstance(first, ev.GenerationStarted):
        return f"event 0 is {_name(first)}, expected GenerationStarted"
    generation_id, driver = first.generation_id, first.driver
    request: str | None = None
    tool: ev.ToolCallStarted | None = None
    seen_requests: set[str] = set()
    last_request_end: ev.Event | None = None
    for index, event in enumerate(events[1:], start=1):
        where = f"event {index} ({_name(event)})"
        if event.generation_id != generation_id or event.driver != driver:
            return f"{where} belongs to generation {event.generation_id!r}/{event.driver!r}"
        if isinstance(event, ev.GenerationStarted):
            return f"{where}: a second GenerationStarted"
        if isinstance(event, ev.GenerationFinished):
            if index != len(events) - 1:
                return f"{where} is followed by {len(events) - 1 - index} more event(s)"
            if tool is not None:
                return f"{where} while tool call {tool.tool_call_id!r} is still open"
            if request is not None:
                return f"{where} while request {request!r} is still open"
            return _final_status_problem(event, last_request_end, where)
        if isinstance(event, ev.DriverEvent):
            continue
        if isinstance(event, ev.RequestStarted):
            if request is not None:
                return f"{where} while request {request!r} is still open"
            if event.request_id in seen_requests:
                return f"{where} reuses request_id {event.request_id!r}"
            request = event.request_id
            seen_requests.add(request)
            continue
        if not isinstance(event, ev.RequestEvent):
            return f"{where} is not an event of the contract"
        if request is None:
            return f"{where} outside any request"
        if event.request_id != request:
            return f"{where} has request_id {event.request_id!r} inside request {request!r}"
        if tool is not None:
            if isinstance(event, (ev.ToolCallFinished, ev.ToolCallError)):
                if event.tool_call_id != tool.tool_call_id:
                    return (
                        f"{where} ends call {event.tool_call_id!r}, open is {tool.tool_call_id!r}"
                    )
                tool = None
                continue
            return f"{where} while tool call {tool.tool_call_id!r} is open"
        if isinstance(event, ev.ToolCallStarted):
            tool = event
        elif isinstance(event, (ev.ToolCallFinished, ev.ToolCallError)):
            return f"{where} without a ToolCallStarted"
        elif isinstance(event, (ev.RequestFinished, ev.RequestError)):
            request = None
            last_request_end = event
        elif not isinstance(event, _IN_REQUEST):
            return f"{where} is not allowed inside a request"
    return "the stream has no GenerationFinished at its end"


def _final_status_problem(
    finished: ev.GenerationFinished, last_end: ev.Event | None, where: str
) -> str | None:
    if finished.status not in ("completed", "cancelled", "error"):
        return f"{where} has unknown status {finished.status!r}"
    if isinstance(last_end, ev.RequestError) and finished.status != "error":
        return f"{where} has status {finished.status!r} after a RequestError"
    if finished.status == "error" and not isinstance(last_end, ev.RequestError):
        return f"{where} has status 'error' but no RequestError came before it"
    cancelled_last = isinstance(last_end, ev.RequestFinished) and last_end.status == "cancelled"
    if cancelled_last and finished.status != "cancelled":
        return f"{where} has status {finished.status!r} after a cancelled request"
    return None


def validate_events(events: Sequence[ev.Event]) -> None:
    """Raise ``EventOrderError`` naming the first event that breaks the contract's order."""
    problem = event_order_problem(events)
    if problem is not None:
        listing = "\n".join(f"  {i}: {_name(e)}" for i, e in enumerate(events[:60]))
        raise EventOrderError(f"{problem}\nevents:\n{listing}")


def _name(event: object) -> str:
    return type(event).__name__
