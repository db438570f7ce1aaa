"""The one background event loop that runs every ``stream_generate``/``generate`` call.

Synchronous callers get the same asyncio harness as ``astream_generate``: their generations are
tasks on a loop that lives on one daemon thread, named ``janito-loop``, started on first use. The
loop is stopped cleanly at interpreter exit (running generations are cancelled and closed), and
a child process made by ``os.fork()`` starts a loop of its own when it first needs one.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import os
import threading

__all__ = ["THREAD_NAME", "running_shared_loop", "shared_loop", "stop_shared_loop"]

THREAD_NAME = "janito-loop"
# How long interpreter exit waits for cancelled generations to close.
_STOP_TIMEOUT = 2.0


class _LoopThread:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        # Its own executor (for getaddrinfo and the like), named so that thread-leak checks can
        # tell its threads, which live as long as the loop, from a generation's.
        self.loop.set_default_executor(
            concurrent.futures.ThreadPoolExecutor(thread_name_prefix=f"{THREAD_NAME}-executor")
        )
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, name=THREAD_NAME, daemon=True)
        self.thread.start()
        self.ready.wait()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(self.ready.set)
        try:
            self.loop.run_forever()
        finally:
            self._close()

    def _close(self) -> None:
        loop = self.loop
        tasks = asyncio.all_tasks(loop)
        for task in tasks:
            task.cancel()
        if tasks:
            with contextlib.suppress(Exception):
                loop.run_until_complete(asyncio.wait(tasks, timeout=_STOP_TIMEOUT))
        with contextlib.suppress(Exception):
            loop.run_until_complete(loop.shutdown_asyncgens())
        with contextlib.suppress(Exception):
            loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()

    def stop(self) -> None:
        with contextlib.suppress(RuntimeError):
            self.loop.call_soon_threadsafe(self.loop.stop)
        if self.thread is not threading.current_thread():
            self.thread.join(_STOP_TIMEOUT + 1.0)


_lock = threading.Lock()
_current: _LoopThread | None = None
# Loops a forked child inherited: kept referenced so they are never closed from the child, where
# their selector is a copy of the parent's.
_inherited: list[_LoopThread] = []


def shared_loop() -> asyncio.AbstractEventLoop:
    """The background loop, started on first use."""
    global _current
    running = running_shared_loop()
    if running is not None:
        return running
    with _lock:
        if _current is None or not _current.thread.is_alive():
            _current = _LoopThread()
        return _current.loop


def running_shared_loop() -> asyncio.AbstractEventLoop | None:
    """The background loop if it has started and still runs; never starts it."""
    current = _current
    if current is None or not current.thread.is_alive():
        return None
    return current.loop


def stop_shared_loop() -> None:
    """Stop the background loop: running generations are cancelled and closed first."""
    global _current
    with _lock:
        current, _current = _current, None
    if current is not None:
        current.stop()


def _forget_after_fork() -> None:
    global _current, _lock
    _lock = threading.Lock()
    if _current is not None:
        _inherited.append(_current)
        _current = None


atexit.register(stop_shared_loop)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)
