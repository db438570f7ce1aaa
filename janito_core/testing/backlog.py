"""A loopback port that never answers a connect: for testing a cancel while the TCP connect waits.

On loopback a connect normally completes at once, whether or not anyone calls ``accept()``: the
kernel answers the handshake. The one reliable way to keep a client in the middle of connecting
is a listener whose accept queue is full, because Linux then drops new SYNs and the client stays
in SYN_SENT, resending its SYN for a minute or more. ``FullBacklog`` listens with a backlog of
zero and fills the queue with one connection of its own; it reads ``/proc/net/tcp`` to see which
clients are still connecting, so a test can cancel exactly while one is. Linux only:
``FullBacklog.available()`` says whether this system can host it.
"""

from __future__ import annotations

import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

__all__ = ["FullBacklog"]

_TABLES = (Path("/proc/net/tcp"), Path("/proc/net/tcp6"))
_SYN_SENT = "02"
_POLL = 0.005


class FullBacklog:
    """A loopback listener with a full accept queue: connects to ``url`` stay pending.

    Use it as a context manager; leaving it closes the listener and its own connection (a
    client still connecting then gets a refusal or its own timeout).
    """

    def __init__(self) -> None:
        self._listener: socket.socket | None = None
        self._filler: socket.socket | None = None
        self._port = 0

    @staticmethod
    def available() -> bool:
        """True where a connect in progress can be seen (``/proc/net/tcp``: Linux)."""
        return sys.platform.startswith("linux") and _TABLES[0].exists()

    def start(self) -> FullBacklog:
        """Listen with a backlog of zero and queue one connection, which fills it; returns self."""
        if not self.available():
            raise RuntimeError("FullBacklog needs Linux (/proc/net/tcp)")
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            listener.bind(("127.0.0.1", 0))
            # Linux counts the queue full once it holds more than the backlog: with 0, the
            # filler below is the one connection it accepts into the queue.
            listener.listen(0)
            self._port = listener.getsockname()[1]
            self._filler = socket.create_connection(("127.0.0.1", self._port), timeout=5.0)
        except BaseException:
            listener.close()
            raise
        self._listener = listener
        return self

    def close(self) -> None:
        """Close the filler connection and the listener."""
        for sock in (self._filler, self._listener):
            if sock is not None:
                sock.close()
        self._filler = self._listener = None

    def __enter__(self) -> FullBacklog:
        return self.start() if self._listener is None else self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``: a base URL whose connects never complete."""
        if self._listener is None:
            raise RuntimeError("FullBacklog has not been started")
        return f"http://127.0.0.1:{self._port}"

    def connecting(self) -> int:
        """How many sockets of this machine are connecting (SYN_SENT) to the port right now."""
        count = 0
        for table in _TABLES:
            try:
                lines = table.read_text().splitlines()[1:]
            except OSError:
                continue
            for line in lines:
                fields = line.split()
                if len(fields) < 4 or fields[3] != _SYN_SENT:
                    continue
                if int(fields[2].rpartition(":")[2], 16) == self._port:
                    count += 1
        return count

    def wait_connecting(self, timeout: float) -> bool:
        """Wait until some client is connecting to the port; False after ``timeout`` seconds."""
        return self._wait(lambda: self.connecting() > 0, timeout)

    def wait_none_connecting(self, timeout: float) -> bool:
        """Wait until no client is connecting (its socket is gone); False after ``timeout``."""
        return self._wait(lambda: self.connecting() == 0, timeout)

    @staticmethod
    def _wait(done: Callable[[], bool], timeout: float) -> bool:
        # The kernel announces nothing, so look at its table on a short timer.
        deadline = time.monotonic() + timeout
        while not done():
            if time.monotonic() >= deadline:
                return False
            time.sleep(_POLL)
        return True
