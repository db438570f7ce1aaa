"""Pytest fixtures of the testing kit, for plugin authors' own tests.

Enable them in a test module or a root ``conftest.py``::

    pytest_plugins = ["janito_core.testing.fixtures"]
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from janito_core.testing.server import WireServer

__all__ = ["wire_server"]


@pytest.fixture
def wire_server() -> Iterator[WireServer]:
    """A running loopback ``WireServer``; stopped after the test, its threads joined."""
    with WireServer() as server:
        yield server
