"""``janito-drivers``, run as users run it: a subprocess, its data folder in a temporary one."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

import pytest

CLI = [sys.executable, "-m", "janito_core.cli"]
WORDS = " ".join(f"w{i}" for i in range(400))  # with -o delay=0.05, 20 s if nothing stops it

Cli = Callable[..., subprocess.CompletedProcess[str]]


def environment(home: Path, env: dict[str, str] | None = None) -> dict[str, str]:
    """The test's environment without the caller's janito settings, keys or NO_COLOR."""
    kept = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("JANITO_") and k not in ("TESTTHIRDPARTY_API_KEY", "NO_COLOR")
    }
    return {**kept, "JANITO_HOME": str(home), **(env or {})}


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "janito"


@pytest.fixture
def cli(home: Path) -> Cli:
    """Run the command line; standard input is an empty pipe unless ``stdin`` says otherwise."""

    def run(
        *args: str, env: dict[str, str] | None = None, stdin: str = ""
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*CLI, *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=environment(home, env),
            timeout=60,
        )

    return run


def test_list_shows_drivers_distributions_versions_and_status(cli: Cli) -> None:
    out = cli("list")
    assert out.returncode == 0
    lines = out.stdout.splitlines()
    assert lines[0].split() == ["DRIVER", "DISTRIBUTION", "VERSION", "STATUS"]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert rows["echo"].split()[1:] == ["janito-core", version("janito-core"), "ok"]
    assert "janito-driver-testthirdparty" in rows["testthirdparty"]
    assert "error: failed to import" in rows["broken"]


def test_version_names_the_core_then_each_driver(cli: Cli) -> None:
    import janito_core

    out = cli("--version")
    assert out.returncode == 0
    lines = out.stdout.splitlines()
    assert lines[0] == f"janito-drivers (janito-core {janito_core.__version__})"
    assert f"  echo: janito-core {version('janito-core')}" in lines
    assert any(line.startswith("  testthirdparty: janito-driver-testthirdparty ") for line in lines)
    assert "  broken: janito-driver-broken 0.0.1  (failed to load)" in lines


def test_no_command_prints_the_usage_and_exits_2(cli: Cli) -> None:
    out = cli()
    assert out.returncode == 2 and "run" in out.stderr and out.stdout == ""


def test_run_falls_back_to_echo_and_says_so(cli: Cli) -> None:
    out = cli("run", "Tell me a joke")
    assert out.returncode == 0
    assert out.stdout == "Echo: Tell me a joke\n"
    assert "offline echo driver" in out.stderr


def test_run_with_janito_driver_variable(cli: Cli) -> None:
    out = cli(
        "run",
        "quiet please",
        env={"JANITO_DRIVER": "testthirdparty", "TESTTHIRDPARTY_API_KEY": "k"},
    )
    assert out.returncode == 0 and out.stdout.split() == ["QUIET", "PLEASE"]
    assert out.stderr == ""


def test_events_are_json_lines_in_contract_order(cli: Cli) -> None:
    from janito_core import events as ev
    from janito_core.testing import validate_events

    out = cli("run", "--events", "-d", "echo", "-s", "be brief", "two words")
    assert out.returncode == 0
    records = [json.loads(line) for line in out.stdout.splitlines()]
    assert records[0]["type"] == "GenerationStarted" and records[0]["model"] == "echo-1"
    assert records[-1]["type"] == "GenerationFinished" and records[-1]["status"] == "completed"
    rebuilt = []
    for record in records:
        cls = getattr(ev, record.pop("type"))
        record.pop("messages", None)
        record["usage"] = ev.Usage(**record["usage"]) if "usage" in record else None
        if record["usage"] is None:
            del record["usage"]
        rebuilt.append(cls(**record))
    validate_events(rebuilt)


# -- the prompt: argument, standard input, "-" ----------------------------------------------------


def test_piped_stdin_is_the_prompt(cli: Cli) -> None:
    out = cli("run", "-d", "echo", stdin="Ten names for cheesecakes\n")
    assert out.returncode == 0
    # The piped text is kept as read; the answer already ends its line, so none is added.
    assert out.stdout == "Echo: Ten names for cheesecakes\n"


def test_dash_reads_the_prompt_from_stdin(cli: Cli) -> None:
    out = cli("run", "-d", "echo", "-", stdin="from a file")
    assert out.returncode == 0 and out.stdout == "Echo: from a file\n"


def test_piped_text_comes_first_then_a_space_then_the_argument(cli: Cli) -> None:
    out = cli("run", "-d", "echo", "--events", "explain this", stdin="print(1)\n")
    finished = json.loads(out.stdout.splitlines()[-1])
    assert finished["messages"][0]["content"] == "Echo: print(1)\n explain this"


def test_an_empty_prompt_is_a_usage_error(cli: Cli) -> None:
    out = cli("run", "-d", "echo", stdin="  \n")
    assert out.returncode == 2
    assert "no prompt" in out.stderr and "-" in out.stderr and out.stdout == ""


def test_stdin_closed_is_no_prompt_but_the_argument_works(home: Path) -> None:
    env = environment(home)
    done = subprocess.run(
        [*CLI, "run", "-d", "echo", "hi"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0 and done.stdout == "Echo: hi\n"


# -- flags -----------------------------------------------------------------------------------------


def test_usage_prints_the_tokens_on_stderr(cli: Cli) -> None:
    out = cli("run", "-d", "echo", "-u", "three little words")
    assert out.returncode == 0 and out.stdout == "Echo: three little words\n"
    # The echo driver counts words: 3 in; "Echo:" and the three words out. It needs no key:
    # nobody bills it, so it is not priced (and the price table is not loaded for it).
    assert out.stderr == (
        "Tokens: 3 input (0 cached), 4 output (0 reasoning);"
        " cost unknown (the echo driver is not priced)\n"
    )


@pytest.mark.parametrize("level", ["off", "low", "medium", "high", "0", "2048"])
def test_reasoning_takes_an_effort_or_a_budget(cli: Cli, level: str) -> None:
    out = cli("run", "-d", "echo", "-r", level, "think")
    assert out.returncode == 0 and out.stdout == "Echo: think\n", out.stderr


@pytest.mark.parametrize("level", ["max", "-1", "1.5", ""])
def test_reasoning_refuses_anything_else_as_a_usage_error(cli: Cli, level: str) -> None:
    out = cli("run", "-d", "echo", "--reasoning", level, "think")
    assert out.returncode == 2 and out.stdout == ""
    assert f"argument -r/--reasoning: {level!r} is not off, low, medium, high" in out.stderr


def test_no_stream_prints_the_same_answer(cli: Cli) -> None:
    out = cli("run", "-d", "echo", "--no-stream", "all at once")
    assert out.returncode == 0 and out.stdout == "Echo: all at once\n"


def test_key_is_used_for_the_call_and_never_shown_or_stored(cli: Cli, home: Path) -> None:
    key = "sk-test-0123456789abcdef"
    out = cli("run", "-d", "testthirdparty", "--key", key, f"my key is {key}")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[:3] == ["MY", "KEY", "IS"]
    assert key not in out.stderr
    stored = (home / "logs.db").read_bytes()
    assert b"my key is ***" in stored  # the prompt was logged, the key masked
    assert key.encode() not in stored


def test_missing_key_names_the_variable_and_the_flag(cli: Cli) -> None:
    out = cli("run", "-d", "testthirdparty", "hi")
    assert out.returncode == 1
    assert "set TESTTHIRDPARTY_API_KEY or pass --key" in out.stderr
    assert "api_key" not in out.stderr


def test_a_bad_base_url_names_the_flag(cli: Cli) -> None:
    out = cli("run", "-d", "echo", "--base-url", "localhost:8000", "hi")
    assert out.returncode == 1
    assert "--base-url must start with http:// or https://" in out.stderr
    assert "base_url" not in out.stderr


def test_unknown_driver_exits_1_with_the_message(cli: Cli) -> None:
    out = cli("run", "-d", "openia", "hi")
    assert out.returncode == 1
    assert "No driver named 'openia'" in out.stderr and out.stdout == ""


def test_a_bad_option_exits_1_and_says_which(cli: Cli) -> None:
    out = cli("run", "-d", "echo", "-o", "temperature", "hi")
    assert out.returncode == 1 and "'temperature' is not KEY=VALUE" in out.stderr


# -- ends: Ctrl-C and closed pipes -----------------------------------------------------------------


def _streaming(home: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*CLI, "run", "-d", "echo", "-o", "delay=0.05", *args, WORDS],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment(home),
    )


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_cancels_cleanly_and_exits_130(home: Path) -> None:
    process = _streaming(home)
    assert process.stdout is not None
    first = process.stdout.read(5)  # wait until the answer is streaming
    assert first.startswith("Echo")
    sent = time.monotonic()
    process.send_signal(signal.SIGINT)
    rest, err = process.communicate(timeout=30)
    assert process.returncode == 130
    assert time.monotonic() - sent < 10
    assert "cancelled" in err and "Traceback" not in err
    assert len((first + rest).split()) < 400  # it stopped, it did not run to the end


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX pipes")
def test_closed_stdout_cancels_and_exits_141_quietly(home: Path) -> None:
    process = _streaming(home, "--events")
    assert process.stdout is not None and process.stderr is not None
    first = json.loads(process.stdout.readline())
    assert first["type"] == "GenerationStarted"
    closed = time.monotonic()
    process.stdout.close()  # the reader goes away, as `| head -1` does
    err = process.stderr.read()
    assert process.wait(timeout=30) == 141
    assert time.monotonic() - closed < 10  # cancelled, not 20 s of answer into nowhere
    assert err == "", err  # no traceback, no "Exception ignored"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX pipes")
@pytest.mark.parametrize("args", [["list"], ["--version"], ["run", "-d", "echo", "hi"]])
def test_a_pipe_closed_before_the_first_write_exits_141_quietly(
    home: Path, args: list[str]
) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            [*CLI, *args],
            stdin=subprocess.DEVNULL,
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            env=environment(home),
            timeout=60,
        )
    finally:
        os.close(write_end)
    assert done.returncode == 141
    assert done.stderr == ""


@pytest.mark.skipif(sys.platform == "win32", reason="a POSIX shell")
def test_head_in_a_shell_pipeline_sees_one_line_and_status_141(home: Path) -> None:
    command = shlex.join([*CLI, "run", "-d", "echo", "--events", "-o", "delay=0.02", WORDS])
    script = f"set -o pipefail; {command} | head -1"
    started = time.monotonic()
    done = subprocess.run(
        ["bash", "-c", script],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=environment(home),
        timeout=60,
    )
    assert done.returncode == 141
    assert len(done.stdout.splitlines()) == 1 and done.stderr == ""
    assert time.monotonic() - started < 6  # 400 parts at 0.02 s would take 8 s


# -- what stays light ------------------------------------------------------------------------------


def test_only_logging_imports_sqlite(home: Path) -> None:
    # One interpreter, the light commands first: once imported, sqlite3 stays in sys.modules.
    probe = """
import sys
from janito_core.cli import main
for args in (["list"], ["--version"], ["run", "-d", "echo", "--no-log", "hi"]):
    assert main(args) == 0 and "sqlite3" not in sys.modules, args
assert main(["run", "-d", "echo", "hi"]) == 0 and "sqlite3" in sys.modules
print("light", file=sys.stderr)
"""
    done = subprocess.run(
        [sys.executable, "-c", probe],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=environment(home),
        timeout=60,
    )
    assert done.returncode == 0 and done.stderr.endswith("light\n"), done.stderr
