"""Mistral's wire format for the loopback ``WireServer``: SSE chunks and error bodies.

Shapes follow the ``mistralai`` SDK's models and the recorded cassettes: ``data: {json}``
events separated by ``\\n\\n``, ``data: [DONE]`` at the end, each tool call whole in one delta
(several calls of a turn share a delta), and ``finish_reason`` with ``usage`` in the last chunk.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from janito_driver_mistral.driver import MistralDriver

from janito_core.testing.conformance.capabilities import AUDIO_INPUT
from janito_core.testing.scenario import (
    Call,
    Cut,
    Garbage,
    HttpError,
    Reasoning,
    Scenario,
    SentFile,
    SentPart,
    Silence,
    Text,
    WireAdapter,
)
from janito_core.testing.server import Drop, RecordedRequest, Reply, Send, Stall, sse
from janito_core.usage import Usage

__all__ = [
    "MistralWireAdapter",
    "chunk",
    "error_body",
    "error_reply",
    "read_usage",
    "stream_reply",
    "usage_json",
]

CHAT_PATH = "/v1/chat/completions"
DONE = "data: [DONE]\n\n"


def chunk(
    delta: Mapping[str, Any],
    *,
    finish_reason: str | None = None,
    usage: Mapping[str, Any] | None = None,
    model: str = "mistral-small-latest",
) -> dict[str, Any]:
    """One ``chat.completion.chunk`` carrying ``delta`` for choice 0."""
    data: dict[str, Any] = {
        "id": "6dc321029f5d4aa5899c1b38c9657a61",
        "object": "chat.completion.chunk",
        "created": 1757759492,
        "model": model,
        "choices": [{"index": 0, "delta": dict(delta), "finish_reason": finish_reason}],
    }
    if usage is not None:
        data["usage"] = dict(usage)
    return data


def usage_json(usage: Usage) -> dict[str, Any]:
    """Mistral's ``usage`` object for a neutral ``Usage``."""
    data: dict[str, Any] = {
        "prompt_tokens": usage.input_tokens,
        "total_tokens": usage.total_tokens,
        "completion_tokens": usage.output_tokens,
    }
    if usage.cached_input_tokens:
        data["prompt_tokens_details"] = {"cached_tokens": usage.cached_input_tokens}
    return data


# Every field Mistral's usage object is documented to carry; a recording holding another one
# fails here, so no count it sends goes unread. Mistral reports no reasoning or cache-write
# counts (thinking is inside completion_tokens), so those stay 0.
USAGE_FIELDS = {
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "prompt_tokens_details",
    "prompt_token_details",
    "num_cached_tokens",
    "prompt_audio_seconds",  # audio input, in seconds: not a token count
    "service_tier",
}


def read_usage(usage: Mapping[str, Any]) -> Usage:
    """A recorded ``usage`` object read plainly (not with the driver's reader), every field."""
    assert set(usage) <= USAGE_FIELDS, f"usage fields not read: {set(usage) - USAGE_FIELDS}"
    details = usage.get("prompt_tokens_details") or usage.get("prompt_token_details") or {}
    assert set(details) <= {"cached_tokens"}, f"usage details not read: {details}"
    cached = details.get("cached_tokens") or usage.get("num_cached_tokens") or 0
    return Usage(
        input_tokens=usage["prompt_tokens"],
        output_tokens=usage["completion_tokens"],
        total_tokens=usage["total_tokens"],
        cached_input_tokens=cached,
    )


def stream_reply(
    chunks: Iterable[Mapping[str, Any] | Send | Stall | Drop],
    *,
    done: bool = True,
    delay: float = 0.0,
    headers: Mapping[str, str] | None = None,
) -> Reply:
    """An SSE reply: each mapping is one ``data:`` event; Send/Stall/Drop steps pass through."""
    steps: list[Send | Stall | Drop] = []
    for item in chunks:
        if isinstance(item, (Send, Stall, Drop)):
            steps.append(item)
        else:
            steps.append(sse(dict(item), delay=delay))
    if done and not (steps and isinstance(steps[-1], Drop)):
        steps.append(Send(DONE, delay=delay))
    return Reply(
        status=200,
        headers=dict(headers or {"content-type": "text/event-stream; charset=utf-8"}),
        steps=steps,
    )


def error_body(status: int, message: str) -> dict[str, Any]:
    """The JSON body Mistral answers ``status`` with."""
    if status == 401:
        return {"message": message, "request_id": "0f1e2d3c4b5a69788796a5b4c3d2e1f0"}
    if status == 422:
        detail = [{"type": "missing", "loc": ["body", "messages"], "msg": message, "input": None}]
        return {
            "object": "error",
            "message": {"detail": detail},
            "type": "invalid_request_message_error",
            "param": None,
            "code": None,
        }
    if status == 429:
        kind, code = "rate_limited", "1300"
    elif status >= 500:
        kind, code = "internal_server_error", None
    else:
        kind, code = "invalid_request_error", None
    return {"object": "error", "message": message, "type": kind, "param": None, "code": code}


