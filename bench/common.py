"""What every section shares: sizes (full or ``--quick``), statistics, results, the machine."""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import platform
import statistics
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
COMMAND = "uv run --group bench python -m bench"


@dataclass(frozen=True)
class Sizes:
    """How much each section does; ``quick()`` is for trying the suite out, not for figures."""

    quick: bool
    overhead_parts: int = 5000
    overhead_reps: int = 5
    overhead_peer_reps: int = 3
    cancel_trials: int = 200
    cancel_break_trials: int = 100
    cancel_peer_trials: int = 20
    cancel_peer_stall_trials: int = 4
    startup_runs: int = 10
    startup_peer_runs: int = 3
    concurrency_loads: tuple[int, ...] = (100, 250, 500, 1000)
    # Rounds per load: the slow clients at 1,000 at once take most of a minute each.
    concurrency_rounds: tuple[int, ...] = (2, 2, 2, 1)
    concurrency_parts: int = 200
    concurrency_interval: float = 0.020

    @classmethod
    def full(cls) -> Sizes:
        return cls(quick=False)

    @classmethod
    def small(cls) -> Sizes:
        return cls(
            quick=True,
            overhead_parts=500,
            overhead_reps=3,
            overhead_peer_reps=2,
            cancel_trials=20,
            cancel_break_trials=10,
            cancel_peer_trials=4,
            cancel_peer_stall_trials=2,
            startup_runs=3,
            startup_peer_runs=2,
            concurrency_loads=(100, 500),
            concurrency_rounds=(1, 1),
            concurrency_parts=100,
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def median(values: Sequence[float]) -> float:
    """The median, NaN for no values."""
    return statistics.median(values) if values else math.nan


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100), linear between the closest ranks; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def save(section: str, data: dict[str, Any]) -> Path:
    """Write a section's results to ``bench/results/<section>.json``."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{section}.json"
    path.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return path


def load(section: str) -> dict[str, Any] | None:
    """A section's last results, or None."""
    path = RESULTS / f"{section}.json"
    if not path.exists():
        return None
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal"):
                kib = int(line.split()[1])
                return f"{kib / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError):
        pass
    return "unknown"


VERSIONED = (
    "janito-core",
    "openai",
    "google-genai",
    "mistralai",
    "httpx2",
    "any-llm-sdk",
    "litellm",
    "llm",
    "llm-gemini",
    "matplotlib",
)


def _commit() -> str:
    """The checked-out commit, with ``+changes`` when the tree differs from it."""
    import subprocess

    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+changes" if dirty else "")


def machine() -> dict[str, Any]:
    """The machine, the interpreter and the versions the figures were taken with."""
    try:
        load_avg = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        load_avg = []
    return {
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory": _memory(),
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "load_average_at_start": load_avg,
        "versions": {name: _version(name) for name in VERSIONED},
        "commit": _commit(),
    }


def log(message: str) -> None:
    """Progress on stderr (stdout stays free for a child's JSON answer)."""
    print(message, file=sys.stderr, flush=True)
