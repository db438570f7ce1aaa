"""The built-in ``echo`` driver: offline, no key (registered by ``janito_core.builtin``).

It answers ``Echo: <prompt>`` a word at a time. When a tool with a function is offered and the
prompt names it, it calls that tool first (arguments from ``key=value`` words in the prompt) and
then reports the result, so the tool loop can be watched without a network. It takes any
attachment and names each one (``[image/png, 1234 bytes]``). With ``output_schema=`` it answers
the prompt verbatim, so a JSON prompt comes back as structured output. Options: ``delay``
(seconds between parts, honoured with cancellation).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

from janito_core.attachments import Attachment
from janito_core.driver import LLMDriver, ProviderRequest, RequestContext
from janito_core.messages import Message
from janito_core.parts import FinishPart, Part, TextPart, ToolCallPart, UsagePart
from janito_core.usage import Usage

_PAIR = re.compile(r"(\w+)=(\"[^\"]*\"|'[^']*'|\S+)")


class EchoDriver(LLMDriver):
    """Streams back a reply built from the prompt; needs no key or network."""

    name = "echo"
    default_model = "echo-1"
    requires_api_key = False
    accepts = frozenset({"*/*"})
    accepts_urls = frozenset({"*/*"})

    async def astream_request(
        self, request: ProviderRequest, context: RequestContext
    ) -> AsyncIterator[Part]:
        delay = float(request.options.get("delay", 0.0) or 0.0)
        last = request.messages[-1]
        calls: list[ToolCallPart] = []
        if last.role == "tool":
            results = _trailing_results(request.messages)
            reply = " ".join(f"{m.name} returned {m.content}." for m in results)
        else:
            prompt = last.content
            reply = prompt if request.output_schema is not None else f"Echo: {prompt}"
            seen = " ".join(map(_describe, last.attachments))
            if seen and request.output_schema is None:
                reply = f"{reply} {seen}" if prompt else f"Echo: {seen}"
            for tool in request.tools:
                if re.search(rf"\b{re.escape(tool.name)}\b", prompt):
                    arguments = _arguments(prompt, tool.parameters)
                    calls.append(ToolCallPart(id=None, name=tool.name, arguments=arguments))
            if calls:
                reply = "Let me use " + ", ".join(c.name for c in calls) + "."
        words = reply.split(" ")
        for index, word in enumerate(words):
            if delay:
                await asyncio.sleep(delay)
            yield TextPart(word if index == 0 else " " + word)
        for call in calls:
            if delay:
                await asyncio.sleep(delay)
            yield call
        prompt_words = sum(len(m.content.split()) for m in request.messages)
        yield UsagePart(
            Usage(
                input_tokens=prompt_words,
                output_tokens=len(words),
                total_tokens=prompt_words + len(words),
            )
        )
        yield FinishPart("tool_calls" if calls else "stop")


def _describe(attachment: Attachment) -> str:
    where = attachment.url or f"{attachment.size} bytes"
    return f"[{attachment.media_type}, {where}]"


def _trailing_results(messages: tuple[Message, ...]) -> list[Message]:
    results: list[Message] = []
    for message in reversed(messages):
        if message.role != "tool":
            break
        results.append(message)
    return results[::-1]


def _arguments(prompt: str, schema: Any) -> dict[str, Any]:
    properties = schema.get("properties", {})
    arguments: dict[str, Any] = {}
    for key, value in _PAIR.findall(prompt):
        if key not in properties:
            continue
        text = value.strip("\"'")
        kind = properties[key].get("type")
        try:
            if kind == "integer":
                arguments[key] = int(text)
            elif kind == "number":
                arguments[key] = float(text)
            elif kind == "boolean":
                arguments[key] = text.lower() in ("1", "true", "yes")
            else:
                arguments[key] = text
        except ValueError:
            arguments[key] = text
    return arguments
