from __future__ import annotations

import http.client
from urllib.parse import urlsplit

import pytest

from janito_core.testing.quirks import (
    BOM,
    body_bytes,
    close_delimited,
    content_type,
    cut_at_end,
    emptied,
    hang_up,
    late_headers,
    split_inside,
    with_bom,
    with_charset,
)
from janito_core.testing.server import Drop, Reply, Send, Stall, WireServer, sse

STREAM = Reply(
    headers={"content-type": "text/event-stream; charset=utf-8"},
    steps=[sse({"t": "Hé"}), sse({"t": "日本 😀"}, delay=0.01), Stall(0.0), sse("[DONE]")],
)


def _fetch(reply: Reply) -> tuple[http.client.HTTPResponse, bytes]:
    with WireServer() as server:
        server.enqueue(reply)
        parts = urlsplit(server.url)
        conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=5)
        try:
            conn.request("POST", "/v1/stream", body=b"{}")
            response = conn.getresponse()
            return response, response.read()
        finally:
            conn.close()


def test_body_bytes_is_what_the_sends_write() -> None:
    assert (
        body_bytes(STREAM)
        == 'data: {"t":"Hé"}\n\ndata: {"t":"日本 😀"}\n\ndata: [DONE]\n\n'.encode()
    )


def test_content_type_is_the_header_or_the_default() -> None:
    assert content_type(STREAM) == "text/event-stream; charset=utf-8"
    assert content_type(Reply(steps=[Send("x")])) == "text/event-stream"
    assert content_type(Reply(body={"a": 1})) == "application/json"


def test_with_charset_changes_the_header_only() -> None:
    changed = with_charset(STREAM, "iso-8859-1")
    assert dict(changed.headers) == {"Content-Type": "text/event-stream; charset=iso-8859-1"}
    assert body_bytes(changed) == body_bytes(STREAM)
    response, body = _fetch(changed)
    assert response.getheader("content-type") == "text/event-stream; charset=iso-8859-1"
    assert body == body_bytes(STREAM)


def test_with_bom_prefixes_the_first_write() -> None:
    changed = with_bom(STREAM)
    assert body_bytes(changed) == BOM + body_bytes(STREAM)
    assert len(changed.steps) == len(STREAM.steps)
    assert _fetch(changed)[1].startswith(BOM + b"data: ")


def test_split_inside_cuts_the_character_in_two_writes() -> None:
    changed = split_inside(STREAM, "😀", gap=0.02)
    assert body_bytes(changed) == body_bytes(STREAM)
    assert len(changed.steps) == len(STREAM.steps) + 1
    first, second = changed.steps[1], changed.steps[2]
    assert isinstance(first, Send) and isinstance(second, Send)
    assert isinstance(first.data, bytes) and first.data.endswith("😀".encode()[:2])
    assert (first.delay, second.delay) == (0.01, 0.02)
    assert _fetch(changed)[1] == body_bytes(STREAM)


def test_split_inside_refuses_what_it_cannot_split() -> None:
    escaped = Reply(steps=[Send('data: {"t":"\\ud83d\\ude00"}\n\n')])
    with pytest.raises(LookupError, match="raw"):
        split_inside(escaped, "😀", gap=0.01)
    with pytest.raises(ValueError, match="one byte"):
        split_inside(STREAM, "H", gap=0.01)


def test_close_delimited_sends_no_length() -> None:
    response, body = _fetch(close_delimited(STREAM))
    assert response.getheader("transfer-encoding") is None
    assert response.getheader("content-length") is None
    assert body == body_bytes(STREAM)


@pytest.mark.parametrize("framing", ["chunked", "close"])
def test_emptied_keeps_the_head_and_sends_no_byte(framing: str) -> None:
    empty = emptied(STREAM)
    response, body = _fetch(empty if framing == "chunked" else close_delimited(empty))
    assert response.status == 200
    assert response.getheader("content-type") == "text/event-stream; charset=utf-8"
    assert body == b""


def test_emptied_with_a_length_says_zero() -> None:
    response, body = _fetch(emptied(STREAM, length=True))
    assert response.getheader("content-length") == "0"
    assert response.getheader("content-type") == "text/event-stream; charset=utf-8"
    assert body == b""
    defaulted = emptied(Reply(steps=[Send("x")]), length=True)
    assert content_type(defaulted) == "text/event-stream"


def test_cut_at_end_drops_after_the_last_write() -> None:
    changed = cut_at_end(STREAM, reset=True)
    assert changed.steps[-1] == Drop(reset=True)
    assert body_bytes(changed) == body_bytes(STREAM)
    with pytest.raises(ValueError, match="no Send"):
        cut_at_end(Reply(steps=[Stall(0.0)]))


def test_late_headers_and_hang_up() -> None:
    assert late_headers(STREAM, 3.0).headers_delay == 3.0
    hung = hang_up(reset=True)
    assert (hung.head, hung.steps) == (False, (Drop(reset=True),))
