"""``janito_core.lines``: newline-delimited JSON from raw bytes, split at LF only."""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

import httpx2
import pytest

from janito_core.lines import (
    JSONLineError,
    aiter_json_lines,
    aiter_lines,
    iter_json_lines,
    iter_lines,
)
from janito_core.testing.server import Reply, Send, WireServer

ODD_BREAKS = "\u2028\u2029\x85\x0b\x0c\x1c\x1d\x1e"
VALUES: list[Any] = [
    {"text": f"caf\u00e9 {ODD_BREAKS} \U0001f600"},
    {"done": False, "n": 2},
    [1, "two"],
    {"text": "\ufeff kept: not at the start"},
    "last",
]
# A BOM, CRLF and LF ends, blank lines of both kinds, and a last line without its LF.
SAMPLE = (
    b"\xef\xbb\xbf"
    + json.dumps(VALUES[0], ensure_ascii=False).encode()
    + b"\r\n\n\r\n"
    + json.dumps(VALUES[1]).encode()
    + b"\n"
    + json.dumps(VALUES[2]).encode()
    + b"\r\n"
    + json.dumps(VALUES[3], ensure_ascii=False).encode()
    + b"\n\n"
    + json.dumps(VALUES[4]).encode()
)
SAMPLE_LINES = [json.dumps(v, ensure_ascii=False) for v in VALUES]


def pieces_at(body: bytes, cuts: Iterable[int]) -> list[bytes]:
    bounds = [0, *sorted(cuts), len(body)]
    return [body[a:b] for a, b in itertools.pairwise(bounds)]


def run(coro: object) -> object:
    async def bounded() -> object:
        return await asyncio.wait_for(coro, 30)  # type: ignore[arg-type]

    return asyncio.run(bounded())


async def agen(pieces: list[bytes]) -> AsyncIterator[bytes]:
    for piece in pieces:
        await asyncio.sleep(0)
        yield piece


def reference(body: bytes) -> list[str]:
    text = body.decode("utf-8", "replace").removeprefix("\ufeff")
    return [line.removesuffix("\r") for line in text.split("\n") if line.removesuffix("\r")]


def test_the_sample_in_one_piece() -> None:
    assert reference(SAMPLE) == SAMPLE_LINES
    assert list(iter_lines([SAMPLE])) == SAMPLE_LINES
    assert list(iter_json_lines([SAMPLE])) == VALUES


def test_a_cut_at_every_byte_offset_changes_nothing() -> None:
    for cut in range(1, len(SAMPLE)):
        pieces = pieces_at(SAMPLE, [cut])
        assert list(iter_lines(pieces)) == SAMPLE_LINES, f"cut at byte {cut}"
        assert list(iter_json_lines(pieces)) == VALUES, f"cut at byte {cut}"


def test_one_byte_pieces_and_empty_pieces() -> None:
    pieces = [SAMPLE[i : i + 1] for i in range(len(SAMPLE))]
    assert list(iter_lines(pieces)) == SAMPLE_LINES
    assert list(iter_lines([b"", *pieces, b""])) == SAMPLE_LINES


def test_random_cuts_of_random_bodies_match_the_whole_body_reading() -> None:
    fragments = [b"x", b"\xc3\xa9", b"\xe2\x80\xa8", b"\xc2\x85", b"\xff", b"\xef\xbb\xbf"]
    fragments += [b"\r", b"\n", b"\r\n", b"\r\r\n", b"\x0b", b"\x0c"]
    rng = random.Random(11)
    for trial in range(400):
        body = b"".join(rng.choice(fragments) for _ in range(rng.randrange(1, 40)))
        cuts = rng.sample(range(1, len(body)), min(len(body) - 1, rng.randrange(0, 6)))
        got = list(iter_lines(pieces_at(body, cuts)))
        assert got == reference(body), f"trial {trial}: {body!r} cut at {sorted(cuts)}"


def test_only_lf_ends_a_line_and_only_one_cr_before_it_is_dropped() -> None:
    body = f"a{ODD_BREAKS}b\rc\r\r\nd\r".encode()
    assert list(iter_lines([body])) == [f"a{ODD_BREAKS}b\rc\r", "d"]
    assert list(iter_lines([b"a\r", b"\nb\n"])) == ["a", "b"]


def test_a_leading_byte_order_mark_is_dropped_even_when_cut() -> None:
    body = b"\xef\xbb\xbf{}\n"
    for cut in (1, 2, 3):
        assert list(iter_lines(pieces_at(body, [cut]))) == ["{}"]
    assert list(iter_lines([b"\xef\xbb\xbf"])) == []
    # Only one, and only at the very start, even after a blank first line.
    assert list(iter_lines([b"\xef\xbb\xbf\xef\xbb\xbfa\n"])) == ["\ufeffa"]
    assert list(iter_lines([b"\n\xef\xbb\xbfa\n"])) == ["\ufeffa"]


