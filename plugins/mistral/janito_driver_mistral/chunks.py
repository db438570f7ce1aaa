"""Mistral's streamed chunks → neutral parts, in the order the response holds them.

Works on the SDK's parsed models by attribute (absent fields are the SDK's falsy ``Unset``),
so nothing here imports the SDK.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import attrs

from janito_core.parts import (
    FinishPart,
    Part,
    ReasoningPart,
    TextPart,
    ToolCallAccumulator,
    ToolCallPart,
    UsagePart,
)
from janito_core.usage import Usage

__all__ = ["ChunkReader", "usage_of"]

# Mistral's word for a response cut by the token limit, in older models.
_FINISH_ALIASES = {"model_length": "length"}


@attrs.define
class _OpenCall:
    wire_index: int
    id: str | None
    named: bool


class ChunkReader:
    """Reads one response's chunks (or a whole non-streamed message) into parts.

    Native Mistral models send each tool call whole, several in one delta; models relayed
    through Mistral's API stream a call in pieces whose continuations carry no id and an
    empty name. Both go through one ``ToolCallAccumulator``: a call is complete once anything
    else (another call, text, the end of the response) follows it.
    """

    def __init__(self) -> None:
        self._calls = ToolCallAccumulator()
        self._open: _OpenCall | None = None
        self._next_key = 0
        self.finish_reason: str | None = None
        self.delivered = False

    def chunk(self, chunk: Any) -> Iterator[Part]:
        """The parts of one streamed ``CompletionChunk``."""
        for choice in chunk.choices or ():
            if choice.index != 0:
                continue  # only the first choice is read (n > 1 is not supported)
            delta = choice.delta
            yield from self._content(delta.content)
            yield from self._tool_calls(delta.tool_calls)
            if choice.finish_reason:
                self.finish_reason = str(choice.finish_reason)
        if chunk.usage:
            yield UsagePart(usage_of(chunk.usage))

    def message(self, response: Any) -> Iterator[Part]:
        """The parts of a whole, non-streamed ``ChatCompletionResponse``."""
        for choice in response.choices or ():
            if choice.index != 0:
                continue
            if choice.message:
                yield from self._content(choice.message.content)
                yield from self._tool_calls(choice.message.tool_calls)
            if choice.finish_reason:
                self.finish_reason = str(choice.finish_reason)
        if response.usage:
            yield UsagePart(usage_of(response.usage))

    def end(self) -> Iterator[Part]:
        """What is left when the response has ended: open calls, then the finish reason."""
        yield from self._flush()
        if self.finish_reason is not None:
            reason = _FINISH_ALIASES.get(self.finish_reason, self.finish_reason)
            yield FinishPart(reason)

    # -- content -------------------------------------------------------------------------

    def _content(self, content: Any) -> Iterator[Part]:
        if isinstance(content, str):
            if content:
                yield from self._flush()
                self.delivered = True
                yield TextPart(content)
            return
        for item in content or ():
            kind = getattr(item, "type", None)
            if kind == "text" and item.text:
                yield from self._flush()
                self.delivered = True
                yield TextPart(item.text)
            elif kind == "thinking":
                for piece in item.thinking or ():
                    if getattr(piece, "type", None) == "text" and piece.text:
                        yield from self._flush()
                        self.delivered = True
                        yield ReasoningPart(piece.text)
            # Other chunk kinds (references, images, unknown ones) carry no text to show.

    # -- tool calls ----------------------------------------------------------------------

    def _tool_calls(self, calls: Any) -> Iterator[Part]:
        for position, call in enumerate(calls or ()):
            self.delivered = True
            function = call.function
            # The SDK fills an absent id with the string "null" and an absent index with 0.
            call_id = call.id if call.id and call.id != "null" else None
            wire_index = call.index if isinstance(call.index, int) else position
            name = function.name or ""
            arguments = function.arguments
            if isinstance(arguments, Mapping):
                # The wire gave an object: the call cannot continue, hand it over as is.
                yield from self._flush()
                yield ToolCallPart(id=call_id, name=name, arguments=dict(arguments))
                continue
            key = self._key(wire_index, call_id, name)
            yield from self._calls.add(key, id=call_id, name=name, arguments=arguments or "")

    def _key(self, wire_index: int, call_id: str | None, name: str) -> int:
        """The accumulator key of a fragment: the open call's, or a fresh one for a new call."""
        open_call = self._open
        starts_new = (
            open_call is None
            or wire_index != open_call.wire_index
            # Whole calls sent together may all omit "index" (the SDK then says 0 for each):
            # a different id, or a second name, means a new call.
            or (call_id is not None and open_call.id is not None and call_id != open_call.id)
            or (bool(name) and open_call.named)
        )
        if starts_new or open_call is None:
            self._open = _OpenCall(wire_index=wire_index, id=call_id, named=bool(name))
            self._next_key += 1
        else:
            open_call.id = open_call.id or call_id
            open_call.named = open_call.named or bool(name)
        return self._next_key

    def _flush(self) -> list[ToolCallPart]:
        self._open = None
        return self._calls.flush()


def usage_of(usage: Any) -> Usage:
    """A neutral ``Usage`` from Mistral's ``UsageInfo`` (extra fields included)."""
    extra: Mapping[str, Any] = getattr(usage, "model_extra", None) or {}
    prompt = usage.prompt_tokens or 0
    completion = usage.completion_tokens or 0
    return Usage(
        input_tokens=prompt,
        output_tokens=completion,
        total_tokens=usage.total_tokens or prompt + completion,
        cached_input_tokens=_detail(extra, "prompt_tokens_details", "cached_tokens"),
        reasoning_tokens=_detail(extra, "completion_tokens_details", "reasoning_tokens"),
    )


def _detail(extra: Mapping[str, Any], group: str, name: str) -> int:
    details = extra.get(group)
    value = details.get(name) if isinstance(details, Mapping) else None
    return value if isinstance(value, int) else 0
