"""Core stays light: importing it, or listing drivers, loads no provider SDK."""

from __future__ import annotations

import os
import subprocess
import sys

SDKS = ("openai", "google.genai", "mistralai", "httpx2", "pydantic")

PROBE = """
import sys
{code}
heavy = [m for m in {sdks!r} if m in sys.modules]
print(",".join(heavy) or "none")
"""


def loaded_after(code: str) -> str:
    script = PROBE.format(code=code, sdks=SDKS)
    # No stdin (`run` reads piped stdin as the prompt) and no conversation log written to the
    # user's data folder.
    env = {**os.environ, "JANITO_NO_LOG": "1"}
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        stdin=subprocess.DEVNULL,
        env=env,
    )
    return out.stdout.strip().splitlines()[-1]


def test_import_janito_core_loads_no_sdk() -> None:
    assert (
        loaded_after("import janito_core; from janito_core import Tool, Message, events") == "none"
    )


def test_listing_drivers_loads_no_sdk() -> None:
    code = "from janito_core.cli import main; main(['list'])"
    assert loaded_after(code) == "none"


def test_the_echo_run_loads_no_sdk() -> None:
    code = "from janito_core.cli import main; main(['run', '-d', 'echo', 'hi'])"
    assert loaded_after(code) == "none"
