"""Section 5: 100 to 1,000 generations at once, each 200 parts 20 ms apart, four Python clients.

The server is ``bench/fastsse.c`` (compiled, one epoll thread; ``bench/fastsse.py``), in a
process of its own, serving the OpenAI Chat Completions stream of ``bench/wire.py``. Before any
Python client runs, its own load client (C, no Python) proves the server's capacity: 1,000 and
2,000 streams at once, 50k and 100k parts/s offered.

The four clients, each in a process of its own (a worker, started once, imported and warmed up,
then driven over stdin; the server's CPU and the other workers' are not counted in its figures):

- ``janito-asyncio``: ``get_driver("openai", ...).astream_generate(...)``, one task each;
- ``janito-threads``: ``driver.stream_generate(...)``, one consumer thread each;
- ``raw-httpx2``: ``httpx2.AsyncClient`` streaming the same request, splitting the lines and
  ``json.loads`` on each event: the ideal Python client;
- ``sdk-asyncio``: the OpenAI SDK alone, ``openai.AsyncOpenAI(max_retries=0)``.

Each load (100, 250, 500, 1,000 at once) runs for a few rounds; in each round the four clients
and the C load client take turns, the first one rotating, so a busy moment on the machine falls
on all of them alike. Every run builds a fresh driver or client (so every run connects its
connections) and closes it after the clock stops. Per run:

- wall time: from the start of the first generation to the end of the last; the *ideal* is
  ``parts x interval`` plus what the C load client needs beyond that at the same load (connects,
  the requests, the first part's wait): its median ``wall - parts x interval``;
- CPU per part: the client process's CPU time (``getrusage``, every thread) over the parts;
- CPU of the server process and of the whole machine over the run, in cores (CPU s / wall s):
  the machine has two cores and other work, so "others" (machine - client - server) says how
  quiet it was;
- delay per part: part ``k`` of a generation against ``anchor + k x interval``, the anchor being
  the earliest start its arrivals imply (how late each part came, the server's 1 ms early
  sending included);
- context switches per part (voluntary + involuntary, ``getrusage``); threads, descriptors and
  resident memory before the run and after the client was closed (nothing may be left).

A row's figures are medians over its rounds; "x raw" is the median over raw ``httpx2``'s median
at the same load. A run that exceeds its time limit is killed and reported as such.

``python -m bench.concurrency [--quick] [--loads 100,500] [--rounds N]`` runs this section alone
and prints the table; ``python -m bench --only concurrency`` runs it as part of the suite.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import resource
import select
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.common import ROOT, Sizes, log, machine, median, percentile, save
from bench.fastsse import FastServer, cpu_seconds, machine_busy_seconds

ROWS = ("janito-asyncio", "janito-threads", "raw-httpx2", "sdk-asyncio")
FLOOR = "c-client"
LABELS = {
    FLOOR: "C load client (`fastsse load`), the floor",
    "raw-httpx2": "raw `httpx2.AsyncClient` + `json.loads`",
    "janito-asyncio": "janito-core `astream_generate`",
    "janito-threads": "janito-core `stream_generate`, a thread each",
    "sdk-asyncio": "OpenAI SDK alone, `AsyncOpenAI`",
}
# The loads the C client proves the server at before the Python clients run.
CAPACITY_LOADS = (1000, 2000)
WARM_UP_COUNT, WARM_UP_PARTS = 10, 5

Arrivals = list[float]
Outcome = tuple[Arrivals, bool]  # the text parts' arrival times, and whether it ended normally


# -- in the worker process -----------------------------------------------------------------


def _status() -> dict[str, int]:
    values: dict[str, int] = {}
    for line in Path("/proc/self/status").read_text(encoding="utf-8").splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "Threads"):
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


def _settle(before: dict[str, int], limit: float = 2.0) -> None:
    """Wait (``limit`` s at most) for the threads and descriptors to come back to ``before``."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and (
        threading.active_count() > before["python_threads"]
        or len(os.listdir("/proc/self/fd")) > before["fds"]
    ):
        time.sleep(0.01)


