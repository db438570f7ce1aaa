"""The Chat Completions stream read into neutral parts: one reader for every driver whose
provider speaks OpenAI's ``chat.completion.chunk`` format (OpenAI, Mistral, vLLM, llama.cpp,
Ollama, DeepSeek, OpenRouter, ...).

The reader works on the JSON as sent (plain dicts): building an SDK's typed object per chunk
costs far more than reading it. What it accepts, all seen on real servers: content as a string
or as a list of chunks (``text``, ``output_text``, Mistral's ``thinking`` holding text chunks);
reasoning as ``reasoning_content`` or ``reasoning``; tool-call deltas with or without ``index``
and ``id``, several whole calls in one delta, arguments as JSON text or as an object; usage on
any chunk or none; an error object inside the stream (``{"error": {...}}`` or
``{"object": "error", ...}``). A field of the wrong type (``choices`` that is not a list,
``content`` that is a number, ...) is a malformed response, reported as such and not retried.

A response is complete only once the provider's end was seen: ``[DONE]`` or a
``finish_reason``. ``end`` yields a ``FinishPart`` only then, so a stream cut short (a
close-delimited body that just stops, an empty 200 stream) is never taken for a whole answer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import attrs

from janito_core.errors import (
    ContentFilterError,
    ContextLengthError,
    GenerationError,
    ProviderOverloadedError,
    RateLimitError,
)
from janito_core.parts import (
    FinishPart,
    Part,
    ReasoningPart,
    TextPart,
    ToolCallAccumulator,
    UsagePart,
)
from janito_core.retry import ErrorInfo, ProviderError, looks_like_context_length
from janito_core.sse import is_done
from janito_core.usage import Usage

__all__ = [
    "ChatCompletionsReader",
    "chat_usage",
    "describe_stream_error",
    "error_detail",
    "json_event",
    "malformed",
    "neutral_finish",
]

_FINISH = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "content_filter": "content_filter",
    "eos": "stop",
    "end_turn": "stop",
    "max_tokens": "length",
    "model_length": "length",  # Mistral's older models
}

# Words in an error's code or type that name a passing condition, on OpenAI, Mistral and
# compatible servers (server_error, internal_server_error, rate_limit_exceeded, rate_limited,
# overloaded_error, service_unavailable, timeout, ...).
_TRANSIENT_LABELS = ("server_error", "internal", "rate_limit", "overload", "unavailable", "timeout")
# The same said in an error's message, for servers that send only a message.
_TRANSIENT_WORDS = ("overloaded", "rate limit", "server error", "temporarily unavailable")
_MAX_DETAIL = 500


def neutral_finish(reason: str) -> str:
    """The neutral name of a finish reason; an unknown one is kept as the provider said it."""
    return _FINISH.get(reason, reason)


def chat_usage(usage: Mapping[str, Any]) -> Usage:
    """A Chat Completions ``usage`` object as ``Usage``; absent or unreadable counts are 0."""
    input_tokens = _count(usage.get("prompt_tokens"))
    output_tokens = _count(usage.get("completion_tokens"))
    prompt_details = usage.get("prompt_tokens_details")
    return Usage(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        total_tokens=_count(usage.get("total_tokens")) or input_tokens + output_tokens,
        cached_input_tokens=_first_count(
            _get(prompt_details, "cached_tokens"),
            # Where providers put the same count under other names: DeepSeek (older answers),
            # Mistral's spec (singular "token", or top level).
            usage.get("prompt_cache_hit_tokens"),
            _get(usage.get("prompt_token_details"), "cached_tokens"),
            usage.get("num_cached_tokens"),
        ),
        reasoning_tokens=_count(_get(usage.get("completion_tokens_details"), "reasoning_tokens")),
        cache_write_tokens=_count(_get(prompt_details, "cache_write_tokens")),
    )


def _first_count(*values: object) -> int:
    """The first of ``values`` that is a count (0 included), else 0."""
    for value in values:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return 0


def error_detail(body: object) -> str:
    """The human part of an error body (a dict, or its text): its message, with its code."""
    if isinstance(body, Mapping):
        nested = body.get("error")
        if isinstance(nested, Mapping):
            return error_detail(nested)
        message = next(
            (
                body[k]
                for k in ("message", "detail", "error", "msg")
                if isinstance(body.get(k), str) and body[k].strip()
            ),
            "",
        )
        code = body.get("code")
        if isinstance(code, str) and code and code not in message:
            message = f"{message} [{code}]" if message else code
        return _clip(message or json.dumps(body, default=str))
    if isinstance(body, (bytes, bytearray)):
        body = bytes(body).decode("utf-8", "replace")
    if isinstance(body, str):
        return _clip(body.strip())
    return ""


def describe_stream_error(
    error: object,
    *,
    provider: str = "the provider",
    model: str | None = None,
    key_variable: str | None = None,
) -> ErrorInfo:
    """What an error object sent inside a stream means (Chat ``{"error": ...}``, an
    ``{"object": "error", ...}`` chunk, Responses ``error`` and ``response.failed`` events).

    Retryable when it says so (``retryable``), carries a retryable HTTP status, or names a
    passing condition (overloaded, server error, rate limit): the core then retries it as long
    as nothing of the response reached the consumer.
    """
    body: Mapping[str, Any] = error if isinstance(error, Mapping) else {}
    detail = error_detail(error) or "no details given"
    flag = body.get("retryable")
    said = flag if isinstance(flag, bool) else None
    status = next(
        (
            body[k]
            for k in ("status", "status_code", "code")
            if _is_int(body.get(k)) and 100 <= body[k] <= 599
        ),
        None,
    )
    prefix = f"{provider} reported an error in the stream: "
    if status is not None:
        info = ErrorInfo.from_status(status, detail, key_variable=key_variable, model=model)
        retryable = info.retryable if said is None else said
        return attrs.evolve(info, message=prefix + info.message, retryable=retryable)
    if looks_like_context_length(detail):
        return ErrorInfo(message=prefix + detail, kind=ContextLengthError)
    labels = " ".join(str(body.get(k, "")).lower() for k in ("code", "type"))
    text = detail.lower()
    kind: type[GenerationError] | None = None
    if "rate_limit" in labels or "rate limit" in text:
        kind = RateLimitError
    elif any(word in labels for word in _TRANSIENT_LABELS) or any(
        word in text for word in _TRANSIENT_WORDS
    ):
        kind = ProviderOverloadedError
    elif "content_filter" in labels or "content_policy" in labels:
        kind = ContentFilterError
    if said is None:
        said = kind is RateLimitError or kind is ProviderOverloadedError
    return ErrorInfo(message=prefix + detail, retryable=said, kind=kind)


def malformed(provider: str, problem: str) -> ProviderError:
    """The error for a response that does not follow its format: not worth retrying."""
    return ProviderError(ErrorInfo(message=f"{provider} sent a malformed response: {problem}"))


def json_event(data: str, *, provider: str = "the server") -> dict[str, Any]:
    """One SSE event's data parsed as the JSON object it must be; else ``malformed``."""
    try:
        value = json.loads(data)
    except ValueError as exc:
        raise malformed(provider, f"an event that is not JSON ({exc})") from None
    if not isinstance(value, dict):
        raise malformed(provider, f"an event that is a JSON {_json_type(value)}, not an object")
    return value


