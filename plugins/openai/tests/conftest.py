"""Fixtures for the OpenAI driver tests: a loopback server, drivers pointed at it, and a
runner that consumes a generation, checks the event order and that no thread is left."""

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
from openai_support import client_threads
from openai_wire import ChatWireAdapter, ResponsesWireAdapter

from janito_core import events as ev
from janito_core.harness import EventStream
from janito_core.testing import validate_events
from janito_core.testing.server import WireServer


@pytest.fixture
def server() -> Iterator[WireServer]:
    """A running ``WireServer``; once it stops, every thread the test started must be gone."""
    before = threading.active_count()
    with WireServer() as wire:
        yield wire
    assert threading.active_count() == before, [t.name for t in threading.enumerate()]


@pytest.fixture(params=["chat", "responses"])
def adapter(request: pytest.FixtureRequest) -> ChatWireAdapter:
    """The wire adapter of each API, in turn."""
    return ChatWireAdapter() if request.param == "chat" else ResponsesWireAdapter()


@pytest.fixture
def make_driver(server: WireServer) -> Iterator[Callable[..., OpenAIDriver]]:
    """Build drivers talking to ``server`` (``api=`` picks the API); all closed at teardown."""
    made: list[OpenAIDriver] = []

    def make(**config: Any) -> OpenAIDriver:
        config.setdefault("retry_base_delay", 0.01)
        adapter = ResponsesWireAdapter() if config.get("api") == "responses" else ChatWireAdapter()
        config.pop("api", None)
        driver = adapter.make_driver(server.url, **config)
        made.append(driver)
        return driver

    yield make
    for driver in made:
        driver.close()


@pytest.fixture
def run() -> Callable[[EventStream], list[ev.Event]]:
    """Consume a stream, wait for its worker, check the event order and the thread count."""
    baseline = client_threads()

    def consume(stream: EventStream) -> list[ev.Event]:
        events = list(stream)
        assert stream.join(5.0), "the generation thread did not end"
        validate_events(events)
        assert client_threads() == baseline, [t.name for t in threading.enumerate()]
        return events

    return consume
