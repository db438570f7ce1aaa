"""The events a generation streams, in the order ``janito_core.testing.validate_events`` checks.

Every event is a frozen, slotted attrs class carrying ``generation_id``, ``driver`` and
``timestamp`` (``time.time()`` when it was made). Drivers that need events of their own subclass
:class:`DriverEvent`.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any, Literal

import attrs

from janito_core.usage import Usage

if TYPE_CHECKING:
    from decimal import Decimal

    from janito_core.messages import Message

__all__ = [
    "ContentPartFound",
    "DriverEvent",
    "Event",
    "GenerationFinished",
    "GenerationStarted",
    "ReasoningPartFound",
    "RequestError",
    "RequestEvent",
    "RequestFinished",
    "RequestRetry",
    "RequestStarted",
    "ToolCallError",
    "ToolCallFinished",
    "ToolCallRequested",
    "ToolCallStarted",
]

GenerationStatus = Literal["completed", "cancelled", "error"]
RequestStatus = Literal["completed", "cancelled"]


@attrs.frozen(kw_only=True)
class Event:
    """Base of every event: which generation, which driver, when."""

    generation_id: str
    driver: str
    timestamp: float = attrs.field(factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict with the event's type name under ``"type"``."""
        data: dict[str, Any] = {"type": type(self).__name__}
        for field in attrs.fields(type(self)):
            data[field.name] = _jsonable(getattr(self, field.name))
        return data


def _jsonable(value: Any) -> Any:
    if attrs.has(type(value)):
        return {f.name: _jsonable(getattr(value, f.name)) for f in attrs.fields(type(value))}
    if isinstance(value, BaseException):
        return f"{type(value).__name__}: {value}"
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    # A cost: exact as a string. Looked up, not imported: a Decimal exists only once
    # ``decimal`` is loaded, and importing it here would add to every ``import janito_core``.
    decimal = sys.modules.get("decimal")
    if decimal is not None and isinstance(value, decimal.Decimal):
        return str(value)
    return repr(value)


@attrs.frozen(kw_only=True)
class GenerationStarted(Event):
    """First event of every generation."""

    model: str


@attrs.frozen(kw_only=True)
class RequestEvent(Event):
    """Base of the events that belong to one provider request."""

    request_id: str


@attrs.frozen(kw_only=True)
class RequestStarted(RequestEvent):
    """A request to the provider is about to be sent."""


@attrs.frozen(kw_only=True)
class ContentPartFound(RequestEvent):
    """A piece of the answer's text, in the order the provider sent it."""

    content_part: str


@attrs.frozen(kw_only=True)
class ReasoningPartFound(RequestEvent):
    """A piece of the model's streamed thinking (where the provider streams it)."""

    reasoning_part: str


@attrs.frozen(kw_only=True)
class ToolCallStarted(RequestEvent):
    """The model called a tool that has a function; the harness is running it."""

    tool_call_id: str
    name: str
    arguments: dict[str, Any]


@attrs.frozen(kw_only=True)
class ToolCallFinished(RequestEvent):
    """A tool call returned; ``result`` goes back to the model."""

    tool_call_id: str
    name: str
    result: str


@attrs.frozen(kw_only=True)
class ToolCallError(RequestEvent):
    """A tool call failed (bad arguments, unknown tool, exception, cancel); ``error`` goes back."""

    tool_call_id: str
    name: str
    error: str


@attrs.frozen(kw_only=True)
class RequestRetry(RequestEvent):
    """The request failed before any content and will be sent again after ``delay`` seconds."""

    attempt: int
    delay: float
    error: str
    status_code: int | None = None


@attrs.frozen(kw_only=True)
class RequestFinished(RequestEvent):
    """The request's response ended (or was cancelled)."""

    status: RequestStatus
    finish_reason: str | None = None
    usage: Usage = attrs.field(factory=Usage)


@attrs.frozen(kw_only=True)
class RequestError(RequestEvent):
    """The request failed and will not be retried."""

    error: str
    exception: BaseException | None = attrs.field(default=None, eq=False, repr=False)
    status_code: int | None = None
    retryable: bool = False


@attrs.frozen(kw_only=True)
class GenerationFinished(Event):
    """Last event of every generation; ``messages`` are the turns it added to the history.

    ``cost`` is what it cost in USD, from the price table (``janito-core[prices]``), however it
    ended; ``None`` without the table, for a model it does not know, or when some request's usage
    was not reported (see ``janito_core.cost``). ``to_dict`` gives it as a string.
    """

    status: GenerationStatus
    finish_reason: str | None = None
    usage: Usage = attrs.field(factory=Usage)
    messages: tuple[Message, ...] = ()
    cost: Decimal | None = None


@attrs.frozen(kw_only=True)
class DriverEvent(Event):
    """Base for events a driver adds of its own; they may occur anywhere inside a generation."""


@attrs.frozen(kw_only=True)
class ToolCallRequested(DriverEvent):
    """The model called a tool that has no function: the caller runs it and sends the result."""

    request_id: str
    tool_call_id: str
    name: str
    arguments: dict[str, Any]
