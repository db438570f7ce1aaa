"""A driver's HTTP client: one per event loop, and a ``close()`` that stops what is in flight.

An async HTTP client belongs to the event loop it was first used on. A driver is used from the
shared background loop (``stream_generate``) and from its callers' loops (``astream_generate``,
a new one per ``asyncio.run``), so ``ClientHolder`` keeps one client per running loop, forgets a
loop's client when the loop is gone, and closes it on its own loop.

``close()`` means the same in every driver: requests in flight end at once with a clear error
(their task is cancelled, so the server sees the connection go), the clients are closed, and
every later request fails with "the <name> driver was closed".
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import logging
import threading
import time
import weakref
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    import ssl

    import httpx2

from janito_core.retry import ErrorInfo, ProviderError

__all__ = ["ClientHolder", "http_client", "take_close_abort", "tls_context"]

C = TypeVar("C")

_log = logging.getLogger(__name__)

# How long a close waits for the requests it cancelled to unwind before closing their client:
# they close their own connections as they unwind, which the server then sees.
_UNWIND_TIMEOUT = 0.5

# Tasks a close cancelled, with what to report, until the CancelledError is turned into that
# report: by use() when it passes through it, else by the harness (take_close_abort).
_close_aborts: weakref.WeakKeyDictionary[asyncio.Task[Any], ErrorInfo] = weakref.WeakKeyDictionary()
_aborts_lock = threading.Lock()


def take_close_abort(task: asyncio.Task[Any]) -> ErrorInfo | None:
    """What to report when ``task`` caught a ``CancelledError`` sent by ``ClientHolder.close()``,
    or None when the cancel came from elsewhere.

    For the harness: a close cancels the tasks in flight, and the ``CancelledError`` may land
    outside the driver's ``use()`` block (e.g. while the task waits for a consumer), where
    ``use()`` cannot turn it into an error. The first call returns the report and forgets it;
    the caller then calls ``task.uncancel()`` (Python 3.11+) and ends the generation with
    ``ProviderError(info)`` instead of as cancelled.
    """
    with _aborts_lock:
        return _close_aborts.pop(task, None)


class _Use:
    """One ``use()`` block in flight: its task, and a future done when the block is left."""

    __slots__ = ("left", "task")

    def __init__(self, task: asyncio.Task[Any], left: asyncio.Future[None]) -> None:
        self.task = task
        self.left = left


class _LoopClient(Generic[C]):
    """The client of one event loop, with the blocks using it and its shutdown guard."""

    __slots__ = ("client", "guard", "uses")

    def __init__(self, client: C) -> None:
        self.client: C | None = client
        self.guard: AsyncGenerator[None, None] | None = None
        self.uses: set[_Use] = set()


class ClientHolder(Generic[C]):
    """One client per running event loop for a driver, closed by ``close()`` from any thread.

    ``factory()`` builds a client (called on the loop that will use it); ``closer(client)``
    closes one (awaited on that loop). ``name`` is the driver's, for the error texts.

    Wrap each provider request in ``async with holder.use() as client:`` (the whole request,
    streaming included). When a loop shuts down its async generators (``asyncio.run`` does,
    and so does the shared background loop), its client is closed there; a loop closed without
    that loses its client unclosed.
    """

    def __init__(
        self,
        factory: Callable[[], C],
        closer: Callable[[C], Awaitable[object]],
        *,
        name: str,
    ) -> None:
        self._factory = factory
        self._closer = closer
        self._name = name
        self._lock = threading.Lock()
        self._closed = False
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopClient[C]] = (
            weakref.WeakKeyDictionary()
        )
        # Shutdowns started on a loop without anyone awaiting them, kept from the GC.
        self._shutdowns: set[asyncio.Task[None]] = set()
        self._closed_info = ErrorInfo(message=f"the {name} driver was closed", retryable=False)
        self._aborted_info = ErrorInfo(
            message=f"the {name} driver was closed while a request was in flight",
            retryable=False,
        )

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"{len(self._loops)} client(s)"
        return f"ClientHolder({self._name!r}, {state})"

    @property
    def closed(self) -> bool:
        """True once ``close()`` or ``aclose()`` was called."""
        return self._closed

    @contextlib.asynccontextmanager
    async def use(self) -> AsyncIterator[C]:
        """The running loop's client, for one request; raises ``ProviderError`` once closed.

        If the holder is closed while the block runs, the block's task is cancelled and the
        block raises ``ProviderError`` ("... closed while a request was in flight", not
        retryable) in place of the ``CancelledError``.
        """
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        if task is None:
            raise RuntimeError("ClientHolder.use() must run inside an asyncio task")
        entry = await self._entry(loop)
        use = _Use(task, loop.create_future())
        with self._lock:
            client = entry.client
            if self._closed or client is None:
                raise ProviderError(self._closed_info)
            entry.uses.add(use)
        try:
            yield client
        except asyncio.CancelledError:
            with _aborts_lock:
                info = _close_aborts.pop(task, None)
            if info is None:
                raise
            uncancel = getattr(task, "uncancel", None)  # Python 3.11+
            if uncancel is not None and uncancel() > 0:
                raise  # cancelled by someone else as well: that cancel wins
            raise ProviderError(info) from None
        except (GeneratorExit, KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:
            with _aborts_lock:
                info = _close_aborts.get(task)
            if info is None:
                raise
            # The request failed as its client was closed under it. Its cancel may still be
            # pending, so the record stays for the harness (take_close_abort).
            raise ProviderError(info) from exc
        finally:
            with self._lock:
                entry.uses.discard(use)
            if not use.left.done():
                use.left.set_result(None)

    def close(self, timeout: float = 1.0) -> None:
        """Refuse new requests, end those in flight, and close every client; from any thread.

        Returns within about ``timeout`` seconds even if a loop is blocked; what has not
        finished then goes on when that loop runs again. Called on a loop's own thread, the
        shutdown of that loop's client is started, not awaited (``aclose()`` awaits it); the
        task calling ``close()`` is not cancelled. Calling it again does nothing.
        """
        deadline = time.monotonic() + timeout
        entries = self._mark_closed()
        current, spare = _current_loop_and_task()
        waits: list[concurrent.futures.Future[None]] = []
        for loop, entry in entries:
            if loop is current:
                self._start_shutdown(loop, entry, spare, None)
            else:
                done = self._post_shutdown(loop, entry)
                if done is not None and loop.is_running():
                    waits.append(done)
        if waits:
            concurrent.futures.wait(waits, timeout=max(0.0, deadline - time.monotonic()))

    async def aclose(self, timeout: float = 1.0) -> None:
        """``close()`` for async code: awaits the shutdowns, at most about ``timeout`` seconds.

        The calling task is not cancelled, even from inside a ``use()`` block.
        """
        entries = self._mark_closed()
        current, spare = _current_loop_and_task()
        waits: list[asyncio.Future[Any]] = []
        for loop, entry in entries:
            if loop is current:
                waits.append(self._start_shutdown(loop, entry, spare, None))
            else:
                done = self._post_shutdown(loop, entry)
                if done is not None and loop.is_running():
                    waits.append(asyncio.wrap_future(done))
        if waits:
            # asyncio.wait, not wait_for: a shutdown that overruns goes on rather than stop
            # half way.
            await asyncio.wait(waits, timeout=timeout)

    # -- the clients -------------------------------------------------------------------------

    async def _entry(self, loop: asyncio.AbstractEventLoop) -> _LoopClient[C]:
        with self._lock:
            if self._closed:
                raise ProviderError(self._closed_info)
            entry = self._loops.get(loop)
            if entry is not None and entry.client is not None:
                return entry
            for old in [other for other in self._loops if other.is_closed()]:
                del self._loops[old]
        # Built outside the lock (building may take milliseconds: TLS contexts); no other task
        # of this loop can run before the entry is stored, as nothing here awaits.
        entry = _LoopClient(self._factory())
        with self._lock:
            closed = self._closed
            if not closed:
                self._loops[loop] = entry
        if closed:
            await self._close_client(entry)
            raise ProviderError(self._closed_info)
        # The guard is an async generator that the loop registers when it first iterates it;
        # when the loop shuts its async generators down, the guard's finally closes the client
        # on that loop, while it still runs.
        entry.guard = self._guard(entry)
        await entry.guard.__anext__()
        return entry

    async def _guard(self, entry: _LoopClient[C]) -> AsyncGenerator[None, None]:
        try:
            yield
        finally:
            await self._close_client(entry)

    async def _close_client(self, entry: _LoopClient[C]) -> None:
        with self._lock:
            client, entry.client = entry.client, None
            for loop in [loop for loop, other in self._loops.items() if other is entry]:
                del self._loops[loop]
        if client is None:
            return
        try:
            await self._closer(client)
        except Exception:  # the client is dropped either way; nothing the caller can do
            _log.debug("closing the %s driver's client failed", self._name, exc_info=True)

    # -- closing -----------------------------------------------------------------------------

    def _mark_closed(self) -> list[tuple[asyncio.AbstractEventLoop, _LoopClient[C]]]:
        with self._lock:
            self._closed = True
            entries = list(self._loops.items())
            self._loops.clear()
        return [(loop, entry) for loop, entry in entries if not loop.is_closed()]

    def _post_shutdown(
        self, loop: asyncio.AbstractEventLoop, entry: _LoopClient[C]
    ) -> concurrent.futures.Future[None] | None:
        """Start the shutdown of ``entry`` on ``loop`` from another thread; None if too late."""
        done: concurrent.futures.Future[None] = concurrent.futures.Future()
        try:
            # A plain callback, not run_coroutine_threadsafe: on a loop that never runs again
            # it is dropped silently instead of leaving a coroutine never awaited.
            loop.call_soon_threadsafe(self._start_shutdown, loop, entry, None, done)
        except RuntimeError:  # the loop closed meanwhile: nothing can run there any more
            return None
        return done

    def _start_shutdown(
        self,
        loop: asyncio.AbstractEventLoop,
        entry: _LoopClient[C],
        spare: asyncio.Task[Any] | None,
        done: concurrent.futures.Future[None] | None,
    ) -> asyncio.Task[None]:
        """On ``loop``'s thread: cancel the blocks in flight now, then close the client."""
        with self._lock:
            uses = [use for use in entry.uses if use.task is not spare]
        cancelled = []
        for use in uses:
            with _aborts_lock:
                _close_aborts[use.task] = self._aborted_info
            if use.task.cancel(self._aborted_info.message):
                cancelled.append(use)
            else:
                with _aborts_lock:
                    _close_aborts.pop(use.task, None)
        task = loop.create_task(self._finish_shutdown(entry, cancelled))
        self._shutdowns.add(task)

        def finished(task: asyncio.Task[None]) -> None:
            self._shutdowns.discard(task)
            if done is not None and not done.done():
                done.set_result(None)

        task.add_done_callback(finished)
        return task

    async def _finish_shutdown(self, entry: _LoopClient[C], cancelled: list[_Use]) -> None:
        if cancelled:
            await asyncio.wait([use.left for use in cancelled], timeout=_UNWIND_TIMEOUT)
        await self._close_client(entry)
        guard = entry.guard
        if guard is not None:
            # Its client is closed already: this only ends it early. RuntimeError: the loop's
            # own shutdown is running it right now.
            with contextlib.suppress(RuntimeError):
                await guard.aclose()


def _current_loop_and_task() -> tuple[asyncio.AbstractEventLoop | None, asyncio.Task[Any] | None]:
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return None, None
    return loop, asyncio.current_task(loop)


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One default TLS context for every ``httpx2`` client a driver makes.

    Building one loads the CA bundle (35-60 ms); a client per event loop per driver would pay
    it each time.
    """
    import httpx2

    context: ssl.SSLContext = httpx2.create_ssl_context()
    return context


def http_client(**options: Any) -> httpx2.AsyncClient:
    """An ``httpx2.AsyncClient`` for a driver's requests: the shared ``tls_context``, and large
    attachments written into request bodies as they are sent (``janito_core.upload``).

    ``options`` go to the client; request and response hooks in ``event_hooks`` are kept, after
    the splicing one.
    """
    import httpx2

    from janito_core.upload import splice_request

    hooks = dict(options.pop("event_hooks", None) or {})
    hooks["request"] = [splice_request, *hooks.get("request", ())]
    return httpx2.AsyncClient(verify=tls_context(), event_hooks=hooks, **options)
