"""Section 3: how fast a generation stops, seen by the consumer and by the server.

Two server scripts per provider:

- ``stream``: 300 parts, 2 ms apart; the stop comes at a random moment 1-30 ms after the first
  part reached the consumer.
- ``stall``: 5 parts 2 ms apart, then nothing for 0.5 s, then the rest, 2 ms apart; the stop
  comes at a random moment 1-30 ms into the silence.

Two figures per trial, both from the moment of the stop (``time.monotonic()``, one clock for
the bench and the server process):

- (a) until the consumer's loop has ended (for janito-core: the iterator raised StopIteration,
  after ``GenerationFinished``);
- (b) until the server saw the client close the connection. When the server could send the
  whole answer instead (the client read on, or left the socket open for the kernel to buffer),
  (b) is the time until the answer was out, and the trial counts as "not closed"; a connection
  still open 3 s later (and after a ``gc.collect()``) counts as "left open".

janito-core is stopped the way its contract offers: ``cancel_event.set()`` from another thread
(a canceller thread fires at the chosen moment; 200 trials per driver and script), and,
mid-stream, ``break`` + ``stream.close()`` in the loop (100 trials). The bare SDKs and the
peers are stopped their own way: ``break`` out of the loop, then the stream's ``close()`` where
the library has one. While the server stalls, their consumer is blocked inside the SDK's read,
so the canceller thread can only raise a flag that the loop sees at the next part; nothing else
is done from the other thread, since closing an SDK stream from another thread while it reads
is unsafe.
"""

from __future__ import annotations

import gc
import queue
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.common import Sizes, log, median, percentile
from bench.peers import CLIENTS, PROMPT, STOP_HOW, Client, Unavailable, janito_driver, make_client
from bench.server import ServerProcess
from bench.wire import PROVIDERS, Provider, StreamSpec

STREAM_PARTS = 300
STREAM_DELAY = 0.002
STALL_AFTER = 5
STALL_SECONDS = 0.5
CANCEL_WINDOW = (0.001, 0.030)
RECORD_TIMEOUT = 3.0
SEED = 7
NOT_CLOSED = "not closed: the server sent the whole answer"


def stream_spec(provider: Provider) -> StreamSpec:
    return {"provider": provider, "parts": STREAM_PARTS, "delay": STREAM_DELAY}


def stall_spec(provider: Provider) -> StreamSpec:
    return {
        "provider": provider,
        "parts": STREAM_PARTS,
        "delay": STREAM_DELAY,
        "stall_after": STALL_AFTER,
        "stall_seconds": STALL_SECONDS,
    }


@dataclass
class _Shot:
    deadline: float
    action: Callable[[], object]
    fired_at: float | None = None
    fired: threading.Event = field(default_factory=threading.Event)


class Canceller:
    """A thread that runs an action at a chosen moment and notes exactly when it did."""

    def __init__(self) -> None:
        self._shots: queue.SimpleQueue[_Shot | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._loop, name="bench-canceller", daemon=True)
        self._thread.start()

    def schedule(self, delay: float, action: Callable[[], object]) -> _Shot:
        shot = _Shot(deadline=time.monotonic() + delay, action=action)
        self._shots.put(shot)
        return shot

    def _loop(self) -> None:
        while True:
            shot = self._shots.get()
            if shot is None:
                return
            remaining = shot.deadline - time.monotonic()
            if remaining > 0:
                time.sleep(remaining)
            shot.fired_at = time.monotonic()
            shot.action()
            shot.fired.set()

    def close(self) -> None:
        self._shots.put(None)
        self._thread.join(5)


@dataclass
class Trial:
    """One stop: (a) and (b) in seconds, and what the server saw."""

    consumer_s: float | None
    server_s: float | None
    outcome: str
    note: str = ""


