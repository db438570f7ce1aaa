"""Starting a generation: check the call, build its ``Generation``, run it as a task.

``stream_generate``/``generate`` run the task on the shared background loop
(``janito_core.background``); ``astream_generate``/``agenerate`` run it on the caller's loop. The
rest of the harness is split by idea: ``generation`` (state and the commit path), ``rounds`` (the
request/tool loop), ``bridge`` (blocking tools and synchronous drivers on threads), ``streams``
(the consumer's side) and ``result``.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from janito_core import events as ev
from janito_core.attachments import Attachment
from janito_core.bridge import join_threads
from janito_core.driver import _check_options
from janito_core.errors import InvalidRequestError
from janito_core.generation import Generation, Observer, RedactedError
from janito_core.messages import Message
from janito_core.reasoning import check_reasoning
from janito_core.result import GenerationResult
from janito_core.rounds import run_generation
from janito_core.streams import AsyncEventStream, EventStream
from janito_core.tools import Tool

if TYPE_CHECKING:
    from janito_core.driver import LLMDriver

__all__ = [
    "AsyncEventStream",
    "EventStream",
    "GenerationResult",
    "Observer",
    "RedactedError",
    "start_async_generation",
    "start_generation",
]

# Running generations' tasks: the loop keeps only weak references to tasks.
_running: set[asyncio.Task[None]] = set()


def start_generation(
    driver: LLMDriver,
    *,
    prompt: str | None,
    messages: Sequence[Message] | None,
    system_prompt: str | None,
    tools: Iterable[Tool] | None,
    cancel_event: threading.Event | None,
    options: Mapping[str, Any],
    observers: Iterable[Observer] | None = None,
    reasoning: str | int | None = None,
    attachments: Iterable[Attachment] | None = None,
    output_schema: Any = None,
) -> EventStream:
    """Check the call, then run it on the shared background loop; see ``stream_generate``."""
    gen = _build(
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
    stream = EventStream(gen)
    _announce(gen)
    from janito_core.background import shared_loop

    loop = shared_loop()
    gen.loop = loop
    loop.call_soon_threadsafe(_launch, gen)
    return stream


def start_async_generation(driver: LLMDriver, **call: Any) -> AsyncEventStream:
    """``start_generation``'s arguments; runs the task on the running loop (else on the first
    ``await`` on the stream)."""
    gen = _build(driver, **call)
    stream = AsyncEventStream(gen)
    _announce(gen)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return stream  # started by the first await on the stream
    launch_here(gen)
    return stream


def launch_here(gen: Generation) -> None:
    """Start ``gen``'s task on the running loop."""
    gen.loop = asyncio.get_running_loop()
    _launch(gen)


def _launch(gen: Generation) -> None:
    """Create ``gen``'s task; runs on the generation's loop, which is how it learns its thread.

    Until then ``loop_thread`` is None, so a cancel from anywhere is scheduled onto the loop,
    behind this launch."""
    loop = asyncio.get_running_loop()
    gen.loop_thread = threading.get_ident()
    gen.ended_future = loop.create_future()
    task = loop.create_task(_main(gen))
    gen.task = task
    _running.add(task)
    task.add_done_callback(_running.discard)
    # A task cancelled before its first step never runs its body: it still counts as ended.
    task.add_done_callback(lambda _: gen.mark_ended())


async def _main(gen: Generation) -> None:
    try:
        if not gen.finished:
            if gen.cancelled.is_set():
                gen.cancel()
            else:
                await run_generation(gen)
    finally:
        try:
            await join_threads(gen)
        finally:
            gen.mark_ended()


def _announce(gen: Generation) -> None:
    # GenerationStarted goes out before the task exists, so even an immediate cancel yields a
    # well-formed stream.
    gen.commit(ev.GenerationStarted(**gen.base, model=gen.driver.model))


