"""``janito-drivers logs``: the recent exchanges of the conversation store, as text or JSON."""

from __future__ import annotations

import argparse
import json
import time
from typing import TextIO

from janito_core.cli.exits import EXIT_ERROR, EXIT_OK
from janito_core.cli.store import Exchange, Store, StoreError, database_path


def logs(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """Run the ``logs`` command; returns the exit status."""
    if args.path:
        stdout.write(f"{database_path()}\n")
        return EXIT_OK
    if args.count < 0:
        stderr.write("janito-drivers logs: -n takes a count >= 0 (0 shows everything)\n")
        return EXIT_ERROR
    path = database_path()
    if not path.exists():
        if args.json:
            stdout.write("[]\n")
        else:
            stderr.write(f"janito-drivers: no logs yet ({path})\n")
        return EXIT_OK
    try:
        with Store.open(path, create=False) as store:
            exchanges = store.recent(args.count, args.cid)
    except StoreError as exc:
        stderr.write(f"janito-drivers: {exc}\n")
        return EXIT_ERROR
    if args.json:
        stdout.write(json.dumps([e.to_json() for e in exchanges], ensure_ascii=False, indent=2))
        stdout.write("\n")
    else:
        for index, exchange in enumerate(exchanges):
            stdout.write(("\n" if index else "") + as_text(exchange))
    stdout.flush()
    return EXIT_OK


def as_text(exchange: Exchange) -> str:
    """One exchange as a few lines of Markdown: a heading, what it cost, the prompt, the answer."""
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(exchange.started))
    usage = exchange.usage
    facts = [
        f"driver {exchange.driver}",
        f"model {exchange.model}",
        exchange.status,
        f"{usage.input_tokens} tokens in, {usage.output_tokens} out",
        f"{exchange.duration:.1f}s",
    ]
    lines = [f"# {when}  conversation {exchange.conversation_id}", "", ", ".join(facts), ""]
    if exchange.system:
        lines += ["## System", "", exchange.system.rstrip("\n"), ""]
    lines += ["## Prompt", "", exchange.prompt.rstrip("\n"), "", "## Answer", ""]
    lines += [exchange.answer.rstrip("\n") or "(none)", ""]
    if exchange.error:
        lines += ["## Error", "", exchange.error, ""]
    return "\n".join(lines)