def _server_side(server: ServerProcess, index: int, stopped_at: float) -> tuple[float | None, str]:
    record = server.record(index, timeout=RECORD_TIMEOUT)
    if not record["closed"]:
        gc.collect()  # what a long-running program would do eventually
        record = server.record(index, timeout=RECORD_TIMEOUT)
        if not record["closed"]:
            return None, "left open"
        return record["t_end"] - stopped_at, "closed only by garbage collection"
    if record["outcome"] == "client_disconnected":
        at = record["disconnected_at"] or record["t_end"]
        return at - stopped_at, "disconnected"
    if record["outcome"] == "completed":
        # Whether the client read on or just left the socket open, the answer went out whole.
        return record["t_end"] - stopped_at, NOT_CLOSED
    return record["t_end"] - stopped_at, str(record["outcome"])


def _janito_event_trial(
    driver: Any,
    server: ServerProcess,
    canceller: Canceller,
    delay: float,
    trigger: int,
) -> Trial:
    from janito_core.events import ContentPartFound, GenerationFinished

    cancel = threading.Event()
    index = server.count()
    seen = 0
    shot: _Shot | None = None
    status = None
    for event in driver.stream_generate(PROMPT, cancel_event=cancel):
        kind = type(event)
        if kind is ContentPartFound:
            seen += 1
            if seen == trigger:
                shot = canceller.schedule(delay, cancel.set)
        elif kind is GenerationFinished:
            status = event.status
    ended = time.monotonic()
    if shot is None or not shot.fired.wait(5) or shot.fired_at is None:
        return Trial(None, None, "finished before the cancel")
    consumer = ended - shot.fired_at
    server_s, outcome = _server_side(server, index, shot.fired_at)
    note = "" if status == "cancelled" else f"ended {status}"
    return Trial(consumer, server_s, outcome, note)


def _break_trial(
    client: Client,
    server: ServerProcess,
    canceller: Canceller,
    delay: float,
    trigger: int,
) -> Trial:
    """Stop the library's own way: break out of the loop, then its close (if any), then drop."""
    want_stop = threading.Event()
    index = server.count()
    opened = client.open()
    shot: _Shot | None = None
    stopped_at: float | None = None
    for seen, _ in enumerate(opened.texts, start=1):
        if seen == trigger:
            shot = canceller.schedule(delay, want_stop.set)
        if want_stop.is_set():
            stopped_at = shot.fired_at if shot is not None else None
            break
    opened.stop()
    del opened
    ended = time.monotonic()
    if shot is None or stopped_at is None:
        if shot is not None:
            shot.fired.wait(5)
        return Trial(None, None, "finished before the cancel")
    server_s, outcome = _server_side(server, index, stopped_at)
    return Trial(ended - stopped_at, server_s, outcome)


def _summary(trials: list[Trial], how: str) -> dict[str, Any]:
    consumer = [t.consumer_s for t in trials if t.consumer_s is not None]
    server_side = [t.server_s for t in trials if t.server_s is not None]
    outcomes: dict[str, int] = {}
    for trial in trials:
        outcomes[trial.outcome] = outcomes.get(trial.outcome, 0) + 1
    notes = sorted({t.note for t in trials if t.note})
    return {
        "how": how,
        "trials": len(trials),
        "outcomes": outcomes,
        "notes": notes,
        "consumer_ms": {
            "p50": percentile(consumer, 50) * 1e3,
            "p99": percentile(consumer, 99) * 1e3,
            "max": max(consumer, default=float("nan")) * 1e3,
            "median": median(consumer) * 1e3,
        },
        "server_ms": {
            "p50": percentile(server_side, 50) * 1e3,
            "p99": percentile(server_side, 99) * 1e3,
            "max": max(server_side, default=float("nan")) * 1e3,
        },
    }


