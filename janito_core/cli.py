"""``janito-drivers``: list the installed drivers, or stream one answer to stdout."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from janito_core.harness import EventStream

EXIT_OK, EXIT_ERROR, EXIT_CANCELLED = 0, 1, 130


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "list":
        return _list(sys.stdout)
    if args.command == "run":
        try:
            return _run(args, sys.stdout, sys.stderr)
        except KeyboardInterrupt:  # a second Ctrl-C: the user wants out now
            sys.stderr.write("\njanito-drivers: interrupted\n")
            return EXIT_CANCELLED
    parser.print_help()
    return EXIT_ERROR


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="janito-drivers", description="List LLM drivers or stream an answer from one."
    )
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("list", help="show installed drivers, their distributions and status")
    run = commands.add_parser("run", help="stream the answer to PROMPT")
    run.add_argument("prompt", metavar="PROMPT")
    run.add_argument("-d", "--driver", help="driver name (default: $JANITO_DRIVER, else echo)")
    run.add_argument("-m", "--model", help="model name (default: the driver's)")
    run.add_argument("-s", "--system", help="system prompt")
    run.add_argument("--base-url", help="provider endpoint, e.g. a local compatible server")
    run.add_argument(
        "-o",
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a generation option (value read as JSON when it parses), e.g. -o temperature=0.2",
    )
    run.add_argument("--events", action="store_true", help="print every event as a JSON line")
    return parser


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


def _run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from janito_core import events as ev
    from janito_core.errors import JanitoError
    from janito_core.registry import get_driver

    name = args.driver or os.environ.get("JANITO_DRIVER")
    if not name:
        name = "echo"
        err.write(
            "janito-drivers: no driver chosen (-d or JANITO_DRIVER);"
            " using the offline echo driver\n"
        )
    config = {k: v for k, v in (("model", args.model), ("base_url", args.base_url)) if v}
    try:
        options = _options(args.option)
        driver = get_driver(name, **config)
        stream = driver.stream_generate(args.prompt, system_prompt=args.system, **options)
    except (JanitoError, ValueError) as exc:
        err.write(f"janito-drivers: {exc}\n")
        return EXIT_ERROR
    finished: ev.GenerationFinished | None = None
    failure: str | None = None
    with _ctrl_c_cancels(stream):
        for event in stream:
            if args.events:
                out.write(json.dumps(event.to_dict(), ensure_ascii=False) + "\n")
            elif isinstance(event, ev.ContentPartFound):
                out.write(event.content_part)
            elif isinstance(event, (ev.ToolCallStarted, ev.ToolCallRequested)):
                err.write(f"[tool {event.name} {json.dumps(event.arguments)}]\n")
            elif isinstance(event, ev.ToolCallError):
                err.write(f"[tool {event.name} failed: {event.error}]\n")
            elif isinstance(event, ev.RequestRetry):
                err.write(f"[retry {event.attempt} in {event.delay:.1f}s: {event.error}]\n")
            if isinstance(event, ev.RequestError):
                failure = event.error
            if isinstance(event, ev.GenerationFinished):
                finished = event
            out.flush()
    if not args.events:
        out.write("\n")
        out.flush()
    driver.close()
    if finished is None or finished.status == "cancelled":
        err.write("janito-drivers: cancelled\n")
        return EXIT_CANCELLED
    if finished.status == "error":
        err.write(f"janito-drivers: {failure or 'the generation failed'}\n")
        return EXIT_ERROR
    return EXIT_OK


@contextlib.contextmanager
def _ctrl_c_cancels(stream: EventStream) -> Iterator[None]:
    """The first Ctrl-C cancels the generation (its stream then ends); a second one quits."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pressed = False

    def on_sigint(signum: int, frame: object) -> None:
        nonlocal pressed
        if pressed:
            raise KeyboardInterrupt
        pressed = True
        stream.cancel()

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _options(pairs: list[str]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"option {pair!r} is not KEY=VALUE")
        try:
            options[key] = json.loads(raw)
        except ValueError:
            options[key] = raw
    return options


if __name__ == "__main__":
    sys.exit(main())
