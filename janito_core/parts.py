"""The neutral parts a driver yields from a provider's streamed response.

A driver's ``stream_request`` turns the provider's chunks into these, in the order the response
holds them; the harness turns them into events, runs tools and keeps the history.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from janito_core.usage import Usage


@attrs.frozen
class TextPart:
    """A piece of answer text."""

    text: str


@attrs.frozen
class ReasoningPart:
    """A piece of streamed thinking."""

    text: str


@attrs.frozen(kw_only=True)
class ToolCallPart:
    """One complete tool call. ``arguments`` is the JSON text as sent, or an already-parsed dict.

    ``provider_data`` is kept on the call in the history and handed back to the driver on the
    next request (e.g. a thought signature).
    """

    id: str | None
    name: str
    arguments: str | Mapping[str, Any] = ""
    provider_data: Mapping[str, Any] = attrs.field(factory=dict)


@attrs.frozen
class UsagePart:
    """The request's token usage so far; a later one replaces an earlier one."""

    usage: Usage


@attrs.frozen
class FinishPart:
    """Why the response ended: ``stop``, ``length``, ``tool_calls``, ``content_filter`` or the
    provider's own word."""

    reason: str | None


@attrs.frozen
class MetadataPart:
    """Driver data to keep on the assistant message (``Message.provider_data``), merged in."""

    data: Mapping[str, Any]


Part = TextPart | ReasoningPart | ToolCallPart | UsagePart | FinishPart | MetadataPart


@attrs.define
class _Fragment:
    id: str | None = None
    name: str = ""
    arguments: list[str] = attrs.field(factory=list)


class ToolCallAccumulator:
    """Joins tool-call fragments keyed by index (OpenAI-style streaming) into whole calls.

    ``add`` returns the calls that became complete because another index started; ``flush``
    returns what is left when the response ends. Calls come out in the order they began.
    """

    def __init__(self) -> None:
        self._open: dict[int, _Fragment] = {}

    def add(
        self, index: int, *, id: str | None = None, name: str | None = None, arguments: str = ""
    ) -> list[ToolCallPart]:
        """Add one fragment; returns the calls a new index closed."""
        done: list[ToolCallPart] = []
        if index not in self._open:
            done = self.flush()
            self._open[index] = _Fragment()
        fragment = self._open[index]
        if id:
            fragment.id = id
        if name:
            fragment.name = name
        if arguments:
            fragment.arguments.append(arguments)
        return done

    def flush(self) -> list[ToolCallPart]:
        """The calls still open, completed."""
        calls = [
            ToolCallPart(id=f.id, name=f.name, arguments="".join(f.arguments))
            for f in self._open.values()
        ]
        self._open.clear()
        return calls
