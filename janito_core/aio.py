"""Generations for asyncio code: ``astream_generate`` and ``agenerate``.

The generation is a task on the caller's running loop; its events reach the consumer through an
in-loop hand-off (no thread, no lock). See ``janito_core.streams.AsyncEventStream``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from janito_core.generation import Observer
from janito_core.harness import start_async_generation
from janito_core.result import GenerationResult
from janito_core.streams import AsyncEventStream

if TYPE_CHECKING:
    from janito_core.attachments import Attachment
    from janito_core.driver import LLMDriver
    from janito_core.messages import Message
    from janito_core.tools import Tool

__all__ = ["AsyncEventStream", "agenerate", "astream_generate"]


def astream_generate(
    driver: LLMDriver,
    prompt: str | None = None,
    *,
    messages: Sequence[Message] | None = None,
    system_prompt: str | None = None,
    tools: Iterable[Tool] | None = None,
    cancel_event: threading.Event | None = None,
    observers: Iterable[Observer] | None = None,
    reasoning: str | int | None = None,
    attachments: Iterable[Attachment] | None = None,
    output_schema: Any = None,
    **options: Any,
) -> AsyncEventStream:
    """Start a generation on ``driver``; see ``LLMDriver.astream_generate``."""
    return start_async_generation(
        driver,
        prompt=prompt,
        messages=messages,
        system_prompt=system_prompt,
        tools=tools,
        cancel_event=cancel_event,
        options=options,
        observers=observers,
        reasoning=reasoning,
        attachments=attachments,
        output_schema=output_schema,
    )


async def agenerate(
    driver: LLMDriver,
    prompt: str | None = None,
    *,
    messages: Sequence[Message] | None = None,
    system_prompt: str | None = None,
    tools: Iterable[Tool] | None = None,
    cancel_event: threading.Event | None = None,
    observers: Iterable[Observer] | None = None,
    reasoning: str | int | None = None,
    attachments: Iterable[Attachment] | None = None,
    output_schema: Any = None,
    **options: Any,
) -> GenerationResult:
    """Run a generation on ``driver`` to its end; see ``LLMDriver.agenerate``."""
    stream = astream_generate(
        driver,
        prompt,
        messages=messages,
        system_prompt=system_prompt,
        tools=tools,
        cancel_event=cancel_event,
        observers=observers,
        reasoning=reasoning,
        attachments=attachments,
        output_schema=output_schema,
        **options,
    )
    async with stream:
        return await stream.result()
