"""``run -c``/``--cid``, ``--no-log`` and ``logs``, in a subprocess with its own data folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

CLI = [sys.executable, "-m", "janito_core.cli"]

Cli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "janito"


@pytest.fixture
def cli(home: Path) -> Cli:
    def run(
        *args: str, env: dict[str, str] | None = None, stdin: str = ""
    ) -> subprocess.CompletedProcess[str]:
        kept = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("JANITO_") and k != "TESTTHIRDPARTY_API_KEY"
        }
        return subprocess.run(
            [*CLI, *args],
            input=stdin,
            capture_output=True,
            text=True,
            env={**kept, "JANITO_HOME": str(home), **(env or {})},
            timeout=60,
        )

    return run


def logged(home: Path, cid: str | None = None) -> list[dict[str, Any]]:
    """What ``logs --json -n 0`` prints, read in this process (a subprocess each time is slow)."""
    from janito_core.cli.store import Store

    with Store.open(home / "logs.db", create=False) as store:
        return [e.to_json() for e in store.recent(0, cid)]


def input_tokens(stderr: str) -> int:
    # "Tokens: N input (...)": the echo driver counts every word of every message it is sent.
    return int(stderr.split("Tokens: ")[1].split()[0])


def test_continue_sends_the_conversation_again(cli: Cli, home: Path) -> None:
    first = cli("run", "-d", "echo", "-u", "one two")
    assert input_tokens(first.stderr) == 2
    again = cli("run", "-c", "-u", "three")
    assert again.returncode == 0 and again.stdout == "Echo: three\n"
    # "one two" + "Echo: one two" + "three" = 2 + 3 + 1 words.
    assert input_tokens(again.stderr) == 6
    records = logged(home)
    assert [r["prompt"] for r in records] == ["one two", "three"]
    assert records[0]["conversation_id"] == records[1]["conversation_id"]
    assert [m["role"] for m in records[1]["messages"]] == ["user", "assistant"]
    assert records[1]["messages"][1]["content"] == "Echo: three"


def test_continue_keeps_the_driver_model_and_system_prompt(cli: Cli, home: Path) -> None:
    key = {"TESTTHIRDPARTY_API_KEY": "k"}
    cli("run", "-d", "testthirdparty", "-m", "shout-2", "-s", "be loud", "hi", env=key)
    out = cli("run", "-c", "again", env=key)
    assert out.returncode == 0 and out.stdout.split() == ["AGAIN"]
    last = logged(home)[-1]
    assert (last["driver"], last["model"], last["system"]) == (
        "testthirdparty",
        "shout-2",
        "be loud",
    )
    # Another driver: the history goes with it, the model becomes that driver's default.
    out = cli("run", "-c", "-d", "echo", "-s", "be quiet", "-u", "now")
    assert input_tokens(out.stderr) == 5  # "hi", "HI", "again", "AGAIN", "now"
    last = logged(home)[-1]
    assert (last["driver"], last["model"], last["system"]) == ("echo", "echo-1", "be quiet")


def test_cid_picks_a_conversation_by_its_start(cli: Cli, home: Path) -> None:
    cli("run", "-d", "echo", "first conversation")
    cli("run", "-d", "echo", "second")
    first_id = logged(home)[0]["conversation_id"]
    out = cli("run", "--cid", first_id[:6], "-u", "more")
    assert input_tokens(out.stderr) == 2 + 3 + 1
    records = logged(home, first_id)
    assert [r["prompt"] for r in records] == ["first conversation", "more"]


def test_continue_without_a_conversation_exits_1(cli: Cli, home: Path) -> None:
    out = cli("run", "-c", "hello")
    assert out.returncode == 1 and "no conversation to continue" in out.stderr
    cli("run", "-d", "echo", "hello")
    out = cli("run", "--cid", "nope", "hello")
    assert out.returncode == 1 and "no conversation 'nope'" in out.stderr


def test_a_cancelled_exchange_is_logged_but_not_sent_again(cli: Cli, home: Path) -> None:
    cli("run", "-d", "echo", "kept")
    read_end, write_end = os.pipe()
    os.close(read_end)  # the answer has nowhere to go: the run is cancelled (exit 141)
    kept = {k: v for k, v in os.environ.items() if not k.startswith("JANITO_")}
    done = subprocess.run(
        [*CLI, "run", "-c", "-o", "delay=0.05", " ".join(f"w{i}" for i in range(400))],
        stdin=subprocess.DEVNULL,
        stdout=write_end,
        stderr=subprocess.PIPE,
        env={**kept, "JANITO_HOME": str(home)},
        timeout=60,
    )
    os.close(write_end)
    assert done.returncode == 141
    assert [r["status"] for r in logged(home)] == ["completed", "cancelled"]
    out = cli("run", "-c", "-u", "next")
    assert input_tokens(out.stderr) == 1 + 2 + 1  # "kept", "Echo: kept", "next"


@pytest.mark.parametrize("off", [["--no-log"], ["-u"]])
def test_logging_can_be_turned_off(cli: Cli, home: Path, off: list[str]) -> None:
    env = {"JANITO_NO_LOG": "1"} if off == ["-u"] else None
    out = cli("run", "-d", "echo", *off, "not kept", env=env)
    assert out.returncode == 0
    assert not (home / "logs.db").exists()


def test_janito_no_log_0_keeps_logging(cli: Cli, home: Path) -> None:
    cli("run", "-d", "echo", "kept", env={"JANITO_NO_LOG": "0"})
    assert [r["prompt"] for r in logged(home)] == ["kept"]


def seed(home: Path, *prompts: str) -> None:
    """Log one exchange per prompt, in this process, as ``run -d echo -s sys PROMPT`` would."""
    from janito_core.cli.store import Exchange, Store, new_conversation_id
    from janito_core.messages import Message
    from janito_core.usage import Usage

    with Store.open(home / "logs.db") as store:
        for prompt in prompts:
            answer = f"Echo: {prompt}"
            store.add(
                Exchange(
                    conversation_id=new_conversation_id(),
                    started=1_700_000_000.0,
                    duration=0.25,
                    driver="echo",
                    model="echo-1",
                    system="sys",
                    prompt=prompt,
                    answer=answer,
                    status="completed",
                    usage=Usage(input_tokens=1, output_tokens=2, total_tokens=3),
                    messages=(Message.user(prompt), Message.assistant(answer)),
                )
            )


def test_logs_shows_the_last_exchanges_as_text(cli: Cli, home: Path) -> None:
    seed(home, "alpha", "beta", "gamma", "delta")
    out = cli("logs")
    assert out.returncode == 0
    text = out.stdout
    assert "alpha" not in text  # three by default, oldest first
    assert text.index("Echo: beta") < text.index("Echo: gamma") < text.index("Echo: delta")
    assert "driver echo, model echo-1, completed, 1 tokens in, 2 out, 0.2s" in text
    assert "## System\n\nsys\n\n## Prompt\n\ngamma\n\n## Answer\n\nEcho: gamma\n" in text
    assert cli("logs", "-n", "1").stdout.count("## Prompt") == 1
    assert cli("logs", "-n", "0").stdout.count("## Prompt") == 4


def test_logs_json_has_every_field(cli: Cli) -> None:
    cli("run", "-d", "echo", "-o", "temperature=0.5", "hello")
    (record,) = json.loads(cli("logs", "--json").stdout)
    assert record["options"] == {"temperature": 0.5}
    assert record["usage"]["input_tokens"] == 1 and record["finish_reason"] == "stop"
    assert record["started"].endswith("Z") and isinstance(record["duration_ms"], int)
    assert set(record) >= {"id", "driver", "model", "system", "prompt", "answer", "status", "error"}


def test_logs_before_any_run_and_its_path(cli: Cli, home: Path) -> None:
    out = cli("logs")
    assert out.returncode == 0 and out.stdout == "" and "no logs yet" in out.stderr
    assert cli("logs", "--json").stdout == "[]\n"
    assert cli("logs", "--path").stdout == f"{home / 'logs.db'}\n"
    assert not home.exists()  # looking creates nothing


def test_the_store_is_private_to_the_user(cli: Cli, home: Path) -> None:
    cli("run", "-d", "echo", "hi")
    if sys.platform != "win32":
        assert (home / "logs.db").stat().st_mode & 0o777 == 0o600
        assert home.stat().st_mode & 0o777 == 0o700


def test_an_unwritable_store_does_not_fail_the_run(cli: Cli, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    out = cli("run", "-d", "echo", "hi", env={"JANITO_HOME": str(blocker / "janito")})
    assert out.returncode == 0 and out.stdout == "Echo: hi\n"
    assert "janito-drivers: not logged: cannot open" in out.stderr
