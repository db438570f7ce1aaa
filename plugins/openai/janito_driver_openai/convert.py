"""Neutral messages, tools and options to the keyword arguments of the SDK's ``create`` calls.

Plain data in, plain data out: nothing here imports the SDK, so it is cheap to test.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Any

from janito_core.driver import ProviderRequest
from janito_core.messages import Message, ToolCall
from janito_driver_openai.content import chat_content, responses_content
from janito_driver_openai.effort import hand_set, wire_effort
from janito_driver_openai.structured import (
    chat_response_format,
    responses_text_format,
    system_prompt_for,
)

__all__ = ["RESERVED_OPTIONS", "chat_arguments", "responses_arguments"]

# Set by the driver from the request itself; an option of the same name would fight it.
RESERVED_OPTIONS = frozenset(
    {"model", "messages", "input", "instructions", "stream", "tools", "api"}
)

# Options that set reasoning by hand (also inside extra_body): reasoning= then adds nothing.
# On Chat, "reasoning" is OpenRouter's object form.
_CHAT_REASONING = ("reasoning_effort", "reasoning")
_RESPONSES_REASONING = ("reasoning", "reasoning_effort")

# Where the driver keeps what it must send back: ``Message.provider_data["openai"]`` and
# ``ToolCall.provider_data["openai"]``.
PROVIDER_KEY = "openai"


def chat_arguments(
    request: ProviderRequest,
    *,
    accepted: Collection[str],
    openai_endpoint: bool,
    reasoning_content: bool = False,
    structured_output: str = "json_schema",
) -> dict[str, Any]:
    """``chat.completions.create`` keywords for ``request`` (streaming, with usage,
    ``reasoning_effort`` for ``request.reasoning`` and ``response_format`` for its output
    schema, in ``structured_output`` mode); ``reasoning_content``: see ``chat_messages``."""
    options = dict(request.options)
    # OpenAI deprecated max_tokens (its reasoning models reject it); compatible servers may
    # only know max_tokens, so it is renamed for OpenAI's own endpoint only.
    if openai_endpoint and "max_tokens" in options and "max_completion_tokens" not in options:
        options["max_completion_tokens"] = options.pop("max_tokens")
    # Usage comes only when asked for, so it is asked for always (compatible servers take the
    # field too): added to stream_options passed by hand unless they say include_usage
    # themselves; stream_options=None drops the field for a server that refuses it.
    stream_options = options.pop("stream_options", {})
    if isinstance(stream_options, Mapping):
        stream_options = {"include_usage": True, **stream_options}
    if not hand_set(options, _CHAT_REASONING):
        effort = wire_effort(request.model, request.reasoning)
        if effort is not None:
            options["reasoning_effort"] = effort
    arguments = _split(options, accepted)
    arguments.update(
        model=request.model,
        messages=chat_messages(
            request, reasoning_content=reasoning_content, structured_output=structured_output
        ),
        stream=True,
    )
    response_format = chat_response_format(request, structured_output)
    if response_format is not None:
        arguments["response_format"] = response_format
    if stream_options is not None:
        arguments["stream_options"] = stream_options
    if request.tools:
        arguments["tools"] = [
            {"type": "function", "function": _function(t.name, t.description, t.parameters)}
            for t in request.tools
        ]
    return arguments


def chat_messages(
    request: ProviderRequest,
    *,
    reasoning_content: bool = False,
    structured_output: str = "json_schema",
) -> list[dict[str, Any]]:
    """The conversation as Chat Completions messages, the system prompt first (with the output
    schema in ``json_object`` mode); a user turn's attachments become content parts.

    Only the neutral fields go out: what other drivers keep in ``provider_data`` (signatures,
    encrypted reasoning) means nothing here and is left behind, whoever produced the history.
    Reasoning text is not sent back, except with ``reasoning_content`` (DeepSeek's rule): each
    assistant turn of a tool loop (one that called tools, or answered their results) then
    carries its reasoning as ``reasoning_content``.
    """
    messages: list[dict[str, Any]] = []
    system_prompt = system_prompt_for(request, structured_output)
    if system_prompt:
        messages.append({"role": "system", "content": system_prompt})
    previous: Message | None = None
    for message in request.messages:
        if message.role == "assistant":
            # DeepSeek wants the reasoning of every turn of a tool loop: the calls, and the
            # answer that follows their results.
            in_tool_loop = bool(message.tool_calls) or (
                previous is not None and previous.role == "tool"
            )
            messages.append(
                _chat_assistant(message, reasoning_content=reasoning_content and in_tool_loop)
            )
        elif message.role == "tool":
            messages.append(
                {"role": "tool", "tool_call_id": message.tool_call_id, "content": message.content}
            )
        elif message.role == "user":
            messages.append({"role": "user", "content": chat_content(message)})
        else:
            messages.append({"role": message.role, "content": message.content})
        previous = message
    return messages


def _chat_assistant(message: Message, *, reasoning_content: bool) -> dict[str, Any]:
    turn: dict[str, Any] = {"role": "assistant"}
    if reasoning_content and (message.reasoning or message.tool_calls):
        # DeepSeek's thinking mode refuses a tool-calling turn without the field (a 400
        # "Missing reasoning_content"), even when the turn came from a driver that had no
        # reasoning to give: then it goes empty.
        turn["reasoning_content"] = message.reasoning or ""
    if not message.tool_calls:
        return {**turn, "content": message.content}
    turn["content"] = message.content or None
    return {
        **turn,
        "tool_calls": [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": _arguments_text(call)},
            }
            for call in message.tool_calls
        ],
    }


def responses_arguments(
    request: ProviderRequest,
    *,
    accepted: Collection[str],
    provider_key: str = PROVIDER_KEY,
    structured_output: str = "json_schema",
) -> dict[str, Any]:
    """``responses.create`` keywords for ``request`` (streaming, ``reasoning`` with a summary
    for ``request.reasoning`` and ``text.format`` for its output schema, in
    ``structured_output`` mode); ``provider_key``: see ``responses_input``."""
    options = dict(request.options)
    for generic in ("max_tokens", "max_completion_tokens"):
        if generic in options and "max_output_tokens" not in options:
            options["max_output_tokens"] = options.pop(generic)
    if "reasoning_effort" in options:
        reasoning = dict(options.get("reasoning") or {})
        reasoning.setdefault("effort", options.pop("reasoning_effort"))
        options["reasoning"] = reasoning
    elif not hand_set(options, _RESPONSES_REASONING):
        effort = wire_effort(request.model, request.reasoning)
        if effort is not None:
            # A summary makes the reasoning stream (as reasoning parts); none is asked for when
            # thinking was to be off, even where the model can only think less.
            asked_off = request.reasoning == "off" or request.reasoning == 0
            options["reasoning"] = (
                {"effort": effort} if asked_off else {"effort": effort, "summary": "auto"}
            )
    text_format = responses_text_format(request, structured_output)
    if text_format is not None:
        # Beside what the caller set in text (verbosity); a format of its own is refused.
        options["text"] = {**(options.get("text") or {}), "format": text_format}
    stored = options.get("store") is not False
    arguments = _split(options, accepted)
    arguments.update(
        model=request.model,
        input=responses_input(request, stored=stored, provider_key=provider_key),
        stream=True,
    )
    instructions = system_prompt_for(request, structured_output)
    if instructions:
        arguments["instructions"] = instructions
    if request.tools:
        # The Responses API makes function tools strict by default, which rejects any schema
        # that is not closed and fully required; the tools here are ordinary JSON schemas.
        arguments["tools"] = [
            {"type": "function", **_function(t.name, t.description, t.parameters), "strict": False}
            for t in request.tools
        ]
    return arguments


def responses_input(
    request: ProviderRequest, *, stored: bool = True, provider_key: str = PROVIDER_KEY
) -> list[dict[str, Any]]:
    """The conversation as Responses input items; tool results become
    ``function_call_output`` items and earlier calls ``function_call`` items.

    Reasoning items and item ids go back only from ``provider_data[provider_key]`` (the
    driver's name): those of another server, or of another driver, mean nothing here."""
    items: list[dict[str, Any]] = []
    for message in request.messages:
        if message.role == "assistant":
            items.extend(_responses_assistant(message, stored=stored, key=provider_key))
        elif message.role == "tool":
            items.append(
                {
                    "type": "function_call_output",
                    "call_id": message.tool_call_id,
                    "output": message.content,
                }
            )
        elif message.role == "user":
            items.append({"role": "user", "content": responses_content(message)})
        else:
            items.append({"role": message.role, "content": message.content})
    return items


def _responses_assistant(message: Message, *, stored: bool, key: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    # A reasoning model keeps its train of thought across tool rounds when the reasoning items
    # that preceded the calls come back, followed by those calls under their own item ids.
    # Referring to items by id only works when the server stored them, or when they carry
    # their encrypted content; otherwise both are left out and the calls go without ids.
    reasoning = [
        item
        for item in _provider_data(message.provider_data, key).get("reasoning_items", ())
        if isinstance(item, Mapping) and (stored or item.get("encrypted_content"))
    ]
    with_reasoning = bool(reasoning) and bool(message.tool_calls)
    if with_reasoning:
        items.extend(dict(item) for item in reasoning)
    if message.content:
        items.append({"role": "assistant", "content": message.content})
    for call in message.tool_calls:
        item: dict[str, Any] = {
            "type": "function_call",
            "call_id": call.id,
            "name": call.name,
            "arguments": _arguments_text(call),
        }
        item_id = _provider_data(call.provider_data, key).get("item_id")
        if with_reasoning and isinstance(item_id, str):
            item["id"] = item_id
        items.append(item)
    return items


def _provider_data(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    mine = data.get(key)
    return mine if isinstance(mine, Mapping) else {}


def _function(name: str, description: str, parameters: Mapping[str, Any]) -> dict[str, Any]:
    function: dict[str, Any] = {"name": name}
    if description:
        function["description"] = description
    function["parameters"] = dict(parameters)
    return function


def _arguments_text(call: ToolCall) -> str:
    # The model's own text goes back as it was sent; a call without arguments goes back as an
    # empty object, since servers that parse the history reject an empty string.
    if call.raw_arguments is not None and call.raw_arguments.strip():
        return call.raw_arguments
    return json.dumps(dict(call.arguments), ensure_ascii=False)


def _split(options: Mapping[str, Any], accepted: Collection[str]) -> dict[str, Any]:
    """Options the SDK call names as keywords; the rest travel in ``extra_body``, so a
    compatible server's own parameters (``top_k``, ``min_p``, ...) still reach it."""
    arguments: dict[str, Any] = {}
    extra: dict[str, Any] = dict(options.get("extra_body") or {})
    for name, value in options.items():
        if name == "extra_body":
            continue
        if name in accepted:
            arguments[name] = value
        else:
            extra[name] = value
    if extra:
        arguments["extra_body"] = extra
    return arguments
