"""Gemini's wire format for the loopback ``WireServer``: SSE replies, error bodies, and the
``WireAdapter`` the conformance suite drives.

Shapes follow Google's API reference and the recordings in ``cassettes/``: each SSE event is
``data: {GenerateContentResponse}`` ended by ``\\r\\n\\r\\n``, with no ``[DONE]``; a function
call is one part with its whole ``args`` object; errors are ``{"error": {"code", "message",
"status", "details"}}``. The SDK rejects SSE comments and ``event:`` lines, so none are sent.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from typing import Any

from janito_driver_gemini.driver import GeminiDriver

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

SEP = "\r\n\r\n"
MODEL = "gemini-test"
RESPONSE_ID = "resp-test-1"

STATUS_WORDS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    408: "DEADLINE_EXCEEDED",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    501: "NOT_IMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}

_FINISH = {
    "stop": "STOP",
    "tool_calls": "STOP",
    "length": "MAX_TOKENS",
    "content_filter": "SAFETY",
}


def text(value: str, *, thought: bool = False, signature: str | None = None) -> dict[str, Any]:
    """A text part (a thought when ``thought``)."""
    part: dict[str, Any] = {"text": value}
    if thought:
        part["thought"] = True
    if signature:
        part["thoughtSignature"] = signature
    return part


def call(
    name: str, args: Mapping[str, Any] | None = None, *, id: str | None = None, signature=None
) -> dict[str, Any]:
    """A ``functionCall`` part."""
    function_call: dict[str, Any] = {"name": name, "args": dict(args or {})}
    if id:
        function_call["id"] = id
    part: dict[str, Any] = {"functionCall": function_call}
    if signature:
        part["thoughtSignature"] = signature
    return part


def usage_metadata(usage: Usage) -> dict[str, Any]:
    """``usageMetadata`` for a neutral usage (output split into answer and thoughts)."""
    data: dict[str, Any] = {
        "promptTokenCount": usage.input_tokens,
        "candidatesTokenCount": usage.output_tokens - usage.reasoning_tokens,
        "totalTokenCount": usage.total_tokens,
    }
    if usage.reasoning_tokens:
        data["thoughtsTokenCount"] = usage.reasoning_tokens
    if usage.cached_input_tokens:
        data["cachedContentTokenCount"] = usage.cached_input_tokens
    return data


def chunk(
    parts: Sequence[Mapping[str, Any]] = (),
    *,
    finish: str | None = None,
    usage: Mapping[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """One ``GenerateContentResponse`` of a stream."""
    candidate: dict[str, Any] = {"content": {"parts": list(parts), "role": "model"}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    data: dict[str, Any] = {"candidates": [candidate]}
    if usage is not None:
        data["usageMetadata"] = dict(usage)
    data.update({"modelVersion": MODEL, "responseId": RESPONSE_ID})
    data.update(extra)
    return data


def event(data: Mapping[str, Any] | str, delay: float = 0.0) -> Send:
    """One SSE event with Gemini's CRLF framing."""
    return sse(data if isinstance(data, str) else dict(data), sep=SEP, delay=delay)


def stream_reply(*steps: Mapping[str, Any] | Send | Stall | Drop, delay: float = 0.0) -> Reply:
    """A 200 SSE reply: dicts become events, server steps pass through."""
    out = [s if isinstance(s, (Send, Stall, Drop)) else event(s, delay) for s in steps]
    return Reply(headers={"Content-Type": "text/event-stream"}, steps=out)


def error_body(
    status: int, message: str = "scripted error", details: Sequence[Mapping[str, Any]] = ()
) -> dict[str, Any]:
    """Google's error envelope."""
    error: dict[str, Any] = {
        "code": status,
        "message": message,
        "status": STATUS_WORDS.get(status, "UNKNOWN"),
    }
    if details:
        error["details"] = [dict(d) for d in details]
    return {"error": error}


