"""Generations for asyncio code: ``astream_generate`` and ``agenerate``.

The generation runs on the harness's worker thread exactly as for ``stream_generate``; only the
hand-off to the consumer differs. The consumer drains the run's queue with ``get_nowait()``; when
the queue is empty it parks on a future, and the run's ``wakeup`` (called under the run's lock
after every queued event) resolves that future through ``loop.call_soon_threadsafe``. While the
consumer is not parked the wakeup is one attribute check, so a consumer that keeps up costs the
worker nothing more per event, and no thread ever waits on behalf of a coroutine.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Iterable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

from janito_core import events as ev
from janito_core.harness import (
    _CANCEL_POLL,
    _JOIN_ON_END,
    EventStream,
    GenerationResult,
    Observer,
    _summarise,
    start_generation,
)

if TYPE_CHECKING:
    from janito_core.driver import LLMDriver
    from janito_core.messages import Message
    from janito_core.tools import Tool

__all__ = ["AsyncEventStream", "agenerate", "astream_generate"]

# The longest pause between two looks at whether the worker thread has exited.
_JOIN_POLL_MAX = 0.02
# How many events a consumer may take in a row, without waiting, before yielding to the loop.
_YIELD_EVERY = 64


class _Handoff:
    """Wakes the parked consumer of one run from whichever thread queued an event.

    It holds no reference to the stream, so the run (kept alive by its worker thread) does not
    keep the stream alive: dropping the stream must still cancel the generation.
    """

    __slots__ = ("_lock", "waiter")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.waiter: asyncio.Future[None] | None = None

    def wake(self) -> None:
        # The unlocked look keeps the common case (consumer busy, not parked) to one load. A
        # consumer parking concurrently re-checks the queue after publishing its waiter, so an
        # event is never left unannounced.
        if self.waiter is None:
            return
        with self._lock:
            waiter, self.waiter = self.waiter, None
        if waiter is None:
            return
        # A closed loop raises RuntimeError: nobody is left to wake, and the generation goes on.
        with contextlib.suppress(RuntimeError):
            waiter.get_loop().call_soon_threadsafe(_resolve, waiter)

    def park(self, waiter: asyncio.Future[None]) -> None:
        with self._lock:
            self.waiter = waiter

    def unpark(self, waiter: asyncio.Future[None]) -> None:
        with self._lock:
            if self.waiter is waiter:
                self.waiter = None


def _resolve(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


class AsyncEventStream:
    """The events of one generation, as an async iterator; also an async context manager.

    Cancelling the task that awaits the next event (``task.cancel()``, ``asyncio.timeout``)
    cancels the generation, and so do ``cancel()``, ``aclose()``, leaving ``async with``,
    and breaking out of ``async for`` when nothing else holds the stream. One task at a time may
    await it. After the last event, iteration ends once the worker thread has exited (waited for
    without blocking the loop, up to a second).
    """

    def __init__(self, stream: EventStream) -> None:
        # Holding the sync stream keeps its guarantee that dropping it cancels the run; reading
        # its run directly avoids a second implementation of anything the harness does.
        self._stream = stream
        self._run = stream._run
        self._handoff = _Handoff()
        self._done = False
        self._streak = 0
        self._run.wakeup = self._handoff.wake

    @property
    def generation_id(self) -> str:
        """The id every event of this generation carries."""
        return self._run.generation_id

    def __aiter__(self) -> AsyncEventStream:
        return self

    async def __anext__(self) -> ev.Event:
        if self._done:
            await self.join(_JOIN_ON_END)
            raise StopAsyncIteration
        run = self._run
        user_cancel = run.user_cancel
        try:
            if self._streak >= _YIELD_EVERY:
                # Events have kept coming without a wait: let the loop's other tasks, and any
                # timeout on this one, have their turn.
                self._streak = 0
                await asyncio.sleep(0)
            while True:
                if user_cancel is not None and user_cancel.is_set():
                    run.cancel()
                try:
                    event = run.queue.get_nowait()
                    break
                except queue.Empty:
                    self._streak = 0
                    await self._park(_CANCEL_POLL if user_cancel is not None else None)
        except asyncio.CancelledError:
            run.cancel()
            raise
        self._streak += 1
        if type(event) is ev.GenerationFinished:
            self._done = True
        return event

    async def _park(self, poll: float | None) -> None:
        """Wait until an event may be queued, or ``poll`` seconds (to look at a cancel_event)."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        handoff = self._handoff
        handoff.park(waiter)
        # An event queued between the empty get and park() saw no waiter: look once more.
        if not self._run.queue.empty():
            handoff.unpark(waiter)
            return
        timer = loop.call_later(poll, _resolve, waiter) if poll is not None else None
        try:
            await waiter
        finally:
            handoff.unpark(waiter)
            if timer is not None:
                timer.cancel()

    def cancel(self) -> None:
        """Cancel the generation; the stream then ends with ``GenerationFinished(cancelled)``."""
        self._run.cancel()

    async def aclose(self) -> None:
        """Cancel if still running, discard the remaining events, wait for the worker to exit."""
        self._stream.close()
        self._done = True
        await self.join(_JOIN_ON_END)

    async def join(self, timeout: float | None = None) -> bool:
        """Wait for the worker thread to exit without blocking the loop; True if it has."""
        thread = self._run.thread
        if thread is None or thread is threading.current_thread():
            return True
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        # A thread announces nothing when it exits, so look on the loop's timer, starting fine
        # (the worker normally exits right after its last event) and backing off.
        pause = 0.0005
        while thread.is_alive():
            if deadline is not None and loop.time() >= deadline:
                return False
            await asyncio.sleep(pause)
            pause = min(pause * 2, _JOIN_POLL_MAX)
        return True

    async def result(self) -> GenerationResult:
        """Consume the rest of the stream and sum it up; raises ``GenerationError`` on error."""
        collected = [event async for event in self]
        return _summarise(collected, self._run)

    async def __aenter__(self) -> AsyncEventStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()


def astream_generate(
    driver: LLMDriver,
    prompt: str | None = None,
    *,
    messages: Sequence[Message] | None = None,
    system_prompt: str | None = None,
    tools: Iterable[Tool] | None = None,
    cancel_event: threading.Event | None = None,
    observers: Iterable[Observer] | None = None,
    **options: Any,
) -> AsyncEventStream:
    """Start a generation on ``driver``; see ``LLMDriver.astream_generate``."""
    stream = start_generation(
        driver,
        prompt=prompt,
        messages=messages,
        system_prompt=system_prompt,
        tools=tools,
        cancel_event=cancel_event,
        options=options,
        observers=observers,
    )
    return AsyncEventStream(stream)


async def agenerate(
    driver: LLMDriver,
    prompt: str | None = None,
    *,
    messages: Sequence[Message] | None = None,
    system_prompt: str | None = None,
    tools: Iterable[Tool] | None = None,
    cancel_event: threading.Event | None = None,
    observers: Iterable[Observer] | None = None,
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
        **options,
    )
    async with stream:
        return await stream.result()
