from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from janito_core.testing.server import Drop, Reply, Send, Stall, WireServer, sse

PREFIX = "janito-wire-server-"


@pytest.fixture
def server() -> Iterator[WireServer]:
    with WireServer() as srv:
        yield srv


def _addr(server: WireServer) -> tuple[str, int]:
    parts = urlsplit(server.url)
    assert parts.hostname is not None and parts.port is not None
    return parts.hostname, parts.port


def _connect(server: WireServer) -> http.client.HTTPConnection:
    host, port = _addr(server)
    return http.client.HTTPConnection(host, port, timeout=5)


def _raw(server: WireServer, request: bytes) -> socket.socket:
    sock = socket.create_connection(_addr(server), timeout=5)
    sock.sendall(request)
    return sock


def _recv_all(sock: socket.socket) -> bytes:
    data = bytearray()
    while chunk := sock.recv(65536):
        data += chunk
    return bytes(data)


def _split_chunks(data: bytes) -> tuple[bytes, list[bytes], bool]:
    """Split a raw chunked response into head, chunk payloads, and 'terminated'."""
    head, _, rest = data.partition(b"\r\n\r\n")
    chunks: list[bytes] = []
    while rest:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            return head, chunks, rest == b"\r\n"
        chunks.append(rest[:size])
        assert rest[size : size + 2] == b"\r\n"
        rest = rest[size + 2 :]
    return head, chunks, False


def test_json_reply_and_recorded_request(server: WireServer) -> None:
    server.enqueue(
        Reply(status=201, headers={"X-Request-Id": "req-1"}, body={"id": "cmpl-1", "ok": True})
    )
    payload = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    conn = _connect(server)
    conn.request(
        "POST",
        "/v1/chat/completions?stream=false&k=1&k=2",
        body=json.dumps(payload),
        headers={"Content-Type": "application/json", "Authorization": "Bearer t"},
    )
    resp = conn.getresponse()
    assert resp.status == 201
    assert resp.getheader("content-type") == "application/json"
    assert resp.getheader("x-request-id") == "req-1"
    assert json.loads(resp.read()) == {"id": "cmpl-1", "ok": True}
    conn.close()

    (rec,) = server.wait_for_requests(1)
    assert rec.wait_closed()
    assert rec.method == "POST"
    assert rec.path == "/v1/chat/completions"
    assert rec.query == {"stream": "false", "k": "2"}
    assert rec.headers["authorization"] == "Bearer t"
    assert rec.headers["content-type"] == "application/json"
    assert rec.body == json.dumps(payload).encode()
    assert rec.json == payload
    assert rec.outcome == "completed"
    assert rec.frames_sent == 1
    assert rec.disconnected_at is None
    assert rec.t_end is not None and rec.t_end >= rec.t_start


def test_sse_formatting() -> None:
    assert sse({"a": [1, 2]}).data == 'data: {"a":[1,2]}\n\n'
    multi = sse("x\r\ny\nz", event="delta", delay=0.5, sep="\r\n\r\n")
    assert multi.data == "event: delta\r\ndata: x\r\ndata: y\r\ndata: z\r\n\r\n"
    assert multi.delay == 0.5


def test_sse_stream_is_one_chunk_per_event_with_gemini_separators(server: WireServer) -> None:
    texts = ("Hel", "lo", "!")
    events = [
        sse({"candidates": [{"content": {"parts": [{"text": t}]}}]}, sep="\r\n\r\n", delay=0.005)
        for t in texts
    ]
    server.enqueue(Reply(steps=events))
    sock = _raw(
        server,
        b"POST /v1beta/models/g:streamGenerateContent?alt=sse HTTP/1.1\r\nHost: x\r\n"
        b"Content-Length: 2\r\nConnection: close\r\n\r\n{}",
    )
    with sock:
        head, chunks, terminated = _split_chunks(_recv_all(sock))

    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"\r\ntransfer-encoding: chunked" in head.lower()
    assert b"\r\ncontent-type: text/event-stream" in head.lower()
    assert terminated
    assert chunks == [
        b'data: {"candidates":[{"content":{"parts":[{"text":"%s"}]}}]}\r\n\r\n' % t.encode()
        for t in texts
    ]
    (rec,) = server.wait_for_requests(1)
    assert rec.wait_closed()
    assert rec.path == "/v1beta/models/g:streamGenerateContent"
    assert rec.query == {"alt": "sse"}
    assert rec.json == {}
    assert (rec.outcome, rec.frames_sent) == ("completed", 3)


def test_sse_read_chunk_by_chunk_with_http_client(server: WireServer) -> None:
    server.enqueue(
        Reply(steps=[sse({"i": 0}), sse("a\nb", event="delta", delay=0.01), sse("[DONE]")])
    )
    conn = _connect(server)
    conn.request("GET", "/stream")
    resp = conn.getresponse()
    assert resp.getheader("content-type") == "text/event-stream"
    chunks = []
    while chunk := resp.read1(65536):
        chunks.append(chunk)
    conn.close()
    expected = b'data: {"i":0}\n\nevent: delta\ndata: a\ndata: b\n\ndata: [DONE]\n\n'
    assert b"".join(chunks) == expected