def retry_info(seconds: float) -> dict[str, Any]:
    """A ``google.rpc.RetryInfo`` detail."""
    return {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{seconds:g}s"}


def error_reply(
    status: int,
    message: str = "scripted error",
    *,
    retry_delay: float | None = None,
    retry_after: float | None = None,
    details: Sequence[Mapping[str, Any]] = (),
) -> Reply:
    """An HTTP error as Google sends it (pretty-printed JSON, as the recordings show)."""
    all_details = list(details)
    if retry_delay is not None:
        all_details.append(retry_info(retry_delay))
    headers = {"Content-Type": "application/json; charset=UTF-8"}
    if retry_after is not None:
        headers["Retry-After"] = f"{retry_after:g}"
    body = json.dumps(error_body(status, message, all_details), indent=2) + "\n"
    return Reply(status=status, headers=headers, body=body)


def either(mapping: Mapping[str, Any], camel: str, snake: str) -> Any:
    """``mapping[camel]`` or ``mapping[snake]``: the SDK writes some nested keys snake_case
    (``inlineData: {"mime_type", "data"}``), and Google's parser takes both."""
    return mapping[camel] if camel in mapping else mapping.get(snake)


def sent_file(part: Mapping[str, Any]) -> SentFile | None:
    """The attachment a sent part carries, decoded; None for another kind of part."""
    inline = either(part, "inlineData", "inline_data")
    if isinstance(inline, Mapping):
        data = inline["data"]
        # The SDK writes URL-safe base64; Google's own examples use the standard alphabet.
        raw = base64.urlsafe_b64decode(data.replace("+", "-").replace("/", "_"))
        return SentFile(media_type=either(inline, "mimeType", "mime_type"), data=raw)
    file_data = either(part, "fileData", "file_data")
    if isinstance(file_data, Mapping):
        return SentFile(
            media_type=either(file_data, "mimeType", "mime_type"),
            url=either(file_data, "fileUri", "file_uri"),
        )
    return None


def function_responses(request: RecordedRequest) -> list[dict[str, Any]]:
    """The ``functionResponse`` objects of the last content of a recorded request."""
    contents = (request.json or {}).get("contents") or []
    if not contents:
        return []
    return [p["functionResponse"] for p in contents[-1].get("parts", []) if "functionResponse" in p]


class GeminiWireAdapter(WireAdapter):
    """Speaks Gemini's ``streamGenerateContent?alt=sse`` for the conformance suite."""

    model = MODEL
    unsupported: Mapping[str, str] = {
        "invalid_json_arguments": "Gemini sends a function call's args as a JSON object, "
        "so it cannot carry text that is not JSON",
    }

    def make_driver(self, base_url: str, **config: Any) -> GeminiDriver:
        config.setdefault("model", self.model)
        return GeminiDriver(api_key=self.api_key, base_url=base_url, **config)

    def reply(self, scenario: Scenario) -> Reply:
        if scenario.error is not None:
            return self._error(scenario.error)
        steps: list[Send | Stall | Drop] = []
        delay = scenario.delay
        for step in scenario.steps:
            if isinstance(step, Text):
                steps.append(event(chunk([text(step.text)]), delay))
            elif isinstance(step, Reasoning):
                steps.append(event(chunk([text(step.text, thought=True)]), delay))
            elif isinstance(step, Call):
                steps.append(event(chunk([self._call(step)]), delay))
            elif isinstance(step, Garbage):
                steps.append(Send("data: {this is not json" + SEP, delay=delay))
            elif isinstance(step, Silence):
                steps.append(Stall())
                return Reply(steps=steps)
            elif isinstance(step, Cut):
                steps.append(Drop())
                return Reply(steps=steps)
        if not scenario.end:
            return Reply(headers={"Content-Type": "text/event-stream"}, steps=steps)
        usage = usage_metadata(scenario.usage) if scenario.usage is not None else None
        finish = _FINISH.get(scenario.finish_reason, scenario.finish_reason.upper())
        steps.append(event(chunk([text("")], finish=finish, usage=usage), delay))
        return Reply(headers={"Content-Type": "text/event-stream"}, steps=steps)

    def tool_results(self, request: RecordedRequest) -> list[tuple[str, str]]:
        out = []
        for response in function_responses(request):
            payload = response.get("response") or {}
            value = payload.get("error", payload.get("result"))
            out.append(
                (response.get("name", ""), value if isinstance(value, str) else json.dumps(value))
            )
        return out

    def user_turns(self, request: RecordedRequest) -> list[list[SentPart]]:
        turns: list[list[SentPart]] = []
        for content in (request.json or {}).get("contents") or []:
            if content.get("role") != "user":
                continue
            turn: list[SentPart] = []
            for part in content.get("parts", []):
                if isinstance(part.get("text"), str):
                    turn.append(part["text"])
                elif (found := sent_file(part)) is not None:
                    turn.append(found)
            if turn:  # a content of tool results alone is no user turn
                turns.append(turn)
        return turns

    def sent_schema(self, request: RecordedRequest) -> Mapping[str, Any] | None:
        config = (request.json or {}).get("generationConfig") or {}
        schema = either(config, "responseJsonSchema", "response_json_schema")
        return schema if isinstance(schema, Mapping) else None

    @staticmethod
    def _call(step: Call) -> dict[str, Any]:
        try:
            args = json.loads(step.arguments) if step.arguments.strip() else {}
        except json.JSONDecodeError:
            args = None
        if not isinstance(args, dict):
            raise ValueError(
                f"Gemini cannot send arguments {step.arguments!r}: args is always a JSON object"
            )
        return call(step.name, args, id=step.id)

    @staticmethod
    def _error(error: HttpError) -> Reply:
        retry = error.retry_after if error.status == 429 else None
        return error_reply(
            error.status, error.message, retry_delay=retry, retry_after=error.retry_after
        )
