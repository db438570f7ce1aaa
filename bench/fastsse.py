"""The compiled loopback server of ``bench/fastsse.c``: build it, run it, load it.

The concurrency section needs a server that is not the bottleneck at 1,000 generations x a part
every 20 ms (50k parts/s); the Python ``WireServer`` tops out near 10k. ``fastsse.c`` serves the
same OpenAI Chat Completions stream as ``bench/wire.py`` from one epoll thread, and its ``load``
mode is a client with no Python in it, which proves the server's capacity and gives the floor
every Python client is compared with.

The binary is built with the system C compiler into ``bench/results/build/`` (git-ignored),
named after a hash of the source so an edit rebuilds it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path
from types import TracebackType
from typing import Any

from bench.common import RESULTS

SOURCE = Path(__file__).with_name("fastsse.c")


def build() -> Path:
    """The compiled server, built now if the source changed since the last build."""
    digest = hashlib.sha256(SOURCE.read_bytes()).hexdigest()[:12]
    target = RESULTS / "build" / f"fastsse-{digest}"
    if target.exists():
        return target
    compiler = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        raise RuntimeError("the concurrency section needs a C compiler (cc or gcc) on PATH")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".tmp")
    subprocess.run([compiler, "-O2", "-o", str(partial), str(SOURCE)], check=True)
    partial.replace(target)
    return target


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) process ``pid`` has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    # The command name is in parentheses and may hold spaces: split after it.
    rest = fields.rsplit(")", 1)[1].split()
    return (int(rest[11]) + int(rest[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU seconds every core of the machine has spent busy so far (``/proc/stat``)."""
    with open("/proc/stat", encoding="utf-8") as stat:
        fields = [int(x) for x in stat.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal ...: idle and iowait are not busy.
    busy = sum(fields[:8]) - fields[3] - fields[4]
    return busy / os.sysconf("SC_CLK_TCK")


class FastServer:
    """``fastsse serve`` in a child process; it exits when this process closes its stdin."""

    def __init__(self, binary: Path | None = None) -> None:
        self.binary = binary or build()
        self._proc = subprocess.Popen(
            [str(self.binary), "serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline().split()
        if len(line) != 2 or line[0] != "PORT":
            self.close()
            raise RuntimeError(f"fastsse did not start (said {line!r})")
        self.port = int(line[1])
        self.pid = self._proc.pid

    def url(self, parts: int, interval: float) -> str:
        """The base URL whose every POST streams ``parts`` parts, ``interval`` s apart."""
        return f"http://127.0.0.1:{self.port}/bench/{parts}/{round(interval * 1e6)}"

    def cpu_seconds(self) -> float:
        """CPU time the server process has used so far."""
        return cpu_seconds(self.pid)

    def load(self, generations: int, parts: int, interval: float) -> dict[str, Any]:
        """Run ``fastsse load``: ``generations`` streams at once, without Python in the way.

        The answer adds the server's CPU and the machine's busy time over the run to what the
        load client reports (its own CPU, parts received, lateness, first-part times).
        """
        argv = [
            str(self.binary),
            "load",
            str(self.port),
            str(generations),
            str(parts),
            str(round(interval * 1e6)),
        ]
        server0, machine0 = self.cpu_seconds(), machine_busy_seconds()
        done = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)
        server, machine = self.cpu_seconds() - server0, machine_busy_seconds() - machine0
        if not done.stdout.strip():
            raise RuntimeError(f"fastsse load failed: {done.stderr.strip()}")
        result: dict[str, Any] = json.loads(done.stdout)
        result["server_cpu_s"] = server
        result["machine_busy_s"] = machine
        return result

    def close(self) -> None:
        """End the server (by closing its stdin) and wait for it."""
        proc = self._proc
        if proc.poll() is None:
            assert proc.stdin is not None
            proc.stdin.close()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()

    def __enter__(self) -> FastServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
