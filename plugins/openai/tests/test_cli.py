"""``janito-drivers run -d openai --base-url ...`` in a subprocess against the loopback server."""

from __future__ import annotations

import os
import subprocess
import sys

from openai_wire import ChatWireAdapter

from janito_core.testing.scenario import Scenario, Text
from janito_core.testing.server import WireServer


def test_run_streams_the_answer_to_stdout(server: WireServer) -> None:
    adapter = ChatWireAdapter()
    server.enqueue(adapter.reply(Scenario(steps=(Text("Hello"), Text(" from"), Text(" loopback")))))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JANITO_", "OPENAI_"))}
    env["OPENAI_API_KEY"] = adapter.api_key
    env["JANITO_NO_LOG"] = "1"  # no conversation log in the user's data folder
    command = [
        sys.executable,
        "-m",
        "janito_core.cli",
        "run",
        "-d",
        "openai",
        "-m",
        "gpt-cli",
        "--base-url",
        f"{server.url}/v1",
        "Say hello",
    ]
    done = subprocess.run(
        command,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,  # piped stdin would be read as the prompt
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "Hello from loopback\n"
    assert adapter.api_key not in done.stdout + done.stderr
    (record,) = server.requests
    assert record.path == "/v1/chat/completions"
    assert record.json["model"] == "gpt-cli"
    assert record.json["messages"] == [{"role": "user", "content": "Say hello"}]
    assert record.headers["authorization"] == f"Bearer {adapter.api_key}"
