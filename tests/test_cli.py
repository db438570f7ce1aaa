"""``janito-drivers``, run as users run it: a subprocess."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

CLI = [sys.executable, "-m", "janito_core.cli"]


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, **(env or {})}
    environment.pop("JANITO_DRIVER", None) if env is None or "JANITO_DRIVER" not in env else None
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, env=environment, timeout=60
    )


def test_list_shows_drivers_distributions_versions_and_status() -> None:
    out = cli("list")
    assert out.returncode == 0
    lines = out.stdout.splitlines()
    assert lines[0].split() == ["DRIVER", "DISTRIBUTION", "VERSION", "STATUS"]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert rows["echo"].split()[1:] == ["janito-core", "0.1.0", "ok"]
    assert "janito-driver-testthirdparty" in rows["testthirdparty"]
    assert "error: failed to import" in rows["broken"]


def test_run_falls_back_to_echo_and_says_so() -> None:
    out = cli("run", "Tell me a joke")
    assert out.returncode == 0
    assert out.stdout == "Echo: Tell me a joke\n"
    assert "offline echo driver" in out.stderr


def test_run_with_janito_driver_variable() -> None:
    out = cli(
        "run",
        "quiet please",
        env={"JANITO_DRIVER": "testthirdparty", "TESTTHIRDPARTY_API_KEY": "k"},
    )
    assert out.returncode == 0 and out.stdout.split() == ["QUIET", "PLEASE"]
    assert out.stderr == ""


def test_events_are_json_lines_in_contract_order() -> None:
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


def test_unknown_driver_exits_1_with_the_message() -> None:
    out = cli("run", "-d", "openia", "hi")
    assert out.returncode == 1
    assert "No driver named 'openia'" in out.stderr and out.stdout == ""


def test_missing_key_exits_1_naming_the_variable() -> None:
    env = {k: v for k, v in os.environ.items() if k != "TESTTHIRDPARTY_API_KEY"}
    out = subprocess.run(
        [*CLI, "run", "-d", "testthirdparty", "hi"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert out.returncode == 1 and "set TESTTHIRDPARTY_API_KEY" in out.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_cancels_cleanly_and_exits_130() -> None:
    words = " ".join(f"w{i}" for i in range(400))
    process = subprocess.Popen(
        [*CLI, "run", "-d", "echo", "-o", "delay=0.05", words],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
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
