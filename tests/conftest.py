"""Shared fixtures for the core tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from janito_core import registry


@pytest.fixture
def no_leaked_threads() -> Iterator[None]:
    """Fail the test if it leaves a thread behind."""
    before = {t.ident for t in threading.enumerate()}
    yield
    left = [t for t in threading.enumerate() if t.ident not in before and t.is_alive()]
    for thread in left:
        thread.join(2.0)
    alive = [t.name for t in left if t.is_alive()]
    assert not alive, f"threads left behind: {alive}"


@pytest.fixture
def fresh_registry() -> Iterator[None]:
    """Rebuild the plugin registry around the test (it reads the environment)."""
    registry.reload_plugins()
    yield
    registry.reload_plugins()