def _rows_for(
    provider: Provider,
    server: ServerProcess,
    sizes: Sizes,
    canceller: Canceller,
    rng: random.Random,
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    driver = janito_driver(provider, server.url)

    def window() -> float:
        return rng.uniform(*CANCEL_WINDOW)

    for scenario, spec, trigger in (
        ("stream", stream_spec(provider), 1),
        ("stall", stall_spec(provider), STALL_AFTER),
    ):
        server.set_default(spec)
        # janito-core, cancel_event from another thread.
        threads_before = _threads()
        _janito_event_trial(driver, server, canceller, window(), trigger)  # warm-up
        trials = [
            _janito_event_trial(driver, server, canceller, window(), trigger)
            for _ in range(sizes.cancel_trials)
        ]
        time.sleep(0.05)
        row = _summary(trials, "`cancel_event.set()` from another thread")
        row.update(client="janito", provider=provider, scenario=scenario)
        row["threads_left"] = _threads() - threads_before
        rows.append(row)
        log(f"  {provider}/{scenario}/janito cancel_event: {_brief(row)}")

        for name in CLIENTS:
            client = make_client(name, provider, server.url)
            if isinstance(client, Unavailable):
                rows.append(
                    {
                        "client": name,
                        "provider": provider,
                        "scenario": scenario,
                        "status": "n/a",
                        "reason": client.reason,
                    }
                )
                continue
            if name == "janito" and scenario == "stall":
                continue  # a blocked loop cannot break: janito's way there is cancel_event
            count = sizes.cancel_break_trials if name == "janito" else sizes.cancel_peer_trials
            if scenario == "stall" and name != "janito":
                count = sizes.cancel_peer_stall_trials
            try:
                _break_trial(client, server, canceller, window(), trigger)  # warm-up
                trials = [
                    _break_trial(client, server, canceller, window(), trigger) for _ in range(count)
                ]
            except Exception as exc:
                rows.append(
                    {
                        "client": name,
                        "provider": provider,
                        "scenario": scenario,
                        "status": "n/a",
                        "reason": f"{type(exc).__name__}: {exc}",
                    }
                )
                log(f"  {provider}/{scenario}/{name}: failed: {type(exc).__name__}: {exc}")
                continue
            how = "`break` + `stream.close()` in the loop" if name == "janito" else STOP_HOW[name]
            row = _summary(trials, how)
            row.update(client=name if name != "janito" else "janito-break", provider=provider)
            row["scenario"] = scenario
            rows.append(row)
            log(f"  {provider}/{scenario}/{row['client']}: {_brief(row)}")
    driver.close()
    return rows


def _brief(row: dict[str, Any]) -> str:
    c, s = row["consumer_ms"], row["server_ms"]
    return (
        f"(a) p50 {c['p50']:.1f} p99 {c['p99']:.1f} ms, (b) p50 {s['p50']:.1f} "
        f"p99 {s['p99']:.1f} ms, {row['outcomes']}"
    )


def run(sizes: Sizes, server: ServerProcess) -> dict[str, Any]:
    """Cancellation latency for janito-core, the bare SDKs and the peers."""
    rng = random.Random(SEED)
    canceller = Canceller()
    rows: list[dict[str, Any]] = []
    try:
        for provider in PROVIDERS:
            log(f"cancel: {provider}")
            rows += _rows_for(provider, server, sizes, canceller, rng)
    finally:
        canceller.close()
    return {
        "stream": {"parts": STREAM_PARTS, "delay_s": STREAM_DELAY},
        "stall": {"after_parts": STALL_AFTER, "seconds": STALL_SECONDS},
        "window_s": list(CANCEL_WINDOW),
        "trials": sizes.cancel_trials,
        "break_trials": sizes.cancel_break_trials,
        "peer_trials": sizes.cancel_peer_trials,
        "peer_stall_trials": sizes.cancel_peer_stall_trials,
        "rows": rows,
    }


def _threads() -> int:
    """Live threads, leaving out the shared loop's (``janito-loop*``: they live for the process,
    and its executor grows when a driver's SDK first hands it work)."""
    return sum(1 for t in threading.enumerate() if not t.name.startswith("janito-loop"))
