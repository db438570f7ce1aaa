"""Fixtures for the Anthropic driver tests: the kit's loopback ``server`` and ``run`` (consume a
generation, check the event order and the threads), drivers pointed at the server."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# The wire adapter sits next to the tests; its module name is unique across the workspace.
sys.path.insert(0, str(Path(__file__).parent))

from anthropic_wire import AnthropicWireAdapter
from janito_driver_anthropic.driver import AnthropicDriver

from janito_core.testing import closing_drivers
from janito_core.testing.fixtures import run, server  # noqa: F401
from janito_core.testing.server import WireServer


@pytest.fixture
def adapter() -> AnthropicWireAdapter:
    return AnthropicWireAdapter()


@pytest.fixture
def make_driver(
    server: WireServer,  # noqa: F811
    adapter: AnthropicWireAdapter,
) -> Iterator[Callable[..., AnthropicDriver]]:
    """Build drivers talking to ``server``; all are closed at teardown."""

    def build(**config: Any) -> AnthropicDriver:
        config.setdefault("retry_base_delay", 0.01)
        return adapter.make_driver(config.pop("base_url", server.url), **config)

    with closing_drivers(build) as make:
        yield make
