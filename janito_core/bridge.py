"""Blocking code on worker threads, bridged to the generation's event loop.

Two things block: tool functions that are not ``async def``, and drivers that implement only the
synchronous ``stream_request`` seam of 0.1. Each runs on a thread of its own for as long as it
needs (a call, or a request), never on the loop. Every such thread is tracked on the generation,
whose end waits for them (briefly: a tool that ignores its cancel_event is left to finish).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from janito_core.driver import RequestContext
    from janito_core.generation import Generation

__all__ = ["iterate_in_thread", "join_threads", "poll_until", "run_in_thread"]

T = TypeVar("T")

_numbers = itertools.count(1)
# How long the end of a generation waits for its threads once they were told to stop.
JOIN_ON_END = 1.0


def _settle(future: asyncio.Future[Any], value: Any, error: BaseException | None) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(value)


def _post(
    loop: asyncio.AbstractEventLoop,
    future: asyncio.Future[Any],
    value: Any = None,
    error: BaseException | None = None,
) -> None:
    # A closed loop has nobody left waiting: the result is dropped.
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(_settle, future, value, error)


def _start(gen: Generation, kind: str, target: Callable[[], None]) -> threading.Thread:
    thread = threading.Thread(target=target, name=f"janito-{kind}-{next(_numbers)}", daemon=True)
    gen.threads.append(thread)
    thread.start()
    return thread


async def run_in_thread(function: Callable[[], T], gen: Generation) -> T:
    """Await ``function()`` run on a thread of its own; cancelling the await leaves it running."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def work() -> None:
        try:
            value = function()
        except BaseException as exc:
            _post(loop, future, error=exc)
        else:
            _post(loop, future, value)

    _start(gen, "tool", work)
    return await future


_END = object()
# How many parts a synchronous driver may read ahead of the loop.
READ_AHEAD = 64


class _Failed:
    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


async def iterate_in_thread(
    make: Callable[[], Iterator[T]], context: RequestContext, gen: Generation
) -> AsyncIterator[T]:
    """The items of a blocking iterator made and read on a worker thread, bridged to the loop.

    The thread reads up to ``READ_AHEAD`` items ahead into a buffer and wakes the loop only when
    it waits on an empty one, so a fast driver costs a few microseconds a part, not a thread
    hand-off each. Closing this iterator stops the thread, aborts ``context`` (which breaks a
    blocked read) and closes the generator on its own thread.
    """
    loop = asyncio.get_running_loop()
    lock = threading.Lock()
    buffer: collections.deque[Any] = collections.deque()
    space = threading.Semaphore(READ_AHEAD)
    parked: list[asyncio.Future[None]] = []
    stop = threading.Event()
    ended: asyncio.Future[None] = loop.create_future()
    # Set once the iterator has nothing more to give: then there is nothing to abort (its
    # connection may be back in the pool, serving another request).
    drained = threading.Event()

    def push(item: Any) -> None:
        with lock:
            buffer.append(item)
            waiter = parked.pop() if parked else None
        if waiter is not None:
            _post(loop, waiter)

    def work() -> None:
        iterator: Iterator[T] | None = None
        try:
            iterator = make()
            for item in iterator:
                space.acquire()
                if stop.is_set():
                    return
                push(item)
            drained.set()
            push(_END)
        except BaseException as exc:
            drained.set()
            push(_Failed(exc))
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                with contextlib.suppress(Exception):
                    close()
            _post(loop, ended)

    _start(gen, "request", work)
    try:
        while True:
            with lock:
                if buffer:
                    item = buffer.popleft()
                    waiter = None
                else:
                    waiter = loop.create_future()
                    parked.append(waiter)
            if waiter is not None:
                await waiter
                continue
            space.release()
            if item is _END:
                return
            if type(item) is _Failed:
                raise item.error
            yield item
    finally:
        stop.set()
        space.release()  # a thread waiting for room wakes up and sees the stop
        if not ended.done():
            if not drained.is_set():
                context.abort()
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(ended), JOIN_ON_END)


async def join_threads(gen: Generation, timeout: float = JOIN_ON_END) -> None:
    """Wait (without blocking the loop) for the generation's threads to exit, up to ``timeout``."""
    await poll_until(lambda: not any(t.is_alive() for t in gen.threads), timeout)


async def poll_until(done: Callable[[], bool], timeout: float | None) -> bool:
    """Look at ``done()`` on the loop's timer until it is true or ``timeout`` s passed.

    For what announces nothing when it happens (a thread exiting, a generation ending on another
    loop): looks soon first, since it usually happens at once, then backs off to 20 ms.
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    pause = 0.0002
    while not done():
        if deadline is not None and time.monotonic() >= deadline:
            return False
        await asyncio.sleep(pause)
        pause = min(pause * 2, 0.02)
    return True