class _Meter:
    """The clock, this process's CPU and switches, the server's CPU and the machine's, from
    ``start`` to ``stop``; the runners call both right around the generations."""

    def __init__(self, server_pid: int) -> None:
        self.server_pid = server_pid
        self.values: dict[str, float] = {}

    def _read(self, prefix: str) -> None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        self.values[f"{prefix}cpu"] = usage.ru_utime + usage.ru_stime
        self.values[f"{prefix}switches"] = usage.ru_nvcsw + usage.ru_nivcsw

    def start(self) -> None:
        self.values["server0"] = cpu_seconds(self.server_pid)
        self.values["machine0"] = machine_busy_seconds()
        self._read("a_")
        self.values["t0"] = time.monotonic()

    def stop(self) -> None:
        self.values["t1"] = time.monotonic()
        self._read("b_")
        self.values["server1"] = cpu_seconds(self.server_pid)
        self.values["machine1"] = machine_busy_seconds()


def _janito_driver(url: str) -> Any:
    from bench.wire import API_KEY, MODELS
    from janito_core import get_driver

    return get_driver("openai", model=MODELS["openai"], api_key=API_KEY, base_url=f"{url}/v1")


async def _aclose_driver(driver: Any) -> None:
    # An async close, where the driver has one, runs on the loop its clients belong to.
    aclose = getattr(driver, "aclose", None)
    if aclose is not None:
        await aclose()


def _janito_asyncio(url: str, count: int, meter: _Meter) -> list[Outcome]:
    from bench.peers import PROMPT
    from janito_core.events import ContentPartFound, GenerationFinished

    driver = _janito_driver(url)

    async def one() -> Outcome:
        arrivals: Arrivals = []
        ok = False
        async for event in driver.astream_generate(PROMPT):
            kind = type(event)
            if kind is ContentPartFound:
                arrivals.append(time.monotonic())
            elif kind is GenerationFinished:
                ok = event.status == "completed"
        return arrivals, ok

    async def every() -> list[Outcome]:
        try:
            meter.start()
            outcomes = await asyncio.gather(*(one() for _ in range(count)))
            meter.stop()
            return list(outcomes)
        finally:
            await _aclose_driver(driver)

    try:
        return asyncio.run(every())
    finally:
        driver.close()


def _janito_threads(url: str, count: int, meter: _Meter) -> list[Outcome]:
    from bench.peers import PROMPT
    from janito_core.events import ContentPartFound, GenerationFinished

    driver = _janito_driver(url)
    outcomes: list[Outcome] = [([], False) for _ in range(count)]

    def one(index: int) -> None:
        arrivals: Arrivals = []
        ok = False
        for event in driver.stream_generate(PROMPT):
            kind = type(event)
            if kind is ContentPartFound:
                arrivals.append(time.monotonic())
            elif kind is GenerationFinished:
                ok = event.status == "completed"
        outcomes[index] = (arrivals, ok)

    threads = [
        threading.Thread(target=one, args=(i,), name=f"bench-consumer-{i}") for i in range(count)
    ]
    try:
        meter.start()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        meter.stop()
    finally:
        driver.close()
    return outcomes


def _raw_httpx2(url: str, count: int, meter: _Meter) -> list[Outcome]:
    import httpx2

    from bench.peers import MESSAGES
    from bench.wire import API_KEY, MODELS

    target = f"{url}/v1/chat/completions"
    body = {"model": MODELS["openai"], "messages": MESSAGES, "stream": True}
    headers = {"authorization": f"Bearer {API_KEY}"}

    async def one(http: httpx2.AsyncClient) -> Outcome:
        arrivals: Arrivals = []
        done = False
        async with http.stream("POST", target, json=body, headers=headers) as response:
            response.raise_for_status()
            async for line in response.aiter_lines():
                if not line.startswith("data: "):
                    continue
                if line == "data: [DONE]":
                    done = True
                    continue
                choices = json.loads(line[6:]).get("choices")
                if choices and choices[0]["delta"].get("content"):
                    arrivals.append(time.monotonic())
        return arrivals, done

    async def every() -> list[Outcome]:
        limits = httpx2.Limits(max_connections=count + 10, max_keepalive_connections=count + 10)
        async with httpx2.AsyncClient(limits=limits, timeout=60.0) as http:
            meter.start()
            outcomes = await asyncio.gather(*(one(http) for _ in range(count)))
            meter.stop()
            return list(outcomes)

    return asyncio.run(every())


