"""Neutral scenarios for driver tests, and the adapter that speaks one provider's wire format.

A scenario says what one provider response holds (text, reasoning, tool calls, usage, how it
ends, or an HTTP error), with no provider's shapes in it. A driver's ``WireAdapter`` turns it
into a ``Reply`` of the loopback ``WireServer`` in its provider's exact wire format, and builds a
driver pointed at that server. The conformance suite is written against these alone.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

import attrs

from janito_core.driver import LLMDriver
from janito_core.testing.server import RecordedRequest, Reply
from janito_core.usage import Usage

__all__ = [
    "Call",
    "Cut",
    "Garbage",
    "HttpError",
    "Reasoning",
    "Scenario",
    "SentFile",
    "SentPart",
    "Silence",
    "Text",
    "WireAdapter",
]


@attrs.frozen
class Text:
    """A piece of answer text, sent as one wire event."""

    text: str


@attrs.frozen
class Reasoning:
    """A piece of streamed thinking, sent as one wire event (where the provider has them)."""

    text: str


@attrs.frozen(kw_only=True)
class Call:
    """A tool call. ``arguments`` is the JSON text the model sends (may be invalid JSON)."""

    name: str
    arguments: str = "{}"
    id: str | None = None


@attrs.frozen
class Silence:
    """The server stops sending here and keeps the connection open."""


@attrs.frozen
class Cut:
    """The server closes the connection here, mid-body."""


@attrs.frozen
class Garbage:
    """The server sends one malformed event here (not JSON)."""


Step = Text | Reasoning | Call | Silence | Cut | Garbage


@attrs.frozen(kw_only=True)
class HttpError:
    """The provider answers with this HTTP error instead of a stream."""

    status: int
    message: str = "scripted error"
    retry_after: float | None = None


@attrs.frozen(kw_only=True)
class Scenario:
    """One provider response, in neutral terms.

    ``delay`` is the pause before each event. ``end=False`` leaves out how the provider marks a
    complete response (its end event, ``[DONE]``, its finish reason, its last line): the body
    then ends cleanly right after ``steps``, the way a server that died between two events
    looks. ``usage`` and ``finish_reason`` may go with the end marker.
    """

    steps: tuple[Step, ...] = ()
    usage: Usage | None = None
    finish_reason: str = "stop"
    error: HttpError | None = None
    delay: float = 0.0
    end: bool = True


@attrs.frozen(kw_only=True)
class SentFile:
    """An attachment as a recorded request carried it: its bytes (decoded) or its URL.

    ``media_type`` is what the wire said, or None where the provider's form does not carry one
    (the suite then checks the bytes alone).
    """

    media_type: str | None
    data: bytes | None = None
    url: str | None = None


#: One piece of a user turn as the provider received it.
SentPart = str | SentFile


class WireAdapter(ABC):
    """Speaks one provider's wire format for the conformance suite.

    ``api_key`` is a sentinel the suite searches for in every event, log record and error.
    ``unsupported`` maps a capability the provider lacks to the reason (see the suite).
    """

    api_key: ClassVar[str] = "sk-janito-SENTINEL-0123456789abcdef"
    model: ClassVar[str] = "test-model"
    unsupported: ClassVar[Mapping[str, str]] = {}
    #: capability -> the model the suite asks for when it tests that capability, where the
    #: provider gives it only to some models (Mistral's audio: Voxtral models).
    models_for: ClassVar[Mapping[str, str]] = {}

    @abstractmethod
    def make_driver(self, base_url: str, **config: Any) -> LLMDriver:
        """A driver talking to the loopback server at ``base_url`` with ``api_key``."""

    @abstractmethod
    def reply(self, scenario: Scenario) -> Reply:
        """The server's reply carrying ``scenario`` in the provider's wire format.

        Characters beyond ASCII are written raw, as providers send them
        (``json.dumps(..., ensure_ascii=False)``; ``server.sse`` does), and ``scenario.end``
        is honoured: the suite checks both. Charsets, byte order marks, split writes and
        dropped connections are the suite's to add (``janito_core.testing.quirks``).
        """

    @abstractmethod
    def tool_results(self, request: RecordedRequest) -> list[tuple[str, str]]:
        """The (tool name, result text) pairs a recorded request sent back to the model."""

    def user_turns(self, request: RecordedRequest) -> list[list[SentPart]]:
        """Each user turn of a recorded request (not tool results), as its text and files in order.

        Needed by the attachment tests; an adapter for a driver that accepts no attachments
        may leave it out.
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement user_turns()")

    def sent_schema(self, request: RecordedRequest) -> Mapping[str, Any] | None:
        """The output JSON Schema a recorded request carried, as the provider received it.

        Needed by the structured-output tests (None: the request asked for none).
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement sent_schema()")
