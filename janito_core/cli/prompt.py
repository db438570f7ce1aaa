"""The prompt of ``run``: the PROMPT argument, standard input, or both, joined as ``llm`` does.

- ``PROMPT`` is ``-``: the prompt is all of standard input (read to its end, even a terminal).
- Standard input is not a terminal (``echo hi | janito-drivers run``, ``< file``): it is read to
  its end; with a PROMPT too, the prompt is the piped text, one space, then the PROMPT. The
  piped text is kept exactly as read (a final newline stays), as ``llm`` keeps it.
- Standard input is a terminal and there is no PROMPT: what is typed until Ctrl-D.
"""

from __future__ import annotations

import io
import sys
from typing import TextIO

# A caller that leaves standard input open without writing to it (a process started from a
# script, an agent's shell) would make ``run PROMPT`` wait for ever; after this long, say so.
HINT_AFTER = 2.0


class PromptError(ValueError):
    """No prompt could be had; the text says how to give one."""


def read_prompt(argument: str | None, stdin: TextIO | None, stderr: TextIO) -> str:
    """The prompt to send, from ``argument`` and ``stdin`` by the module's rules.

    ``stdin`` is None when the process was started with descriptor 0 closed: nothing to read.
    """
    if stdin is None:
        stdin = io.StringIO()
    if argument == "-":
        return _read_all(stdin, stderr, interactive_hint=True)
    piped = None if _is_terminal(stdin) else _read_all(stdin, stderr, waiting_hint=True)
    if argument is None:
        if piped is None:
            piped = _read_all(stdin, stderr, interactive_hint=True)
        if not piped.strip():
            raise PromptError("no prompt: give PROMPT, pipe it on standard input, or pass -")
        return piped
    return f"{piped} {argument}" if piped else argument


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _read_all(
    stdin: TextIO, stderr: TextIO, *, interactive_hint: bool = False, waiting_hint: bool = False
) -> str:
    if interactive_hint and _is_terminal(stdin) and _is_terminal(stderr):
        stderr.write("janito-drivers: type the prompt, then Ctrl-D on a line of its own\n")
        stderr.flush()
    elif waiting_hint and not _ready(stdin, HINT_AFTER):
        stderr.write(
            "janito-drivers: still reading the prompt's start from standard input;"
            " close it, or run with < /dev/null\n"
        )
        stderr.flush()
    return stdin.read()


def _ready(stream: TextIO, timeout: float) -> bool:
    """True when ``stream`` has data or its end within ``timeout`` (always, where unknown)."""
    if sys.platform == "win32":  # select() takes only sockets there
        return True
    import select

    try:
        readable, _, _ = select.select([stream], [], [], timeout)
    except (OSError, ValueError, TypeError):
        return True
    return bool(readable)