def _sdk_asyncio(url: str, count: int, meter: _Meter) -> list[Outcome]:
    import openai

    from bench.peers import MESSAGES
    from bench.wire import API_KEY, MODELS

    async def one(client: openai.AsyncOpenAI) -> Outcome:
        arrivals: Arrivals = []
        finished = False
        stream = await client.chat.completions.create(
            model=MODELS["openai"], messages=MESSAGES, stream=True
        )
        async with stream:
            async for chunk in stream:
                if chunk.choices:
                    choice = chunk.choices[0]
                    if choice.delta.content:
                        arrivals.append(time.monotonic())
                    if choice.finish_reason:
                        finished = True
        return arrivals, finished

    async def every() -> list[Outcome]:
        client = openai.AsyncOpenAI(api_key=API_KEY, base_url=f"{url}/v1", max_retries=0)
        try:
            meter.start()
            outcomes = await asyncio.gather(*(one(client) for _ in range(count)))
            meter.stop()
            return list(outcomes)
        finally:
            await client.close()  # on the loop its connections belong to

    return asyncio.run(every())


RUNNERS: dict[str, Callable[[str, int, _Meter], list[Outcome]]] = {
    "janito-asyncio": _janito_asyncio,
    "janito-threads": _janito_threads,
    "raw-httpx2": _raw_httpx2,
    "sdk-asyncio": _sdk_asyncio,
}


def _lateness(outcomes: list[Outcome], interval: float, started: float) -> dict[str, Any]:
    late: list[float] = []
    first: list[float] = []
    for times, _ in outcomes:
        if times:
            first.append(times[0] - started)
            # Against the generation's own best-kept schedule: the earliest start its parts'
            # arrivals imply, so a part is never "early" and a slow start is not hidden.
            anchor = min(t - k * interval for k, t in enumerate(times))
            late.extend(t - anchor - k * interval for k, t in enumerate(times))
    return {
        "added_delay_ms": {
            "p50": percentile(late, 50) * 1e3,
            "p99": percentile(late, 99) * 1e3,
            "max": max(late, default=float("nan")) * 1e3,
        },
        "first_part_ms": {"p50": percentile(first, 50) * 1e3, "p99": percentile(first, 99) * 1e3},
    }


def measure(
    row: str, url: str, count: int, parts: int, interval: float, server_pid: int
) -> dict[str, Any]:
    """One run of ``row`` in this process: ``count`` generations at once from ``url``."""
    gc.collect()
    before = _snapshot()
    meter = _Meter(server_pid)
    outcomes = RUNNERS[row](url, count, meter)
    gc.collect()
    _settle(before)
    after = _snapshot()
    v = meter.values
    wall = v["t1"] - v["t0"]
    cpu = v["b_cpu"] - v["a_cpu"]
    server = v["server1"] - v["server0"]
    busy = v["machine1"] - v["machine0"]
    received = sum(len(times) for times, _ in outcomes)
    return {
        "row": row,
        "generations": count,
        "parts": parts,
        "interval_s": interval,
        "status": "ok",
        "complete": sum(1 for times, ok in outcomes if ok and len(times) == parts),
        "parts_received": received,
        "wall_s": wall,
        "cpu_s": cpu,
        "cpu_per_part_us": cpu / max(1, received) * 1e6,
        "switches_per_part": (v["b_switches"] - v["a_switches"]) / max(1, received),
        "client_cores": cpu / wall,
        "server_cpu_s": server,
        "server_cores": server / wall,
        "machine_cores": busy / wall,
        "others_cores": max(0.0, busy - cpu - server) / wall,
        **_lateness(outcomes, interval, v["t0"]),
        "before": before,
        "after": after,
    }


def _raise_nofile() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and (hard == resource.RLIM_INFINITY or soft < hard):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def worker(row: str, server_pid: int) -> None:
    """A client's process: one JSON request per stdin line, one JSON answer per stdout line."""
    from bench.peers import prepare_environment

    prepare_environment()
    _raise_nofile()
    # The answers get the real stdout; anything else printed goes to stderr.
    answers = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    for line in sys.stdin:
        message = json.loads(line)
        try:
            answer = measure(
                row,
                message["url"],
                message["count"],
                message["parts"],
                message["interval"],
                server_pid,
            )
        except Exception as exc:
            answer = {"row": row, "status": "n/a", "reason": f"{type(exc).__name__}: {exc}"}
        answers.write(json.dumps(answer) + "\n")
        answers.flush()


