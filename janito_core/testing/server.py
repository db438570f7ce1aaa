"""A loopback HTTP/1.1 server that impersonates LLM providers in tests.

Standard library only: provider SDKs talk to it over real sockets, so tests exercise their
actual transport code, and the server records when a client goes away so cancellation can be
checked from the server's side of the wire.
"""

from __future__ import annotations

import contextlib
import http
import json as _json
import re
import selectors
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal, TypeAlias
from urllib.parse import parse_qsl, urlsplit

__all__ = [
    "Drop",
    "Outcome",
    "RecordedRequest",
    "Reply",
    "Send",
    "Stall",
    "WireServer",
    "sse",
]

Outcome: TypeAlias = Literal["completed", "client_disconnected", "dropped", "error"]

_THREAD_PREFIX = "janito-wire-server"
_RECV_SIZE = 1 << 16
_MAX_HEAD = 1 << 20
_MAX_LINE = 1 << 16
_MAX_DRAIN = 1 << 20
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class Send:
    """Wait ``delay`` seconds, then write ``data`` as one chunk, flushed at once."""

    data: bytes | str
    delay: float = 0.0

    def __post_init__(self) -> None:
        if self.delay < 0:
            raise ValueError(f"Send.delay must be >= 0, got {self.delay}")


@dataclass(frozen=True)
class Stall:
    """Send nothing for ``seconds`` (None: until the client leaves or the server stops)."""

    seconds: float | None = None

    def __post_init__(self) -> None:
        if self.seconds is not None and self.seconds < 0:
            raise ValueError(f"Stall.seconds must be >= 0 or None, got {self.seconds}")


@dataclass(frozen=True)
class Drop:
    """End the body early: close with a FIN, or with an RST when ``reset`` is true."""

    reset: bool = False


@dataclass(frozen=True, kw_only=True)
class Reply:
    """One scripted response: a whole ``body``, or a body streamed as ``steps``.

    A Mapping/list body is JSON-encoded. With ``steps`` the body is chunked (one chunk per
    Send) and defaults to ``text/event-stream``. ``framing="close"`` sends no length and
    ends the body by closing the connection. User ``headers`` replace automatic ones of the
    same name but never change how the body is framed. ``head=False`` sends no status line
    nor headers: the steps' bytes go out as they are and the connection closes after them, so
    ``Reply(head=False, steps=[Drop()])`` hangs up on the request without answering.
    """

    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes | str | Mapping[str, Any] | list[Any] | None = None
    steps: Sequence[Send | Stall | Drop] = ()
    framing: Literal["chunked", "close"] = "chunked"
    headers_delay: float = 0.0
    head: bool = True

    def __post_init__(self) -> None:
        # Freeze mutable arguments so a Reply can be enqueued several times safely.
        object.__setattr__(self, "headers", dict(self.headers))
        object.__setattr__(self, "steps", tuple(self.steps))
        if not 100 <= self.status <= 999:
            raise ValueError(f"status must be a 3-digit code, got {self.status}")
        if self.framing not in ("chunked", "close"):
            raise ValueError(f"framing must be 'chunked' or 'close', got {self.framing!r}")
        if self.headers_delay < 0:
            raise ValueError(f"headers_delay must be >= 0, got {self.headers_delay}")
        if self.steps and self.body is not None:
            raise ValueError("give either body or steps, not both")
        if not self.head and self.body is not None:
            raise ValueError("head=False writes steps as they are; give steps, not a body")
        for i, step in enumerate(self.steps):
            if not isinstance(step, (Send, Stall, Drop)):
                raise TypeError(f"steps[{i}] is {type(step).__name__}, not Send/Stall/Drop")
            if isinstance(step, Drop) and i != len(self.steps) - 1:
                raise ValueError("Drop must be the last step: nothing can follow it")


def sse(
    data: str | Mapping[str, Any] | list[Any],
    *,
    event: str | None = None,
    delay: float = 0.0,
    sep: str = "\n\n",
) -> Send:
    """Build a Send holding one server-sent event; non-str data is compact JSON.

    Characters beyond ASCII are written raw (UTF-8), as providers send them, so that a reader
    that splits or decodes wrongly (on U+2028, with the wrong charset) meets them.
    """
    text = (
        data
        if isinstance(data, str)
        else _json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    )
    # Lines inside the event end the way the separator does, so a "\r\n\r\n" stream stays
    # consistently CRLF like Gemini's.
    eol = "\r\n" if sep.startswith("\r\n") else (sep[:1] or "\n")
    lines = [] if event is None else [f"event: {event}"]
    lines.extend(f"data: {line}" for line in _LINE_BREAK.split(text))
    return Send(eol.join(lines) + sep, delay=delay)