class ChatCompletionsReader:
    """Reads one chat completion, streamed or whole, into parts in response order.

    Streamed: give each SSE event's data to ``data`` (it parses the JSON and marks ``[DONE]``),
    or each decoded chunk to ``chunk``; stop reading once ``done``; then call ``end``. Whole (a
    server that ignored ``stream``): ``whole``. Errors are raised as ``ProviderError``.

    ``provider`` names the other side in error messages ("Mistral", "the server at ...").
    """

    def __init__(
        self,
        *,
        provider: str = "the server",
        model: str | None = None,
        key_variable: str | None = None,
    ) -> None:
        self.provider = provider
        self._model = model
        self._key_variable = key_variable
        self._calls = ToolCallAccumulator()
        self._slots = _CallSlots()
        self._open = False  # a tool call is open in the accumulator
        self._usage: Usage | None = None
        self._finish: str | None = None
        self.done = False
        """``[DONE]`` was read: nothing more belongs to the response."""
        self.delivered = False
        """Text, reasoning or a tool call was read."""

    @property
    def complete(self) -> bool:
        """The provider's end was seen: ``[DONE]`` or a finish reason."""
        return self.done or self._finish is not None

    def data(self, data: str) -> list[Part]:
        """The parts one SSE event's data completes; ``[DONE]`` sets ``done``."""
        if is_done(data):
            self.done = True
            return []
        return self.chunk(json_event(data, provider=self.provider))

    def chunk(self, chunk: Mapping[str, Any]) -> list[Part]:
        """The parts one decoded ``chat.completion.chunk`` completes."""
        if chunk.get("error") or chunk.get("object") == "error":
            error = chunk["error"] if chunk.get("error") else chunk
            raise ProviderError(
                describe_stream_error(
                    error,
                    provider=self.provider,
                    model=self._model,
                    key_variable=self._key_variable,
                )
            )
        parts: list[Part] = []
        choices = chunk.get("choices")
        if choices:
            if not isinstance(choices, list):
                raise self.malformed(f"choices is not a list: {_clip_json(choices)}")
            for choice in choices:
                if not isinstance(choice, dict):
                    raise self.malformed(f"a choice is not an object: {_clip_json(choice)}")
                # Only the first choice is read: no driver asks for n > 1.
                if choice.get("index", 0) not in (0, None):
                    continue
                delta = choice.get("delta") or choice.get("message")
                if delta:
                    if not isinstance(delta, dict):
                        raise self.malformed(f"delta is not an object: {_clip_json(delta)}")
                    self._delta(delta, parts)
                reason = choice.get("finish_reason")
                if reason:
                    if not isinstance(reason, str):
                        raise self.malformed(f"finish_reason is {reason!r}, not a string")
                    if self._open:
                        parts += self._flush()
                    self._finish = neutral_finish(reason)
        usage = chunk.get("usage")
        if isinstance(usage, Mapping):
            self._usage = chat_usage(usage)
        return parts

    def end(self) -> list[Part]:
        """What is left once the body ended: open calls, usage and, if the provider's end was
        seen, the ``FinishPart``. Without it the response is incomplete: open calls (maybe cut
        short) are dropped and no ``FinishPart`` comes, which the core reports as an error."""
        parts: list[Part] = []
        complete = self.complete
        if complete and self._open:
            parts += self._flush()
        if self._usage is not None:
            parts.append(UsagePart(self._usage))
        if complete:
            if self._finish == "error" and not self.delivered:
                # A failure on the provider's side before anything was said: worth retrying.
                raise ProviderError(
                    ErrorInfo(
                        message=f"{self.provider} ended the response with finish_reason "
                        "'error' before sending anything",
                        retryable=True,
                        kind=ProviderOverloadedError,
                    )
                )
            parts.append(FinishPart(self._finish))
        return parts

    def whole(self, completion: Mapping[str, Any]) -> list[Part]:
        """The parts of a non-streamed ``chat.completion`` (a server that ignored ``stream``)."""
        parts = self.chunk(completion)
        if not isinstance(completion.get("choices"), list):
            raise self.malformed(
                f"a JSON answer that is not a chat completion: {error_detail(completion)}"
            )
        self.done = True  # the whole document was read: it is complete
        return [*parts, *self.end()]

    def malformed(self, problem: str) -> ProviderError:
        """The error for a response that does not follow the format: not worth retrying."""
        return malformed(self.provider, problem)

    # -- one delta (or message) --------------------------------------------------------------

    def _delta(self, delta: Mapping[str, Any], parts: list[Part]) -> None:
        # vLLM/DeepSeek/llama.cpp say reasoning_content, newer vLLM, Ollama and Cerebras say
        # reasoning; some send both with the same text, so one is taken.
        reasoning = delta.get("reasoning_content") or delta.get("reasoning")
        if reasoning and isinstance(reasoning, str):
            self._add(parts, ReasoningPart(reasoning))
        content = delta.get("content")
        if content:
            if isinstance(content, str):
                self._add(parts, TextPart(content))
            elif isinstance(content, list):
                self._content_chunks(content, parts)
            else:
                raise self.malformed(f"content is a {_json_type(content)}, not a string or a list")
        refusal = delta.get("refusal")
        if refusal and isinstance(refusal, str):
            self._add(parts, TextPart(refusal))
        calls = delta.get("tool_calls")
        if calls:
            if not isinstance(calls, list):
                raise self.malformed(f"tool_calls is not a list: {_clip_json(calls)}")
            for call in calls:
                if not isinstance(call, dict):
                    raise self.malformed(f"a tool call is not an object: {_clip_json(call)}")
                parts += self._tool_call(call)

    def _content_chunks(self, content: list[Any], parts: list[Part]) -> None:
        for item in content:
            kind = item.get("type") if isinstance(item, dict) else None
            if kind in ("text", "output_text"):
                text = _string(item.get("text"))
                if text is None:
                    raise self.malformed(f"a text chunk's text is {_clip_json(item.get('text'))}")
                if text:
                    self._add(parts, TextPart(text))
            elif kind == "thinking":
                # Mistral's reasoning models: {"type": "thinking", "thinking": [text chunks]}.
                thinking = item.get("thinking")
                if isinstance(thinking, str):
                    thinking = [{"type": "text", "text": thinking}]
                for piece in thinking if isinstance(thinking, list) else ():
                    if isinstance(piece, dict) and piece.get("type") == "text":
                        text = _string(piece.get("text"))
                        if text:
                            self._add(parts, ReasoningPart(text))
            # Other chunk kinds (references, images, unknown ones) carry no text to show.

    def _add(self, parts: list[Part], part: Part) -> None:
        # A call that began before this piece is complete: it goes out first, so the parts
        # keep the response's order.
        if self._open:
            parts += self._flush()
        self.delivered = True
        parts.append(part)

    def _tool_call(self, call: Mapping[str, Any]) -> list[Part]:
        function = call.get("function") or {}
        if not isinstance(function, dict):
            raise self.malformed(f"a tool call's function is not an object: {_clip_json(function)}")
        call_id = _string(call.get("id")) or None
        name = _string(function.get("name")) or None
        arguments = function.get("arguments")
        if isinstance(arguments, Mapping):  # some servers send an object, not JSON text
            arguments = json.dumps(arguments, ensure_ascii=False)
        index = call.get("index")
        key = self._slots.key(index if _is_int(index) else None, call_id, name)
        self._open = True
        self.delivered = True
        return list(self._calls.add(key, id=call_id, name=name, arguments=_string(arguments) or ""))

    def _flush(self) -> list[Part]:
        self._open = False
        return list(self._calls.flush())


