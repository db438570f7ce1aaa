"""Anthropic's wire format for the loopback ``WireServer``: Messages SSE events and error bodies.

Shapes follow the API reference and the recorded cassettes: ``event: <type>`` + ``data: {json}``
pairs; ``message_start`` (input usage), ``content_block_start/delta/stop`` per block (text,
thinking with a ``signature_delta``, tool_use with ``input_json_delta`` fragments),
``message_delta`` (stop reason, output usage) and ``message_stop`` at the end. Requests are read
back for their tool results, user turns (text, image and document blocks) and output schema
(``output_config.format``).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from janito_driver_anthropic.driver import AnthropicDriver

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
    "AnthropicWireAdapter",
    "error_body",
    "error_reply",
    "event",
    "read_usage",
    "sent_part",
    "stream_reply",
]

MESSAGES_PATH = "/v1/messages"
SIGNATURE = "EqQBCkgIARABGAIiQFakeSignatureForLoopbackTestsOnly=="

# Neutral finish reasons in Anthropic's words.
STOP_REASONS = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "content_filter": "refusal",
}


def event(data: Mapping[str, Any], delay: float = 0.0) -> Send:
    """One SSE event as Anthropic sends it: ``event: <type>`` then its ``data``."""
    return sse(dict(data), event=str(data["type"]), delay=delay)


def message_start(model: str, input_tokens: int = 0, cached: int = 0, written: int = 0) -> dict:
    return {
        "type": "message_start",
        "message": {
            "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {
                "input_tokens": input_tokens,
                "cache_creation_input_tokens": written,
                "cache_read_input_tokens": cached,
                "output_tokens": 1,
            },
        },
    }


def block_events(index: int, block: Mapping[str, Any], deltas: Iterable[Mapping[str, Any]]):
    """``content_block_start``, each delta, ``content_block_stop`` for one block."""
    yield {"type": "content_block_start", "index": index, "content_block": dict(block)}
    for delta in deltas:
        yield {"type": "content_block_delta", "index": index, "delta": dict(delta)}
    yield {"type": "content_block_stop", "index": index}


def usage_json(usage: Usage) -> dict[str, Any]:
    """Anthropic's usage counts for a neutral ``Usage`` (input split from the cache counts)."""
    fresh = usage.input_tokens - usage.cached_input_tokens - usage.cache_write_tokens
    return {
        "input_tokens": fresh,
        "cache_creation_input_tokens": usage.cache_write_tokens,
        "cache_read_input_tokens": usage.cached_input_tokens,
        "output_tokens": usage.output_tokens,
    }


# Every field Anthropic's usage object is documented to carry; a recording holding another one
# fails here, so no count it sends goes unread.
USAGE_FIELDS = {
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
    "cache_creation",  # the same writes split by cache lifetime (5 min, 1 h)
    "output_tokens_details",
    "server_tool_use",
    "service_tier",
    "inference_geo",
}


def read_usage(start: Mapping[str, Any] | None, delta: Mapping[str, Any] | None) -> Usage:
    """Recorded usage read plainly (not with the driver's reader): message_start's counts,
    each replaced by message_delta's where it carries one."""
    counts: dict[str, Any] = {}
    for usage in (start or {}, delta or {}):
        assert set(usage) <= USAGE_FIELDS, f"usage fields not read: {set(usage) - USAGE_FIELDS}"
        counts.update({k: v for k, v in usage.items() if v is not None})
    fresh = counts.get("input_tokens", 0)
    read = counts.get("cache_read_input_tokens", 0)
    written = counts.get("cache_creation_input_tokens", 0)
    output = counts.get("output_tokens", 0)
    return Usage(
        input_tokens=fresh + read + written,
        output_tokens=output,
        total_tokens=fresh + read + written + output,
        cached_input_tokens=read,
        cache_write_tokens=written,
        reasoning_tokens=(counts.get("output_tokens_details") or {}).get("thinking_tokens", 0),
    )


def stream_reply(
    items: Iterable[Mapping[str, Any] | Send | Stall | Drop],
    *,
    delay: float = 0.0,
    headers: Mapping[str, str] | None = None,
) -> Reply:
    """An SSE reply: each mapping is one event; Send/Stall/Drop steps pass through."""
    steps: list[Send | Stall | Drop] = [
        item if isinstance(item, (Send, Stall, Drop)) else event(item, delay) for item in items
    ]
    return Reply(
        status=200,
        headers=dict(headers or {"content-type": "text/event-stream; charset=utf-8"}),
        steps=steps,
    )


def error_body(status: int, message: str) -> dict[str, Any]:
    """The JSON body Anthropic answers ``status`` with."""
    kind = {
        400: "invalid_request_error",
        401: "authentication_error",
        403: "permission_error",
        404: "not_found_error",
        413: "request_too_large",
        429: "rate_limit_error",
        529: "overloaded_error",
    }.get(status, "api_error")
    return {
        "type": "error",
        "error": {"type": kind, "message": message},
        "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy",
    }


def error_reply(
    status: int, message: str = "scripted error", retry_after: float | None = None
) -> Reply:
    """An HTTP error answer exactly as Anthropic sends it (JSON, optional retry-after)."""
    headers = {"content-type": "application/json"}
    if retry_after is not None:
        headers["retry-after"] = f"{retry_after:g}"
    body = json.dumps(error_body(status, message), separators=(",", ":"))
    return Reply(status=status, headers=headers, body=body)


