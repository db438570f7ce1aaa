"""Neutral messages, tools and options → the keyword arguments of Mistral's ``chat.stream``.

Pure data: nothing here imports the SDK.

History from any driver is made to fit Mistral's stricter rules: call ids rewritten to its nine
characters (the same rewrite for a call and its result), no reasoning sent back, no assistant
turn with neither text nor calls, and an assistant turn between tool results and a user turn.
"""

from __future__ import annotations

import hashlib
import json
import re
import string
from collections.abc import Iterable, Mapping
from typing import Any

from janito_core.attachments import Attachment
from janito_core.messages import Message, ToolCall
from janito_core.tools import Tool
from janito_driver_mistral.attachments import content_chunk
from janito_driver_mistral.output import response_format

__all__ = [
    "BRIDGE_TEXT",
    "OPTION_ALIASES",
    "RESERVED_OPTIONS",
    "mistral_call_id",
    "request_kwargs",
]

# Generic option names other drivers use, spelled the way Mistral's API spells them.
OPTION_ALIASES = {"seed": "random_seed", "max_output_tokens": "max_tokens"}

# Arguments of ``chat.stream`` the driver sets itself; a caller may not override them.
RESERVED_OPTIONS = frozenset({"model", "messages", "stream", "tools", "retries", "server_url"})

# Mistral rejects earlier tool calls whose ids are not exactly nine ASCII letters or digits
# ("Tool call id was ... but must be a-z, A-Z, 0-9, with a length of 9."), which is what
# other providers, relayed models and janito's own generated ids look like.
_MISTRAL_ID = re.compile(r"[A-Za-z0-9]{9}")
_ID_ALPHABET = string.ascii_letters + string.digits

# Mistral answers 400 to a user turn right after tool results ("Unexpected role 'user' after
# role 'tool'"), which a history holds when its tool loop stopped before the model answered
# (cancelled, cut short, or handed over); this stands in for the missing answer. An assistant
# turn may not be empty ("must have either content or tool_calls"), hence the text.
BRIDGE_TEXT = "OK."


def mistral_call_id(call_id: str) -> str:
    """``call_id`` if Mistral accepts it, else a stable nine-character id derived from it.

    The same input always gives the same output, so an assistant's call and the tool result
    answering it still match after the rewrite.
    """
    if _MISTRAL_ID.fullmatch(call_id):
        return call_id
    number = int.from_bytes(hashlib.sha256(call_id.encode("utf-8")).digest()[:8], "big")
    letters = []
    for _ in range(9):
        number, digit = divmod(number, len(_ID_ALPHABET))
        letters.append(_ID_ALPHABET[digit])
    return "".join(letters)


def request_kwargs(
    *,
    model: str,
    system_prompt: str | None,
    messages: Iterable[Message],
    tools: Iterable[Tool],
    options: Mapping[str, Any],
    output_schema: Mapping[str, Any] | None = None,
    output_name: str = "output",
) -> dict[str, Any]:
    """The keyword arguments for ``Mistral.chat.stream`` carrying one neutral request.

    ``output_schema`` becomes ``response_format`` (``janito_driver_mistral.output``); the driver
    refuses a ``response_format`` option next to it at the call.
    """
    wire_messages: list[dict[str, Any]] = []
    if system_prompt:
        wire_messages.append({"role": "system", "content": system_prompt})
    for message in messages:
        wire = _message(message)
        if wire["role"] == "assistant" and not wire["content"] and "tool_calls" not in wire:
            # A turn that held only reasoning (not sent) or nothing at all.
            continue
        if wire["role"] == "user" and wire_messages and wire_messages[-1]["role"] == "tool":
            wire_messages.append({"role": "assistant", "content": BRIDGE_TEXT})
        wire_messages.append(wire)
    kwargs: dict[str, Any] = {"model": model, "messages": wire_messages}
    wire_tools = [_tool(t) for t in tools]
    if wire_tools:
        kwargs["tools"] = wire_tools
    if output_schema is not None:
        kwargs["response_format"] = response_format(output_schema, output_name)
    for name, value in options.items():
        kwargs[OPTION_ALIASES.get(name, name)] = value
    return kwargs


def _message(message: Message) -> dict[str, Any]:
    if message.role == "assistant":
        # Reasoning is not sent back: only Magistral models accept thinking chunks in history.
        wire: dict[str, Any] = {"role": "assistant", "content": message.content}
        if message.tool_calls:
            wire["tool_calls"] = [_tool_call(c, i) for i, c in enumerate(message.tool_calls)]
        return wire
    if message.role == "tool":
        wire = {"role": "tool", "content": message.content}
        if message.tool_call_id is not None:
            wire["tool_call_id"] = mistral_call_id(message.tool_call_id)
        if message.name is not None:
            wire["name"] = message.name
        return wire
    if message.attachments:
        return {"role": message.role, "content": [_chunk(part) for part in message.parts]}
    # A text-only turn stays one string, as it always went out.
    return {"role": message.role, "content": message.content}


def _chunk(part: str | Attachment) -> dict[str, Any]:
    if isinstance(part, str):
        return {"type": "text", "text": part}
    return content_chunk(part)


def _tool_call(call: ToolCall, index: int) -> dict[str, Any]:
    # The SDK would otherwise send "index": 0 for every call of the turn.
    return {
        "id": mistral_call_id(call.id),
        "type": "function",
        "index": index,
        "function": {"name": call.name, "arguments": _arguments_text(call)},
    }


def _arguments_text(call: ToolCall) -> str:
    # The model's own text when it is JSON, so the history stays faithful; arguments that
    # were not JSON (already answered with an error result) go back as the parsed object,
    # because Mistral may refuse a history holding invalid JSON.
    raw = call.raw_arguments
    if raw is not None:
        try:
            json.loads(raw)
        except ValueError:
            pass
        else:
            return raw
    return json.dumps(dict(call.arguments), ensure_ascii=False)


def _tool(tool: Tool) -> dict[str, Any]:
    function: dict[str, Any] = {"name": tool.name, "parameters": dict(tool.parameters)}
    if tool.description:
        function["description"] = tool.description
    return {"type": "function", "function": function}
