"""Fixtures for the cross-driver tests: the kit's loopback ``server``, and each plugin's wire
adapter made importable (they sit next to that plugin's tests, under unique module names)."""

from __future__ import annotations

import sys
from pathlib import Path

_PLUGINS = Path(__file__).resolve().parents[2] / "plugins"
for _tests in sorted(_PLUGINS.glob("*/tests")):
    if str(_tests) not in sys.path:
        sys.path.insert(0, str(_tests))
sys.path.insert(0, str(Path(__file__).parent))

from janito_core.testing.fixtures import server  # noqa: E402, F401
