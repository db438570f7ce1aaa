"""The command line's arguments and its commands: ``list``, ``run``, ``logs`` and ``--version``.

Each command's module is imported only when that command runs, so ``list`` stays as light as
the registry (no SQLite, no harness).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TextIO

from janito_core.cli.exits import (
    EXIT_CANCELLED,
    EXIT_CLOSED_PIPE,
    EXIT_OK,
    EXIT_USAGE,
    is_closed_pipe,
    silence,
)

PROG = "janito-drivers"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status = _dispatch(parser, args)
        sys.stdout.flush()  # a closed pipe shows here at the latest, while we can still handle it
    except KeyboardInterrupt:  # a second Ctrl-C in `run`, or one in another command
        _quietly(sys.stderr, f"\n{PROG}: interrupted\n")
        return EXIT_CANCELLED
    except OSError as exc:
        if not is_closed_pipe(exc):
            raise
        silence(sys.stdout)
        return EXIT_CLOSED_PIPE
    return status


def _dispatch(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    # Python sets sys.stdout/sys.stderr to None when started with that descriptor closed.
    if sys.stdout is None or sys.stderr is None:
        null = open(os.devnull, "w")  # noqa: SIM115 (lives as long as the process)
        sys.stdout = sys.stdout or null
        sys.stderr = sys.stderr or null
    if args.version:
        return _version(sys.stdout)
    if args.command == "list":
        return _list(sys.stdout)
    if args.command == "run":
        from janito_core.cli.run import run

        return run(args, sys.stdin, sys.stdout, sys.stderr)
    if args.command == "logs":
        from janito_core.cli.logs import logs

        return logs(args, sys.stdout, sys.stderr)
    parser.print_help(sys.stderr)
    return EXIT_USAGE


def build_parser() -> argparse.ArgumentParser:
    """The ``janito-drivers`` argument parser."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="List LLM drivers, stream an answer from one, continue a conversation.",
    )
    parser.add_argument(
        "--version", action="store_true", help="show janito-core's version and the drivers'"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("list", help="show installed drivers, their distributions and status")
    _add_run(commands.add_parser("run", help="stream the answer to a prompt"))
    logs = commands.add_parser("logs", help="show recent exchanges from the conversation store")
    logs.add_argument(
        "-n",
        "--count",
        type=int,
        default=3,
        metavar="N",
        help="how many exchanges, most recent last (default 3; 0 shows all)",
    )
    logs.add_argument("--json", action="store_true", help="print a JSON array, messages included")
    logs.add_argument("--cid", metavar="ID", help="only this conversation (an id or its start)")
    logs.add_argument("--path", action="store_true", help="print the store's file name and exit")
    return parser


def _add_run(run: argparse.ArgumentParser) -> None:
    run.description = (
        "Stream the answer to PROMPT. Piped standard input comes first, then PROMPT;"
        " PROMPT '-' (or none) reads the prompt from standard input."
    )
    run.add_argument("prompt", metavar="PROMPT", nargs="?", help="the prompt, or - for stdin")
    run.add_argument("-d", "--driver", help="driver name (default: $JANITO_DRIVER, else echo)")
    run.add_argument("-m", "--model", help="model name (default: the driver's)")
    run.add_argument("-s", "--system", help="system prompt")
    run.add_argument("--base-url", help="provider endpoint, e.g. a local compatible server")
    run.add_argument(
        "--key",
        metavar="KEY",
        help="API key for this call instead of the driver's variable; never stored"
        " (the variable is safer: arguments show in the process list)",
    )
    run.add_argument(
        "-o",
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a generation option (value read as JSON when it parses), e.g. -o temperature=0.2",
    )
    run.add_argument(
        "-a",
        "--attach",
        action="append",
        default=[],
        metavar="FILE",
        help="attach a file (an image, PDF, audio...) or an http(s) URL; repeat for more",
    )
    run.add_argument(
        "--schema",
        metavar="FILE.json",
        help="ask for structured output following this JSON Schema; prints the parsed JSON",
    )
    run.add_argument("--events", action="store_true", help="print every event as a JSON line")
    run.add_argument(
        "--no-stream", action="store_true", help="print the whole answer at the end, at once"
    )
    run.add_argument(
        "-r",
        "--reasoning",
        type=_reasoning,
        metavar="LEVEL",
        help="how hard the model thinks: off, low, medium, high, or a number of thinking tokens"
        " (default: the provider's)",
    )
    run.add_argument(
        "-u",
        "--usage",
        action="store_true",
        help="print the token counts and the cost on stderr at the end",
    )
    run.add_argument(
        "-c",
        "--continue",
        dest="continue_",
        action="store_true",
        help="continue the last conversation (its driver, model and system prompt by default)",
    )
    run.add_argument("--cid", metavar="ID", help="continue this conversation (an id or its start)")
    run.add_argument(
        "--no-log",
        action="store_true",
        help="do not log this exchange (or set JANITO_NO_LOG=1 to log nothing)",
    )


def _reasoning(text: str) -> str | int:
    """``-r``'s value: an effort name, or a number of thinking tokens (0 is off)."""
    from janito_core.reasoning import EFFORTS

    if text in EFFORTS:
        return text
    try:
        budget = int(text)
    except ValueError:
        budget = -1
    if budget < 0:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not off, low, medium, high or a number of thinking tokens"
        )
    return budget


def _version(out: TextIO) -> int:
    import janito_core
    from janito_core.registry import list_drivers

    out.write(f"{PROG} (janito-core {janito_core.__version__})\n")
    for info in list_drivers():
        state = "" if info.ok else "  (failed to load)"
        out.write(f"  {info.name}: {info.distribution} {info.version}{state}\n")
    return EXIT_OK


def _list(out: TextIO) -> int:
    from janito_core.registry import list_drivers

    infos = list_drivers()
    rows = [("DRIVER", "DISTRIBUTION", "VERSION", "STATUS")]
    rows += [
        (i.name, i.distribution, i.version, "ok" if i.ok else f"error: {i.error}") for i in infos
    ]
    widths = [max(len(row[c]) for row in rows) for c in range(3)]
    for row in rows:
        out.write("  ".join(cell.ljust(widths[c]) for c, cell in enumerate(row[:3])))
        out.write(f"  {row[3]}\n")
    return EXIT_OK


def _quietly(stream: TextIO, text: str) -> None:
    try:
        stream.write(text)
        stream.flush()
    except (OSError, ValueError):
        pass