def error_reply(
    status: int, message: str = "scripted error", retry_after: float | None = None
) -> Reply:
    """An HTTP error answer exactly as Mistral sends it (JSON, optional Retry-After)."""
    headers = {"content-type": "application/json"}
    if retry_after is not None:
        headers["retry-after"] = f"{retry_after:g}"
    body = json.dumps(error_body(status, message), separators=(",", ":"))
    return Reply(status=status, headers=headers, body=body)


class MistralWireAdapter(WireAdapter):
    """Turns neutral scenarios into Mistral SSE and reads tool results back from requests."""

    model = "mistral-small-latest"
    # Mistral gives audio only to Voxtral models.
    models_for = {AUDIO_INPUT: "voxtral-mini-latest"}

    def make_driver(self, base_url: str, **config: Any) -> MistralDriver:
        config.setdefault("model", self.model)
        return MistralDriver(api_key=self.api_key, base_url=base_url, **config)

    def reply(self, scenario: Scenario) -> Reply:
        if scenario.error is not None:
            return self._error(scenario.error)
        steps: list[Mapping[str, Any] | Send | Stall | Drop] = [
            chunk({"role": "assistant", "content": ""})
        ]
        calls: list[Call] = []
        number = 0
        for step in scenario.steps:
            if isinstance(step, Call):
                calls.append(step)
                continue
            if calls:
                steps.append(self._calls(calls, number))
                number += len(calls)
                calls = []
            if isinstance(step, Text):
                steps.append(chunk({"content": step.text}))
            elif isinstance(step, Reasoning):
                thinking = [{"type": "thinking", "thinking": [{"type": "text", "text": step.text}]}]
                steps.append(chunk({"content": thinking}))
            elif isinstance(step, Silence):
                steps.append(Stall())
            elif isinstance(step, Garbage):
                steps.append(Send("data: {this is not json\n\n", delay=scenario.delay))
            elif isinstance(step, Cut):
                steps.append(Drop())
                return stream_reply(steps, delay=scenario.delay)
        if calls:
            steps.append(self._calls(calls, number))
        if not scenario.end:
            return stream_reply(steps, done=False, delay=scenario.delay)
        usage = usage_json(scenario.usage) if scenario.usage is not None else None
        steps.append(chunk({"content": ""}, finish_reason=scenario.finish_reason, usage=usage))
        return stream_reply(steps, delay=scenario.delay)

    def tool_results(self, request: RecordedRequest) -> list[tuple[str, str]]:
        messages: Sequence[Mapping[str, Any]] = (request.json or {}).get("messages", [])
        return [
            (str(m.get("name")), _text(m.get("content")))
            for m in messages
            if m.get("role") == "tool"
        ]

    def user_turns(self, request: RecordedRequest) -> list[list[SentPart]]:
        messages: Sequence[Mapping[str, Any]] = (request.json or {}).get("messages", [])
        return [_sent_parts(m.get("content")) for m in messages if m.get("role") == "user"]

    def sent_schema(self, request: RecordedRequest) -> Mapping[str, Any] | None:
        response_format = (request.json or {}).get("response_format")
        if not response_format or response_format.get("type") != "json_schema":
            return None
        schema: Mapping[str, Any] = response_format["json_schema"]["schema"]
        return schema

    @staticmethod
    def _calls(calls: Sequence[Call], first: int) -> dict[str, Any]:
        # Native Mistral models send every call of a turn whole, together, with 9-char ids.
        wire = [
            {
                "id": call.id or f"tc{first + offset:07d}",
                "function": {"name": call.name, "arguments": call.arguments},
                "index": first + offset,
            }
            for offset, call in enumerate(calls)
        ]
        return chunk({"content": None, "tool_calls": wire})

    @staticmethod
    def _error(error: HttpError) -> Reply:
        return error_reply(error.status, error.message, error.retry_after)


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(c.get("text", "") for c in content if isinstance(c, Mapping))
    return ""


def _sent_parts(content: Any) -> list[SentPart]:
    """A user message's content as text and files: a string is one text part."""
    if isinstance(content, str):
        return [content]
    parts: list[SentPart] = []
    for chunk in content:
        kind = chunk["type"]
        if kind == "text":
            parts.append(chunk["text"])
        elif kind == "image_url":
            image = chunk["image_url"]
            parts.append(_sent_url(image if isinstance(image, str) else image["url"]))
        elif kind == "document_url":
            parts.append(_sent_url(chunk["document_url"]))
        elif kind == "input_audio":
            audio = chunk["input_audio"]
            if audio.startswith(("http://", "https://")):
                parts.append(SentFile(media_type=None, url=audio))
            else:  # bare base64: the wire names no format
                parts.append(SentFile(media_type=None, data=base64.b64decode(audio)))
        else:
            raise AssertionError(f"unexpected content chunk {kind!r}")
    return parts


def _sent_url(url: str) -> SentFile:
    """A ``data:`` URL decoded to its type and bytes; another URL as it is (no type on the wire)."""
    if not url.startswith("data:"):
        return SentFile(media_type=None, url=url)
    header, _, payload = url[5:].partition(",")
    assert header.endswith(";base64"), f"a data URL that is not base64: {header!r}"
    return SentFile(
        media_type=header.removesuffix(";base64"), data=base64.b64decode(payload, validate=True)
    )
