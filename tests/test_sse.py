"""``janito_core.sse``: server-sent events from lines and from raw bytes, by the HTML standard."""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import re
import time
from collections.abc import AsyncIterator, Iterable, Iterator

import httpx2
import pytest

from janito_core.sse import ServerSentEvent, aiter_sse, is_done, iter_events, iter_sse
from janito_core.testing.server import Reply, Send, WireServer

E = ServerSentEvent

# What the line splitters of str.splitlines() and httpx's iter_lines() also cut at, and what
# OpenAI-compatible servers (vLLM, llama.cpp) send raw inside JSON strings.
ODD_BREAKS = "\u2028\u2029\x85\x0b\x0c\x1c\x1d\x1e"

# A stream with every rule in it: a BOM, comments, CRLF, CR and LF line ends, names, several
# data lines, ignored fields, multi-byte characters and raw separators inside JSON, a field
# without a colon, an event with no data, extra blank lines and a last event with no blank line.
SAMPLE = (
    b"\xef\xbb\xbf: a comment first\r\n"
    b"event: first\r\ndata: "
    + json.dumps({"t": f"caf\u00e9 {ODD_BREAKS} \U0001f600"}, ensure_ascii=False).encode()
    + b"\r\n\r\n"
    b"data: line one\ndata:line two\ndata:  two spaces\n\n"
    b"data: after CRs\r\r"
    b"id: 5\nretry: 10\nevent: named\n: note\ndata: x\n\n\n\n"
    b"data\n\n"
    b"event: no data\n\n"
    b"data: \xef\xbb\xbfnot at the start\r\n\r\n"
    b"data: [DONE]\n\n"
    b"data: last, unterminated"
)
SAMPLE_EVENTS = [
    E("first", json.dumps({"t": f"caf\u00e9 {ODD_BREAKS} \U0001f600"}, ensure_ascii=False)),
    E(None, "line one\nline two\n two spaces"),
    E(None, "after CRs"),
    E("named", "x"),
    E(None, ""),
    E(None, "\ufeffnot at the start"),
    E(None, "[DONE]"),
    E(None, "last, unterminated"),
]


def reference(body: bytes) -> list[ServerSentEvent]:
    """The events as the standard reads the whole body at once: the oracle for the pieces."""
    text = body.decode("utf-8", "replace").removeprefix("\ufeff")
    return list(iter_events(re.split(r"\r\n|\r|\n", text)))


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


async def acollect(pieces: list[bytes]) -> list[ServerSentEvent]:
    return [event async for event in aiter_sse(agen(pieces))]


# -- iter_events: lines already split --------------------------------------------------------


def test_events_comments_multiline_data_and_the_optional_space() -> None:
    lines = [
        ": keep-alive",
        "event: response.created",
        'data: {"a": 1}',
        "",
        "data:no-space",
        "data:  two spaces",
        "id: 7",
        "retry: 100",
        "",
        "id: only an id: not dispatched",
        "",
        "data: [DONE]",
    ]
    assert list(iter_events(lines)) == [
        ServerSentEvent("response.created", '{"a": 1}'),
        ServerSentEvent(None, "no-space\n two spaces"),
        ServerSentEvent(None, "[DONE]"),
    ]


def test_event_name_does_not_leak_into_the_next_event() -> None:
    lines = ["event: a", "data: 1", "", "data: 2", ""]
    assert [e.event for e in iter_events(lines)] == ["a", None]


# -- iter_sse: raw bytes ---------------------------------------------------------------------


def test_the_sample_in_one_piece() -> None:
    assert reference(SAMPLE) == SAMPLE_EVENTS
    assert list(iter_sse([SAMPLE])) == SAMPLE_EVENTS


def test_a_cut_at_every_byte_offset_changes_nothing() -> None:
    for cut in range(1, len(SAMPLE)):
        got = list(iter_sse(pieces_at(SAMPLE, [cut])))
        assert got == SAMPLE_EVENTS, f"cut at byte {cut}"


