"""OpenAI's wire formats for the loopback ``WireServer``: Chat Completions and Responses SSE,
and OpenAI's error bodies.

Shapes follow the ``openai`` SDK's models, the API reference and the recorded cassettes.
Chat: ``data: {chunk}`` events separated by ``\\n\\n``, a role chunk first, tool calls whose
first delta carries ``index``, ``id``, ``type`` and ``name`` with ``arguments: ""`` and whose
later deltas carry argument fragments under the same ``index``, ``finish_reason`` on a chunk
with an empty delta, usage in a last chunk with ``choices: []``, then ``data: [DONE]``.
Responses: ``event:`` + ``data:`` pairs, each data object carrying its ``type`` and
``sequence_number``; no ``[DONE]``: the body ends after ``response.completed``.
"""

from __future__ import annotations

import base64
import itertools
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from janito_driver_openai.driver import OpenAIDriver

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
    "ChatWireAdapter",
    "ResponsesWireAdapter",
    "chat_chunk",
    "chat_reply",
    "chat_usage_json",
    "error_body",
    "error_reply",
    "responses_reply",
]

DONE = Send("data: [DONE]\n\n")
SSE_HEADERS = {"content-type": "text/event-stream; charset=utf-8"}
GARBAGE = "data: {this is not json\n\n"


# -- Chat Completions ------------------------------------------------------------------------


def chat_chunk(
    delta: Mapping[str, Any] | None = None,
    *,
    finish_reason: str | None = None,
    usage: Mapping[str, Any] | None = None,
    choices: bool = True,
    model: str = "gpt-4o-mini-2024-07-18",
) -> dict[str, Any]:
    """One ``chat.completion.chunk``; ``choices=False`` gives the final usage chunk."""
    return {
        "id": "chatcmpl-janito0001",
        "object": "chat.completion.chunk",
        "created": 1731368641,
        "model": model,
        "system_fingerprint": "fp_0ba0d124f1",
        "choices": (
            [
                {
                    "index": 0,
                    "delta": dict(delta or {}),
                    "logprobs": None,
                    "finish_reason": finish_reason,
                }
            ]
            if choices
            else []
        ),
        "usage": dict(usage) if usage is not None else None,
    }


def chat_usage_json(usage: Usage) -> dict[str, Any]:
    """OpenAI's Chat Completions ``usage`` object for a neutral ``Usage``."""
    return {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.total_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.cached_input_tokens, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": usage.reasoning_tokens,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def chat_reply(
    items: Iterable[Mapping[str, Any] | str | Send | Stall | Drop],
    *,
    done: bool = True,
    delay: float = 0.0,
    headers: Mapping[str, str] | None = None,
) -> Reply:
    """An SSE reply: a mapping or str is one ``data:`` event, Send/Stall/Drop pass through,
    and ``data: [DONE]`` ends it unless the body was cut."""
    steps: list[Send | Stall | Drop] = []
    for item in items:
        if isinstance(item, (Send, Stall, Drop)):
            steps.append(item)
        else:
            steps.append(sse(item if isinstance(item, str) else dict(item), delay=delay))
    if done and not (steps and isinstance(steps[-1], Drop)):
        steps.append(Send(DONE.data, delay=delay))
    return Reply(status=200, headers=dict(headers or SSE_HEADERS), steps=steps)


def _call_chunks(call: Call, index: int, number: int) -> list[dict[str, Any]]:
    """A tool call as OpenAI streams it: the header delta, then the arguments in fragments."""
    header = {
        "index": index,
        "id": call.id or f"call_janito{number:04d}",
        "type": "function",
        "function": {"name": call.name, "arguments": ""},
    }
    chunks = [chat_chunk({"tool_calls": [header]})]
    middle = len(call.arguments) // 2
    for piece in (call.arguments[:middle], call.arguments[middle:]):
        if piece:
            chunks.append(
                chat_chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
            )
    return chunks


