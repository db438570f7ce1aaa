"""The consumer's side of a generation: ``EventStream`` (a blocking iterator, for threads) and
``AsyncEventStream`` (an async iterator, for asyncio code).

Both receive the events the generation commits, in order, through a hand-off that holds no
reference to the stream itself, so dropping a stream still cancels its generation.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import queue
from types import TracebackType
from typing import TYPE_CHECKING

from janito_core import events as ev
from janito_core.bridge import poll_until
from janito_core.result import GenerationResult, summarise

if TYPE_CHECKING:
    from janito_core.generation import Generation

__all__ = ["AsyncEventStream", "EventStream"]

# How often a consumer that waits looks at a caller's cancel_event, and how long the end of
# iteration waits for the generation (its task and threads) to be over.
CANCEL_POLL = 0.005
JOIN_ON_END = 1.0
# How many events an async consumer may take in a row without awaiting, before it lets the loop's
# other tasks (and a timeout on its own) have their turn.
_YIELD_EVERY = 64


class EventStream:
    """The events of one generation, as an iterator; also a context manager.

    Closing it, leaving its ``with`` block, calling ``cancel()`` or dropping it cancels the
    generation. After the last event, iteration ends once the generation is fully over.
    """

    def __init__(self, gen: Generation) -> None:
        self._gen = gen
        self._queue: queue.SimpleQueue[ev.Event] = queue.SimpleQueue()
        self._done = False
        gen.sink = self._queue.put

    @property
    def generation_id(self) -> str:
        """The id every event of this generation carries."""
        return self._gen.generation_id

    def __iter__(self) -> EventStream:
        return self

    def __next__(self) -> ev.Event:
        if self._done:
            self.join(JOIN_ON_END)
            raise StopIteration
        gen = self._gen
        user_cancel = gen.user_cancel
        if user_cancel is None:
            event = self._queue.get()
        else:
            while True:
                if user_cancel.is_set():
                    gen.request_cancel()
                try:
                    event = self._queue.get(timeout=CANCEL_POLL)
                    break
                except queue.Empty:
                    continue
        if type(event) is ev.GenerationFinished:
            self._done = True
        return event

    def cancel(self) -> None:
        """Cancel the generation; the stream then ends with ``GenerationFinished(cancelled)``."""
        self._gen.request_cancel()

    def close(self) -> None:
        """Cancel if still running; the remaining events are discarded."""
        self._gen.request_cancel()
        self._done = True

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the generation to be fully over (task and threads); True if it is."""
        return self._gen.ended.wait(timeout)

    def result(self) -> GenerationResult:
        """The whole generation summed up, however much of it was read; raises on error.

        Reads the rest of the stream first. Raises the typed ``GenerationError`` of the failed
        request when the generation ended in error.
        """
        for _ in self:
            pass
        self.join(JOIN_ON_END)
        return summarise(self._gen)

    def __enter__(self) -> EventStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
        self.join(JOIN_ON_END)

    def __del__(self) -> None:
        # Abandoned without being closed: a generation nobody reads must not keep running.
        gen = getattr(self, "_gen", None)
        if gen is not None and not gen.finished:
            gen.cancel_from_finalizer()


class _Channel:
    """Events waiting for an async consumer on the generation's own loop, and its waiter."""

    __slots__ = ("items", "waiter")

    def __init__(self) -> None:
        self.items: collections.deque[ev.Event] = collections.deque()
        self.waiter: asyncio.Future[None] | None = None

    def push(self, event: ev.Event) -> None:
        self.items.append(event)
        waiter = self.waiter
        if waiter is not None:
            self.waiter = None
            if not waiter.done():
                waiter.set_result(None)


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


class AsyncEventStream:
    """The events of one generation, as an async iterator; also an async context manager.

    The generation is a task on the loop that started it. Cancelling the task that awaits the
    next event (``task.cancel()``, ``asyncio.timeout``), ``cancel()``, ``aclose()``, leaving
    ``async with``, and dropping the stream cancel it. One task at a time may await it.
    """

    def __init__(self, gen: Generation) -> None:
        self._gen = gen
        self._channel = _Channel()
        self._done = False
        self._streak = 0
        gen.sink = self._channel.push

    @property
    def generation_id(self) -> str:
        """The id every event of this generation carries."""
        return self._gen.generation_id

    def __aiter__(self) -> AsyncEventStream:
        return self

    async def __anext__(self) -> ev.Event:
        gen = self._gen
        if gen.task is None:
            from janito_core.harness import launch_here

            launch_here(gen)
        if self._done:
            await self.join(JOIN_ON_END)
            raise StopAsyncIteration
        channel = self._channel
        try:
            if self._streak >= _YIELD_EVERY:
                self._streak = 0
                await asyncio.sleep(0)
            while not channel.items:
                self._streak = 0
                await self._park(gen)
            event = channel.items.popleft()
        except asyncio.CancelledError:
            gen.request_cancel()
            raise
        self._streak += 1
        if type(event) is ev.GenerationFinished:
            self._done = True
        return event

    async def _park(self, gen: Generation) -> None:
        user_cancel = gen.user_cancel
        if user_cancel is not None and user_cancel.is_set():
            gen.request_cancel()
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        self._channel.waiter = waiter
        timer = loop.call_later(CANCEL_POLL, _wake, waiter) if user_cancel is not None else None
        try:
            await waiter
        finally:
            if self._channel.waiter is waiter:
                self._channel.waiter = None
            if timer is not None:
                timer.cancel()

    def cancel(self) -> None:
        """Cancel the generation; the stream then ends with ``GenerationFinished(cancelled)``."""
        self._gen.request_cancel()

    async def aclose(self) -> None:
        """Cancel if still running, discard the remaining events, wait for the end."""
        self._gen.request_cancel()
        self._done = True
        await self.join(JOIN_ON_END)

    async def join(self, timeout: float | None = None) -> bool:
        """Wait, without blocking the loop, for the generation to be fully over."""
        gen = self._gen
        if gen.ended.is_set():
            return True
        ended = gen.ended_future
        if ended is None:  # never started
            return gen.ended.is_set()
        if ended.get_loop() is not asyncio.get_running_loop():
            return await poll_until(gen.ended.is_set, timeout)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(ended), timeout)
        return gen.ended.is_set()

    async def result(self) -> GenerationResult:
        """The whole generation summed up, however much of it was read; raises on error."""
        async for _ in self:
            pass
        await self.join(JOIN_ON_END)
        return summarise(self._gen)

    async def __aenter__(self) -> AsyncEventStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __del__(self) -> None:
        gen = getattr(self, "_gen", None)
        if gen is not None and not gen.finished:
            gen.cancel_from_finalizer()
