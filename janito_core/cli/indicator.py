"""The waiting indicator: a spinner on stderr until the answer starts, in a terminal only.

It draws on its own line from a thread and erases that line (and resets the colour) before
anything else is written, so the answer, a message or the shell prompt starts on a clean line.
In a pipe or a file it writes nothing at all: logs stay free of carriage returns.
"""

from __future__ import annotations

import os
import threading
from typing import TextIO

FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
PLAIN_FRAMES = "-\\|/"
INTERVAL = 0.08
ERASE = "\r\x1b[K"
DIM, RESET = "\x1b[2m", "\x1b[0m"


def wanted(stream: TextIO) -> bool:
    """Whether an indicator may draw on ``stream``: only a terminal, and not a dumb one."""
    try:
        return stream.isatty() and os.environ.get("TERM") != "dumb"
    except (AttributeError, ValueError):  # closed, or not a file
        return False


class Indicator:
    """A spinner with a label; every method is a no-op when it is not ``enabled``.

    ``message`` writes a line to the same stream without tearing the spinner; ``stop`` erases
    it for good and may be called any number of times, from the main thread.
    """

    def __init__(self, stream: TextIO, label: str, *, enabled: bool | None = None) -> None:
        self._stream = stream
        self._label = label
        self.enabled = wanted(stream) if enabled is None else enabled
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._drawn = False
        self._color = not os.environ.get("NO_COLOR")
        self._frames = FRAMES if _can_encode(stream, FRAMES) else PLAIN_FRAMES

    def __enter__(self) -> Indicator:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        """Draw the first frame now and keep turning until ``stop``."""
        if not self.enabled or self._thread is not None:
            return
        self._draw(0)
        self._thread = threading.Thread(target=self._spin, name="janito-cli-indicator", daemon=True)
        self._thread.start()

    def relabel(self, label: str) -> None:
        """Say something else next to the spinner (e.g. that the model is thinking)."""
        self._label = label

    def message(self, text: str) -> None:
        """Write ``text`` (a whole line) to the stream; the spinner resumes below it."""
        with self._lock:
            self._erase()
            self._stream.write(text)
            self._stream.flush()

    def stop(self) -> None:
        """Stop turning and erase the spinner's line."""
        self._stopped.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()
        with self._lock:
            self._erase()

    def _spin(self) -> None:
        turn = 1
        while not self._stopped.wait(INTERVAL):
            self._draw(turn)
            turn += 1

    def _draw(self, turn: int) -> None:
        with self._lock:
            if self._stopped.is_set():
                return
            frame = self._frames[turn % len(self._frames)]
            text = _fit(f"{frame} {self._label}", self._stream)
            if self._color:
                text = f"{DIM}{text}{RESET}"
            try:
                self._stream.write(f"\r{text}\x1b[K")
                self._stream.flush()
            except (OSError, ValueError):  # the terminal went away: nothing left to draw on
                self._stopped.set()
                return
            self._drawn = True

    def _erase(self) -> None:
        if self._drawn:
            self._drawn = False
            try:
                self._stream.write(ERASE + (RESET if self._color else ""))
                self._stream.flush()
            except (OSError, ValueError):
                pass


def _fit(text: str, stream: TextIO) -> str:
    """``text`` cut to the terminal's width, so it never wraps (``\\r`` only rewinds one row)."""
    try:
        width = os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, OSError, ValueError):
        return text
    return text[: max(width - 1, 1)]


def _can_encode(stream: TextIO, text: str) -> bool:
    try:
        text.encode(getattr(stream, "encoding", None) or "ascii")
    except (UnicodeEncodeError, LookupError):
        return False
    return True