def test_one_byte_pieces_and_empty_pieces() -> None:
    pieces = [SAMPLE[i : i + 1] for i in range(len(SAMPLE))]
    assert list(iter_sse(pieces)) == SAMPLE_EVENTS
    assert list(iter_sse([b"", *pieces[:3], b"", *pieces[3:], b""])) == SAMPLE_EVENTS


def test_random_cuts_of_random_streams_match_the_whole_body_reading() -> None:
    fragments = [
        b"data: ",
        b"data:",
        b"event: e",
        b": c",
        b"id: 1",
        b"x",
        b"\xc3\xa9",
        b"\xe2\x80\xa8",
        b"\xf0\x9f\x98\x80",
        b"\xff",
        b"\xef\xbb\xbf",
        b"\r",
        b"\n",
        b"\r\n",
        b"\n\n",
        b"\r\n\r\n",
        b"\r\r",
    ]
    rng = random.Random(11)
    for trial in range(400):
        body = b"".join(rng.choice(fragments) for _ in range(rng.randrange(1, 40)))
        cuts = rng.sample(range(1, len(body)), min(len(body) - 1, rng.randrange(0, 6)))
        got = list(iter_sse(pieces_at(body, cuts)))
        assert got == reference(body), f"trial {trial}: {body!r} cut at {sorted(cuts)}"


@pytest.mark.parametrize("eol", ["\n", "\r\n", "\r"], ids=["LF", "CRLF", "CR"])
def test_every_line_end_reads_the_same(eol: str) -> None:
    lines = ["event: a", "data: 1", "", ": c", "data: 2", "data: 3", "", "data: 4", "", ""]
    body = eol.join(lines).encode()
    expected = [E("a", "1"), E(None, "2\n3"), E(None, "4")]
    assert list(iter_sse([body])) == expected
    assert list(iter_sse([body[i : i + 1] for i in range(len(body))])) == expected