class _CallSlots:
    """Maps a wire tool-call delta (``index``, ``id``, ``name``; any may be missing) to the
    accumulator's key: a repeated id continues its call, a new id or index starts one, and a
    delta with neither index nor id continues the last call, unless it names a tool again
    (whole calls sent together without index or id)."""

    def __init__(self) -> None:
        self._by_index: dict[int, int] = {}
        self._by_id: dict[str, int] = {}
        self._ids: dict[int, str] = {}
        self._named: set[int] = set()
        self._last: int | None = None
        self._next = 0

    def key(self, index: int | None, call_id: str | None, name: str | None) -> int:
        last = self._last
        if call_id is not None and call_id in self._by_id:
            key = self._by_id[call_id]
        elif index is None:
            continues = last is not None and call_id is None and not (name and last in self._named)
            key = last if continues and last is not None else self._new(call_id)
        else:
            key = self._by_index.get(index, -1)
            known = self._ids.get(key)
            # A reused index with another id is a new call (servers that number every call 0).
            if key < 0 or (call_id is not None and known is not None and known != call_id):
                key = self._new(call_id)
            elif call_id is not None:
                self._remember(key, call_id)
            self._by_index[index] = key
        if name:
            self._named.add(key)
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


def _string(value: object) -> str | None:
    """A string; absent or null is an empty one; another type is None."""
    if value is None:
        return ""
    return value if isinstance(value, str) else None


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _get(value: object, key: str) -> object:
    return value.get(key) if isinstance(value, Mapping) else None


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _json_type(value: object) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    return names.get(type(value), "number")


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 3] + "..."


def _clip_json(value: object) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 200 else text[:197] + "..."
