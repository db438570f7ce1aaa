"""Root fixtures for every test of the workspace."""

from __future__ import annotations

import pytest

from janito_core.background import shared_loop


@pytest.fixture(scope="session", autouse=True)
def _shared_loop_started() -> None:
    """Start the background loop up front: it is one thread for the whole process, never a leak."""
    shared_loop()
