"""Anthropic's Messages event stream → neutral parts, in response order.

Pure data: nothing here imports the SDK. Each event's ``data`` carries its own ``type``, which is
what is dispatched on (the ``event:`` line says the same). A response is complete only at
``message_stop``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from janito_core.chat_completions import describe_stream_error, error_detail, json_event, malformed
from janito_core.parts import (
    FinishPart,
    MetadataPart,
    Part,
    ReasoningPart,
    TextPart,
    ToolCallPart,
    UsagePart,
)
from janito_core.retry import ProviderError
from janito_core.usage import Usage

__all__ = ["NAME", "STOP_REASONS", "AnthropicReader", "usage_of"]

NAME = "anthropic"

# Anthropic's stop reasons in the neutral words; others (pause_turn, ...) pass as they are.
STOP_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}

# The usage counts read, as Anthropic names them.
_COUNTS = (
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
)


def usage_of(counts: Mapping[str, Any]) -> Usage:
    """The neutral usage of Anthropic's counts: ``input_tokens`` there excludes the cache reads
    and writes, which the neutral ``input_tokens`` includes."""
    read = counts.get("cache_read_input_tokens") or 0
    written = counts.get("cache_creation_input_tokens") or 0
    fresh = counts.get("input_tokens") or 0
    output = counts.get("output_tokens") or 0
    details = counts.get("output_tokens_details") or {}
    thinking = details.get("thinking_tokens") if isinstance(details, Mapping) else None
    total_in = fresh + read + written
    return Usage(
        input_tokens=total_in,
        output_tokens=output,
        total_tokens=total_in + output,
        cached_input_tokens=read,
        cache_write_tokens=written,
        reasoning_tokens=thinking or 0,
    )


class _Block:
    """One content block being streamed: its type and what has arrived of it."""

    __slots__ = ("data", "id", "name", "pieces", "signature", "type")

    def __init__(self, start: Mapping[str, Any]) -> None:
        self.type: str = start.get("type", "")
        self.id: str | None = start.get("id")
        self.name: str = start.get("name") or ""
        self.pieces: list[str] = []
        self.signature: str = start.get("signature") or ""
        self.data: str | None = start.get("data")


class AnthropicReader:
    """Reads one response's events (``data``) into parts; ``done`` once ``message_stop`` came.

    Thinking blocks (with their signatures) and redacted thinking are kept, in order, and handed
    over at the end as ``MetadataPart({"anthropic": {"thinking": [...]}})``: the next request
    sends them back verbatim, as Anthropic requires on a tool-use turn.
    """

    def __init__(self, *, provider: str, model: str | None, key_variable: str) -> None:
        self.provider = provider
        self.model = model
        self.key_variable = key_variable
        self.done = False
        self.delivered = False
        self._blocks: dict[int, _Block] = {}
        self._thinking: list[dict[str, Any]] = []
        self._counts: dict[str, Any] = {}
        self._stop: str | None = None

    def data(self, data: str) -> list[Part]:
        """The parts one event's ``data`` holds."""
        event = json_event(data, provider=self.provider)
        kind = event.get("type")
        if kind == "content_block_delta":
            return self._delta(event)
        if kind == "content_block_start":
            block = event.get("content_block")
            if not isinstance(block, Mapping):
                raise malformed(self.provider, "a content_block_start without its block")
            started = _Block(block)
            self._blocks[_index(event)] = started
            text = block.get("text") if started.type == "text" else None
            if text:
                self.delivered = True
                return [TextPart(text)]
            if started.type == "thinking" and block.get("thinking"):
                self.delivered = True
                started.pieces.append(block["thinking"])
                return [ReasoningPart(block["thinking"])]
            if started.type == "tool_use" and block.get("input"):
                started.pieces.append(json.dumps(block["input"], ensure_ascii=False))
            return []
        if kind == "content_block_stop":
            return self._stop_block(_index(event))
        if kind == "message_start":
            message = event.get("message") or {}
            self._add_counts(message.get("usage"))
            return [UsagePart(usage_of(self._counts))] if self._counts else []
        if kind == "message_delta":
            delta = event.get("delta") or {}
            self._stop = delta.get("stop_reason") or self._stop
            self._add_counts(event.get("usage"))
            return [UsagePart(usage_of(self._counts))] if self._counts else []
        if kind == "message_stop":
            self.done = True
            parts: list[Part] = []
            if self._thinking:
                parts.append(MetadataPart({NAME: {"thinking": self._thinking}}))
            stop = self._stop
            parts.append(FinishPart(STOP_REASONS.get(stop, stop) if stop else None))
            return parts
        if kind == "error":
            raise ProviderError(
                describe_stream_error(
                    event.get("error") or event,
                    provider=self.provider,
                    model=self.model,
                    key_variable=self.key_variable,
                )
            )
        # ping, and event types added later: nothing to read.
        return []

    def whole(self, message: Mapping[str, Any]) -> list[Part]:
        """The parts of a non-streamed message (a server that ignored ``stream``)."""
        content = message.get("content")
        if message.get("type") != "message" or not isinstance(content, list):
            raise malformed(
                self.provider, f"a JSON answer that is not a message: {error_detail(message)}"
            )
        parts: list[Part] = []
        self._add_counts(message.get("usage"))
        if self._counts:
            parts.append(UsagePart(usage_of(self._counts)))
        for index, block in enumerate(content):
            if not isinstance(block, Mapping):
                continue
            parts += self.data(
                json.dumps({"type": "content_block_start", "index": index, "content_block": block})
            )
            parts += self._stop_block(index)
        self._stop = message.get("stop_reason")
        parts += self.data('{"type": "message_stop"}')
        return parts

    def _delta(self, event: Mapping[str, Any]) -> list[Part]:
        block = self._blocks.get(_index(event))
        delta = event.get("delta") or {}
        if block is None:
            raise malformed(self.provider, "a content_block_delta for a block never started")
        kind = delta.get("type")
        if kind == "text_delta":
            text = delta.get("text") or ""
            if text:
                self.delivered = True
                return [TextPart(text)]
        elif kind == "thinking_delta":
            text = delta.get("thinking") or ""
            if text:
                self.delivered = True
                block.pieces.append(text)
                return [ReasoningPart(text)]
        elif kind == "input_json_delta":
            block.pieces.append(delta.get("partial_json") or "")
        elif kind == "signature_delta":
            block.signature += delta.get("signature") or ""
        return []

    def _stop_block(self, index: int) -> list[Part]:
        block = self._blocks.pop(index, None)
        if block is None:
            return []
        if block.type == "tool_use":
            self.delivered = True
            return [
                ToolCallPart(id=block.id, name=block.name, arguments="".join(block.pieces) or "{}")
            ]
        if block.type == "thinking":
            self._thinking.append(
                {
                    "type": "thinking",
                    "thinking": "".join(block.pieces),
                    "signature": block.signature,
                }
            )
        elif block.type == "redacted_thinking":
            self._thinking.append({"type": "redacted_thinking", "data": block.data or ""})
        return []

    def _add_counts(self, usage: object) -> None:
        # Last wins per field: message_delta may carry only output_tokens, or all of them.
        if not isinstance(usage, Mapping):
            return
        for name in (*_COUNTS, "output_tokens_details"):
            value = usage.get(name)
            if value is not None:
                self._counts[name] = value


def _index(event: Mapping[str, Any]) -> int:
    index = event.get("index")
    return index if isinstance(index, int) else 0
