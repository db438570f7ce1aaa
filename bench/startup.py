"""Section 4: start-up, each command in a fresh interpreter, next to ``python -c pass``.

Every command runs once to warm up (which also writes the ``.pyc`` files: the subprocesses run
without ``PYTHONDONTWRITEBYTECODE``, as a user's machine would), then the commands take turns,
round after round, and each reports the median of its runs and the difference to the bare
interpreter's median. ``JANITO_DISABLE_PLUGINS`` keeps the development environment's extra
plugins out, so ``janito-drivers list`` lists exactly echo, openai, gemini and mistral.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import ROOT, Sizes, log, median

BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Command:
    """One command line to time; ``who`` is janito-core, a peer, or the bare interpreter."""

    label: str
    argv: tuple[str, ...]
    who: str
    goal_ms: float | None = None

    @property
    def shell(self) -> str:
        parts = [Path(a).name if i == 0 else a for i, a in enumerate(self.argv)]
        return " ".join(f'"{p}"' if " " in p or ";" in p else p for p in parts)


def _python(code: str) -> tuple[str, ...]:
    return (sys.executable, "-c", code)


def commands() -> list[Command]:
    return [
        Command("python -c pass", _python("pass"), "python"),
        Command("import janito_core", _python("import janito_core"), "janito"),
        Command("janito-drivers list", (str(BIN / "janito-drivers"), "list"), "janito", 150.0),
        Command(
            "janito-drivers run (echo driver)",
            (str(BIN / "janito-drivers"), "run", "hello"),
            "janito",
        ),
        Command("import any_llm", _python("import any_llm"), "any-llm"),
        Command(
            "any-llm: list its providers",
            _python("from any_llm import AnyLLM; AnyLLM.get_all_provider_metadata()"),
            "any-llm",
        ),
        Command(
            "import litellm, list its models",
            _python("import litellm; litellm.models_by_provider"),
            "litellm",
        ),
        Command("import llm", _python("import llm"), "llm"),
        Command("llm models list", (str(BIN / "llm"), "models", "list"), "llm"),
    ]


def environment() -> dict[str, str]:
    """The bench's environment, writing bytecode, with no driver chosen."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("JANITO_DRIVER", None)
    return env


def _time(command: Command, env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    done = subprocess.run(
        command.argv, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    return time.perf_counter() - start, done


def run(sizes: Sizes) -> dict[str, Any]:
    """Time every command; janito-core's and the interpreter's more often than the peers'."""
    env = environment()
    rows: dict[str, dict[str, Any]] = {}
    ready: list[Command] = []
    for command in commands():
        row: dict[str, Any] = {
            "who": command.who,
            "command": command.shell,
            "goal_ms": command.goal_ms,
            "runs_s": [],
        }
        rows[command.label] = row
        if not Path(command.argv[0]).exists():
            row.update(status="n/a", reason=f"{Path(command.argv[0]).name} is not installed")
            continue
        try:
            _, done = _time(command, env)  # warm-up, and .pyc files
        except subprocess.TimeoutExpired:
            row.update(status="n/a", reason="took more than 120 s")
            continue
        if done.returncode != 0:
            tail = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
            row.update(status="n/a", reason=f"exit {done.returncode}: {tail}")
            continue
        row["status"] = "ok"
        if command.label == "janito-drivers list":
            row["output"] = done.stdout.strip().splitlines()
        ready.append(command)
    peer_runs = sizes.startup_peer_runs
    for round_number in range(sizes.startup_runs):
        turn = ready[round_number % len(ready) :] + ready[: round_number % len(ready)]
        for command in turn:
            if command.who not in ("python", "janito") and round_number >= peer_runs:
                continue
            seconds, _ = _time(command, env)
            rows[command.label]["runs_s"].append(seconds)
        log(f"  startup: round {round_number + 1}/{sizes.startup_runs} done")
    base = median(rows["python -c pass"]["runs_s"])
    for row in rows.values():
        if row["status"] != "ok":
            continue
        row["median_ms"] = median(row["runs_s"]) * 1e3
        row["delta_ms"] = row["median_ms"] - base * 1e3
        row["min_ms"] = min(row["runs_s"]) * 1e3
    return {
        "runs": sizes.startup_runs,
        "peer_runs": peer_runs,
        "disabled_plugins": os.environ.get("JANITO_DISABLE_PLUGINS", ""),
        "rows": rows,
    }
