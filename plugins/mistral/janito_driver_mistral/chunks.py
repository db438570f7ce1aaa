"""Mistral's streamed chunks → neutral parts, in the order the response holds them.

Works on the JSON as sent (plain dicts): building the SDK's models for every chunk costs far
more than reading it, so the driver parses the events itself. Absent and null fields both count
as absent; a field of the wrong type is a malformed response, reported as such.
"""

from __future__ import annotations

import json
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
from janito_core.retry import ErrorInfo, ProviderError
from janito_core.usage import Usage
from janito_driver_mistral.errors import body_detail

__all__ = ["ChunkReader", "malformed", "usage_of"]

# Mistral's word for a response cut by the token limit, in older models.
_FINISH_ALIASES = {"model_length": "length"}


def malformed(problem: str) -> ProviderError:
    """The error for a response that does not follow Mistral's format: not worth retrying."""
    return ProviderError(
        ErrorInfo(message=f"Mistral sent a malformed response: {problem}", retryable=False)
    )


@attrs.define
class _OpenCall:
    wire_index: int
    id: str | None
    named: bool


class ChunkReader:
    """Reads one response's chunks (or a whole non-streamed completion) into parts.

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

    def chunk(self, data: Mapping[str, Any]) -> Iterator[Part]:
        """The parts of one streamed ``chat.completion.chunk`` (its decoded JSON)."""
        choices = data.get("choices")
        if choices is None:
            # Every chunk has choices (maybe empty); an error object sent mid-stream has none.
            detail = body_detail(json.dumps(data)) if data else "an empty object"
            raise malformed(f"an event that is not a completion chunk: {detail}")
        for choice in _objects(choices, "choices"):
            if choice.get("index") not in (0, None):
                continue  # only the first choice is read (n > 1 is not supported)
            delta = _object(choice.get("delta"), "delta")
            if delta:
                yield from self._content(delta.get("content"))
                yield from self._tool_calls(delta.get("tool_calls"))
            self._finish(choice.get("finish_reason"))
        usage = data.get("usage")
        if usage is not None:
            yield UsagePart(usage_of(usage))

    def message(self, response: Mapping[str, Any]) -> Iterator[Part]:
        """The parts of a whole, non-streamed ``chat.completion`` (its decoded JSON)."""
        for choice in _objects(response.get("choices"), "choices"):
            if choice.get("index") not in (0, None):
                continue
            message = _object(choice.get("message"), "message")
            if message:
                yield from self._content(message.get("content"))
                yield from self._tool_calls(message.get("tool_calls"))
            self._finish(choice.get("finish_reason"))
        usage = response.get("usage")
        if usage is not None:
            yield UsagePart(usage_of(usage))

    def end(self) -> Iterator[Part]:
        """What is left when the response has ended: open calls, then the finish reason."""
        yield from self._flush()
        if self.finish_reason is not None:
            reason = _FINISH_ALIASES.get(self.finish_reason, self.finish_reason)
            yield FinishPart(reason)

    def _finish(self, reason: Any) -> None:
        if reason:
            if not isinstance(reason, str):
                raise malformed(f"finish_reason is {reason!r}, not a string")
            self.finish_reason = reason

    # -- content -------------------------------------------------------------------------

    def _content(self, content: Any) -> Iterator[Part]:
        if isinstance(content, str):
            if content:
                yield from self._flush()
                self.delivered = True
                yield TextPart(content)
            return
        if content is None:
            return
        if not isinstance(content, list):
            raise malformed(f"content is a {type(content).__name__}, not a string or a list")
        for item in content:
            kind = item.get("type") if isinstance(item, dict) else None
            if kind == "text":
                text = _text(item.get("text"), "text")
                if text:
                    yield from self._flush()
                    self.delivered = True
                    yield TextPart(text)
            elif kind == "thinking":
                for piece in _objects(item.get("thinking"), "thinking"):
                    if piece.get("type") == "text":
                        text = _text(piece.get("text"), "thinking text")
                        if text:
                            yield from self._flush()
                            self.delivered = True
                            yield ReasoningPart(text)
            # Other chunk kinds (references, images, unknown ones) carry no text to show.

    # -- tool calls ----------------------------------------------------------------------

    def _tool_calls(self, calls: Any) -> Iterator[Part]:
        for call in _objects(calls, "tool_calls"):
            self.delivered = True
            function = _object(call.get("function"), "function")
            call_id = call.get("id") or None
            if call_id is not None and not isinstance(call_id, str):
                raise malformed(f"a tool call's id is {call_id!r}, not a string")
            # An absent index counts as 0, as the SDK's models read it: a continuation that
            # omits it then joins the open call rather than starting one.
            index = call.get("index")
            wire_index = index if isinstance(index, int) else 0
            name = _text(function.get("name"), "a tool call's name")
            arguments = function.get("arguments")
            if isinstance(arguments, Mapping):
                # The wire gave an object: the call cannot continue, hand it over as is.
                yield from self._flush()
                yield ToolCallPart(id=call_id, name=name, arguments=dict(arguments))
                continue
            arguments = _text(arguments, "a tool call's arguments")
            key = self._key(wire_index, call_id, name)
            yield from self._calls.add(key, id=call_id, name=name, arguments=arguments)

    def _key(self, wire_index: int, call_id: str | None, name: str) -> int:
        """The accumulator key of a fragment: the open call's, or a fresh one for a new call."""
        open_call = self._open
        starts_new = (
            open_call is None
            or wire_index != open_call.wire_index
            # Whole calls sent together may all omit "index" (then 0 for each):
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
    """A neutral ``Usage`` from Mistral's ``usage`` object (its decoded JSON)."""
    if not isinstance(usage, dict):
        raise malformed(f"usage is a {type(usage).__name__}, not an object")
    prompt = _count(usage, "prompt_tokens")
    completion = _count(usage, "completion_tokens")
    return Usage(
        input_tokens=prompt,
        output_tokens=completion,
        total_tokens=_count(usage, "total_tokens") or prompt + completion,
        cached_input_tokens=_detail(usage, "prompt_tokens_details", "cached_tokens"),
        reasoning_tokens=_detail(usage, "completion_tokens_details", "reasoning_tokens"),
    )


def _count(usage: Mapping[str, Any], name: str) -> int:
    value = usage.get(name)
    if value is None:
        return 0
    if not isinstance(value, int):
        raise malformed(f"usage.{name} is {value!r}, not a whole number")
    return value


def _detail(usage: Mapping[str, Any], group: str, name: str) -> int:
    # Extensions beyond Mistral's documented usage: read when well formed, else ignored.
    details = usage.get(group)
    value = details.get(name) if isinstance(details, Mapping) else None
    return value if isinstance(value, int) else 0


def _objects(value: Any, field: str) -> list[dict[str, Any]]:
    """A list of JSON objects; absent or null is an empty one."""
    if value is None:
        return []
    if isinstance(value, list) and all(isinstance(item, dict) for item in value):
        return value
    raise malformed(f"{field} is not a list of objects: {_clip(value)}")


def _object(value: Any, field: str) -> dict[str, Any]:
    """A JSON object; absent or null is an empty one."""
    if value is None:
        return {}
    if isinstance(value, dict):
        return value
    raise malformed(f"{field} is not an object: {_clip(value)}")


def _text(value: Any, field: str) -> str:
    """A string; absent or null is an empty one."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    raise malformed(f"{field} is not a string: {_clip(value)}")


def _clip(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 200 else text[:197] + "..."
