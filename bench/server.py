"""The loopback ``WireServer``, run in a process of its own, and the handle that drives it.

The server runs in a child process so that its threads never compete for the bench process's
GIL: what the benchmarks time is the client side alone, as with a real provider. The child is
driven by JSON lines on its stdin/stdout (``python -m bench.server``). Times it reports come from
``time.monotonic()``, which on Linux is one clock for every process (``CLOCK_MONOTONIC``), so
"the server saw the client go at t" compares directly with the bench process's own times.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

from bench.wire import StreamSpec

ROOT = Path(__file__).resolve().parent.parent


class ServerProcess:
    """A ``WireServer`` in a child process; ``set_default`` chooses what every request gets."""

    def __init__(self) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "bench.server"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self._lock = threading.Lock()
        self.url: str = self._call({"op": "url"})["url"]

    def _call(self, message: dict[str, Any]) -> dict[str, Any]:
        proc = self._proc
        assert proc.stdin is not None and proc.stdout is not None
        with self._lock:
            proc.stdin.write(json.dumps(message) + "\n")
            proc.stdin.flush()
            line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the bench server process died (exit {proc.poll()})")
        answer: dict[str, Any] = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"bench server: {answer['error']}")
        return answer

    def set_default(self, spec: StreamSpec) -> None:
        """Every request from now on gets the stream ``spec``."""
        self._call({"op": "default", "spec": dict(spec)})

    def count(self) -> int:
        """How many requests arrived since the last ``reset``."""
        return int(self._call({"op": "count"})["count"])

    def record(self, index: int, timeout: float = 5.0) -> dict[str, Any]:
        """Request ``index`` once the server is done with it (or ``closed: False``)."""
        return self._call({"op": "record", "index": index, "timeout": timeout})

    def records(self) -> list[dict[str, Any]]:
        """Every request so far, as they stand."""
        result: list[dict[str, Any]] = self._call({"op": "records"})["records"]
        return result

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the server process has used so far."""
        fields = Path(f"/proc/{self._proc.pid}/stat").read_text(encoding="utf-8")
        # The command name is in parentheses and may hold spaces: split after it.
        rest = fields.rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(rest[11]) + int(rest[12])) / ticks

    def reset(self) -> None:
        """Forget the recorded requests."""
        self._call({"op": "reset"})

    def close(self) -> None:
        """Stop the server and wait for its process."""
        if self._proc.poll() is None:
            with contextlib.suppress(RuntimeError, OSError):
                self._call({"op": "stop"})
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _describe(record: Any, *, closed: bool) -> dict[str, Any]:
    return {
        "closed": closed,
        "outcome": record.outcome,
        "path": record.path,
        "t_start": record.t_start,
        "t_end": record.t_end,
        "disconnected_at": record.disconnected_at,
        "frames_sent": record.frames_sent,
    }


def serve() -> None:
    """The child process: one WireServer, commanded through stdin, answering on stdout."""
    from bench.wire import build_reply
    from janito_core.testing.server import Reply, WireServer

    server = WireServer().start()
    listener = server._listener
    if listener is not None:
        # The concurrency section opens hundreds of connections at once: a longer accept
        # queue than WireServer's 64 keeps a burst of connects from waiting on SYN retries.
        listener.listen(1024)
    replies: dict[str, Reply] = {}
    out = sys.stdout
    try:
        for line in sys.stdin:
            message = json.loads(line)
            op = message.get("op")
            answer: dict[str, Any] = {"ok": True}
            try:
                if op == "url":
                    answer = {"url": server.url}
                elif op == "default":
                    key = json.dumps(message["spec"], sort_keys=True)
                    reply = replies.get(key)
                    if reply is None:
                        reply = replies[key] = build_reply(message["spec"])
                    server.set_default(reply)
                elif op == "count":
                    answer = {"count": len(server.requests)}
                elif op == "record":
                    found = server.wait_for_requests(message["index"] + 1, message["timeout"])
                    record = found[message["index"]]
                    closed = record.wait_closed(message["timeout"])
                    answer = _describe(record, closed=closed)
                elif op == "records":
                    answer = {
                        "records": [
                            _describe(r, closed=r.outcome is not None) for r in server.requests
                        ]
                    }
                elif op == "reset":
                    default = server._default
                    server.reset()
                    server.set_default(default)
                elif op == "stop":
                    out.write(json.dumps(answer) + "\n")
                    out.flush()
                    break
                else:
                    answer = {"error": f"unknown op {op!r}"}
            except Exception as exc:
                answer = {"error": f"{type(exc).__name__}: {exc}"}
            out.write(json.dumps(answer) + "\n")
            out.flush()
    finally:
        server.stop(timeout=5.0)


if __name__ == "__main__":
    serve()
