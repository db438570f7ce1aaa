"""Aborting a blocked HTTP read from another thread, for drivers built on ``httpx2``.

Closing an SDK's stream from another thread neither wakes the worker blocked in ``recv`` nor is
safe (the file descriptor may be reused while the worker waits on it). What works is
``socket.shutdown`` on the socket the worker is reading. ``abortable_transport()`` gives an
``httpx2`` transport whose connections note, per thread, which socket is being read; a driver
wraps its provider call in ``watch_reads(context)`` and the harness's abort then shuts that socket
down, whether the server is stalling before the headers or mid-stream. Nothing here imports
``httpx2`` until a driver asks for a transport.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from janito_core.driver import RequestContext

__all__ = ["abortable_transport", "shutdown_socket", "watch_reads"]


class _Watch:
    """The reads of one thread during one provider call."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.aborted = False
        self.socket: socket.socket | None = None

    def abort(self) -> None:
        with self.lock:
            self.aborted = True
            sock = self.socket
        if sock is not None:
            shutdown_socket(sock)


_watches: dict[int, _Watch] = {}


@contextlib.contextmanager
def watch_reads(context: RequestContext) -> Iterator[None]:
    """While inside, an abort of ``context`` breaks this thread's reads on abortable transports."""
    watch = _Watch()
    ident = threading.get_ident()
    _watches[ident] = watch
    context.on_abort(watch.abort)
    try:
        yield
    finally:
        _watches.pop(ident, None)


def shutdown_socket(sock: socket.socket) -> None:
    """Shut ``sock`` down both ways (not close: the reader still owns the descriptor)."""
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def _begin_read(sock: socket.socket | None) -> _Watch | None:
    watch = _watches.get(threading.get_ident())
    if watch is None:
        return None
    with watch.lock:
        if watch.aborted:
            raise ConnectionAbortedError("the request was cancelled")
        watch.socket = sock
    return watch


def _end_read(watch: _Watch | None) -> None:
    if watch is not None:
        with watch.lock:
            watch.socket = None


class _Stream:
    """A network stream whose reads and writes can be broken by ``_Watch.abort``."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self._socket: socket.socket | None = inner.get_extra_info("socket")

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        watch = _begin_read(self._socket)
        try:
            data: bytes = self._inner.read(max_bytes, timeout)
            return data
        finally:
            _end_read(watch)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        watch = _begin_read(self._socket)
        try:
            self._inner.write(buffer, timeout)
        finally:
            _end_read(watch)

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, *args: Any, **kwargs: Any) -> _Stream:
        return _Stream(self._inner.start_tls(*args, **kwargs))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _Backend:
    """Wraps httpcore2's sync backend so every connection it makes is a ``_Stream``."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def connect_tcp(self, *args: Any, **kwargs: Any) -> _Stream:
        return _Stream(self._inner.connect_tcp(*args, **kwargs))

    def connect_unix_socket(self, *args: Any, **kwargs: Any) -> _Stream:
        return _Stream(self._inner.connect_unix_socket(*args, **kwargs))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def abortable_transport(**kwargs: Any) -> Any:
    """An ``httpx2.HTTPTransport`` (same arguments) whose reads ``watch_reads`` can break."""
    import httpcore2
    import httpx2

    transport = httpx2.HTTPTransport(**kwargs)
    pool = getattr(transport, "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if backend is None:  # a proxy or a future httpx2 layout: fall back to plain behaviour
        return transport
    pool._network_backend = _Backend(backend or httpcore2.SyncBackend())  # type: ignore[union-attr]
    return transport
