"""What sending costs in memory: a server that keeps nothing it reads, and the peak resident set.

``DiscardingServer`` reads each request whole and answers 400, keeping none of the body, so
what grows while a driver sends is the driver's own. ``restart_peak``/``peak_bytes`` read the
kernel's high-water mark of the process (Linux: ``/proc/self/clear_refs`` and ``VmHWM``)::

    with DiscardingServer() as server:
        if restart_peak():
            before = resident_bytes()
            ...  # send through a driver pointed at server.url
            grew = peak_bytes() - before
"""

from __future__ import annotations

import os
import socket
import threading
from types import TracebackType

__all__ = ["DiscardingServer", "peak_bytes", "resident_bytes", "restart_peak"]

_ANSWER = b'{"error": {"message": "discarded", "type": "invalid_request_error"}}'


class DiscardingServer:
    """A loopback HTTP server reading each request whole, keeping nothing, answering 400."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)  # so that close() is seen without a connection
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._stopped = threading.Event()
        self._threads: list[threading.Thread] = []
        self._accepting = threading.Thread(target=self._accept, name="discarding-server")
        self._accepting.start()

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(None)
            thread = threading.Thread(target=self._serve, args=(conn,), name="discarding-conn")
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                head += chunk
            fields, _, rest = head.partition(b"\r\n\r\n")
            length = next(
                (
                    int(line.split(b":", 1)[1])
                    for line in fields.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                ),
                0,
            )
            left = length - len(rest)
            while left > 0:
                chunk = conn.recv(1 << 20)
                if not chunk:
                    return
                left -= len(chunk)
            conn.sendall(
                b"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n"
                b"Connection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(_ANSWER), _ANSWER)
            )

    def close(self) -> None:
        """Stop accepting and wait for the connections being served."""
        self._stopped.set()
        self._accepting.join(10)
        self._listener.close()
        for thread in self._threads:
            thread.join(10)

    def __enter__(self) -> DiscardingServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def resident_bytes() -> int:
    """The process's resident set now."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def restart_peak() -> bool:
    """Start the peak (``VmHWM``) again from the resident set; False where it cannot be."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
    except OSError:
        return False
    return True


def peak_bytes() -> int:
    """The process's peak resident set since it started, or since ``restart_peak``."""
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM:"))