# -- in the bench process ------------------------------------------------------------------


class _Worker:
    """One client's process, started on demand and restarted after a run that timed out."""

    def __init__(self, row: str, server: FastServer) -> None:
        self.row = row
        self.server = server
        self._proc: subprocess.Popen[str] | None = None

    def _start(self) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bench.concurrency", "--worker", self.row, str(self.server.pid)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self._proc = proc
        # Imports, the client's first use, a few connections.
        warm = self._ask(
            {
                "url": self.server.url(WARM_UP_PARTS, 0.0),
                "count": WARM_UP_COUNT,
                "parts": WARM_UP_PARTS,
                "interval": 0.0,
            },
            120.0,
        )
        if warm.get("status") != "ok":
            log(f"  {self.row}: warm-up failed: {warm.get('reason')}")
        return proc

    def _ask(self, message: dict[str, Any], limit: float) -> dict[str, Any]:
        proc = self._proc
        assert proc is not None and proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(json.dumps(message) + "\n")
        proc.stdin.flush()
        ready, _, _ = select.select([proc.stdout], [], [], limit)
        line = proc.stdout.readline() if ready else ""
        if line:
            answer: dict[str, Any] = json.loads(line)
            return answer
        reason = f"over the {limit:.0f} s limit" if not ready else "the worker died"
        self.close()
        return {"row": self.row, "status": "n/a", "reason": reason}

    def run(self, count: int, parts: int, interval: float, limit: float) -> dict[str, Any]:
        if self._proc is None:
            self._start()
            if self._proc is None:
                return {"row": self.row, "status": "n/a", "reason": "the warm-up failed"}
        message = {
            "url": self.server.url(parts, interval),
            "count": count,
            "parts": parts,
            "interval": interval,
        }
        return self._ask(message, limit)

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        assert proc.stdin is not None and proc.stdout is not None
        with contextlib.suppress(OSError):
            proc.stdin.close()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()


def _floor_run(server: FastServer, count: int, parts: int, interval: float) -> dict[str, Any]:
    result = server.load(count, parts, interval)
    wall = result["wall_s"]
    others = result["machine_busy_s"] - result["cpu_s"] - result["server_cpu_s"]
    return {
        **result,
        "row": FLOOR,
        "status": "ok" if result["complete"] == count else "n/a",
        "reason": "" if result["complete"] == count else f"{count - result['complete']} failed",
        "client_cores": result["cpu_s"] / wall,
        "server_cores": result["server_cpu_s"] / wall,
        "machine_cores": result["machine_busy_s"] / wall,
        "others_cores": max(0.0, others) / wall,
    }


def prove_capacity(server: FastServer, parts: int, interval: float) -> list[dict[str, Any]]:
    """The server under the C load client at 50k and 100k parts/s offered, no Python running."""
    proofs = []
    for count in CAPACITY_LOADS:
        result = _floor_run(server, count, parts, interval)
        result["offered_parts_per_s"] = count / interval
        result["wall_over_schedule"] = result["wall_s"] / (parts * interval)
        log(
            f"capacity: {count} streams, {count / interval:,.0f} parts/s offered: "
            f"{result['parts_per_s']:,.0f} parts/s received, wall "
            f"{result['wall_over_schedule']:.3f}x the schedule, p99 delay "
            f"{result['added_delay_ms']['p99']:.1f} ms; server {result['server_cores']:.2f} "
            f"cores, load client {result['client_cores']:.2f}"
        )
        proofs.append(result)
    return proofs


