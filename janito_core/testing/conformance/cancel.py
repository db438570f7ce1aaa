"""The standard tests of stopping a generation: a cancel, a closed stream, a closed driver."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from janito_core import events as ev
from janito_core.driver import LLMDriver
from janito_core.errors import JanitoError
from janito_core.harness import EventStream
from janito_core.testing.backlog import FullBacklog
from janito_core.testing.conformance.base import ConformanceBase, DriverFactory
from janito_core.testing.conformance.bounds import DEADLINE, PROMPTLY
from janito_core.testing.conformance.capabilities import RETRY_AFTER
from janito_core.testing.conformance.generation import Generation
from janito_core.testing.helpers import closing_drivers, new_threads
from janito_core.testing.scenario import Call, HttpError, Scenario, Silence, Text
from janito_core.testing.server import WireServer
from janito_core.tools import Tool


class CancelTests(ConformanceBase):
    """A cancel or a close ends the generation promptly, closes its connection, sends no more."""

    def test_cancel_while_server_silent_mid_stream(
        self, server: WireServer, driver: DriverFactory
    ) -> None:
        self.serve(server, Scenario(steps=(Text("Hello"), Silence())))
        cancel = threading.Event()
        cancelled_at: list[float] = []

        def cancel_on_text(event: ev.Event, stream: EventStream) -> None:
            if isinstance(event, ev.ContentPartFound) and not cancelled_at:
                cancelled_at.append(time.monotonic())
                cancel.set()

        generation = self.generate(driver(), cancel_event=cancel, on_event=cancel_on_text)
        assert_cancelled(server, generation, cancelled_at)
        assert generation.text == "Hello"

    def test_cancel_while_server_silent_before_content(
        self, server: WireServer, driver: DriverFactory
    ) -> None:
        self.serve(server, Scenario(steps=(Silence(),)))
        cancel = threading.Event()
        cancelled_at: list[float] = []

        def cancel_once_sent(event: ev.Event, stream: EventStream) -> None:
            if isinstance(event, ev.RequestStarted):
                # Once the server holds the request, the driver is waiting for its answer.
                server.wait_for_requests(1, timeout=PROMPTLY)
                cancelled_at.append(time.monotonic())
                cancel.set()

        generation = self.generate(driver(), cancel_event=cancel, on_event=cancel_once_sent)
        assert_cancelled(server, generation, cancelled_at)
        assert generation.text == ""

    def test_cancel_during_tool(self, server: WireServer, driver: DriverFactory) -> None:
        noticed = threading.Event()

        def wait_for_cancel(cancel_event: threading.Event) -> str:
            """Block until the generation is cancelled."""
            if cancel_event.wait(DEADLINE):
                noticed.set()
            return "stopped"

        call = Call(name="wait_for_cancel", arguments="{}", id="call_1")
        self.serve(
            server,
            Scenario(steps=(call,), finish_reason="tool_calls"),
            Scenario(steps=(Text("never asked for"),)),
        )
        cancelled_at: list[float] = []

        def cancel_on_call(event: ev.Event, stream: EventStream) -> None:
            if isinstance(event, ev.ToolCallStarted):
                cancelled_at.append(time.monotonic())
                stream.cancel()

        generation = self.generate(
            driver(), tools=[Tool.from_function(wait_for_cancel)], on_event=cancel_on_call
        )
        assert cancelled_at, f"the tool call never started: {generation.kinds}"
        assert generation.ended_at - cancelled_at[0] < PROMPTLY
        tail = [type(e).__name__ for e in generation.events[-3:]]
        assert tail == ["ToolCallError", "RequestFinished", "GenerationFinished"], (
            f"a tool cut short by the cancel must end in ToolCallError, not its late result: {tail}"
        )
        assert generation.one(ev.RequestFinished).status == "cancelled"
        assert generation.finished.status == "cancelled"
        assert noticed.is_set(), "the tool's cancel_event was never set"
        assert len(server.requests) == 1, "a request was sent after the cancel"

    def test_cancel_during_backoff(self, server: WireServer, driver: DriverFactory) -> None:
        # Without a Retry-After the driver's own back-off must be long; it is, from this base.
        supported = RETRY_AFTER not in self.adapter.unsupported
        limited = HttpError(
            status=429, message="slow down", retry_after=30.0 if supported else None
        )
        self.serve(server, Scenario(error=limited))
        cancel = threading.Event()
        cancelled_at: list[float] = []

        def cancel_on_retry(event: ev.Event, stream: EventStream) -> None:
            if isinstance(event, ev.RequestRetry):
                cancelled_at.append(time.monotonic())
                cancel.set()

        generation = self.generate(
            driver(retry_base_delay=30.0), cancel_event=cancel, on_event=cancel_on_retry
        )
        assert cancelled_at, f"no RequestRetry came: {generation.kinds}"
        assert generation.one(ev.RequestRetry).delay >= 20.0
        assert generation.ended_at - cancelled_at[0] < PROMPTLY
        assert generation.one(ev.RequestFinished).status == "cancelled"
        assert generation.finished.status == "cancelled"
        assert len(server.requests) == 1, "a request was sent after the cancel"

    def test_close_after_first_content(self, server: WireServer, driver: DriverFactory) -> None:
        self.serve(server, Scenario(steps=(Text("Hello"), Silence())))

        def close_on_text(event: ev.Event, stream: EventStream) -> None:
            if isinstance(event, ev.ContentPartFound):
                stream.close()

        generation = self.generate(driver(), on_event=close_on_text, validate=False)
        assert generation.kinds == ["GenerationStarted", "RequestStarted", "ContentPartFound"]
        (request,) = server.requests
        assert request.wait_closed(PROMPTLY), "the server never saw the connection go"
        assert request.outcome == "client_disconnected", request

    def test_cancel_while_connecting(self) -> None:
        if not FullBacklog.available():
            pytest.skip("seeing a connect in progress needs Linux's /proc/net/tcp")
        with (
            FullBacklog() as port,
            closing_drivers(lambda **config: self._build(port.url, **config)) as make,
        ):
            cancel = threading.Event()
            cancelled_at: list[float] = []

            def cancel_while_connecting(event: ev.Event, stream: EventStream) -> None:
                if isinstance(event, ev.RequestStarted):
                    assert port.wait_connecting(DEADLINE / 4), (
                        "the driver's connection never showed as connecting (SYN_SENT)"
                    )
                    cancelled_at.append(time.monotonic())
                    cancel.set()

            before = threading.enumerate()
            generation = self.generate(
                make(), cancel_event=cancel, on_event=cancel_while_connecting
            )
            assert cancelled_at, f"the test never cancelled: {generation.kinds}"
            took = generation.ended_at - cancelled_at[0]
            assert took < PROMPTLY, f"the stream took {took:.2f}s to end after the cancel"
            assert generation.one(ev.RequestFinished).status == "cancelled"
            assert generation.finished.status == "cancelled"
            # ``generate`` saw the generation end; its socket must be gone as promptly.
            assert port.wait_none_connecting(PROMPTLY), (
                f"the socket was still connecting {PROMPTLY}s after the generation ended"
            )
            # Checked here: once the port closes, a connect stuck on it fails and frees its
            # thread, which would hide the leak.
            left = new_threads(before, grace=PROMPTLY)
            assert not left, f"threads still running after the cancel: {left}"

    # -- closing the driver ------------------------------------------------------------------

    def test_close_driver_mid_generation(self, server: WireServer, driver: DriverFactory) -> None:
        self.serve(server, Scenario(steps=(Text("Hello"), Silence())))
        built = driver()
        closed_at: list[float] = []

        def close_on_text(event: ev.Event, stream: EventStream) -> None:
            if isinstance(event, ev.ContentPartFound) and not closed_at:
                closed_at.append(time.monotonic())
                _close_within(built, PROMPTLY)

        generation = self.generate(built, on_event=close_on_text)
        assert closed_at, f"no text came: {generation.kinds}"
        assert_ended_by_close(server, generation, closed_at[0])
        assert_refuses_when_closed(server, lambda: self.generate(built))


def assert_cancelled(server: WireServer, generation: Generation, cancelled_at: list[float]) -> None:
    """The generation ended promptly as cancelled, and its connection is gone."""
    assert cancelled_at, f"the test never cancelled: {generation.kinds}"
    took = generation.ended_at - cancelled_at[0]
    assert took < PROMPTLY, f"the stream took {took:.2f}s to end after the cancel"
    assert generation.one(ev.RequestFinished).status == "cancelled"
    assert generation.finished.status == "cancelled"
    (request,) = server.requests
    assert request.wait_closed(PROMPTLY), "the server never saw the connection go"
    assert request.outcome == "client_disconnected", request


def assert_ended_by_close(server: WireServer, generation: Generation, closed_at: float) -> None:
    """The generation ended promptly in error, after its text "Hello", saying the driver closed."""
    took = generation.ended_at - closed_at
    assert took < PROMPTLY, f"the stream took {took:.2f}s to end after driver.close()"
    assert generation.text == "Hello"
    assert generation.finished.status == "error", (
        f"a generation ended by driver.close() must end in error: {generation.kinds}"
    )
    error = generation.one(ev.RequestError)
    assert "closed" in error.error.lower(), f"the error does not say why: {error.error}"
    assert not generation.of(ev.RequestRetry), "retried on a closed driver"
    (request,) = server.requests
    assert request.wait_closed(PROMPTLY), "the server never saw the connection go"
    assert request.outcome == "client_disconnected", request


def assert_refuses_when_closed(server: WireServer, run: Callable[[], Generation]) -> None:
    """``run()``, a generation on a closed driver, fails saying so and sends nothing.

    It may fail at the call (a ``JanitoError``) or in its stream (a ``RequestError``).
    """
    try:
        later = run()
    except JanitoError as exc:
        assert "closed" in str(exc).lower(), f"the refusal does not say why: {exc}"
    else:
        assert later.finished.status == "error", f"a closed driver still ran: {later.kinds}"
        error = later.one(ev.RequestError)
        assert "closed" in error.error.lower(), f"the error does not say why: {error.error}"
        assert not later.of(ev.RequestRetry), "retried on a closed driver"
    assert len(server.requests) == 1, "a closed driver sent a request"


def _close_within(driver: LLMDriver, seconds: float) -> None:
    """``driver.close()`` on a thread of its own, failing if it takes over ``seconds``."""
    failed: list[BaseException] = []

    def close() -> None:
        try:
            driver.close()
        except BaseException as exc:
            failed.append(exc)

    closer = threading.Thread(target=close, name="conformance-close", daemon=True)
    closer.start()
    closer.join(seconds)
    assert not closer.is_alive(), f"driver.close() took more than {seconds}s"
    if failed:
        raise failed[0]
