"""What reading a streamed body costs per event: ``janito_core.sse``/``lines`` against httpx's.

A body of 5,000 OpenAI-style Chat Completions events (plus the role, finish and usage chunks and
``[DONE]``) is served from memory by an ``httpx2.Response`` in network-sized pieces, so every row
pays the same ``iter_bytes()`` underneath and differs only in how it turns bytes into events:

- ``httpx lines + iter_events``: the path drivers used, ``iter_events(response.iter_lines())``;
- ``iter_sse``: ``janito_core.sse.iter_sse(response.iter_bytes())``;
- ``httpx-sse``: ``EventSource(response).iter_sse()``, only when ``httpx_sse`` is importable
  (``uv run --with httpx-sse python -m bench.readers``; it reads ``iter_text()``, so it runs on an
  ``httpx2.Response`` unchanged);
- ``bytes only``: iterating ``iter_bytes()`` and nothing else, the floor under every row.

Each body is measured three ways: cut into 4 KiB pieces (a busy stream, several events per read),
one event per piece (tokens arriving as they are generated), and with CRLF line ends (Gemini's
shape, which leaves ``iter_sse``'s LF-only fast path). The JSON lines rows do the same for
``janito_core.lines.iter_lines`` against ``response.iter_lines()``. Rows run round-robin, a run
each in turn, and each reports the median of its runs in CPU µs per event (process time: other
processes on a busy machine blur it far less than wall time); nothing is parsed as JSON.

Run: ``uv run python -m bench.readers [--events N] [--runs R]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable, Iterator
from typing import Any, cast

import httpx2

from janito_core.lines import iter_lines
from janito_core.sse import is_done, iter_events, iter_sse

Reader = Callable[[httpx2.Response], int]  # reads the whole body, returns what it counted


def _chunk(delta: dict[str, Any], finish: str | None = None) -> str:
    chunk = {
        "id": "chatcmpl-AS2i3w8PbsvLCiwBhXQwQqdMUm5bC",
        "object": "chat.completion.chunk",
        "created": 1731368641,
        "model": "gpt-4o-mini-2024-07-18",
        "system_fingerprint": "fp_0ba0d124f1",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
    }
    return json.dumps(chunk, separators=(",", ":"))


def sse_body(events: int, eol: str = "\n") -> list[str]:
    """The events of an OpenAI-style stream, each with its line ends, role chunk to [DONE]."""
    # A few non-ASCII words so multi-byte characters are cut by some piece boundaries.
    words = ["Hello", " world", ",", " naïve", " café", " 東京", " —", " ok"]
    datas = [_chunk({"role": "assistant", "content": ""})]
    datas += [_chunk({"content": words[i % len(words)]}) for i in range(events)]
    datas += [_chunk({}, "stop"), "[DONE]"]
    return [f"data: {data}{eol}{eol}" for data in datas]


def json_lines_body(events: int) -> list[str]:
    """The same chunks as newline-delimited JSON (one line each)."""
    return [line.removeprefix("data: ").rstrip("\n") + "\n" for line in sse_body(events)]


def in_pieces(parts: list[str], size: int | None) -> list[bytes]:
    """The body as a list of byte pieces: ``size`` bytes each, or one part each when None."""
    if size is None:
        return [part.encode() for part in parts]
    body = "".join(parts).encode()
    return [body[i : i + size] for i in range(0, len(body), size)]


def response(pieces: list[bytes]) -> httpx2.Response:
    """A streaming response over ``pieces``, as the client hands it over once headers are in."""
    headers = {"content-type": "text/event-stream; charset=utf-8"}
    return httpx2.Response(200, headers=headers, content=iter(pieces))


def httpx_lines_and_iter_events(r: httpx2.Response) -> int:
    n = 0
    for event in iter_events(r.iter_lines()):
        if is_done(event.data):
            break
        n += 1
    return n


def janito_iter_sse(r: httpx2.Response) -> int:
    n = 0
    for event in iter_sse(r.iter_bytes()):
        if is_done(event.data):
            break
        n += 1
    return n


def httpx_sse(r: httpx2.Response) -> int:
    from httpx_sse import EventSource  # type: ignore[import-not-found,unused-ignore]

    n = 0
    for event in EventSource(cast(Any, r)).iter_sse():
        if is_done(event.data):
            break
        n += 1
    return n


def bytes_only(r: httpx2.Response) -> int:
    return sum(1 for _ in r.iter_bytes())


def httpx_iter_lines(r: httpx2.Response) -> int:
    return sum(1 for line in r.iter_lines() if line)


def janito_iter_lines(r: httpx2.Response) -> int:
    return sum(1 for _ in iter_lines(r.iter_bytes()))


def measure(
    readers: dict[str, Reader], pieces: list[bytes], events: int, runs: int
) -> dict[str, float]:
    """Median µs per event of each reader over ``runs`` round-robin runs."""
    times: dict[str, list[float]] = {name: [] for name in readers}
    # A warm-up run, which also checks that the readers agree on what they read.
    counts = {name: reader(response(pieces)) for name, reader in readers.items()}
    counts.pop("bytes only", None)
    if len(set(counts.values())) != 1:
        raise AssertionError(f"the readers disagree: {counts}")
    for _ in range(runs):
        for name, reader in readers.items():
            r = response(pieces)
            start = time.process_time()
            reader(r)
            times[name].append((time.process_time() - start) / events * 1e6)
    return {name: statistics.median(t) for name, t in times.items()}


def _sse_readers() -> dict[str, Reader]:
    readers: dict[str, Reader] = {
        "httpx lines + iter_events": httpx_lines_and_iter_events,
        "iter_sse": janito_iter_sse,
    }
    try:
        import httpx_sse as _  # noqa: F401
    except ImportError:
        pass
    else:
        readers["httpx-sse"] = httpx_sse
    readers["bytes only"] = bytes_only
    return readers


def rows(events: int, runs: int) -> Iterator[tuple[str, dict[str, float]]]:
    """(body, {reader: µs per event}) for every body measured."""
    lf, crlf = sse_body(events), sse_body(events, "\r\n")
    for label, pieces in [
        ("SSE, LF, 4 KiB pieces", in_pieces(lf, 4096)),
        ("SSE, LF, one event per piece", in_pieces(lf, None)),
        ("SSE, CRLF, 4 KiB pieces", in_pieces(crlf, 4096)),
    ]:
        yield label, measure(_sse_readers(), pieces, events, runs)
    lines = json_lines_body(events)
    line_readers: dict[str, Reader] = {
        "httpx iter_lines": httpx_iter_lines,
        "iter_lines": janito_iter_lines,
        "bytes only": bytes_only,
    }
    yield "JSON lines, 4 KiB pieces", measure(line_readers, in_pieces(lines, 4096), events, runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    print(f"{args.events} events, median of {args.runs} round-robin runs, CPU µs per event")
    for label, result in rows(args.events, args.runs):
        print(f"\n{label}")
        base = next(iter(result.values()))
        for name, us in result.items():
            print(f"  {name:28} {us:6.2f} µs  ({us / base:4.2f}x)")


if __name__ == "__main__":
    main()