class ChatWireAdapter(WireAdapter):
    """Chat Completions (``POST /v1/chat/completions``) for the conformance suite."""

    model = "gpt-4o-mini"
    api = "chat"

    def make_driver(self, base_url: str, **config: Any) -> OpenAIDriver:
        config.setdefault("model", self.model)
        config.setdefault("api_key", self.api_key)
        return OpenAIDriver(base_url=f"{base_url}/v1", api=self.api, **config)

    def reply(self, scenario: Scenario) -> Reply:
        if scenario.error is not None:
            return _error(scenario.error)
        items: list[Mapping[str, Any] | str | Send | Stall | Drop] = [
            chat_chunk({"role": "assistant", "content": "", "refusal": None})
        ]
        index = 0
        for step in scenario.steps:
            if isinstance(step, Text):
                items.append(chat_chunk({"content": step.text}))
            elif isinstance(step, Reasoning):
                # OpenAI keeps Chat reasoning hidden; compatible servers (vLLM, DeepSeek,
                # llama.cpp) stream it this way, and the driver reads it.
                items.append(chat_chunk({"reasoning_content": step.text}))
            elif isinstance(step, Call):
                items += _call_chunks(step, index, index + 1)
                index += 1
            elif isinstance(step, Silence):
                items.append(Stall())
            elif isinstance(step, Garbage):
                items.append(Send(GARBAGE, delay=scenario.delay))
            elif isinstance(step, Cut):
                items.append(Drop())
                return chat_reply(items, delay=scenario.delay)
        if not scenario.end:
            return chat_reply(items, done=False, delay=scenario.delay)
        items.append(chat_chunk({}, finish_reason=scenario.finish_reason))
        if scenario.usage is not None:
            items.append(chat_chunk(usage=chat_usage_json(scenario.usage), choices=False))
        return chat_reply(items, delay=scenario.delay)

    def tool_results(self, request: RecordedRequest) -> list[tuple[str, str]]:
        messages: Sequence[Mapping[str, Any]] = (request.json or {}).get("messages", [])
        names = {
            call["id"]: call["function"]["name"]
            for m in messages
            if m.get("role") == "assistant"
            for call in m.get("tool_calls") or ()
        }
        return [
            (names.get(m.get("tool_call_id"), "?"), str(m.get("content")))
            for m in messages
            if m.get("role") == "tool"
        ]

    def user_turns(self, request: RecordedRequest) -> list[list[SentPart]]:
        messages: Sequence[Mapping[str, Any]] = (request.json or {}).get("messages", [])
        return [_turn(m.get("content"), _chat_part) for m in messages if m.get("role") == "user"]

    def sent_schema(self, request: RecordedRequest) -> Mapping[str, Any] | None:
        response_format = (request.json or {}).get("response_format") or {}
        if response_format.get("type") != "json_schema":
            return None
        schema: Mapping[str, Any] = response_format["json_schema"]["schema"]
        return schema


# -- Responses -------------------------------------------------------------------------------