class RecordedRequest:
    """A request as received, updated by the server until :meth:`wait_closed` is true.

    ``outcome`` is ``"completed"``, ``"client_disconnected"``, ``"dropped"`` (a Drop step,
    or ``stop()`` while the response was in flight) or ``"error"`` (malformed request or a
    server fault, described in ``error``). Times come from ``time.monotonic()``.
    """

    def __init__(
        self,
        *,
        method: str,
        target: str,
        version: str = "HTTP/1.1",
        headers: Mapping[str, str] | None = None,
        body: bytes = b"",
        t_start: float | None = None,
        connection_id: int = 0,
    ) -> None:
        parts = urlsplit(target)
        self.method = method
        self.target = target
        self.path = parts.path
        self.query: dict[str, str] = dict(parse_qsl(parts.query, keep_blank_values=True))
        self.version = version
        self.headers: dict[str, str] = dict(headers or {})
        self.body = body
        self.json: Any = _parse_json(body)
        self.t_start: float = time.monotonic() if t_start is None else t_start
        self.t_end: float | None = None
        self.outcome: Outcome | None = None
        self.disconnected_at: float | None = None
        self.frames_sent = 0
        self.error: str | None = None
        self.connection_id = connection_id
        self._closed = threading.Event()

    def wait_closed(self, timeout: float = 5.0) -> bool:
        """Block until the server is done with this request; False on timeout."""
        return self._closed.wait(timeout)

    def _finish(self, outcome: Outcome) -> None:
        self.t_end = time.monotonic()
        self.outcome = outcome
        self._closed.set()

    def __repr__(self) -> str:
        return (
            f"RecordedRequest({self.method} {self.target!r}, outcome={self.outcome!r}, "
            f"frames_sent={self.frames_sent}, connection_id={self.connection_id})"
        )


def _parse_json(body: bytes) -> Any:
    if not body:
        return None
    try:
        return _json.loads(body)
    except ValueError:  # covers JSONDecodeError and UnicodeDecodeError
        return None


def _as_bytes(data: bytes | str) -> bytes:
    return data.encode("utf-8") if isinstance(data, str) else data


def _encode_body(body: bytes | str | Mapping[str, Any] | list[Any] | None) -> tuple[bytes, str]:
    """Return the body bytes and the content type it implies ("" for none)."""
    if body is None:
        return b"", ""
    if isinstance(body, (bytes, str)):
        return _as_bytes(body), ""
    return _json.dumps(body).encode("utf-8"), "application/json"


def _head(status: int, user: Mapping[str, str], auto: list[tuple[str, str]]) -> bytes:
    try:
        reason = http.HTTPStatus(status).phrase
    except ValueError:
        reason = "Unknown"
    given = {name.lower() for name in user}
    lines = [f"HTTP/1.1 {status} {reason}"]
    lines.extend(f"{name}: {value}" for name, value in user.items())
    lines.extend(f"{name}: {value}" for name, value in auto if name.lower() not in given)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _connection_header(user: Mapping[str, str], auto: str) -> str:
    for name, value in user.items():
        if name.lower() == "connection":
            return value.lower()
    return auto


class _ClientGone(Exception):
    pass


class _ServerStopping(Exception):
    pass


class _BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.record: RecordedRequest | None = None


