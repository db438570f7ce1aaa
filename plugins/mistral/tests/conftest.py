"""Fixtures for the Mistral driver tests: a loopback server, drivers pointed at it, and
helpers that run a generation to its end and check the event order and the threads."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# The wire adapter sits next to the tests; its module name is unique across the workspace.
sys.path.insert(0, str(Path(__file__).parent))

from janito_driver_mistral.driver import MistralDriver
from mistral_support import client_threads
from mistral_wire import MistralWireAdapter

from janito_core import events as ev
from janito_core.harness import EventStream
from janito_core.testing import validate_events
from janito_core.testing.server import WireServer


@pytest.fixture
def server() -> Iterator[WireServer]:
    """A running ``WireServer``; on teardown, every thread the test started must be gone."""
    before = threading.active_count()
    with WireServer() as wire:
        yield wire
    assert threading.active_count() == before, [t.name for t in threading.enumerate()]


@pytest.fixture
def adapter() -> MistralWireAdapter:
    return MistralWireAdapter()


@pytest.fixture
def make_driver(
    server: WireServer, adapter: MistralWireAdapter
) -> Iterator[Callable[..., MistralDriver]]:
    """Build drivers talking to ``server``; all are closed at teardown."""
    made: list[MistralDriver] = []

    def make(**config: Any) -> MistralDriver:
        config.setdefault("retry_base_delay", 0.01)
        driver = adapter.make_driver(config.pop("base_url", server.url), **config)
        made.append(driver)
        return driver

    yield make
    for driver in made:
        driver.close()


@pytest.fixture
def run() -> Callable[[EventStream], list[ev.Event]]:
    """Consume a stream, wait for its worker, and check the event order and the thread count."""
    baseline = client_threads()

    def consume(stream: EventStream) -> list[ev.Event]:
        events = list(stream)
        assert stream.join(5.0), "the generation thread did not end"
        validate_events(events)
        assert client_threads() == baseline
        return events

    return consume
