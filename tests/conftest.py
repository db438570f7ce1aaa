"""Shared fixtures for the core tests (``no_leaked_threads`` comes from the testing kit)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from janito_core import registry
from janito_core.testing.fixtures import no_leaked_threads  # noqa: F401


@pytest.fixture
def fresh_registry() -> Iterator[None]:
    """Rebuild the plugin registry around the test (it reads the environment)."""
    registry.reload_plugins()
    yield
    registry.reload_plugins()
