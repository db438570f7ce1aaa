"""Section 5: 500 generations at once through one driver, each 200 parts 20 ms apart.

Each row runs in a fresh child process (``python -m bench.concurrency ROW ...``) with its own
server process, so its memory peak and its thread count are its own. In the child: imports and
one warm-up generation, then the baseline (threads, descriptors, resident memory), then all the
generations start at once and every consumer notes when each text part reaches it.

- wall time: from the start of the first generation to the end of the last, against the ideal,
  ``parts x interval`` (the server waits ``interval`` before each part);
- delay added per part: for part ``k`` of a generation, its arrival minus ``anchor + k x
  interval``, where ``anchor`` is the earliest start the generation's arrivals imply (its
  best-kept schedule): how late each part came. It includes the server's own drift and the
  transport's (the ``raw wire`` row shows what is left without any SDK);
- peak memory: the child's peak resident set (``VmHWM``) minus its resident set before the run;
- threads and descriptors: at the baseline, as soon as the last consumer ended, once settled
  (2 s at most), and for the driver rows after ``driver.close()``.

Rows: janito-core's OpenAI driver with asyncio consumers (``astream_generate``) and with one
consumer thread per generation (``stream_generate``), the OpenAI SDK alone (``AsyncOpenAI``, the
floor for this work), and the raw wire (``httpx2.AsyncClient`` + ``json.loads``, no SDK).
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.common import ROOT, Sizes, log, percentile
from bench.wire import Provider

ROWS = ("janito-asyncio", "janito-threads", "sdk-asyncio", "raw-wire")
LABELS = {
    "janito-asyncio": "janito-core, asyncio consumers (`astream_generate`)",
    "janito-threads": "janito-core, a consumer thread each (`stream_generate`)",
    "sdk-asyncio": "OpenAI SDK alone (`AsyncOpenAI`), the floor",
    "raw-wire": "raw wire (`httpx2.AsyncClient` + `json.loads`), no SDK",
}
PROVIDER: Provider = "openai"


def _status() -> dict[str, int]:
    values: dict[str, int] = {}
    for line in Path("/proc/self/status").read_text(encoding="utf-8").splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM", "Threads"):
            values[key] = int(rest.split()[0])
    return values


def _snapshot() -> dict[str, int]:
    status = _status()
    return {
        "python_threads": threading.active_count(),
        "os_threads": status.get("Threads", -1),
        "fds": len(os.listdir("/proc/self/fd")),
        "rss_kib": status.get("VmRSS", -1),
    }


def _settle(baseline: int, limit: float = 2.0) -> None:
    deadline = time.monotonic() + limit
    while threading.active_count() > baseline and time.monotonic() < deadline:
        time.sleep(0.01)


Arrivals = list[float]


def _janito_asyncio(driver: Any, count: int) -> Callable[[], list[Arrivals]]:
    from bench.peers import PROMPT
    from janito_core.events import ContentPartFound

    async def one() -> Arrivals:
        arrivals: Arrivals = []
        async for event in driver.astream_generate(PROMPT):
            if type(event) is ContentPartFound:
                arrivals.append(time.monotonic())
        return arrivals

    async def every() -> list[Arrivals]:
        return list(await asyncio.gather(*(one() for _ in range(count))))

    return lambda: asyncio.run(every())


def _janito_threads(driver: Any, count: int) -> Callable[[], list[Arrivals]]:
    from bench.peers import PROMPT
    from janito_core.events import ContentPartFound

    def go() -> list[Arrivals]:
        results: list[Arrivals] = [[] for _ in range(count)]

        def one(arrivals: Arrivals) -> None:
            for event in driver.stream_generate(PROMPT):
                if type(event) is ContentPartFound:
                    arrivals.append(time.monotonic())

        threads = [
            threading.Thread(target=one, args=(results[i],), name=f"bench-consumer-{i}")
            for i in range(count)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return results

    return go


def _sdk_asyncio(url: str, count: int) -> Callable[[], list[Arrivals]]:
    import openai

    from bench.peers import MESSAGES
    from bench.wire import API_KEY, MODELS

    client = openai.AsyncOpenAI(api_key=API_KEY, base_url=f"{url}/v1", max_retries=0)

    async def one() -> Arrivals:
        arrivals: Arrivals = []
        stream = await client.chat.completions.create(
            model=MODELS["openai"], messages=MESSAGES, stream=True
        )
        async with stream:
            async for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    arrivals.append(time.monotonic())
        return arrivals

    async def every() -> list[Arrivals]:
        try:
            return list(await asyncio.gather(*(one() for _ in range(count))))
        finally:
            await client.close()  # on the loop its connections belong to

    return lambda: asyncio.run(every())


def _raw_wire(url: str, count: int) -> Callable[[], list[Arrivals]]:
    import httpx2

    from bench.peers import MESSAGES
    from bench.wire import MODELS

    body = {"model": MODELS["openai"], "messages": MESSAGES, "stream": True}

    async def one(http: Any) -> Arrivals:
        arrivals: Arrivals = []
        async with http.stream("POST", f"{url}/v1/chat/completions", json=body) as response:
            async for line in response.aiter_lines():
                if not line.startswith("data: ") or line == "data: [DONE]":
                    continue
                choices = json.loads(line[6:]).get("choices")
                if choices and choices[0]["delta"].get("content"):
                    arrivals.append(time.monotonic())
        return arrivals

    async def every() -> list[Arrivals]:
        limits = httpx2.Limits(max_connections=count + 10, max_keepalive_connections=100)
        async with httpx2.AsyncClient(limits=limits, timeout=60.0) as http:
            return list(await asyncio.gather(*(one(http) for _ in range(count))))

    return lambda: asyncio.run(every())


def child(row: str, count: int, parts: int, interval: float) -> dict[str, Any]:
    """Run one row in this process; the dict is printed as JSON for the parent."""
    from bench.peers import janito_driver, prepare_environment
    from bench.server import ServerProcess

    prepare_environment()
    with ServerProcess() as server:
        server.set_default({"provider": PROVIDER, "parts": 5, "delay": 0.0})
        driver: Any = None
        closer: Callable[[], object] | None = None
        if row in ("janito-asyncio", "janito-threads"):
            driver = janito_driver(PROVIDER, server.url)
            closer = driver.close
            runner = (_janito_asyncio if row == "janito-asyncio" else _janito_threads)(driver, 1)
            runner()  # warm-up: imports, the client, one connection
            make = _janito_asyncio if row == "janito-asyncio" else _janito_threads
            runner = make(driver, count)
        elif row == "sdk-asyncio":
            _sdk_asyncio(server.url, 1)()
            runner = _sdk_asyncio(server.url, count)
        else:
            _raw_wire(server.url, 1)()
            runner = _raw_wire(server.url, count)
        server.set_default(
            {"provider": PROVIDER, "parts": parts, "delay": interval}
        )  # the real work
        gc.collect()
        time.sleep(0.2)
        before = _snapshot()
        usage0 = resource.getrusage(resource.RUSAGE_SELF)
        server_cpu0 = server.cpu_seconds()
        started = time.monotonic()
        arrivals = runner()
        ended = time.monotonic()
        usage1 = resource.getrusage(resource.RUSAGE_SELF)
        server_cpu = server.cpu_seconds() - server_cpu0
        right_after = _snapshot()
        _settle(before["python_threads"])
        settled = _snapshot()
        peak_kib = _status().get("VmHWM", -1)
        after_close: dict[str, int] | None = None
        if closer is not None:
            closer()
            gc.collect()
            _settle(before["python_threads"])
            after_close = _snapshot()
        else:
            after_close = _snapshot()  # the client was closed with its event loop
    lateness: list[float] = []
    first: list[float] = []
    complete = 0
    for times in arrivals:
        if len(times) == parts:
            complete += 1
        if times:
            first.append(times[0] - started)
            # Against the generation's own best-kept schedule: the earliest start that its
            # parts' arrivals imply, so a part is never "early" and a slow start is not hidden.
            anchor = min(t - k * interval for k, t in enumerate(times))
            lateness.extend(t - anchor - k * interval for k, t in enumerate(times))
    cpu = (usage1.ru_utime - usage0.ru_utime) + (usage1.ru_stime - usage0.ru_stime)
    wall = ended - started
    ideal = parts * interval
    return {
        "row": row,
        "label": LABELS[row],
        "generations": count,
        "parts": parts,
        "interval_s": interval,
        "complete": complete,
        "wall_s": wall,
        "ideal_s": ideal,
        "wall_over_ideal": wall / ideal,
        "cpu_s": cpu,
        "cpu_per_part_us": cpu / max(1, count * parts) * 1e6,
        "client_busy": cpu / wall,
        "server_cpu_s": server_cpu,
        "server_busy": server_cpu / wall,
        "added_delay_ms": {
            "p50": percentile(lateness, 50) * 1e3,
            "p99": percentile(lateness, 99) * 1e3,
            "max": max(lateness, default=float("nan")) * 1e3,
        },
        "first_part_ms": {"p50": percentile(first, 50) * 1e3, "p99": percentile(first, 99) * 1e3},
        "peak_rss_mib": peak_kib / 1024,
        "rss_before_mib": before["rss_kib"] / 1024,
        "peak_added_mib": (peak_kib - before["rss_kib"]) / 1024,
        "before": before,
        "right_after": right_after,
        "settled": settled,
        "after_close": after_close,
    }


def _child(row: str, count: int, sizes: Sizes) -> dict[str, Any]:
    argv = [
        sys.executable,
        "-m",
        "bench.concurrency",
        row,
        str(count),
        str(sizes.concurrency_parts),
        str(sizes.concurrency_interval),
    ]
    try:
        done = subprocess.run(
            argv, cwd=ROOT, capture_output=True, text=True, timeout=900, check=False
        )
    except subprocess.TimeoutExpired:
        return {"row": row, "label": LABELS[row], "status": "n/a", "reason": "timeout"}
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-3:])
        log(f"  failed: {tail}")
        return {"row": row, "label": LABELS[row], "status": "n/a", "reason": tail}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["status"] = "ok"
    log(
        f"  wall {result['wall_s']:.2f} s (ideal {result['ideal_s']:.2f}), "
        f"p99 added {result['added_delay_ms']['p99']:.1f} ms, "
        f"cpu {result['cpu_per_part_us']:.0f} us/part, peak +{result['peak_added_mib']:.0f} MiB, "
        f"threads {result['before']['python_threads']} -> {result['settled']['python_threads']}"
    )
    return result


def run(sizes: Sizes) -> dict[str, Any]:
    """The load the issue asks for, then a light one the machine can keep up with.

    At the full load the client needs more CPU per second than one core has (the GIL keeps a
    Python process on one), so the light load, the same generations fewer at once, is what
    shows each row's cost per part and delay when nothing is saturated. The SDK-alone row runs
    at the light load only, to keep the section within a few minutes.
    """
    loads = [
        ("full", sizes.concurrency_generations, ("janito-asyncio", "raw-wire")),
        ("light", sizes.concurrency_light_generations, ROWS),
    ]
    results: list[dict[str, Any]] = []
    for load, count, rows in loads:
        for row in rows:
            log(f"concurrency: {row}, {count} generations at once")
            result = _child(row, count, sizes)
            result["load"] = load
            results.append(result)
    return {
        "provider": PROVIDER,
        "generations": sizes.concurrency_generations,
        "light_generations": sizes.concurrency_light_generations,
        "parts": sizes.concurrency_parts,
        "interval_s": sizes.concurrency_interval,
        "cores": os.cpu_count(),
        "rows": results,
    }


def main(argv: Sequence[str]) -> None:
    row, count, parts, interval = argv[0], int(argv[1]), int(argv[2]), float(argv[3])
    result = child(row, count, parts, interval)
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