class _Connection:
    """One accepted socket, served by its own thread, request after request."""

    def __init__(
        self,
        server: WireServer,
        sock: socket.socket,
        wake: socket.socket,
        stopping: threading.Event,
        connection_id: int,
    ) -> None:
        self._server = server
        self._sock = sock
        self._stopping = stopping
        self._id = connection_id
        self._buf = bytearray()
        self._closed = False
        self._gone_at: float | None = None
        self._selector = selectors.DefaultSelector()
        self._selector.register(sock, selectors.EVENT_READ)
        # The wake socket is shared by every connection and never drained after stop(),
        # so every blocked wait returns at once without polling the stop flag.
        self._selector.register(wake, selectors.EVENT_READ)

    # -- lifecycle ---------------------------------------------------------------------

    def run(self) -> None:
        try:
            while True:
                try:
                    rec = self._read_request()
                except (_ClientGone, _ServerStopping, OSError):
                    return
                except _BadRequest as exc:
                    self._reject(exc)
                    return
                reply = self._server._arrive(rec)
                if reply is None:
                    reply = _unscripted(rec)
                if not self._serve(rec, reply):
                    return
        finally:
            self._close()
            self._selector.close()

    def abort(self) -> None:
        """Unblock this connection's thread; the caller holds the server lock."""
        if not self._closed:
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)

    def _close(self, *, reset: bool = False) -> None:
        # Under the server lock so stop() never shuts down a descriptor number that a
        # concurrent close() has just released for reuse.
        with self._server._lock:
            if self._closed:
                return
            self._closed = True
            with contextlib.suppress(OSError):
                if reset:
                    linger = struct.pack("ii", 1, 0)
                    self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
                else:
                    self._sock.shutdown(socket.SHUT_WR)
                    self._drain()
            self._sock.close()

    def _drain(self) -> None:
        # Closing with unread input makes the kernel send RST, which can destroy response
        # bytes the client has not read yet; a plain close must stay a FIN.
        self._sock.setblocking(False)
        drained = 0
        with contextlib.suppress(OSError):
            while drained < _MAX_DRAIN:
                data = self._sock.recv(_RECV_SIZE)
                if not data:
                    break
                drained += len(data)

    # -- waiting and I/O ---------------------------------------------------------------

    def _poll(self, timeout: float | None) -> bool:
        """Wait up to ``timeout`` for client bytes; True if some were buffered."""
        if self._stopping.is_set():
            raise _ServerStopping
        events = self._selector.select(timeout)
        if self._stopping.is_set():
            raise _ServerStopping
        if not any(key.fileobj is self._sock for key, _ in events):
            return False
        try:
            data = self._sock.recv(_RECV_SIZE)
        except (ConnectionResetError, ConnectionAbortedError):
            data = b""
        except OSError:
            if self._stopping.is_set():
                raise _ServerStopping from None
            raise
        if not data:
            if self._stopping.is_set():
                raise _ServerStopping
            self._gone_at = time.monotonic()
            raise _ClientGone
        # Bytes that arrive while we wait (a pipelined request) are kept, not peeked, so a
        # readable socket never turns the wait into a busy loop.
        self._buf += data
        return True

    def _wait(self, seconds: float | None) -> None:
        """Let time pass while watching for the client leaving or the server stopping."""
        if seconds is None:
            while True:
                self._poll(None)
        deadline = time.monotonic() + seconds
        while True:
            self._poll(max(0.0, deadline - time.monotonic()))
            if time.monotonic() >= deadline:
                return

    def _send(self, data: bytes) -> None:
        if self._stopping.is_set():
            raise _ServerStopping
        try:
            self._sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            if self._stopping.is_set():
                raise _ServerStopping from None
            self._gone_at = time.monotonic()
            raise _ClientGone from None
        except OSError:
            if self._stopping.is_set():
                raise _ServerStopping from None
            raise

    def _read_until(self, delim: bytes, limit: int) -> bytes:
        start = 0
        while True:
            idx = self._buf.find(delim, start)
            if idx >= 0:
                out = bytes(self._buf[:idx])
                del self._buf[: idx + len(delim)]
                return out
            if len(self._buf) > limit:
                raise _BadRequest(431, "request head or line too long")
            start = max(0, len(self._buf) - len(delim) + 1)
            self._poll(None)

    def _read_exact(self, n: int) -> bytes:
        while len(self._buf) < n:
            self._poll(None)
        out = bytes(self._buf[:n])
        del self._buf[:n]
        return out

    # -- requests ----------------------------------------------------------------------

    def _read_request(self) -> RecordedRequest:
        # Stray CRLFs between keep-alive requests are allowed (RFC 9112, section 2.2).
        while True:
            stripped = self._buf.lstrip(b"\r\n")
            del self._buf[: len(self._buf) - len(stripped)]
            if self._buf:
                break
            self._poll(None)
        t_start = time.monotonic()
        method, target, version = "", "", "HTTP/1.1"
        headers: dict[str, str] = {}
        try:
            head = self._read_until(b"\r\n\r\n", _MAX_HEAD).decode("latin-1")
            request_line, *header_lines = head.split("\r\n")
            parts = request_line.split(" ")
            if len(parts) != 3 or not parts[2].startswith("HTTP/"):
                raise _BadRequest(400, f"malformed request line {request_line!r}")
            method, target, version = parts
            headers = _parse_headers(header_lines)
            body = self._read_body(headers)
        except _BadRequest as exc:
            exc.record = RecordedRequest(
                method=method,
                target=target,
                version=version,
                headers=headers,
                t_start=t_start,
                connection_id=self._id,
            )
            raise
        return RecordedRequest(
            method=method,
            target=target,
            version=version,
            headers=headers,
            body=body,
            t_start=t_start,
            connection_id=self._id,
        )

    def _read_body(self, headers: Mapping[str, str]) -> bytes:
        chunked = headers.get("transfer-encoding", "").lower().rsplit(",", 1)[-1].strip()
        if chunked == "chunked":
            self._maybe_continue(headers)
            return self._read_chunked()
        if "content-length" not in headers:
            return b""
        try:
            length = int(headers["content-length"])
        except ValueError:
            raise _BadRequest(400, "invalid Content-Length") from None
        if length < 0:
            raise _BadRequest(400, "negative Content-Length")
        if length:
            self._maybe_continue(headers)
        return self._read_exact(length)

    def _maybe_continue(self, headers: Mapping[str, str]) -> None:
        if headers.get("expect", "").lower() == "100-continue":
            self._send(b"HTTP/1.1 100 Continue\r\n\r\n")

    def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        while True:
            size_line = self._read_until(b"\r\n", _MAX_LINE)
            try:
                size = int(size_line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise _BadRequest(400, f"bad chunk size {size_line!r}") from None
            if size == 0:
                break
            parts.append(self._read_exact(size))
            if self._read_exact(2) != b"\r\n":
                raise _BadRequest(400, "chunk not terminated by CRLF")
        while self._read_until(b"\r\n", _MAX_LINE):
            pass  # trailers carry nothing the recording needs
        return b"".join(parts)

    def _reject(self, exc: _BadRequest) -> None:
        rec = exc.record or RecordedRequest(method="", target="", connection_id=self._id)
        rec.error = exc.message
        self._server._arrive(rec, scripted=False)
        body = _json.dumps({"error": {"message": exc.message}}).encode()
        auto = [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            ("Connection", "close"),
        ]
        with contextlib.suppress(_ClientGone, _ServerStopping, OSError):
            self._send(_head(exc.status, {}, auto) + body)
        self._close()
        rec._finish("error")

    # -- responses ---------------------------------------------------------------------

    def _serve(self, rec: RecordedRequest, reply: Reply) -> bool:
        """Send ``reply``; True when the connection stays open for another request."""
        outcome: Outcome = "error"
        keep = False
        try:
            outcome, keep = self._respond(rec, reply)
        except _ClientGone:
            outcome = "client_disconnected"
            rec.disconnected_at = self._gone_at
        except _ServerStopping:
            outcome = "dropped"
        except Exception as exc:
            # A fault here is a test-harness bug; keep it on the record rather than lose it
            # in a thread's stderr.
            rec.error = f"{type(exc).__name__}: {exc}"
        finally:
            if not keep:
                self._close()
            rec._finish(outcome)
        return keep

    def _respond(self, rec: RecordedRequest, reply: Reply) -> tuple[Outcome, bool]:
        self._wait(reply.headers_delay)
        if not reply.head:
            return self._write_raw(rec, reply.steps), False
        no_body = rec.method == "HEAD" or reply.status in (204, 304) or reply.status < 200
        client_keep = (
            rec.version == "HTTP/1.1" and "close" not in rec.headers.get("connection", "").lower()
        )
        keep = reply.framing == "chunked" and client_keep
        connection = "keep-alive" if keep else "close"
        keep = keep and _connection_header(reply.headers, connection) != "close"

        if not reply.steps:
            body, content_type = _encode_body(reply.body)
            auto: list[tuple[str, str]] = []
            if content_type:
                auto.append(("Content-Type", content_type))
            bodiless_status = reply.status in (204, 304) or reply.status < 200
            if reply.framing == "chunked" and not bodiless_status:
                auto.append(("Content-Length", str(len(body))))
            auto.append(("Connection", connection))
            payload = _head(reply.status, reply.headers, auto)
            if body and not no_body:
                payload += body
                rec.frames_sent += 1
            self._send(payload)
            return "completed", keep

        chunked = reply.framing == "chunked"
        auto = [("Content-Type", "text/event-stream")]
        if chunked:
            auto.append(("Transfer-Encoding", "chunked"))
        auto.append(("Connection", connection))
        self._send(_head(reply.status, reply.headers, auto))
        if no_body:
            return "completed", keep
        for step in reply.steps:
            if isinstance(step, Send):
                self._wait(step.delay)
                data = _as_bytes(step.data)
                if not data:
                    continue  # an empty chunk would end a chunked body
                self._send(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)
                rec.frames_sent += 1
            elif isinstance(step, Stall):
                self._wait(step.seconds)
            else:
                self._close(reset=step.reset)
                return "dropped", False
        if chunked:
            self._send(b"0\r\n\r\n")
        return "completed", keep

    def _write_raw(self, rec: RecordedRequest, steps: Sequence[Send | Stall | Drop]) -> Outcome:
        """Write ``steps`` with no HTTP framing at all; the connection closes after them."""
        for step in steps:
            if isinstance(step, Send):
                self._wait(step.delay)
                self._send(_as_bytes(step.data))
                rec.frames_sent += 1
            elif isinstance(step, Stall):
                self._wait(step.seconds)
            else:
                self._close(reset=step.reset)
                return "dropped"
        return "completed"


def _parse_headers(lines: list[str]) -> dict[str, str]:
    headers: dict[str, str] = {}
    last = ""
    for line in lines:
        if line[:1] in (" ", "\t") and last:
            headers[last] += " " + line.strip()  # obsolete line folding
            continue
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise _BadRequest(400, f"malformed header line {line!r}")
        last = name.lower()
        value = value.strip()
        headers[last] = f"{headers[last]}, {value}" if last in headers else value
    return headers


def _unscripted(rec: RecordedRequest) -> Reply:
    message = f"no reply scripted for {rec.method} {rec.path}"
    return Reply(status=500, body={"error": {"message": message, "type": "wire_server"}})


class WireServer:
    """Loopback HTTP/1.1 server that answers each request with the next scripted Reply."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._host = host
        self._requested_port = port
        self._port: int | None = None
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._queue: deque[Reply] = deque()
        self._default: Reply | None = None
        self._records: list[RecordedRequest] = []
        self._listener: socket.socket | None = None
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self._stopping = threading.Event()
        self._accept_thread: threading.Thread | None = None
        self._conns: dict[_Connection, threading.Thread] = {}
        self._conn_seq = 0

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> WireServer:
        """Bind, listen and start the accept thread; returns self."""
        with self._lock:
            if self._listener is not None:
                raise RuntimeError("WireServer is already running")
        family = socket.AF_INET6 if ":" in self._host else socket.AF_INET
        listener = socket.socket(family, socket.SOCK_STREAM)
        try:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((self._host, self._requested_port))
            listener.listen(64)
            listener.setblocking(False)
        except BaseException:
            listener.close()
            raise
        wake_r, wake_w = socket.socketpair()
        stopping = threading.Event()
        port: int = listener.getsockname()[1]
        thread = threading.Thread(
            target=self._accept_loop,
            args=(listener, wake_r, stopping),
            name=f"{_THREAD_PREFIX}-accept:{port}",
            daemon=True,
        )
        with self._lock:
            self._listener, self._wake_r, self._wake_w = listener, wake_r, wake_w
            self._stopping, self._accept_thread, self._port = stopping, thread, port
        thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        """Stop accepting, cut every connection and join all server threads."""
        with self._lock:
            listener, accept_thread = self._listener, self._accept_thread
            wake_r, wake_w = self._wake_r, self._wake_w
            if listener is None or accept_thread is None or wake_r is None or wake_w is None:
                return
            self._listener = self._accept_thread = self._wake_r = self._wake_w = None
            stopping = self._stopping
        deadline = time.monotonic() + timeout
        stopping.set()
        with contextlib.suppress(OSError):
            wake_w.send(b"\0")
        accept_thread.join(max(0.0, deadline - time.monotonic()))
        # Closed only after the join so no selector still watches a recycled descriptor.
        listener.close()
        with self._lock:
            conns = list(self._conns.items())
            for conn, _ in conns:
                conn.abort()
        for _, thread in conns:
            thread.join(max(0.0, deadline - time.monotonic()))
        alive = [t.name for t in [accept_thread, *(t for _, t in conns)] if t.is_alive()]
        if alive:
            raise RuntimeError(f"WireServer threads still running after stop(): {alive}")
        with self._lock:
            self._conns.clear()
        wake_r.close()
        wake_w.close()

    def __enter__(self) -> WireServer:
        if self._listener is None:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self._listener is not None else "stopped"
        url = self.url if self._port is not None else None
        return f"WireServer(url={url!r}, {state})"

    # -- scripting and inspection ------------------------------------------------------

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:PORT`` (available once started)."""
        if self._port is None:
            raise RuntimeError("WireServer has not been started")
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self._port}"

    def enqueue(self, *replies: Reply) -> None:
        """Queue replies; each request takes the next one, first in first out."""
        for reply in replies:
            if not isinstance(reply, Reply):
                raise TypeError(f"expected Reply, got {type(reply).__name__}")
        with self._lock:
            self._queue.extend(replies)

    def set_default(self, reply: Reply | None) -> None:
        """Reply used when the queue is empty (None: answer 500 "no reply scripted")."""
        with self._lock:
            self._default = reply

    @property
    def requests(self) -> list[RecordedRequest]:
        """Snapshot of the requests received so far, in arrival order."""
        with self._lock:
            return list(self._records)

    def wait_for_requests(self, n: int, timeout: float = 5.0) -> list[RecordedRequest]:
        """Block until at least ``n`` requests arrived; raise TimeoutError otherwise."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self._records) >= n, timeout):
                got = len(self._records)
                raise TimeoutError(f"expected {n} request(s) within {timeout}s, got {got}")
            return list(self._records)

    def reset(self) -> None:
        """Forget queued replies, the default reply and the recorded requests."""
        with self._lock:
            self._queue.clear()
            self._default = None
            self._records.clear()

    # -- internals ---------------------------------------------------------------------

    def _arrive(self, rec: RecordedRequest, *, scripted: bool = True) -> Reply | None:
        # Recording and taking the reply under one lock keeps the i-th recorded request
        # paired with the i-th queued reply.
        with self._lock:
            self._records.append(rec)
            self._arrived.notify_all()
            if not scripted:
                return None
            if self._queue:
                return self._queue.popleft()
            return self._default

    def _accept_loop(
        self, listener: socket.socket, wake: socket.socket, stopping: threading.Event
    ) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(listener, selectors.EVENT_READ)
            selector.register(wake, selectors.EVENT_READ)
            while not stopping.is_set():
                selector.select()
                if stopping.is_set():
                    return
                try:
                    sock, _ = listener.accept()
                except (BlockingIOError, InterruptedError, ConnectionAbortedError):
                    continue
                except OSError:
                    # Out of descriptors or similar: back off briefly instead of spinning
                    # on a listener that stays readable.
                    stopping.wait(0.005)
                    continue
                self._adopt(sock, wake, stopping)

    def _adopt(self, sock: socket.socket, wake: socket.socket, stopping: threading.Event) -> None:
        sock.setblocking(True)
        with contextlib.suppress(OSError):
            # Each Send must reach the client on its own, not wait for Nagle's algorithm.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._lock:
            if stopping.is_set():
                sock.close()
                return
            for old in [c for c, t in self._conns.items() if not t.is_alive()]:
                del self._conns[old]
            self._conn_seq += 1
            conn = _Connection(self, sock, wake, stopping, self._conn_seq)
            thread = threading.Thread(
                target=conn.run,
                name=f"{_THREAD_PREFIX}-conn-{self._conn_seq}:{self._port}",
                daemon=True,
            )
            self._conns[conn] = thread
            # Started under the lock so stop() never sees a registered thread it cannot join.
            thread.start()