def test_keep_alive_serves_two_requests_on_one_connection(server: WireServer) -> None:
    server.enqueue(Reply(body="one"), Reply(body={"n": 2}))
    conn = _connect(server)
    conn.request("GET", "/a")
    first = conn.getresponse()
    assert first.read() == b"one"
    assert first.getheader("connection") == "keep-alive"
    sock = conn.sock
    conn.request("POST", "/b", body=b"{}")
    second = conn.getresponse()
    assert json.loads(second.read()) == {"n": 2}
    assert conn.sock is sock
    conn.close()

    a, b = server.wait_for_requests(2)
    assert (a.path, b.path) == ("/a", "/b")
    assert a.connection_id == b.connection_id
    assert a.wait_closed() and b.wait_closed()
    assert a.outcome == b.outcome == "completed"


def test_drop_ends_body_without_terminating_chunk(server: WireServer) -> None:
    server.enqueue(Reply(steps=[Send("data: partial\n\n"), Drop()]))
    conn = _connect(server)
    conn.request("GET", "/s")
    resp = conn.getresponse()
    with pytest.raises(http.client.IncompleteRead) as info:
        resp.read()
    assert info.value.partial == b"data: partial\n\n"
    conn.close()
    (rec,) = server.wait_for_requests(1)
    assert rec.wait_closed()
    assert (rec.outcome, rec.frames_sent) == ("dropped", 1)


def test_drop_with_reset_sends_rst(server: WireServer) -> None:
    server.enqueue(Reply(steps=[Send("data: partial\n\n"), Drop(reset=True)]))
    sock = _raw(server, b"GET /s HTTP/1.1\r\nHost: x\r\n\r\n")
    with sock, pytest.raises(ConnectionResetError):
        _recv_all(sock)  # a FIN would end this loop quietly
    (rec,) = server.wait_for_requests(1)
    assert rec.wait_closed()
    assert rec.outcome == "dropped"


@pytest.mark.parametrize("wait", [Stall(), Send("never", delay=30.0)], ids=["stall", "delay"])
def test_client_close_while_server_waits_is_detected(
    server: WireServer, wait: Stall | Send
) -> None:
    server.enqueue(Reply(steps=[sse("first"), wait, sse("never")]))
    conn = _connect(server)
    conn.request("POST", "/v1/chat", body=b"{}")
    resp = conn.getresponse()
    received = b""
    while len(received) < len(b"data: first\n\n"):
        received += resp.read1(65536)
    assert received == b"data: first\n\n"  # flushed before the stall

    closed_at = time.monotonic()
    resp.close()
    conn.close()
    (rec,) = server.wait_for_requests(1)
    assert rec.wait_closed(2.0)
    assert rec.outcome == "client_disconnected"
    assert rec.disconnected_at is not None and rec.disconnected_at >= closed_at
    assert rec.t_end is not None and rec.t_end >= rec.disconnected_at
    assert rec.frames_sent == 1


