"""Large attachments spliced into request bodies on the way out, a piece at a time."""

from __future__ import annotations

import asyncio
import base64
import json

import httpx2

from janito_core import Attachment
from janito_core.testing.server import Reply, WireServer
from janito_core.upload import INLINE_AT, inline, inline_bytes, splice_request

BIG = Attachment.from_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * (INLINE_AT // 128))
SMALL = Attachment.from_bytes(b"\x89PNG\r\n\x1a\n" + b"\x01" * 100)


def post(server: WireServer, body: object) -> dict[str, object]:
    server.enqueue(Reply(status=200, body={"ok": True}))

    async def send() -> None:
        async with httpx2.AsyncClient(event_hooks={"request": [splice_request]}) as client:
            response = await client.post(server.url + "/v1/x", json=body)
            assert response.status_code == 200

    asyncio.run(send())
    request = server.requests[-1]
    assert int(request.headers["content-length"]) == len(request.body)
    received: dict[str, object] = json.loads(request.body)
    return received


def test_a_large_attachment_is_spliced_in_whole() -> None:
    with WireServer() as server:
        token = inline(BIG)
        url_token = inline(BIG, "data_url")
        assert len(token) == 48 and token != url_token
        got = post(server, {"a": token, "b": {"url": url_token}, "c": "after"})
    assert got["a"] == BIG.base64()
    assert got["b"] == {"url": BIG.data_url()}
    assert got["c"] == "after"


def test_small_attachments_are_encoded_at_once() -> None:
    assert inline(SMALL) == SMALL.base64()
    assert inline(SMALL, "data_url") == SMALL.data_url()
    assert inline_bytes(SMALL) == SMALL.data


def test_bytes_for_an_sdk_that_encodes_them_itself() -> None:
    raw = inline_bytes(BIG)
    assert len(raw) < 64
    with WireServer() as server:
        got = post(server, {"data": base64.b64encode(raw).decode()})
    assert got["data"] == BIG.base64()


def test_a_token_is_spliced_once_and_unknown_ones_are_left() -> None:
    token = inline(BIG)
    stranger = "JaNiToInLiNe" + "0" * 32 + "B000"
    with WireServer() as server:
        assert post(server, {"a": token, "s": stranger}) == {"a": BIG.base64(), "s": stranger}
        # The same token again (a body replayed by hand) is not ours any more.
        assert post(server, {"a": token}) == {"a": token}


def test_a_body_without_tokens_is_untouched() -> None:
    with WireServer() as server:
        assert post(server, {"plain": "JaNiToInLiNe but no token"}) == {
            "plain": "JaNiToInLiNe but no token"
        }