class _ResponseWriter:
    """Builds one Responses event stream, item by item, numbering events as the API does."""

    def __init__(self, model: str, delay: float = 0.0) -> None:
        self.model = model
        self.delay = delay
        self.steps: list[Send | Stall | Drop] = []
        self.output: list[dict[str, Any]] = []
        self._sequence = itertools.count()
        self._open: dict[str, Any] | None = None  # the message or reasoning item being written
        self._text: list[str] = []

    def event(self, kind: str, **fields: Any) -> None:
        data = {"type": kind, "sequence_number": next(self._sequence), **fields}
        self.steps.append(sse(data, event=kind, delay=self.delay))

    def raw(self, step: Send | Stall | Drop) -> None:
        self.steps.append(step)

    def response(self, status: str, **fields: Any) -> dict[str, Any]:
        return {
            "id": "resp_janito0001",
            "object": "response",
            "created_at": 1731368641,
            "status": status,
            "model": self.model,
            "output": list(self.output) if status != "in_progress" else [],
            "parallel_tool_calls": True,
            "tool_choice": "auto",
            "tools": [],
            "incomplete_details": None,
            "error": None,
            "usage": None,
            **fields,
        }

    def start(self) -> None:
        self.event("response.created", response=self.response("in_progress"))
        self.event("response.in_progress", response=self.response("in_progress"))

    def text(self, text: str) -> None:
        if self._open is None or self._open["type"] != "message":
            self.close()
            item = {
                "id": f"msg_{len(self.output)}",
                "type": "message",
                "status": "in_progress",
                "role": "assistant",
                "content": [],
            }
            self._begin(item)
            self.event(
                "response.content_part.added",
                item_id=item["id"],
                output_index=len(self.output),
                content_index=0,
                part={"type": "output_text", "text": "", "annotations": []},
            )
        assert self._open is not None
        self._text.append(text)
        self.event(
            "response.output_text.delta",
            item_id=self._open["id"],
            output_index=len(self.output),
            content_index=0,
            delta=text,
            logprobs=[],
        )

    def reasoning(self, text: str) -> None:
        if self._open is None or self._open["type"] != "reasoning":
            self.close()
            item = {"id": f"rs_{len(self.output)}", "type": "reasoning", "summary": []}
            self._begin(item)
            self.event(
                "response.reasoning_summary_part.added",
                item_id=item["id"],
                output_index=len(self.output),
                summary_index=0,
                part={"type": "summary_text", "text": ""},
            )
        assert self._open is not None
        self._text.append(text)
        self.event(
            "response.reasoning_summary_text.delta",
            item_id=self._open["id"],
            output_index=len(self.output),
            summary_index=0,
            delta=text,
        )

    def call(self, call: Call, number: int) -> None:
        self.close()
        index = len(self.output)
        item = {
            "id": f"fc_{index}",
            "type": "function_call",
            "status": "in_progress",
            "call_id": call.id or f"call_janito{number:04d}",
            "name": call.name,
            "arguments": "",
        }
        self.event("response.output_item.added", output_index=index, item=item)
        middle = len(call.arguments) // 2
        for piece in (call.arguments[:middle], call.arguments[middle:]):
            if piece:
                self.event(
                    "response.function_call_arguments.delta",
                    item_id=item["id"],
                    output_index=index,
                    delta=piece,
                )
        self.event(
            "response.function_call_arguments.done",
            item_id=item["id"],
            output_index=index,
            name=call.name,
            arguments=call.arguments,
        )
        done = {**item, "status": "completed", "arguments": call.arguments}
        self.event("response.output_item.done", output_index=index, item=done)
        self.output.append(done)

    def close(self) -> None:
        """Finish the message or reasoning item being written."""
        item, self._open = self._open, None
        if item is None:
            return
        index, text = len(self.output), "".join(self._text)
        self._text = []
        if item["type"] == "message":
            part = {"type": "output_text", "text": text, "annotations": []}
            self.event(
                "response.output_text.done",
                item_id=item["id"],
                output_index=index,
                content_index=0,
                text=text,
                logprobs=[],
            )
            self.event(
                "response.content_part.done",
                item_id=item["id"],
                output_index=index,
                content_index=0,
                part=part,
            )
            done = {**item, "status": "completed", "content": [part]}
        else:
            part = {"type": "summary_text", "text": text}
            self.event(
                "response.reasoning_summary_text.done",
                item_id=item["id"],
                output_index=index,
                summary_index=0,
                text=text,
            )
            self.event(
                "response.reasoning_summary_part.done",
                item_id=item["id"],
                output_index=index,
                summary_index=0,
                part=part,
            )
            done = {**item, "summary": [part]}
        self.event("response.output_item.done", output_index=index, item=done)
        self.output.append(done)

    def finish(self, finish_reason: str, usage: Usage | None) -> None:
        self.close()
        usage_json = responses_usage_json(usage) if usage is not None else None
        if finish_reason in ("length", "content_filter"):
            reason = "max_output_tokens" if finish_reason == "length" else "content_filter"
            response = self.response(
                "incomplete", incomplete_details={"reason": reason}, usage=usage_json
            )
            self.event("response.incomplete", response=response)
        else:
            self.event("response.completed", response=self.response("completed", usage=usage_json))

    def _begin(self, item: dict[str, Any]) -> None:
        self._open = item
        self.event("response.output_item.added", output_index=len(self.output), item=item)


def responses_usage_json(usage: Usage) -> dict[str, Any]:
    """The Responses ``usage`` object for a neutral ``Usage``."""
    return {
        "input_tokens": usage.input_tokens,
        "input_tokens_details": {"cached_tokens": usage.cached_input_tokens},
        "output_tokens": usage.output_tokens,
        "output_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
        "total_tokens": usage.total_tokens,
    }


def responses_reply(scenario: Scenario, model: str = "gpt-4o-mini-2024-07-18") -> Reply:
    """The Responses event stream carrying ``scenario``."""
    writer = _ResponseWriter(model, delay=scenario.delay)
    writer.start()
    number = 0
    for step in scenario.steps:
        if isinstance(step, Text):
            writer.text(step.text)
        elif isinstance(step, Reasoning):
            writer.reasoning(step.text)
        elif isinstance(step, Call):
            number += 1
            writer.call(step, number)
        elif isinstance(step, Silence):
            writer.raw(Stall())
        elif isinstance(step, Garbage):
            writer.raw(Send(f"event: response.output_text.delta\n{GARBAGE}", delay=writer.delay))
        elif isinstance(step, Cut):
            writer.raw(Drop())
            return Reply(status=200, headers=SSE_HEADERS, steps=writer.steps)
    if not scenario.end:
        # The items are finished; only response.completed (or .incomplete) is missing.
        writer.close()
        return Reply(status=200, headers=SSE_HEADERS, steps=writer.steps)
    writer.finish(scenario.finish_reason, scenario.usage)
    return Reply(status=200, headers=SSE_HEADERS, steps=writer.steps)