def test_client_leaving_during_headers_delay_is_detected(server: WireServer) -> None:
    server.enqueue(Reply(headers_delay=30.0, body={"late": True}))
    sock = _raw(server, b"POST /v1/x HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
    (rec,) = server.wait_for_requests(1)
    closed_at = time.monotonic()
    sock.close()
    assert rec.wait_closed(2.0)
    assert rec.outcome == "client_disconnected"
    assert rec.disconnected_at is not None
    assert 0 <= rec.disconnected_at - closed_at < 1.0
    assert rec.frames_sent == 0


def test_headers_delay_holds_back_the_status_line(server: WireServer) -> None:
    server.enqueue(Reply(headers_delay=0.05, body="late"))
    conn = _connect(server)
    started = time.monotonic()
    conn.request("GET", "/slow")
    resp = conn.getresponse()
    assert time.monotonic() - started >= 0.05
    assert resp.read() == b"late"
    conn.close()


def test_default_reply_and_unscripted_500(server: WireServer) -> None:
    conn = _connect(server)

    def get(path: str) -> tuple[int, bytes]:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read()

    status, body = get("/none")
    assert status == 500
    assert "no reply scripted" in json.loads(body)["error"]["message"]

    server.set_default(Reply(body="fallback"))
    server.enqueue(Reply(status=202, body="queued"))
    assert get("/1") == (202, b"queued")
    assert get("/2") == (200, b"fallback")
    assert get("/3") == (200, b"fallback")
    assert [r.path for r in server.requests] == ["/none", "/1", "/2", "/3"]

    server.reset()
    assert server.requests == []
    assert get("/again")[0] == 500
    conn.close()


def test_chunked_request_body_and_close_framing(server: WireServer) -> None:
    server.enqueue(Reply(steps=[Send("a"), Send(b"b", delay=0.01)], framing="close"))
    sock = _raw(
        server,
        b"POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b'5\r\n{"a":\r\n3;ext=1\r\n 1}\r\n0\r\nX-Trailer: y\r\n\r\n',
    )
    with sock:
        head, _, body = _recv_all(sock).partition(b"\r\n\r\n")
    assert body == b"ab"
    assert b"transfer-encoding" not in head.lower()
    assert b"content-length" not in head.lower()
    assert b"\r\nconnection: close" in head.lower()
    (rec,) = server.wait_for_requests(1)
    assert rec.body == b'{"a": 1}'
    assert rec.json == {"a": 1}
    assert rec.wait_closed()
    assert rec.outcome == "completed"


def test_plain_body_with_close_framing(server: WireServer) -> None:
    server.enqueue(Reply(body="until EOF", framing="close"))
    conn = _connect(server)
    conn.request("GET", "/c")
    resp = conn.getresponse()
    assert resp.getheader("content-length") is None
    assert resp.read() == b"until EOF"
    conn.close()


def test_malformed_request_gets_400_and_error_record(server: WireServer) -> None:
    sock = _raw(server, b"NONSENSE\r\n\r\n")
    with sock:
        assert _recv_all(sock).startswith(b"HTTP/1.1 400 ")
    (rec,) = server.wait_for_requests(1)
    assert rec.wait_closed()
    assert rec.outcome == "error"
    assert rec.error is not None


def test_wait_for_requests_times_out(server: WireServer) -> None:
    with pytest.raises(TimeoutError):
        server.wait_for_requests(1, timeout=0.01)


def test_reply_validation_and_repr(server: WireServer) -> None:
    with pytest.raises(ValueError):
        Reply(body="x", steps=[Send("y")])
    with pytest.raises(ValueError):
        Reply(steps=[Drop(), Send("y")])
    assert server.url in repr(server)


def test_stop_joins_every_thread_even_with_a_stalled_connection() -> None:
    baseline = threading.active_count()
    server = WireServer().start()
    server.enqueue(Reply(body="ok"), Reply(steps=[Stall()]))
    idle = _connect(server)
    idle.request("GET", "/idle")
    assert idle.getresponse().read() == b"ok"
    stalled = _raw(server, b"GET /hang HTTP/1.1\r\nHost: x\r\n\r\n")
    head = b""
    while b"\r\n\r\n" not in head:
        head += stalled.recv(65536)
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    _, rec = server.wait_for_requests(2)
    assert sum(t.name.startswith(PREFIX) for t in threading.enumerate()) == 3

    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 2.0
    assert threading.active_count() == baseline
    assert not [t for t in threading.enumerate() if t.name.startswith(PREFIX)]
    assert rec.wait_closed(0)
    assert rec.outcome == "dropped"
    with stalled:
        assert _recv_all(stalled) == b""  # the server ended the stall with a FIN
    idle.close()
    server.stop()  # idempotent


def test_sse_writes_characters_raw() -> None:
    # Providers send UTF-8 raw; escaping would hide the line separators drivers must survive.
    event = sse({"t": "a\u2028b\u0085c 😀"})
    assert event.data == 'data: {"t":"a\u2028b\u0085c 😀"}\n\n'


@pytest.mark.parametrize("reset", [False, True], ids=["fin", "rst"])
def test_a_reply_without_head_hangs_up_on_the_request(server: WireServer, reset: bool) -> None:
    server.enqueue(Reply(head=False, steps=[Drop(reset=reset)]))
    sock = _raw(server, b"POST /v1/x HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
    with sock:
        if reset:
            with pytest.raises(ConnectionResetError):
                _recv_all(sock)
        else:
            assert _recv_all(sock) == b""  # not a byte of a response
    (rec,) = server.wait_for_requests(1)
    assert rec.json == {}
    assert rec.wait_closed()
    assert (rec.outcome, rec.frames_sent) == ("dropped", 0)


def test_a_reply_without_head_writes_its_steps_verbatim(server: WireServer) -> None:
    raw = [Send(b"HTTP/1.1 200 OK\r\n"), Send(b"X-Odd: 1\r\n\r\nhello", delay=0.01)]
    server.enqueue(Reply(head=False, steps=raw))
    sock = _raw(server, b"GET /raw HTTP/1.1\r\nHost: x\r\n\r\n")
    with sock:
        assert _recv_all(sock) == b"HTTP/1.1 200 OK\r\nX-Odd: 1\r\n\r\nhello"
    (rec,) = server.wait_for_requests(1)
    assert rec.wait_closed()
    assert (rec.outcome, rec.frames_sent) == ("completed", 2)


def test_a_reply_without_head_takes_no_body() -> None:
    with pytest.raises(ValueError, match="head=False"):
        Reply(head=False, body="x")
