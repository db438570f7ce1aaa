"""Fixtures for the OpenAI driver tests: the kit's loopback ``server`` and ``run`` (consume a
generation, check the event order and that no thread is left), drivers pointed at the server."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# The wire adapters sit next to the tests; their module names are unique in the workspace.
sys.path.insert(0, str(Path(__file__).parent))

from janito_driver_openai.driver import OpenAIDriver
from openai_wire import ChatWireAdapter, ResponsesWireAdapter

from janito_core.cost import preload_prices
from janito_core.testing import closing_drivers
from janito_core.testing.fixtures import run, server  # noqa: F401
from janito_core.testing.server import WireServer


@pytest.fixture(scope="session", autouse=True)
def _prices_loaded() -> None:
    """The price table's one-off loading thread, started and ended before any test: the first
    generation of a priced driver would start it, and ``run`` would count it as left behind."""
    driver = OpenAIDriver(api_key="sk-prices", base_url="http://127.0.0.1:9/v1")
    try:
        preload_prices(driver)
        for thread in threading.enumerate():
            if thread.name == "janito-prices-preload":
                thread.join(timeout=30)
    finally:
        driver.close()


@pytest.fixture(params=["chat", "responses"])
def adapter(request: pytest.FixtureRequest) -> ChatWireAdapter:
    """The wire adapter of each API, in turn."""
    return ChatWireAdapter() if request.param == "chat" else ResponsesWireAdapter()


@pytest.fixture
def make_driver(server: WireServer) -> Iterator[Callable[..., OpenAIDriver]]:  # noqa: F811
    """Build drivers talking to ``server`` (``api=`` picks the API); all closed at teardown."""

    def build(**config: Any) -> OpenAIDriver:
        config.setdefault("retry_base_delay", 0.01)
        adapter = ResponsesWireAdapter() if config.get("api") == "responses" else ChatWireAdapter()
        config.pop("api", None)
        return adapter.make_driver(server.url, **config)

    with closing_drivers(build) as make:
        yield make