def responses_events(events: Iterable[Mapping[str, Any]]) -> Reply:
    """A Responses reply from raw event objects (``type`` names the SSE event)."""
    steps = [sse({**e, "sequence_number": n}, event=str(e["type"])) for n, e in enumerate(events)]
    return Reply(status=200, headers=SSE_HEADERS, steps=steps)


class ResponsesWireAdapter(ChatWireAdapter):
    """The Responses API (``POST /v1/responses``) for the conformance suite."""

    api = "responses"
    unsupported = {
        AUDIO_INPUT: "the Responses API's input content has no audio part (text, image, file)"
    }

    def reply(self, scenario: Scenario) -> Reply:
        if scenario.error is not None:
            return _error(scenario.error)
        return responses_reply(scenario)

    def tool_results(self, request: RecordedRequest) -> list[tuple[str, str]]:
        items: Sequence[Mapping[str, Any]] = (request.json or {}).get("input", [])
        names = {i["call_id"]: i["name"] for i in items if i.get("type") == "function_call"}
        return [
            (names.get(i.get("call_id"), "?"), str(i.get("output")))
            for i in items
            if i.get("type") == "function_call_output"
        ]

    def user_turns(self, request: RecordedRequest) -> list[list[SentPart]]:
        items: Sequence[Mapping[str, Any]] = (request.json or {}).get("input", [])
        return [
            _turn(i.get("content"), _responses_part)
            for i in items
            if i.get("role") == "user" and i.get("type", "message") == "message"
        ]

    def sent_schema(self, request: RecordedRequest) -> Mapping[str, Any] | None:
        text_format = ((request.json or {}).get("text") or {}).get("format") or {}
        if text_format.get("type") != "json_schema":
            return None
        schema: Mapping[str, Any] = text_format["schema"]
        return schema


# -- user turns as sent ----------------------------------------------------------------------

_AUDIO_TYPES = {"wav": "audio/wav", "mp3": "audio/mpeg"}


def _turn(content: Any, part: Any) -> list[SentPart]:
    """A user message's content as the kit's sent parts (a string is one text part)."""
    if isinstance(content, str):
        return [content] if content else []
    return [part(p) for p in content or ()]


def sent_file(url: str, media_type: str | None = None) -> SentFile:
    """A data URL decoded to its type and bytes, or any other URL as it is."""
    if not url.startswith("data:"):
        return SentFile(media_type=media_type, url=url)
    header, _, payload = url[5:].partition(",")
    assert header.endswith(";base64"), f"a data URL that is not base64: {url[:40]!r}"
    return SentFile(
        media_type=header[: -len(";base64")], data=base64.b64decode(payload, validate=True)
    )


def _chat_part(part: Mapping[str, Any]) -> SentPart:
    kind = part.get("type")
    if kind == "text":
        return str(part["text"])
    if kind == "image_url":
        return sent_file(part["image_url"]["url"])
    if kind == "input_audio":
        audio = part["input_audio"]
        return SentFile(
            media_type=_AUDIO_TYPES[audio["format"]],
            data=base64.b64decode(audio["data"], validate=True),
        )
    if kind == "file":
        return sent_file(part["file"]["file_data"])
    raise AssertionError(f"an unknown Chat content part: {part!r}")


def _responses_part(part: Mapping[str, Any]) -> SentPart:
    kind = part.get("type")
    if kind == "input_text":
        return str(part["text"])
    if kind == "input_image":
        return sent_file(part["image_url"])
    if kind == "input_file":
        if "file_url" in part:
            return sent_file(part["file_url"])
        return sent_file(part["file_data"])
    raise AssertionError(f"an unknown Responses content part: {part!r}")


# -- errors ----------------------------------------------------------------------------------


def error_body(status: int, message: str) -> dict[str, Any]:
    """The JSON body OpenAI answers ``status`` with."""
    kind, code = "invalid_request_error", None
    if status == 401:
        code = "invalid_api_key"
    elif status == 404:
        code = "model_not_found"
    elif status == 429:
        kind, code = "requests", "rate_limit_exceeded"
    elif status >= 500:
        kind = "server_error"
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


def error_reply(
    status: int,
    message: str = "scripted error",
    retry_after: float | None = None,
    headers: Mapping[str, str] | None = None,
) -> Reply:
    """An HTTP error answer as OpenAI sends it (pretty JSON, optional Retry-After)."""
    all_headers = {"content-type": "application/json; charset=utf-8", **(headers or {})}
    if retry_after is not None:
        all_headers["retry-after"] = f"{retry_after:g}"
    body = json.dumps(error_body(status, message), indent=4) + "\n"
    return Reply(status=status, headers=all_headers, body=body)


def _error(error: HttpError) -> Reply:
    return error_reply(error.status, error.message, error.retry_after)
