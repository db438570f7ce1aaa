"""The example scripts run offline, with the echo driver, as their docstrings say."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from janito_core.testing import media

HERE = Path(__file__).parent


def run(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(HERE / script), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "JANITO_DRIVER": "echo"},
    )


def test_describe_files(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(media.png())
    done = run("describe_files.py", str(tmp_path / "a.png"))
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"Echo: What is in these files? [image/png, {len(media.png())} bytes]\n"
    missing = run("describe_files.py", str(tmp_path / "gone.pdf"))
    assert missing.returncode == 2 and "no such file" in missing.stderr


def test_extract_invoice() -> None:
    done = run("extract_invoice.py", '{"number": "F-7", "total": 120.5, "currency": "EUR"}')
    assert (done.returncode, done.stdout) == (0, "F-7: 120.50 EUR, due -\n"), done.stderr
    bad = run("extract_invoice.py", "Invoice F-7 for 120.50 EUR")
    assert bad.returncode == 1 and "not JSON" in bad.stderr