class AnthropicWireAdapter(WireAdapter):
    """Turns neutral scenarios into Anthropic SSE and reads tool results back from requests."""

    model = "claude-haiku-4-5"
    unsupported = {
        AUDIO_INPUT: "the Messages API has no audio content block; the driver refuses audio",
    }

    def make_driver(self, base_url: str, **config: Any) -> AnthropicDriver:
        config.setdefault("model", self.model)
        return AnthropicDriver(api_key=self.api_key, base_url=base_url, **config)

    def reply(self, scenario: Scenario) -> Reply:
        if scenario.error is not None:
            return self._error(scenario.error)
        usage = scenario.usage
        start = message_start(
            self.model,
            input_tokens=(usage.input_tokens - usage.cached_input_tokens - usage.cache_write_tokens)
            if usage
            else 0,
            cached=usage.cached_input_tokens if usage else 0,
            written=usage.cache_write_tokens if usage else 0,
        )
        items: list[Mapping[str, Any] | Send | Stall | Drop] = [start]
        index = 0
        for step in scenario.steps:
            if isinstance(step, Text):
                items += block_events(
                    index, {"type": "text", "text": ""}, [{"type": "text_delta", "text": step.text}]
                )
                index += 1
            elif isinstance(step, Reasoning):
                items += block_events(
                    index,
                    {"type": "thinking", "thinking": "", "signature": ""},
                    [
                        {"type": "thinking_delta", "thinking": step.text},
                        {"type": "signature_delta", "signature": SIGNATURE},
                    ],
                )
                index += 1
            elif isinstance(step, Call):
                items += self._call(step, index)
                index += 1
            elif isinstance(step, Silence):
                items.append(Stall())
            elif isinstance(step, Garbage):
                items.append(Send("event: ping\ndata: {this is not json\n\n", delay=scenario.delay))
            elif isinstance(step, Cut):
                items.append(Drop())
                return stream_reply(items, delay=scenario.delay)
        if not scenario.end:
            return stream_reply(items, delay=scenario.delay)
        delta: dict[str, Any] = {
            "type": "message_delta",
            "delta": {
                "stop_reason": STOP_REASONS.get(scenario.finish_reason, scenario.finish_reason),
                "stop_sequence": None,
            },
            "usage": {"output_tokens": usage.output_tokens if usage else 1},
        }
        items += [delta, {"type": "message_stop"}]
        return stream_reply(items, delay=scenario.delay)

    def user_turns(self, request: RecordedRequest) -> list[list[SentPart]]:
        # Tool results travel in user turns too; a turn of results alone is not the user's, and
        # the blocks after the results in a merged turn are.
        turns: list[list[SentPart]] = []
        for message in (request.json or {}).get("messages", []):
            if message.get("role") != "user":
                continue
            content = message.get("content")
            if isinstance(content, str):
                turns.append([content])
                continue
            blocks = [b for b in content if b.get("type") != "tool_result"]
            if blocks:
                turns.append([sent_part(b) for b in blocks])
        return turns

    def sent_schema(self, request: RecordedRequest) -> Mapping[str, Any] | None:
        form = ((request.json or {}).get("output_config") or {}).get("format")
        if form is None:
            return None
        assert form["type"] == "json_schema", f"an output format of another kind: {form!r}"
        schema: Mapping[str, Any] = form["schema"]
        return schema

    def tool_results(self, request: RecordedRequest) -> list[tuple[str, str]]:
        messages: Sequence[Mapping[str, Any]] = (request.json or {}).get("messages", [])
        names: dict[str, str] = {}
        results: list[tuple[str, str]] = []
        for message in messages:
            content = message.get("content")
            for block in content if isinstance(content, list) else []:
                if block.get("type") == "tool_use":
                    names[block["id"]] = block["name"]
                elif block.get("type") == "tool_result":
                    results.append((names.get(block["tool_use_id"], ""), _text(block["content"])))
        return results

    @staticmethod
    def _call(call: Call, index: int) -> Iterable[Mapping[str, Any]]:
        # Arguments arrive as input_json_delta fragments, the first one empty as Anthropic does.
        text = call.arguments
        half = len(text) // 2
        fragments = ["", text[:half], text[half:]]
        return block_events(
            index,
            {
                "type": "tool_use",
                "id": call.id or f"toolu_{index:022d}",
                "name": call.name,
                "input": {},
            },
            [{"type": "input_json_delta", "partial_json": f} for f in fragments],
        )

    @staticmethod
    def _error(error: HttpError) -> Reply:
        return error_reply(error.status, error.message, error.retry_after)


def sent_part(block: Mapping[str, Any]) -> SentPart:
    """A user turn's content block as the text or file it carries."""
    if block["type"] == "text":
        return str(block["text"])
    if block["type"] not in ("image", "document"):
        raise AssertionError(f"a block of an unexpected type in a user turn: {block!r}")
    source = block["source"]
    if source["type"] == "url":
        return SentFile(media_type=None, url=source["url"])
    if source["type"] == "base64":
        data = base64.b64decode(source["data"], validate=True)
        return SentFile(media_type=source["media_type"], data=data)
    if source["type"] == "text":
        return SentFile(media_type=source["media_type"], data=source["data"].encode("utf-8"))
    raise AssertionError(f"a source of an unexpected type: {source!r}")


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(c.get("text", "") for c in content if isinstance(c, Mapping))
    return ""
