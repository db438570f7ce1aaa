"""Pytest fixtures of the testing kit, for plugin authors' own tests.

Import the ones you use into your ``conftest.py``::

    from janito_core.testing.fixtures import run, server  # noqa: F401

or enable them all in a test module or a root ``conftest.py``::

    pytest_plugins = ["janito_core.testing.fixtures"]
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest

from janito_core import events as ev
from janito_core.harness import EventStream
from janito_core.testing.helpers import client_threads, finish, new_threads, shared_loop_tasks
from janito_core.testing.server import WireServer

__all__ = ["no_leaked_threads", "run", "server", "wire_server"]


@pytest.fixture
def wire_server() -> Iterator[WireServer]:
    """A running loopback ``WireServer``; stopped after the test, its threads joined."""
    with WireServer() as server:
        yield server


@pytest.fixture
def server() -> Iterator[WireServer]:
    """A running ``WireServer``; once it stops, every thread the test started must be gone
    (the shared ``janito-loop`` thread aside)."""
    before = threading.enumerate()
    with WireServer() as wire:
        yield wire
    left = new_threads(before)
    assert not left, f"threads left behind: {left}"


@pytest.fixture
def run() -> Callable[[EventStream], list[ev.Event]]:
    """``run(stream)``: ``finish`` it, then check the client threads are those of the set-up."""
    baseline = client_threads()

    def consume(stream: EventStream) -> list[ev.Event]:
        events = finish(stream)
        now = client_threads()
        assert now == baseline, f"client threads changed: {sorted(t.name for t in now ^ baseline)}"
        return events

    return consume


@pytest.fixture
def no_leaked_threads() -> Iterator[None]:
    """Fail the test if it leaves a thread, or a task on the shared loop, behind (each gets 2 s
    to end); the shared ``janito-loop`` thread, which lives for the process, is not a leak."""
    before = threading.enumerate()
    yield
    alive = new_threads(before, grace=2.0)
    assert not alive, f"threads left behind: {alive}"
    tasks = shared_loop_tasks(grace=2.0)
    assert not tasks, f"tasks left on the shared loop: {tasks}"