def _summarise(
    runs: list[dict[str, Any]], parts: int, interval: float, count: int, rounds: int
) -> dict[str, Any]:
    """Medians over rounds per row, the ideal from the floor's runs, ratios to raw httpx2."""
    schedule = parts * interval
    floor_runs = [r for r in runs if r["row"] == FLOOR and r["status"] == "ok"]
    connect = median([r["wall_s"] - schedule for r in floor_runs]) if floor_runs else 0.0
    ideal = schedule + max(0.0, connect)
    rows: dict[str, dict[str, Any]] = {}
    for name in (FLOOR, *ROWS):
        mine = [r for r in runs if r["row"] == name]
        ok = [r for r in mine if r["status"] == "ok"]
        summary: dict[str, Any] = {
            "row": name,
            "label": LABELS[name],
            "runs": len(ok),
            "failed_runs": [r.get("reason", "") for r in mine if r["status"] != "ok"],
        }
        if ok:
            wall = median([r["wall_s"] for r in ok])
            summary.update(
                {
                    "wall_s": wall,
                    "wall_over_ideal": wall / ideal,
                    "wall_over_schedule": wall / schedule,
                    "cpu_per_part_us": median([r["cpu_per_part_us"] for r in ok]),
                    "client_cores": median([r["client_cores"] for r in ok]),
                    "server_cores": median([r["server_cores"] for r in ok]),
                    "others_cores": median([r["others_cores"] for r in ok]),
                    "delay_p99_ms": median([r["added_delay_ms"]["p99"] for r in ok]),
                    "switches_per_part": median([r.get("switches_per_part", 0.0) for r in ok]),
                    "incomplete": sum(r["generations"] - r["complete"] for r in ok),
                    "threads_left": max(
                        (
                            r["after"]["python_threads"] - r["before"]["python_threads"]
                            for r in ok
                            if "after" in r
                        ),
                        default=0,
                    ),
                    "fds_left": max(
                        (r["after"]["fds"] - r["before"]["fds"] for r in ok if "after" in r),
                        default=0,
                    ),
                }
            )
        rows[name] = summary
    raw = rows.get("raw-httpx2", {})
    for summary in rows.values():
        if "wall_s" in summary and "wall_s" in raw:
            summary["wall_x_raw"] = summary["wall_s"] / raw["wall_s"]
            summary["cpu_x_raw"] = summary["cpu_per_part_us"] / raw["cpu_per_part_us"]
    return {
        "generations": count,
        "rounds": rounds,
        "parts": parts,
        "interval_s": interval,
        "schedule_s": schedule,
        "connect_s": connect,
        "ideal_s": ideal,
        "rows": rows,
    }


def run(
    sizes: Sizes, loads: Sequence[int] | None = None, rounds: int | None = None
) -> dict[str, Any]:
    """Prove the server, then every load, the clients taking turns round after round."""
    if loads:
        loads = tuple(loads)
        per_load = [rounds or 1] * len(loads)
    else:
        loads = sizes.concurrency_loads
        per_load = [rounds] * len(loads) if rounds else list(sizes.concurrency_rounds)
    parts, interval = sizes.concurrency_parts, sizes.concurrency_interval
    limit = max(30.0, 20 * parts * interval)
    started = time.monotonic()
    info = machine()
    with FastServer() as server:
        capacity = prove_capacity(server, parts, interval)
        workers = {row: _Worker(row, server) for row in ROWS}
        results: list[dict[str, Any]] = []
        runs_by_load: dict[int, list[dict[str, Any]]] = {}
        try:
            for count, load_rounds in zip(loads, per_load, strict=True):
                runs: list[dict[str, Any]] = []
                for round_number in range(load_rounds):
                    order = (FLOOR, *ROWS)
                    shift = round_number % len(order)
                    for row in order[shift:] + order[:shift]:
                        if row == FLOOR:
                            result = _floor_run(server, count, parts, interval)
                        else:
                            result = workers[row].run(count, parts, interval, limit)
                        result["round"] = round_number
                        runs.append(result)
                        _log_run(count, round_number, result, parts * interval)
                runs_by_load[count] = runs
                results.append(_summarise(runs, parts, interval, count, load_rounds))
        finally:
            for each in workers.values():
                each.close()
    return {
        "provider": "openai",
        "server": "bench/fastsse.c",
        "loads": list(loads),
        "rounds": per_load,
        "parts": parts,
        "interval_s": interval,
        "limit_s": limit,
        "cores": os.cpu_count(),
        "machine": info,
        "capacity": capacity,
        "results": results,
        "runs": {str(k): v for k, v in runs_by_load.items()},
        "seconds": round(time.monotonic() - started, 1),
    }


