"""Neutral messages, tools and options → the Gemini ``generateContent`` request, as REST JSON.

Everything here is plain dicts in the shapes of Google's API reference (camelCase), so it is
testable without the SDK; ``driver.py`` validates them into the SDK's types. The one exception:
an attachment's ``inlineData.data`` holds its bytes, not base64 text (see ``media.py``).

Assistant turns are rebuilt from the parts Gemini sent (kept by the driver in
``Message.provider_data["gemini"]["parts"]``, thought signatures included) whenever they still
match the message; otherwise from the message's text and tool calls, each call carrying its own
signature from ``ToolCall.provider_data["gemini"]``.

History from other drivers: their provider data is never read (only the ``"gemini"`` key is),
their reasoning text is not sent (a thought part without Gemini's signature means nothing to it),
and their calls become plain ``functionCall`` parts, the first of a turn carrying the dummy
signature Google documents for calls no Gemini model made, which Gemini 3 would otherwise reject.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from janito_core.errors import InvalidRequestError
from janito_core.messages import Message, ToolCall
from janito_core.tools import Tool
from janito_driver_gemini.media import attachment_part

__all__ = [
    "FOREIGN_CALL_SIGNATURE",
    "PROVIDER_KEY",
    "SYNTHETIC_ID_PREFIX",
    "build_contents",
    "build_tools",
    "config_fields",
    "synthetic_call_id",
    "user_parts",
]

PROVIDER_KEY = "gemini"
# Google's documented stand-in signature for function calls Gemini did not make (another model's
# history, or calls written by hand); accepted by the Gemini API and Vertex AI alike.
FOREIGN_CALL_SIGNATURE = "skip_thought_signature_validator"
# Ids the driver makes for calls Gemini sent without one; they are never sent back.
SYNTHETIC_ID_PREFIX = "gemini-call-"

# Generic option names that Gemini spells differently.
_RENAMED = {"max_tokens": "max_output_tokens", "stop": "stop_sequences"}
# Shortcuts folded into thinking_config.
_THINKING = {"thinking_budget", "include_thoughts", "thinking_level"}
# Fields the driver sets itself; a caller setting them would break the stream or the tool loop.
_RESERVED = {
    "system_instruction": "pass system_prompt= or a system message instead",
    "tools": "pass tools= instead",
    "automatic_function_calling": "the janito-core harness runs the tool loop",
    "automatic_continuation": "the driver never lets the SDK send a second request",
    "http_options": "configure base_url/timeout on the driver instead",
    "should_return_http_response": "not available on streamed requests",
    "continuation_token": "the driver does not resume streams",
}


def synthetic_call_id(request_id: str, position: int) -> str:
    """A stable id for the ``position``-th call of a response that Gemini gave no id."""
    return f"{SYNTHETIC_ID_PREFIX}{request_id}-{position}"


def config_fields(options: Mapping[str, Any]) -> dict[str, Any]:
    """The ``GenerateContentConfig`` fields (snake_case) for the request options.

    ``max_tokens`` becomes ``max_output_tokens``, ``stop`` becomes ``stop_sequences`` (a
    string is wrapped in a list), and ``thinking_budget``/``include_thoughts``/
    ``thinking_level`` go into ``thinking_config``. Other names pass through as they are.
    """
    fields: dict[str, Any] = {}
    thinking: dict[str, Any] = {}
    for name, value in options.items():
        if name in _RESERVED:
            raise InvalidRequestError(
                f"Option {name!r} cannot be set on the gemini driver: {_RESERVED[name]}"
            )
        if value is None:
            continue
        if name in _THINKING:
            thinking[name] = value
            continue
        key = _RENAMED.get(name, name)
        if key in fields:
            raise InvalidRequestError(
                f"Options {name!r} and {key!r} both set the same Gemini field; give one"
            )
        if key == "stop_sequences" and isinstance(value, str):
            value = [value]
        if key == "candidate_count" and value != 1:
            raise InvalidRequestError("The gemini driver streams one candidate: candidate_count=1")
        fields[key] = value
    if thinking:
        merged = dict(fields.get("thinking_config") or {})
        merged.update(thinking)
        fields["thinking_config"] = merged
    return fields


def build_tools(tools: Sequence[Tool]) -> list[dict[str, Any]]:
    """One Gemini ``Tool`` holding a function declaration per tool.

    Schemas go as ``parametersJsonSchema`` (plain JSON Schema), not the OpenAPI-subset
    ``parameters``, so they arrive as the caller wrote them.
    """
    if not tools:
        return []
    declarations = []
    for tool in tools:
        declaration: dict[str, Any] = {"name": tool.name}
        if tool.description:
            declaration["description"] = tool.description
        declaration["parametersJsonSchema"] = dict(tool.parameters)
        declarations.append(declaration)
    return [{"functionDeclarations": declarations}]


def build_contents(
    messages: Iterable[Message], system_prompt: str | None = None
) -> tuple[list[dict[str, Any]], str | None]:
    """The ``contents`` list and the system instruction text for a conversation.

    System turns join the system prompt (Gemini has no system role in ``contents``); tool
    results of one turn go together as ``functionResponse`` parts of one user content;
    neighbouring contents of the same role are merged.
    """
    system: list[str] = [system_prompt] if system_prompt else []
    contents: list[dict[str, Any]] = []
    calls: dict[str, ToolCall] = {}
    for message in messages:
        if message.role == "system":
            if message.content:
                system.append(message.content)
            continue
        if message.role == "user":
            _append(contents, "user", user_parts(message))
        elif message.role == "assistant":
            for call in message.tool_calls:
                calls[call.id] = call
            parts = _model_parts(message)
            if parts:
                _append(contents, "model", parts)
        else:
            answered = calls.get(message.tool_call_id or "")
            _append(contents, "user", [_function_response(message, answered)])
    return contents, "\n\n".join(system) if system else None


def user_parts(message: Message) -> list[dict[str, Any]]:
    """A user turn's parts in order: text as ``text``, attachments as ``inlineData`` (bytes,
    left as bytes for the SDK to encode) or ``fileData`` (a URL).

    A turn without attachments goes as one text part, as it always has; in a turn with some,
    empty text parts are left out.
    """
    if not message.attachments:
        return [{"text": message.content}]
    return [
        {"text": part} if isinstance(part, str) else attachment_part(part)
        for part in message.parts
        if not isinstance(part, str) or part
    ]


def _append(contents: list[dict[str, Any]], role: str, parts: list[dict[str, Any]]) -> None:
    if contents and contents[-1]["role"] == role:
        contents[-1]["parts"].extend(parts)
    else:
        contents.append({"role": role, "parts": parts})


def _model_parts(message: Message) -> list[dict[str, Any]]:
    recorded = _recorded_parts(message)
    if recorded is not None:
        return recorded
    parts: list[dict[str, Any]] = []
    if message.content:
        parts.append({"text": message.content})
    for call in message.tool_calls:
        parts.append(_function_call_part(call))
    first = message.tool_calls[0] if message.tool_calls else None
    if first is not None and PROVIDER_KEY not in first.provider_data:
        # Gemini 3 checks the first call of each step for a signature.
        parts[1 if message.content else 0]["thoughtSignature"] = FOREIGN_CALL_SIGNATURE
    return parts


def _recorded_parts(message: Message) -> list[dict[str, Any]] | None:
    """The parts Gemini sent for this turn, if the message still says what they say."""
    data = message.provider_data.get(PROVIDER_KEY)
    parts = data.get("parts") if isinstance(data, Mapping) else None
    if not isinstance(parts, list) or not all(isinstance(p, Mapping) for p in parts):
        return None
    text = "".join(
        p["text"] for p in parts if isinstance(p.get("text"), str) and not p.get("thought")
    )
    if text != message.content:
        return None
    recorded_calls = [
        p["functionCall"] for p in parts if isinstance(p.get("functionCall"), Mapping)
    ]
    if len(recorded_calls) != len(message.tool_calls):
        return None
    for recorded, call in zip(recorded_calls, message.tool_calls, strict=True):
        if recorded.get("name") != call.name:
            return None
        if recorded.get("id") is not None and recorded.get("id") != call.id:
            return None
    return [json.loads(json.dumps(p)) for p in parts]  # a deep copy the SDK may not alter


def _function_call_part(call: ToolCall) -> dict[str, Any]:
    function_call: dict[str, Any] = {"name": call.name, "args": dict(call.arguments)}
    if not _is_synthetic(call.id, call):
        function_call["id"] = call.id
    part: dict[str, Any] = {"functionCall": function_call}
    signature = _gemini_data(call).get("thought_signature")
    if isinstance(signature, str) and signature:
        part["thoughtSignature"] = signature
    return part


def _function_response(message: Message, call: ToolCall | None) -> dict[str, Any]:
    name = message.name or (call.name if call else "")
    if not name:
        raise InvalidRequestError(
            f"Gemini needs the tool name of the result for call {message.tool_call_id!r}: "
            "set Message.name or keep the assistant turn holding the call in the history"
        )
    key = "error" if message.is_error else "result"
    response: dict[str, Any] = {"name": name, "response": {key: message.content}}
    call_id = message.tool_call_id
    if call_id and not _is_synthetic(call_id, call):
        response["id"] = call_id
    return {"functionResponse": response}


def _gemini_data(call: ToolCall | None) -> Mapping[str, Any]:
    data = call.provider_data.get(PROVIDER_KEY) if call is not None else None
    return data if isinstance(data, Mapping) else {}


def _is_synthetic(call_id: str, call: ToolCall | None) -> bool:
    flag = _gemini_data(call).get("synthetic_id")
    if isinstance(flag, bool):
        return flag
    return call_id.startswith(SYNTHETIC_ID_PREFIX)
