"""Exit statuses, and leaving quietly when whoever reads our output has gone (``| head``).

A Unix tool whose reader closes the pipe is killed by SIGPIPE, and the shell reports
128 + 13 = 141. Python ignores SIGPIPE and raises ``BrokenPipeError`` instead; the command line
turns that into the same status, with no traceback, so scripts see what they see from
``yes | head -1`` or ``git log | head -1``: the writer was cut short (a generation is cancelled).
"""

from __future__ import annotations

import contextlib
import errno
import os
from typing import TextIO

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_CANCELLED = 130  # 128 + SIGINT, as shells report a Ctrl-C
EXIT_CLOSED_PIPE = 141  # 128 + SIGPIPE

# Windows reports a closed pipe as EINVAL on write.
_CLOSED = (errno.EPIPE, errno.EINVAL)


def is_closed_pipe(exc: BaseException) -> bool:
    """True for the error a write raises when the reading end of our output has gone."""
    return isinstance(exc, BrokenPipeError) or (isinstance(exc, OSError) and exc.errno in _CLOSED)


def silence(stream: TextIO) -> None:
    """Point ``stream``'s descriptor at the null device, so the flush at exit cannot fail again.

    What is still buffered is then written to nowhere instead of raising ``BrokenPipeError``
    at interpreter shutdown (the documented pattern of the ``signal`` module's SIGPIPE note).
    """
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return  # not a real file (a test's StringIO): nothing will be flushed at exit
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, fd)
    finally:
        os.close(null)
    with contextlib.suppress(OSError, ValueError):
        stream.flush()
