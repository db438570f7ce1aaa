"""Neutral messages, tools and options → the keyword arguments of ``messages.create``.

Pure data: nothing here imports the SDK.

Prompt caching: ``cache`` names the parts of the request that end a cache prefix, each marked
``cache_control: {"type": "ephemeral"}``: ``"system"`` (the system prompt), ``"tools"`` (the
last tool, so all tools), ``"messages"`` (the last message, so the whole conversation so far).
A message whose ``provider_data`` holds ``{"anthropic": {"cache": True}}`` is marked too.

A user turn's attachments become image and document blocks among its text blocks, in the turn's
order (``attachments``); a turn without attachments keeps its one text block.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from janito_core.attachments import Attachment
from janito_core.errors import InvalidRequestError
from janito_core.messages import Message, ToolCall
from janito_core.tools import Tool
from janito_driver_anthropic.attachments import attachment_block
from janito_driver_anthropic.stream import NAME

__all__ = [
    "CACHE_POINTS",
    "DEFAULT_MAX_TOKENS",
    "RESERVED_OPTIONS",
    "check_cache",
    "request_kwargs",
]

#: The API requires ``max_tokens``; this is sent when the caller sets none.
DEFAULT_MAX_TOKENS = 4096
CACHE_POINTS = frozenset({"system", "tools", "messages"})
# Arguments of ``messages.create`` the driver sets from the request itself.
RESERVED_OPTIONS = frozenset({"model", "messages", "stream", "system", "tools"})
_EPHEMERAL = {"type": "ephemeral"}


def check_cache(value: object) -> frozenset[str]:
    """The cache points ``value`` names (a name or several); raises ``InvalidRequestError``."""
    if value is None:
        return frozenset()
    names = (value,) if isinstance(value, str) else value
    if not isinstance(names, Iterable):
        raise InvalidRequestError(f"cache must name cache points; got {value!r}")
    points = frozenset(names)
    unknown = sorted(map(str, points - CACHE_POINTS))
    if unknown:
        raise InvalidRequestError(
            f"unknown cache point(s) {', '.join(unknown)}; cache takes "
            + ", ".join(sorted(CACHE_POINTS))
        )
    return points


def request_kwargs(
    *,
    model: str,
    system_prompt: str | None,
    messages: Iterable[Message],
    tools: Iterable[Tool],
    options: Mapping[str, Any],
    cache: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """The keyword arguments for ``AsyncAnthropic.messages.create`` (``stream`` not included)."""
    system_parts = [system_prompt] if system_prompt else []
    wire: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "system":
            if message.content:
                system_parts.append(message.content)
            continue
        role, blocks = _blocks(message)
        if not blocks:
            continue
        if _wants_cache(message):
            blocks[-1] = {**blocks[-1], "cache_control": _EPHEMERAL}
        # Tool results of parallel calls (and a user turn after them) share one user turn.
        if wire and wire[-1]["role"] == role:
            wire[-1]["content"].extend(blocks)
        else:
            wire.append({"role": role, "content": blocks})
    if "messages" in cache and wire:
        last = wire[-1]["content"]
        last[-1] = {**last[-1], "cache_control": _EPHEMERAL}
    kwargs: dict[str, Any] = {"model": model, "messages": wire}
    if system_parts:
        system = "\n\n".join(system_parts)
        if "system" in cache:
            kwargs["system"] = [{"type": "text", "text": system, "cache_control": _EPHEMERAL}]
        else:
            kwargs["system"] = system
    wire_tools = [_tool(t) for t in tools]
    if wire_tools:
        if "tools" in cache:
            wire_tools[-1]["cache_control"] = _EPHEMERAL
        kwargs["tools"] = wire_tools
    kwargs.update(options)
    kwargs.setdefault("max_tokens", DEFAULT_MAX_TOKENS)
    return kwargs


def _wants_cache(message: Message) -> bool:
    data = message.provider_data.get(NAME)
    return isinstance(data, Mapping) and bool(data.get("cache"))


def _blocks(message: Message) -> tuple[str, list[dict[str, Any]]]:
    if message.role == "assistant":
        blocks: list[dict[str, Any]] = []
        data = message.provider_data.get(NAME)
        if isinstance(data, Mapping):
            # Anthropic's own thinking blocks, signatures included, go back verbatim and first.
            # Another provider's reasoning has no signature Anthropic would accept: dropped.
            blocks.extend(dict(b) for b in data.get("thinking") or ())
        if message.content:
            blocks.append({"type": "text", "text": message.content})
        blocks.extend(_tool_use(c) for c in message.tool_calls)
        return "assistant", blocks
    if message.role == "tool":
        result: dict[str, Any] = {
            "type": "tool_result",
            "tool_use_id": wire_id(message.tool_call_id or ""),
            "content": message.content,
        }
        if message.is_error:
            result["is_error"] = True
        return "user", [result]
    if not message.attachments:
        # A text-only turn goes out as it always has: its whole text in one block.
        return "user", ([{"type": "text", "text": message.content}] if message.content else [])
    return "user", [_user_block(part) for part in message.parts if _sendable(part)]


def _sendable(part: str | Attachment) -> bool:
    # The API refuses a text block with no visible text (a separator between two images).
    return not isinstance(part, str) or bool(part.strip())


def _user_block(part: str | Attachment) -> dict[str, Any]:
    if isinstance(part, str):
        return {"type": "text", "text": part}
    return attachment_block(part)


def _tool_use(call: ToolCall) -> dict[str, Any]:
    arguments: Any = dict(call.arguments)
    if call.raw_arguments:
        # The model's own JSON when it was an object, so the history stays faithful.
        try:
            parsed = json.loads(call.raw_arguments)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            arguments = parsed
    return {"type": "tool_use", "id": wire_id(call.id), "name": call.name, "input": arguments}


_ID = re.compile(r"^[a-zA-Z0-9_-]+$")


def wire_id(call_id: str) -> str:
    """``call_id`` in the form Anthropic accepts (``^[a-zA-Z0-9_-]+$``).

    Another provider's id may not fit (``functions.get_weather:0`` relayed by some servers): it
    is rewritten the same way for a call and its result, with a hash so two ids that differ
    only in the replaced characters stay apart.
    """
    if _ID.match(call_id):
        return call_id
    digest = hashlib.sha1(call_id.encode()).hexdigest()[:8]
    return f"{re.sub(r'[^a-zA-Z0-9_-]', '_', call_id)}_{digest}"


def _tool(tool: Tool) -> dict[str, Any]:
    wire: dict[str, Any] = {"name": tool.name, "input_schema": dict(tool.parameters)}
    if tool.description:
        wire["description"] = tool.description
    return wire
