"""``janito-drivers run`` in a real terminal: a tmux pane, read with ``capture-pane``.

Each test waits for text to appear on the screen, never for a fixed time. tmux keeps the pane
after its command exits (``remain-on-exit``), so the last screen can still be read.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

TMUX = shutil.which("tmux")
pytestmark = [
    pytest.mark.skipif(TMUX is None, reason="tmux is not installed (apt-get install tmux)"),
    pytest.mark.skipif(sys.platform == "win32", reason="tmux is POSIX only"),
]

CLI = [sys.executable, "-m", "janito_core.cli"]
DEADLINE = 20.0
DIM = "\x1b[2m"


class Pane:
    """One tmux server of its own, running one command in a 100x20 pane."""

    def __init__(self, tmp_path: Path) -> None:
        # The server's socket in the test's folder (a socket path must stay under ~100 bytes):
        # tmux does not always remove it when killed, and /tmp/tmux-UID would fill up.
        folder = tmp_path
        if len(str(folder / "tmux.sock")) > 100:
            folder = Path(tempfile.mkdtemp(prefix="jt"))
        self.own_folder = folder if folder != tmp_path else None
        self.socket = folder / "tmux.sock"
        self.config = tmp_path / "tmux.conf"
        self.config.write_text("set -g remain-on-exit on\nset -g history-limit 1000\n")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("JANITO_", "TMUX"))}
        env.pop("NO_COLOR", None)
        self.env = {**env, "JANITO_HOME": str(tmp_path / "janito"), "TERM": "xterm-256color"}

    def tmux(self, *args: str) -> str:
        assert TMUX is not None
        done = subprocess.run(
            [TMUX, "-S", str(self.socket), "-f", str(self.config), *args],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=30,
            check=True,
        )
        return done.stdout

    def start(self, command: str) -> None:
        """Run ``command`` (a bash command line) in the pane; it prints its status at the end.

        The exit status is read from the screen: tmux 3.3 may mark the pane dead before it has
        reaped the process (and sometimes never reaps it), so ``#{pane_dead_status}`` can stay
        empty. bash waits for its child after a Ctrl-C that the child handled, then goes on.
        """
        script = f'{command}; echo "[exit $?]"'
        self.tmux("new-session", "-d", "-s", "t", "-x", "100", "-y", "20", "bash", "-c", script)

    def screen(self, *, escapes: bool = False) -> str:
        """What the pane shows, from the top of its history (tmux scrolls it when the command
        ends), wrapped lines joined."""
        flags = ["-p", "-J", "-S", "-", *(["-e"] if escapes else [])]
        return self.tmux("capture-pane", *flags, "-t", "t")

    def send(self, key: str) -> None:
        self.tmux("send-keys", "-t", "t", key)

    def wait_until(self, ready: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + DEADLINE
        while not ready():
            if time.monotonic() > deadline:
                pytest.fail(f"no {what} after {DEADLINE} s; the screen:\n{self.screen()}")
            time.sleep(0.01)

    def wait_for(self, text: str) -> str:
        self.wait_until(lambda: text in self.screen(), repr(text))
        return self.screen()

    def exit_status(self) -> int:
        """Wait for the command to end; its exit status, as the shell around it printed it."""
        screen = self.wait_for("[exit ")
        return int(screen.split("[exit ")[1].split("]")[0])

    def close(self) -> None:
        subprocess.run(
            [TMUX or "tmux", "-S", str(self.socket), "kill-server"], capture_output=True, timeout=30
        )
        self.socket.unlink(missing_ok=True)
        if self.own_folder is not None:
            self.own_folder.rmdir()


@pytest.fixture
def pane(tmp_path: Path) -> Iterator[Pane]:
    pane = Pane(tmp_path)
    try:
        yield pane
    finally:
        pane.close()


def janito(*args: str) -> str:
    return shlex.join([*CLI, "run", "-d", "echo", *args])


def test_the_indicator_waits_in_a_terminal_and_ctrl_c_erases_it(pane: Pane) -> None:
    pane.start(janito("-o", "delay=30", "slow"))
    pane.wait_for("waiting for echo (echo-1)")
    assert DIM in pane.screen(escapes=True)  # drawn dim, on stderr, before any token
    pane.send("C-c")
    assert pane.exit_status() == 130
    screen = pane.screen(escapes=True)
    assert "janito-drivers: cancelled" in screen
    assert "waiting" not in screen and "Traceback" not in screen
    assert DIM not in screen  # the indicator and its colour are gone


def test_the_answer_starts_on_the_indicator_s_erased_line(pane: Pane) -> None:
    pane.start(janito("-o", "delay=0.02", "one two three"))
    assert pane.exit_status() == 0
    lines = pane.screen(escapes=True).splitlines()
    assert lines[0] == "Echo: one two three"  # no frame, no label, no colour left before it
    assert "waiting" not in "".join(lines)


def test_ctrl_c_while_streaming_cancels_and_exits_130(pane: Pane) -> None:
    words = " ".join(f"w{i}" for i in range(400))
    pane.start(janito("-o", "delay=0.05", words))
    pane.wait_for("Echo: w0 w1")
    pane.send("C-c")
    assert pane.exit_status() == 130
    screen = pane.screen()
    assert "janito-drivers: cancelled" in screen and "Traceback" not in screen
    assert "w399" not in screen


def test_no_indicator_when_stderr_is_not_the_terminal(pane: Pane, tmp_path: Path) -> None:
    err = tmp_path / "stderr.txt"
    pane.start(f"{janito('-o', 'delay=0.05', 'a b c')} 2>{shlex.quote(str(err))}")
    assert pane.exit_status() == 0
    assert pane.screen().splitlines()[0] == "Echo: a b c"
    assert err.read_text() == ""  # not one frame, not one carriage return


def test_head_closing_the_pipe_exits_141_without_a_traceback(pane: Pane) -> None:
    words = " ".join(f"w{i}" for i in range(400))
    pane.start(f"set -o pipefail; {janito('--events', '-o', 'delay=0.02', words)} | head -1")
    assert pane.exit_status() == 141
    screen = pane.screen()
    assert screen.count('"type": ') == 1 and "Traceback" not in screen
    assert "waiting" not in screen