def test_a_crlf_cut_between_its_cr_and_its_lf_is_one_line_end() -> None:
    # Read as two line ends, the CR LF would be a blank line and dispatch "a" on its own.
    assert list(iter_sse([b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"])) == [E(None, "a\nb")]
    two = [E(None, "a"), E(None, "b")]
    assert list(iter_sse([b"data: a\r", b"\r", b"\ndata: b\r\n\r\n"])) == two


def test_a_leading_byte_order_mark_is_dropped_even_when_cut() -> None:
    body = b"\xef\xbb\xbfdata: x\n\n"
    for cut in (1, 2, 3):
        assert list(iter_sse(pieces_at(body, [cut]))) == [E(None, "x")]
    # Only one, and only at the very start: a second one makes the first line's field unknown.
    assert list(iter_sse([b"\xef\xbb\xbf\xef\xbb\xbfdata: x\n\ndata: y\n\n"])) == [E(None, "y")]


def test_unicode_line_separators_inside_json_are_kept_exactly() -> None:
    text = f"a{ODD_BREAKS}b" + "".join(f"{c}{i}" for i, c in enumerate(ODD_BREAKS))
    chunk = {"choices": [{"delta": {"content": text}}]}
    body = b"data: " + json.dumps(chunk, ensure_ascii=False).encode() + b"\n\ndata: [DONE]\n\n"
    for cut in range(1, len(body)):
        events = list(iter_sse(pieces_at(body, [cut])))
        assert len(events) == 2, f"cut at byte {cut}"
        assert json.loads(events[0].data)["choices"][0]["delta"]["content"] == text
        assert is_done(events[1].data)


def test_invalid_utf8_is_replaced_not_fatal() -> None:
    assert list(iter_sse([b"data: \xff\xfe ok\n\n"])) == [E(None, "\ufffd\ufffd ok")]
    # A multi-byte character cut short by the end of the body.
    assert list(iter_sse([b"data: euro \xe2\x82"])) == [E(None, "euro \ufffd")]


def test_the_end_of_the_body_dispatches_what_is_open() -> None:
    assert list(iter_sse([b"data: a\n"])) == [E(None, "a")]
    assert list(iter_sse([b"data: a\r"])) == [E(None, "a")]
    assert list(iter_sse([b"event: e\ndata: a"])) == [E("e", "a")]
    assert list(iter_sse([b"event: e\n"])) == []
    assert list(iter_sse([])) == []
    assert list(iter_sse([b""])) == []


def test_a_line_of_several_megabytes_in_small_pieces() -> None:
    value = json.dumps({"content": "é" * (3 << 20)}, ensure_ascii=False)
    body = f"data: {value}\n\ndata: [DONE]\n\n".encode()
    pieces = [body[i : i + 1024] for i in range(0, len(body), 1024)]
    start = time.perf_counter()
    events = list(iter_sse(pieces))
    elapsed = time.perf_counter() - start
    assert events == [E(None, value), E(None, "[DONE]")]
    # Linear: tens of milliseconds. Joining the line again at every piece would take minutes.
    assert elapsed < 10, f"{elapsed:.1f} s"


def test_is_done_takes_the_sentinel_alone_with_whitespace_around() -> None:
    assert is_done("[DONE]")
    assert is_done(" [DONE]\n")
    assert not is_done("[DONE] more")
    assert not is_done('"[DONE]"')
    assert not is_done("[done]")
    assert not is_done('{"content": "[DONE]"}')


def test_closing_the_events_closes_the_source() -> None:
    closed: list[bool] = []

    def source() -> Iterator[bytes]:
        try:
            yield b"data: 1\n\n"
            yield b"data: 2\n\n"
        finally:
            closed.append(True)

    events = iter_sse(source())
    assert next(events) == E(None, "1")
    events.close()  # type: ignore[attr-defined]
    assert closed == [True]


# -- aiter_sse -------------------------------------------------------------------------------


def test_async_reads_the_same_at_every_cut() -> None:
    async def main() -> None:
        assert await acollect([SAMPLE]) == SAMPLE_EVENTS
        assert await acollect([SAMPLE[i : i + 1] for i in range(len(SAMPLE))]) == SAMPLE_EVENTS
        for cut in range(1, len(SAMPLE)):
            assert await acollect(pieces_at(SAMPLE, [cut])) == SAMPLE_EVENTS, f"cut at {cut}"

    run(main())


def test_async_closing_and_cancelling_close_the_source() -> None:
    async def main() -> None:
        closed: list[str] = []
        forever = asyncio.Event()

        async def source(name: str) -> AsyncIterator[bytes]:
            try:
                yield b"data: 1\n\n"
                await forever.wait()
                yield b"data: never\n\n"
            finally:
                closed.append(name)

        events = aiter_sse(source("closed"))
        assert await events.__anext__() == E(None, "1")
        await events.aclose()  # type: ignore[attr-defined]
        assert closed == ["closed"]

        got_one = asyncio.Event()

        async def read() -> None:
            async for _ in aiter_sse(source("cancelled")):
                got_one.set()

        task = asyncio.create_task(read())
        await got_one.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert closed == ["closed", "cancelled"]

    run(main())


# -- over a real HTTP response ---------------------------------------------------------------


def _streamed(body: bytes) -> Reply:
    # Sent in pieces cut inside a multi-byte character and between a CR and its LF, under a
    # charset that would garble the text if anything decoded it as the header says.
    cuts = [body.index(b"\xc3\xa9") + 1, body.index(b"\r\n") + 1, len(body) // 2]
    steps = [Send(piece) for piece in pieces_at(body, cuts) if piece]
    return Reply(headers={"Content-Type": "text/event-stream; charset=latin-1"}, steps=steps)


def test_over_a_real_httpx2_response() -> None:
    with WireServer() as server, httpx2.Client(timeout=30) as client:
        server.enqueue(_streamed(SAMPLE))
        with client.stream("GET", server.url) as response:
            assert response.encoding == "latin-1"
            assert list(iter_sse(response.iter_bytes())) == SAMPLE_EVENTS


def test_over_a_real_async_httpx2_response() -> None:
    async def main(url: str) -> list[ServerSentEvent]:
        async with httpx2.AsyncClient(timeout=30) as client, client.stream("GET", url) as response:
            return [event async for event in aiter_sse(response.aiter_bytes())]

    with WireServer() as server:
        server.enqueue(_streamed(SAMPLE))
        assert run(main(server.url)) == SAMPLE_EVENTS