def _log_run(count: int, round_number: int, result: dict[str, Any], schedule: float) -> None:
    head = f"  {count} at once, round {round_number + 1}, {result['row']}:"
    if result["status"] != "ok":
        log(f"{head} n/a ({result.get('reason', '')})")
        return
    log(
        f"{head} wall {result['wall_s']:.2f} s ({result['wall_s'] / schedule:.2f}x the "
        f"schedule), {result['cpu_per_part_us']:.0f} µs CPU/part, client "
        f"{result['client_cores']:.2f} / server {result['server_cores']:.2f} / others "
        f"{result['others_cores']:.2f} cores, p99 delay {result['added_delay_ms']['p99']:.0f} ms"
        + (
            f", {result['generations'] - result['complete']} incomplete"
            if result["complete"] != result["generations"]
            else ""
        )
    )


def table(data: dict[str, Any]) -> str:
    """The results as plain-text tables, one per load."""
    out = []
    for proof in data["capacity"]:
        out.append(
            f"server capacity: {proof['generations']} streams x {proof['parts']} parts, "
            f"{proof['offered_parts_per_s']:,.0f} parts/s offered -> "
            f"{proof['parts_per_s']:,.0f} received ({proof['wall_over_schedule']:.3f}x the "
            f"schedule, p99 delay {proof['added_delay_ms']['p99']:.1f} ms), server "
            f"{proof['server_cores']:.2f} cores, C load client {proof['client_cores']:.2f}"
        )
    header = (
        f"{'client':<46} {'wall s':>7} {'/ideal':>7} {'x raw':>6} {'CPU µs/part':>11} "
        f"{'x raw':>6} {'cores: client':>13} {'server':>6} {'others':>6} {'p99 ms':>7} "
        f"{'sw/part':>7}  notes"
    )
    for load in data["results"]:
        out.append("")
        out.append(
            f"{load['generations']} at once x {load['parts']} parts, "
            f"{load['interval_s'] * 1e3:g} ms apart: ideal {load['schedule_s']:.2f} s + connect "
            f"{load['connect_s'] * 1e3:.0f} ms = {load['ideal_s']:.2f} s; medians of "
            f"{load['rounds']} round(s)"
        )
        out.append(header)
        for row in load["rows"].values():
            if "wall_s" not in row:
                out.append(f"{row['label']:<46} n/a: {'; '.join(row['failed_runs'])}")
                continue
            notes = []
            if row["incomplete"]:
                notes.append(f"{row['incomplete']} incomplete")
            if row["failed_runs"]:
                notes.append(f"{len(row['failed_runs'])} failed: {row['failed_runs'][0]}")
            if row.get("threads_left", 0) > 0 or row.get("fds_left", 0) > 0:
                notes.append(f"left: {row['threads_left']} threads, {row['fds_left']} fds")
            out.append(
                f"{row['label']:<46} {row['wall_s']:>7.2f} {row['wall_over_ideal']:>6.2f}x "
                f"{row.get('wall_x_raw', float('nan')):>5.2f}x {row['cpu_per_part_us']:>11.1f} "
                f"{row.get('cpu_x_raw', float('nan')):>5.2f}x {row['client_cores']:>13.2f} "
                f"{row['server_cores']:>6.2f} {row['others_cores']:>6.2f} "
                f"{row['delay_p99_ms']:>7.0f} {row['switches_per_part']:>7.2f}  " + "; ".join(notes)
            )
    out.append("")
    out.append(f"took {data['seconds']:.0f} s")
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.concurrency", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, to try it out")
    parser.add_argument("--loads", help="comma-separated generations at once (100,250,500,1000)")
    parser.add_argument("--rounds", type=int, help="rounds per load (default: 2, 2, 2, 1)")
    parser.add_argument("--worker", nargs=2, metavar=("ROW", "SERVER_PID"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker[0], int(args.worker[1]))
        return 0
    sizes = Sizes.small() if args.quick else Sizes.full()
    loads = [int(x) for x in args.loads.split(",")] if args.loads else None
    data = run(sizes, loads, args.rounds)
    data["quick"] = sizes.quick
    path = save("concurrency", data)
    print(table(data))
    log(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