def test_invalid_utf8_is_replaced_not_fatal() -> None:
    assert list(iter_lines([b"\xff ok\n", b"euro \xe2\x82"])) == ["\ufffd ok", "euro \ufffd"]


def test_a_line_of_several_megabytes_in_small_pieces() -> None:
    value = {"content": "é" * (3 << 20)}
    body = json.dumps(value, ensure_ascii=False).encode() + b"\n{}\n"
    pieces = [body[i : i + 1024] for i in range(0, len(body), 1024)]
    start = time.perf_counter()
    values = list(iter_json_lines(pieces))
    elapsed = time.perf_counter() - start
    assert values == [value, {}]
    # Linear: tens of milliseconds. Joining the line again at every piece would take minutes.
    assert elapsed < 10, f"{elapsed:.1f} s"


def test_a_line_that_is_not_json_says_so_briefly() -> None:
    body = b'{"ok": 1}\n' + b"<html>" + b"x" * (4 << 20) + b"\n"
    values = iter_json_lines([body])
    assert next(values) == {"ok": 1}
    with pytest.raises(JSONLineError) as caught:
        next(values)
    message = str(caught.value)
    assert isinstance(caught.value, ValueError)
    assert "not JSON" in message and "'<html>xxx" in message
    assert len(message) < 400, message
    assert caught.value.__cause__ is None
    with pytest.raises(JSONLineError, match="not JSON"):
        list(iter_json_lines([b"{truncated"]))


def test_closing_the_lines_closes_the_source() -> None:
    closed: list[str] = []

    def source(name: str) -> Iterator[bytes]:
        try:
            yield b"{}\n{}\n"
            yield b"{}\n"
        finally:
            closed.append(name)

    for name, reader in [("lines", iter_lines), ("json", iter_json_lines)]:
        values = reader(source(name))
        next(values)
        values.close()  # type: ignore[attr-defined]
    assert closed == ["lines", "json"]


def test_async_reads_the_same_at_every_cut() -> None:
    async def main() -> None:
        for cut in range(1, len(SAMPLE)):
            pieces = pieces_at(SAMPLE, [cut])
            assert [x async for x in aiter_lines(agen(pieces))] == SAMPLE_LINES, cut
            assert [x async for x in aiter_json_lines(agen(pieces))] == VALUES, cut
        with pytest.raises(JSONLineError):
            [x async for x in aiter_json_lines(agen([b"{}\n", b"nope\n"]))]

    run(main())


def test_async_closing_and_cancelling_close_the_source() -> None:
    async def main() -> None:
        closed: list[str] = []
        forever = asyncio.Event()

        async def source(name: str) -> AsyncIterator[bytes]:
            try:
                yield b"{}\n"
                await forever.wait()
            finally:
                closed.append(name)

        lines = aiter_lines(source("lines"))
        assert await lines.__anext__() == "{}"
        await lines.aclose()  # type: ignore[attr-defined]
        assert closed == ["lines"]

        got_one = asyncio.Event()

        async def read() -> None:
            async for _ in aiter_json_lines(source("json")):
                got_one.set()

        task = asyncio.create_task(read())
        await got_one.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert closed == ["lines", "json"]

    run(main())


def _streamed(body: bytes) -> Reply:
    # Cut inside a multi-byte character and between a CR and its LF, under a charset that
    # would garble the text if anything decoded it as the header says.
    cuts = [body.index(b"\xc3\xa9") + 1, body.index(b"\r\n") + 1, len(body) // 2]
    steps = [Send(piece) for piece in pieces_at(body, cuts) if piece]
    headers = {"Content-Type": "application/x-ndjson; charset=latin-1"}
    return Reply(headers=headers, steps=steps)


def test_over_a_real_httpx2_response() -> None:
    with WireServer() as server, httpx2.Client(timeout=30) as client:
        server.enqueue(_streamed(SAMPLE))
        with client.stream("GET", server.url) as response:
            assert response.encoding == "latin-1"
            assert list(iter_json_lines(response.iter_bytes())) == VALUES


def test_over_a_real_async_httpx2_response() -> None:
    async def main(url: str) -> list[Any]:
        async with httpx2.AsyncClient(timeout=30) as client, client.stream("GET", url) as response:
            return [value async for value in aiter_json_lines(response.aiter_bytes())]

    with WireServer() as server:
        server.enqueue(_streamed(SAMPLE))
        assert run(main(server.url)) == VALUES
