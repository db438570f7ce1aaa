"""Small helpers for a driver's own tests: run a stream to its end, pick events out, count threads.

No pytest needed. The conformance suite's ``Generation`` is built on the same functions.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TypeVar

from janito_core import events as ev
from janito_core.driver import LLMDriver
from janito_core.harness import EventStream
from janito_core.testing.server import _THREAD_PREFIX
from janito_core.testing.validator import validate_events

__all__ = [
    "LOOP_THREAD_PREFIX",
    "PROCESS_THREAD_PREFIXES",
    "WIRE_SERVER_THREADS",
    "client_threads",
    "closing_drivers",
    "events_of",
    "finish",
    "finished_event",
    "is_process_thread",
    "kinds_of",
    "new_threads",
    "reasoning_of",
    "text_of",
]

_E = TypeVar("_E", bound=ev.Event)
_D = TypeVar("_D", bound=LLMDriver)

#: The name (prefix) of the one background event-loop thread that runs ``stream_generate``'s
#: generations for the whole process. It starts on first use and is never a leak.
LOOP_THREAD_PREFIX = "janito-loop"
#: Threads janito-core starts once per process, never per generation: the shared loop (and its
#: executor), and the price table's one-off loading (``janito_core.cost.preload_prices``).
PROCESS_THREAD_PREFIXES = (LOOP_THREAD_PREFIX, "janito-prices-preload")
#: The name prefix of a ``WireServer``'s threads (one accepting, one per connection).
WIRE_SERVER_THREADS = _THREAD_PREFIX


def events_of(events: Iterable[ev.Event], kind: type[_E]) -> list[_E]:
    """The events of type ``kind`` (subclasses included), in order."""
    return [e for e in events if isinstance(e, kind)]


def text_of(events: Iterable[ev.Event]) -> str:
    """Every ``ContentPartFound.content_part``, concatenated: the answer text."""
    return "".join(e.content_part for e in events_of(events, ev.ContentPartFound))


def reasoning_of(events: Iterable[ev.Event]) -> str:
    """Every ``ReasoningPartFound.reasoning_part``, concatenated: the streamed thinking."""
    return "".join(e.reasoning_part for e in events_of(events, ev.ReasoningPartFound))


def kinds_of(events: Iterable[ev.Event]) -> list[str]:
    """The event type names, in order: handy in order assertions and their messages."""
    return [type(e).__name__ for e in events]


def finished_event(events: Sequence[ev.Event]) -> ev.GenerationFinished:
    """The last event, which must be the closing ``GenerationFinished``."""
    last = events[-1]
    assert isinstance(last, ev.GenerationFinished), f"no GenerationFinished: {kinds_of(events)}"
    return last


def is_process_thread(thread: threading.Thread) -> bool:
    """Whether ``thread`` is one janito-core starts once per process (the shared event loop,
    the price table's loading), never a generation's own."""
    return thread.name.startswith(PROCESS_THREAD_PREFIXES)


def client_threads() -> set[threading.Thread]:
    """The live threads, leaving out the ``WireServer``'s own (they live per connection) and
    the shared ``janito-loop`` thread (it lives for the process)."""
    return {
        t
        for t in threading.enumerate()
        if not t.name.startswith(_THREAD_PREFIX) and not is_process_thread(t)
    }


def new_threads(
    before: Iterable[threading.Thread], *, grace: float = 0.0, ignore: Sequence[str] = ()
) -> list[str]:
    """The names of live threads not in ``before``, the shared loop thread aside.

    Each gets a share of ``grace`` seconds to end first: a worker that is on its way out when
    its stream ends is not a leak. Threads whose name starts with one of ``ignore`` are left
    out (``WIRE_SERVER_THREADS``: a ``WireServer`` still running).
    """
    known = set(before)
    skipped = (*PROCESS_THREAD_PREFIXES, *ignore)
    left = [
        t
        for t in threading.enumerate()
        if t not in known and t.is_alive() and not t.name.startswith(skipped)
    ]
    deadline = time.monotonic() + grace
    for thread in left:
        thread.join(max(0.0, deadline - time.monotonic()))
    return [t.name for t in left if t.is_alive()]


def shared_loop_tasks(*, grace: float = 0.0) -> list[str]:
    """The tasks still pending on the shared background loop (none when it never started).

    Each generation of ``stream_generate`` is a task there; one still pending after its stream
    ended is a leak. Waits up to ``grace`` seconds for them to finish first.
    """
    import asyncio

    from janito_core.background import running_shared_loop

    loop = running_shared_loop()
    if loop is None:
        return []

    async def pending() -> list[str]:
        deadline = loop.time() + grace
        while True:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            if not tasks or loop.time() >= deadline:
                return [repr(t) for t in tasks]
            await asyncio.sleep(0.005)

    return asyncio.run_coroutine_threadsafe(pending(), loop).result(grace + 5.0)


def finish(stream: EventStream, *, join_timeout: float = 5.0) -> list[ev.Event]:
    """Consume ``stream``, wait until the generation has fully ended, check the event order."""
    events = list(stream)
    assert stream.join(join_timeout), f"the generation had not fully ended after {join_timeout}s"
    validate_events(events)
    return events


@contextmanager
def closing_drivers(build: Callable[..., _D]) -> Iterator[Callable[..., _D]]:
    """Wrap the driver factory ``build``: every driver it made is closed when the block ends."""
    made: list[_D] = []

    def make(**config: object) -> _D:
        driver = build(**config)
        made.append(driver)
        return driver

    try:
        yield make
    finally:
        for driver in made:
            driver.close()
