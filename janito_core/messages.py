"""Conversation turns: what goes to a provider and what a generation adds to the history."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

import attrs

from janito_core.attachments import Attachment

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


#: One piece of a user turn: text or an attachment.
UserPart = str | Attachment

#: How the text parts of a turn are joined into its ``content``: ``Message.user("Compare", a,
#: "with", b).content == "Compare with"``.
PART_SEPARATOR = " "


def _to_parts(parts: Iterable[UserPart] | None) -> tuple[UserPart, ...] | None:
    return None if parts is None else tuple(parts)


@attrs.frozen(kw_only=True)
class Message:
    """One turn of a conversation.

    - ``system`` / ``user``: ``content``. A user turn may also hold attachments: ``parts`` is its
      text and ``Attachment``s in order, and ``content`` their text joined by spaces.
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
    #: The turn's text and attachments in order; left out, it is ``(content,)`` (or ``()``).
    parts: tuple[UserPart, ...] = attrs.field(default=None, converter=_to_parts)

    def __attrs_post_init__(self) -> None:
        if self.parts is None:
            object.__setattr__(self, "parts", (self.content,) if self.content else ())
            return
        for part in self.parts:
            if not isinstance(part, (str, Attachment)):
                raise TypeError(
                    f"a message part is a str or an Attachment; got {type(part).__name__}"
                )
        text = PART_SEPARATOR.join(p for p in self.parts if isinstance(p, str))
        if self.role != "user" and any(isinstance(p, Attachment) for p in self.parts):
            raise ValueError(f"only a user turn holds attachments, not a {self.role} turn")
        if not self.content:
            object.__setattr__(self, "content", text)
        elif self.content != text:
            raise ValueError("content must be the text of parts (or left out)")

    @property
    def attachments(self) -> tuple[Attachment, ...]:
        """The turn's attachments, in order."""
        return tuple(p for p in self.parts if isinstance(p, Attachment))

    @classmethod
    def system(cls, content: str) -> Message:
        """A system turn."""
        return cls(role="system", content=content)

    @classmethod
    def user(cls, *parts: UserPart, content: str | None = None) -> Message:
        """A user turn: ``Message.user("Compare", img1, "with", img2)`` keeps that order."""
        if content is not None:
            parts = (content, *parts)
        return cls(role="user", parts=parts)

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