def _build(
    driver: LLMDriver,
    *,
    prompt: str | None,
    messages: Sequence[Message] | None,
    system_prompt: str | None,
    tools: Iterable[Tool] | None,
    cancel_event: threading.Event | None,
    options: Mapping[str, Any],
    observers: Iterable[Observer] | None,
    reasoning: str | int | None = None,
    attachments: Iterable[Attachment] | None = None,
    output_schema: Any = None,
) -> Generation:
    history = _initial_history(prompt, messages, _attachment_list(attachments))
    for message in history:
        for attachment in message.attachments:
            driver.check_attachment(attachment)
    output = None
    if output_schema is not None:
        from janito_core.structured import output_spec

        output = output_spec(output_schema)
        driver.check_output_schema(output.schema)
    if system_prompt is not None and not isinstance(system_prompt, str):
        raise InvalidRequestError("system_prompt must be a str")
    if tools is not None and (isinstance(tools, (str, bytes, Mapping)) or not _iterable(tools)):
        raise InvalidRequestError(f"tools must be a list of Tool instances; got {tools!r}")
    tool_list = tuple(tools or ())
    for tool in tool_list:
        if not isinstance(tool, Tool):
            raise InvalidRequestError(
                f"tools must be Tool instances (use Tool.from_function(fn)); got {tool!r}"
            )
    names = [t.name for t in tool_list]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise InvalidRequestError(f"duplicate tool names: {', '.join(duplicates)}")
    if cancel_event is not None and not hasattr(cancel_event, "is_set"):
        raise InvalidRequestError("cancel_event must be a threading.Event")
    _check_options(options)
    merged = {**driver.config.options, **options}
    driver.check_options(merged)
    if observers is not None and (callable(observers) or not _iterable(observers)):
        raise InvalidRequestError(
            "observers must be a list of callables taking one event "
            "(observers=[fn], not observers=fn)"
        )
    watching = list(observers or ())
    if not all(callable(o) for o in watching):
        raise InvalidRequestError("observers must be callables taking one event")
    from janito_core.cost import preload_prices
    from janito_core.registry import default_registry

    plugin_observer = default_registry().observer()
    if plugin_observer is not None:
        watching.insert(0, plugin_observer)
    gen = Generation(
        driver=driver,
        history=history,
        system_prompt=system_prompt,
        tools=tool_list,
        options=merged,
        user_cancel=cancel_event,
        observers=watching,
        reasoning=check_reasoning(reasoning),
        output=output,
    )
    driver.check_request(gen.request("", history))
    preload_prices(driver)
    return gen


def _iterable(value: object) -> bool:
    try:
        iter(value)  # type: ignore[call-overload]
    except TypeError:
        return False
    return True


def _attachment_list(attachments: Iterable[Attachment] | None) -> tuple[Attachment, ...]:
    if attachments is None:
        return ()
    if isinstance(attachments, (str, bytes, Mapping, Attachment)) or not _iterable(attachments):
        raise InvalidRequestError(
            "attachments must be a list of Attachment instances "
            "(attachments=[Attachment.from_path(...)])"
        )
    found = tuple(attachments)
    for item in found:
        if not isinstance(item, Attachment):
            raise InvalidRequestError(
                f"attachments must be Attachment instances (Attachment.from_path, from_url or "
                f"from_bytes); got {type(item).__name__}"
            )
    return found


def _initial_history(
    prompt: str | None,
    messages: Sequence[Message] | None,
    attachments: tuple[Attachment, ...] = (),
) -> list[Message]:
    if messages is not None and (
        isinstance(messages, (str, bytes, Mapping, Message)) or not _iterable(messages)
    ):
        raise InvalidRequestError(
            f"messages must be a list of Message instances; got {type(messages).__name__}"
        )
    history = list(messages or ())
    if prompt is None and not history and not attachments:
        raise InvalidRequestError("stream_generate needs a prompt or a non-empty messages list")
    if prompt is not None and not isinstance(prompt, str):
        raise InvalidRequestError(f"prompt must be a str, got {type(prompt).__name__}")
    for message in history:
        if not isinstance(message, Message):
            raise InvalidRequestError(f"messages must be Message instances; got {message!r}")
    if prompt is not None or attachments:
        text = (prompt,) if prompt else ()
        history.append(Message.user(*text, *attachments))
    return history
