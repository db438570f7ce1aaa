"""Chat Completions stream chunks (as plain dicts) to neutral parts, in response order.

Written for OpenAI's own stream and for what compatible servers send: tool-call deltas without
``index`` or ``id``, a whole call in one delta, reasoning as ``reasoning_content`` or
``reasoning``, usage on any chunk or none, no ``finish_reason``, unknown fields.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from janito_core.parts import (
    FinishPart,
    Part,
    ReasoningPart,
    TextPart,
    ToolCallAccumulator,
    ToolCallPart,
    UsagePart,
)
from janito_core.retry import ProviderError
from janito_core.usage import Usage
from janito_driver_openai.errors import stream_error_info

__all__ = ["ChatReader", "chat_usage", "neutral_finish"]

_FINISH = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "content_filter": "content_filter",
    "eos": "stop",
    "end_turn": "stop",
    "max_tokens": "length",
}


def neutral_finish(reason: str) -> str:
    """The neutral name of a finish reason; an unknown one is kept as the provider said it."""
    return _FINISH.get(reason, reason)


def chat_usage(usage: Mapping[str, Any]) -> Usage:
    """A Chat Completions ``usage`` object as ``Usage`` (absent counts are 0)."""
    input_tokens = _count(usage.get("prompt_tokens"))
    output_tokens = _count(usage.get("completion_tokens"))
    prompt_details = usage.get("prompt_tokens_details")
    completion_details = usage.get("completion_tokens_details")
    return Usage(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        total_tokens=_count(usage.get("total_tokens")) or input_tokens + output_tokens,
        cached_input_tokens=_count(_get(prompt_details, "cached_tokens")),
        reasoning_tokens=_count(_get(completion_details, "reasoning_tokens")),
    )


class ChatReader:
    """Reads one streamed chat completion: ``feed`` each chunk, then ``end``."""

    def __init__(self, *, model: str | None = None) -> None:
        self._model = model
        self._calls = ToolCallAccumulator()
        self._slots = _CallSlots()
        self._usage: Usage | None = None
        self._finish: str | None = None

    def feed(self, chunk: Mapping[str, Any]) -> list[Part]:
        """The parts one chunk completes."""
        if chunk.get("error"):
            raise ProviderError(stream_error_info(chunk["error"], model=self._model))
        usage = chunk.get("usage")
        if isinstance(usage, Mapping):
            self._usage = chat_usage(usage)
        parts: list[Part] = []
        for choice in chunk.get("choices") or ():
            # Only the first choice is read: the driver never asks for n > 1.
            if not isinstance(choice, Mapping) or choice.get("index", 0) not in (0, None):
                continue
            delta = choice.get("delta") or choice.get("message") or {}
            if isinstance(delta, Mapping):
                parts += self._delta(delta)
            reason = choice.get("finish_reason")
            if isinstance(reason, str) and reason:
                parts += self._calls.flush()
                self._finish = neutral_finish(reason)
        return parts

    def end(self) -> list[Part]:
        """What is left once the stream ended: open calls, usage, finish reason."""
        parts: list[Part] = list(self._calls.flush())
        if self._usage is not None:
            parts.append(UsagePart(self._usage))
        if self._finish is not None:
            parts.append(FinishPart(self._finish))
        return parts

    def whole(self, completion: Mapping[str, Any]) -> list[Part]:
        """The parts of a non-streamed ``chat.completion`` (a server that ignored stream)."""
        return [*self.feed(completion), *self.end()]

    def _delta(self, delta: Mapping[str, Any]) -> list[Part]:
        parts: list[Part] = []
        # vLLM/DeepSeek/llama.cpp say reasoning_content, newer vLLM and Ollama say reasoning;
        # some send both with the same text, so one is taken.
        reasoning = _text(delta.get("reasoning_content")) or _text(delta.get("reasoning"))
        if reasoning:
            parts += self._calls.flush()
            parts.append(ReasoningPart(reasoning))
        for text in (*_content_texts(delta.get("content")), _text(delta.get("refusal"))):
            if text:
                # A call that began before this text is complete: it goes out first so the
                # parts keep the response's order.
                parts += self._calls.flush()
                parts.append(TextPart(text))
        for call in delta.get("tool_calls") or ():
            if isinstance(call, Mapping):
                parts += self._tool_call(call)
        return parts

    def _tool_call(self, call: Mapping[str, Any]) -> list[ToolCallPart]:
        function = call.get("function")
        function = function if isinstance(function, Mapping) else {}
        call_id = _text(call.get("id")) or None
        arguments = function.get("arguments")
        if isinstance(arguments, Mapping):  # some servers send an object, not JSON text
            arguments = json.dumps(arguments, ensure_ascii=False)
        index = call.get("index")
        key = self._slots.key(index if isinstance(index, int) else None, call_id)
        return self._calls.add(
            key, id=call_id, name=_text(function.get("name")) or None, arguments=_text(arguments)
        )


class _CallSlots:
    """Maps a wire tool-call delta (``index``, ``id``; either may be missing) to the
    accumulator's key: a repeated id continues its call, a new id or index starts one, a
    delta with neither continues the last call."""

    def __init__(self) -> None:
        self._by_index: dict[int, int] = {}
        self._by_id: dict[str, int] = {}
        self._ids: dict[int, str] = {}
        self._last: int | None = None
        self._next = 0

    def key(self, index: int | None, call_id: str | None) -> int:
        if call_id is not None and call_id in self._by_id:
            key = self._by_id[call_id]
        elif index is None:
            key = self._last if self._last is not None and call_id is None else self._new(call_id)
        else:
            key = self._by_index.get(index, -1)
            known = self._ids.get(key)
            # A reused index with another id is a new call (servers that number every call 0).
            if key < 0 or (call_id is not None and known is not None and known != call_id):
                key = self._new(call_id)
            elif call_id is not None:
                self._remember(key, call_id)
            self._by_index[index] = key
        self._last = key
        return key

    def _new(self, call_id: str | None) -> int:
        key = self._next
        self._next += 1
        if call_id is not None:
            self._remember(key, call_id)
        return key

    def _remember(self, key: int, call_id: str) -> None:
        self._ids[key] = call_id
        self._by_id[call_id] = key


def _content_texts(content: object) -> list[str]:
    if isinstance(content, str):
        return [content]
    if isinstance(content, list):  # servers that stream content parts
        return [
            _text(item.get("text"))
            for item in content
            if isinstance(item, Mapping) and item.get("type") in ("text", "output_text")
        ]
    return []


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _get(value: object, key: str) -> object:
    return value.get(key) if isinstance(value, Mapping) else None


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
