"""Responses API stream events (as plain dicts) to neutral parts, in response order.

Text comes from ``response.output_text.delta``, reasoning summaries (and raw reasoning text,
where a server streams it) become reasoning parts, a function call is yielded whole when its
output item is done, and usage and the finish reason come from the terminal event. Reasoning
output items are kept (``MetadataPart``) so the next tool round can send them back. The stream
has no ``[DONE]``: a ``response.completed`` or ``response.incomplete`` event is its end, and
without one the response is incomplete (``end`` then yields no ``FinishPart``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from janito_core.chat_completions import (
    describe_stream_error,
    error_detail,
    json_event,
    malformed,
    neutral_finish,
)
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
from janito_driver_openai.convert import PROVIDER_KEY

__all__ = ["ResponsesReader", "responses_usage"]

_TEXT_EVENTS = frozenset({"response.output_text.delta", "response.refusal.delta"})
_REASONING_EVENTS = frozenset(
    {"response.reasoning_summary_text.delta", "response.reasoning_text.delta"}
)
_INCOMPLETE = {"max_output_tokens": "length", "content_filter": "content_filter"}


def responses_usage(usage: Mapping[str, Any]) -> Usage:
    """A Responses ``usage`` object as ``Usage`` (absent counts are 0): cached and cache-write
    tokens from ``input_tokens_details``, reasoning tokens from ``output_tokens_details``."""
    input_tokens = _count(usage.get("input_tokens"))
    output_tokens = _count(usage.get("output_tokens"))
    input_details = usage.get("input_tokens_details")
    return Usage(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        total_tokens=_count(usage.get("total_tokens")) or input_tokens + output_tokens,
        cached_input_tokens=_count(_get(input_details, "cached_tokens")),
        reasoning_tokens=_count(_get(usage.get("output_tokens_details"), "reasoning_tokens")),
        cache_write_tokens=_count(_get(input_details, "cache_write_tokens")),
    )


@attrs.define
class _OpenCall:
    item_id: str | None
    call_id: str | None
    name: str
    output_index: int | None
    arguments: list[str] = attrs.field(factory=list)
    final: str | None = None
    provider_key: str = PROVIDER_KEY

    def part(self) -> ToolCallPart:
        data = {self.provider_key: {"item_id": self.item_id}} if self.item_id else {}
        arguments = self.final if self.final is not None else "".join(self.arguments)
        return ToolCallPart(
            id=self.call_id or self.item_id,
            name=self.name,
            arguments=arguments,
            provider_data=data,
        )


class ResponsesReader:
    """Reads one response: ``data`` (or ``feed``) each event until ``done``, then ``end``; or
    ``whole`` for a non-streamed one. ``provider`` names the server in error messages;
    ``provider_key`` is the driver's name, under which item ids and reasoning items are kept
    (they mean something to that server only)."""

    def __init__(
        self,
        *,
        provider: str = "the server",
        model: str | None = None,
        key_variable: str | None = None,
        provider_key: str = PROVIDER_KEY,
    ) -> None:
        self.provider = provider
        self._provider_key = provider_key
        self._model = model
        self._key_variable = key_variable
        self.done = False
        """The terminal event was read: nothing more belongs to the response."""
        self._open: dict[str, _OpenCall] = {}
        self._reasoning_items: list[dict[str, Any]] = []
        self._any_call = False
        self._usage: Usage | None = None
        self._finish: str | None = None
        self._paragraph: tuple[object, ...] | None = None

    def data(self, data: str) -> list[Part]:
        """The parts one SSE event's data completes."""
        return self.feed(json_event(data, provider=self.provider))

    def feed(self, event: Mapping[str, Any]) -> list[Part]:
        """The parts one event completes; raises ``ProviderError`` on an error event."""
        kind = event.get("type")
        if kind in _TEXT_EVENTS:
            text = _text(event.get("delta"))
            if not text:
                return []
            return [*self._flush_before(event.get("output_index")), TextPart(text)]
        if kind in _REASONING_EVENTS:
            text = _text(event.get("delta"))
            if not text:
                return []
            if kind == "response.reasoning_text.delta":
                key = (event.get("item_id"), "content", event.get("content_index"))
            else:
                key = (event.get("item_id"), "summary", event.get("summary_index"))
            return [*self._flush_before(event.get("output_index")), self._reasoning(key, text)]
        if kind == "response.output_item.added":
            self._item_added(event)
        elif kind == "response.function_call_arguments.delta":
            call = self._find(event)
            if call is not None:
                call.arguments.append(_text(event.get("delta")))
        elif kind == "response.function_call_arguments.done":
            call = self._find(event)
            if call is not None and isinstance(event.get("arguments"), str):
                call.final = event["arguments"]
        elif kind == "response.output_item.done":
            return self._item_done(event)
        elif kind in ("response.completed", "response.incomplete"):
            self._terminal(event.get("response"))
        elif kind == "response.failed":
            response = event.get("response")
            error = _get(response, "error") or {"message": "the response failed"}
            raise self._error(error)
        elif kind == "error":
            raise self._error(
                event.get("error") if isinstance(event.get("error"), Mapping) else event
            )
        return []

    def end(self) -> list[Part]:
        """What is left once the stream ended: unfinished calls, kept items, usage and, if the
        terminal event came, the finish. Without it, open calls (maybe cut short) are dropped."""
        if not self.done:
            self._open.clear()
        parts: list[Part] = [call.part() for call in self._open.values()]
        if self._open and self._finish == "stop":
            self._finish = "tool_calls"
        self._open.clear()
        if self._reasoning_items:
            kept = {"reasoning_items": self._reasoning_items}
            parts.append(MetadataPart({self._provider_key: kept}))
        if self._usage is not None:
            parts.append(UsagePart(self._usage))
        if self._finish is not None:
            parts.append(FinishPart(self._finish))
        return parts

    def whole(self, response: Mapping[str, Any]) -> list[Part]:
        """The parts of a non-streamed ``response`` object (a server that ignored stream)."""
        if isinstance(response.get("error"), Mapping):
            raise self._error(response["error"])
        if not isinstance(response.get("output"), list):
            detail = error_detail(response)
            raise malformed(self.provider, f"a JSON answer that is not a response: {detail}")
        parts: list[Part] = []
        for index, item in enumerate(response["output"]):
            if not isinstance(item, Mapping):
                continue
            if item.get("type") == "message":
                for content in item.get("content") or ():
                    text = _text(_get(content, "text")) or _text(_get(content, "refusal"))
                    if text:
                        parts.append(TextPart(text))
            elif item.get("type") == "reasoning":
                # The summary's parts, then raw reasoning (gpt-oss, DeepSeek: reasoning_text
                # content), each its own paragraph as in a stream.
                for field in ("summary", "content"):
                    for number, piece in enumerate(item.get(field) or ()):
                        text = _text(_get(piece, "text"))
                        if text and (field == "summary" or _get(piece, "type") == "reasoning_text"):
                            parts.append(self._reasoning((index, field, number), text))
            parts += self._item_done({"output_index": index, "item": item})
        self._terminal(response)
        return [*parts, *self.end()]

    # -- output items -------------------------------------------------------------------------

    def _item_added(self, event: Mapping[str, Any]) -> None:
        item = event.get("item")
        if not isinstance(item, Mapping) or item.get("type") != "function_call":
            return
        call = _OpenCall(
            item_id=_text(item.get("id")) or None,
            call_id=_text(item.get("call_id")) or None,
            name=_text(item.get("name")),
            output_index=_index(event.get("output_index")),
            provider_key=self._provider_key,
        )
        if _text(item.get("arguments")):
            call.arguments.append(item["arguments"])
        self._open[self._key(call.item_id, call.output_index)] = call

    def _item_done(self, event: Mapping[str, Any]) -> list[Part]:
        item = event.get("item")
        if not isinstance(item, Mapping):
            return []
        kind = item.get("type")
        if kind == "reasoning":
            self._reasoning_items.append(dict(item))
            return []
        if kind != "function_call":
            return []
        item_id = _text(item.get("id")) or None
        output_index = _index(event.get("output_index"))
        key = self._lookup(item_id, output_index)
        call = self._open.pop(key) if key is not None else None
        if call is None:  # a server that only sends the finished item
            call = _OpenCall(
                item_id=item_id,
                call_id=None,
                name="",
                output_index=output_index,
                provider_key=self._provider_key,
            )
        call.call_id = _text(item.get("call_id")) or call.call_id
        call.name = _text(item.get("name")) or call.name
        if isinstance(item.get("arguments"), str) and (item["arguments"] or call.final is None):
            call.final = item["arguments"]
        self._any_call = True
        return [*self._flush_before(output_index), call.part()]

    def _find(self, event: Mapping[str, Any]) -> _OpenCall | None:
        key = self._lookup(_text(event.get("item_id")) or None, _index(event.get("output_index")))
        return self._open[key] if key is not None else None

    def _lookup(self, item_id: str | None, output_index: int | None) -> str | None:
        """The open call an event refers to, by item id, else by output index."""
        if item_id and item_id in self._open:
            return item_id
        for key, call in self._open.items():
            if output_index is not None and call.output_index == output_index:
                return key
        if item_id is None and output_index is None and len(self._open) == 1:
            return next(iter(self._open))
        return None

    def _flush_before(self, output_index: object) -> list[Part]:
        """Calls still open from items before ``output_index``: what follows them goes after."""
        index = _index(output_index)
        done = [
            key
            for key, call in self._open.items()
            if index is None or call.output_index is None or call.output_index < index
        ]
        return [self._open.pop(key).part() for key in done]

    @staticmethod
    def _key(item_id: str | None, output_index: int | None) -> str:
        return item_id if item_id else f"#{output_index}"

    def _reasoning(self, paragraph: tuple[object, ...], text: str) -> ReasoningPart:
        """Reasoning comes in paragraphs (summary parts, raw text parts) sent back to back:
        a blank line keeps them apart."""
        if self._paragraph is not None and paragraph != self._paragraph:
            text = "\n\n" + text
        self._paragraph = paragraph
        return ReasoningPart(text)

    def _error(self, error: object) -> ProviderError:
        return ProviderError(
            describe_stream_error(
                error, provider=self.provider, model=self._model, key_variable=self._key_variable
            )
        )

    def _terminal(self, response: object) -> None:
        self.done = True
        if not isinstance(response, Mapping):
            self._finish = self._finish or ("tool_calls" if self._any_call else "stop")
            return
        usage = response.get("usage")
        if isinstance(usage, Mapping):
            self._usage = responses_usage(usage)
        details = response.get("incomplete_details")
        reason = _text(_get(details, "reason"))
        if response.get("status") == "incomplete" or reason:
            self._finish = _INCOMPLETE.get(reason) or neutral_finish(reason or "incomplete")
        else:
            self._finish = "tool_calls" if self._any_call else "stop"


def _index(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _get(value: object, key: str) -> Any:
    return value.get(key) if isinstance(value, Mapping) else None


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
