"""Conversation turns: what goes to a provider and what a generation adds to the history."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

import attrs

Role = Literal["system", "user", "assistant", "tool"]
ROLES: tuple[str, ...] = ("system", "user", "assistant", "tool")


@attrs.frozen(kw_only=True)
class ToolCall:
    """A call the model asked for.

    ``arguments`` is the parsed JSON object (empty when it could not be parsed); ``raw_arguments``
    keeps the text exactly as the model sent it, so history sent back stays faithful.
    ``provider_data`` holds what a driver must send back verbatim (e.g. Gemini's thought
    signature), keyed by the driver's name.
    """

    id: str
    name: str
    arguments: Mapping[str, Any] = attrs.field(factory=dict)
    raw_arguments: str | None = None
    provider_data: Mapping[str, Any] = attrs.field(factory=dict)


def _to_tuple(calls: Iterable[ToolCall]) -> tuple[ToolCall, ...]:
    return tuple(calls)


def _check_role(instance: Message, attribute: attrs.Attribute[str], value: str) -> None:
    if value not in ROLES:
        raise ValueError(f"Message role must be one of {', '.join(ROLES)}; got {value!r}")


@attrs.frozen(kw_only=True)
class Message:
    """One turn of a conversation.

    - ``system`` / ``user``: ``content``.
    - ``assistant``: ``content`` (may be empty), ``tool_calls``, ``reasoning`` (the thinking the
      provider streamed, kept for the record), ``provider_data`` (driver-owned, sent back as is).
    - ``tool``: ``content`` is the result, ``tool_call_id`` and ``name`` say which call it answers.
    """

    role: Role = attrs.field(validator=_check_role)
    content: str = ""
    tool_calls: tuple[ToolCall, ...] = attrs.field(default=(), converter=_to_tuple)
    tool_call_id: str | None = None
    name: str | None = None
    reasoning: str | None = None
    is_error: bool = False
    provider_data: Mapping[str, Any] = attrs.field(factory=dict)

    @classmethod
    def system(cls, content: str) -> Message:
        """A system turn."""
        return cls(role="system", content=content)

    @classmethod
    def user(cls, content: str) -> Message:
        """A user turn."""
        return cls(role="user", content=content)

    @classmethod
    def assistant(cls, content: str = "", tool_calls: tuple[ToolCall, ...] = ()) -> Message:
        """An assistant turn."""
        return cls(role="assistant", content=content, tool_calls=tool_calls)

    @classmethod
    def tool_result(
        cls, tool_call_id: str, name: str, content: str, *, is_error: bool = False
    ) -> Message:
        """The result of a tool call, answering ``tool_call_id``."""
        return cls(
            role="tool", content=content, tool_call_id=tool_call_id, name=name, is_error=is_error
        )
