"""The conformance suite's own machinery: running a coroutine, closing a driver, capabilities."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from janito_core import LLMDriver
from janito_core.testing.conformance import (
    CAPABILITIES,
    END_MARKER,
    DriverConformanceTests,
    base,
)
from janito_core.testing.conformance.cancel import _close_within
from janito_core.testing.scenario import Scenario, WireAdapter
from janito_core.testing.server import RecordedRequest, Reply


class NoWire(WireAdapter):
    unsupported = {END_MARKER: "this wire ends a response only by closing the connection"}

    def make_driver(self, base_url: str, **config: Any) -> LLMDriver:
        raise NotImplementedError

    def reply(self, scenario: Scenario) -> Reply:
        raise NotImplementedError

    def tool_results(self, request: RecordedRequest) -> list[tuple[str, str]]:
        raise NotImplementedError


class Kit(DriverConformanceTests):
    adapter = NoWire()


def test_end_marker_is_a_capability_a_provider_can_lack() -> None:
    assert END_MARKER in CAPABILITIES
    with pytest.raises(pytest.skip.Exception, match="end_marker unsupported: this wire ends"):
        Kit().require(END_MARKER)


def test_the_new_scenarios_are_guarded_standard_tests() -> None:
    for name in (
        "test_drop_before_content_is_retried",
        "test_end_without_marker_after_content",
        "test_read_timeout_before_content_is_retried",
        "test_raw_line_separators_and_split_characters",
        "test_cancel_while_connecting",
        "test_close_driver_mid_generation",
        "test_async_close_driver_mid_generation",
    ):
        with pytest.raises(TypeError, match=name):
            type("Quiet", (DriverConformanceTests,), {name: None})


@pytest.mark.parametrize("mixin", DriverConformanceTests.__mro__[1:-2], ids=lambda c: c.__name__)
def test_every_mixins_tests_are_guarded_standard_tests(mixin: type) -> None:
    names = [name for name in vars(mixin) if name.startswith("test_")]
    assert names, f"{mixin.__name__} holds no test"
    for name in names:
        with pytest.raises(TypeError, match=name):
            type("Quiet", (DriverConformanceTests,), {name: None})


def test_two_mixins_may_not_define_the_same_test() -> None:
    class One(base.ConformanceBase):
        def test_same(self) -> None:
            pass

    class Two(base.ConformanceBase):
        def test_same(self) -> None:
            pass

    with pytest.raises(TypeError, match="test_same is defined by both"):

        class Suite(One, Two, standard=True):
            pass


def test_run_async_returns_the_result_and_raises_the_error() -> None:
    async def answer() -> int:
        return 42

    async def fail() -> int:
        raise KeyError("missing")

    assert Kit().run_async(answer) == 42
    with pytest.raises(KeyError, match="missing"):
        Kit().run_async(fail)


def test_run_async_fails_when_the_loop_is_blocked(monkeypatch: pytest.MonkeyPatch) -> None:
    # Where run_async reads them.
    monkeypatch.setattr(base, "DEADLINE", 0.05)
    monkeypatch.setattr(base, "PROMPTLY", 0.05)
    release = threading.Event()

    async def block() -> None:
        release.wait(10.0)  # a blocking call on the loop, as a wrong close() would make

    try:
        with pytest.raises(AssertionError, match="something blocked it"):
            Kit().run_async(block)
    finally:
        release.set()
        for thread in threading.enumerate():
            if thread.name == "conformance-asyncio":
                thread.join()


class Closable:
    def __init__(self, block: threading.Event | None = None, error: Exception | None = None):
        self.block, self.error = block, error

    def close(self) -> None:
        if self.block is not None:
            self.block.wait(10.0)
        if self.error is not None:
            raise self.error


def test_close_within_reports_a_slow_close_and_its_error() -> None:
    _close_within(Closable(), 1.0)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="pool gone"):
        _close_within(Closable(error=RuntimeError("pool gone")), 1.0)  # type: ignore[arg-type]
    release = threading.Event()
    try:
        with pytest.raises(AssertionError, match="took more than"):
            _close_within(Closable(block=release), 0.05)  # type: ignore[arg-type]
    finally:
        release.set()
        for thread in threading.enumerate():
            if thread.name == "conformance-close":
                thread.join()
