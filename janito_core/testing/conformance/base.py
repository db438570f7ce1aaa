"""The machinery every conformance test runs under: fixtures, helpers and the checks after."""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import threading
import time
from collections.abc import Callable, Coroutine, Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import pytest

from janito_core import events as ev
from janito_core.driver import LLMDriver
from janito_core.harness import EventStream
from janito_core.testing.conformance.bounds import DEADLINE, DRIVER_DEFAULTS, PROMPTLY
from janito_core.testing.conformance.capabilities import CAPABILITIES
from janito_core.testing.conformance.generation import Generation
from janito_core.testing.conformance.guard import check_overrides, standard_tests
from janito_core.testing.conformance.leaks import LogTexts, exception_texts
from janito_core.testing.helpers import (
    WIRE_SERVER_THREADS,
    closing_drivers,
    new_threads,
    shared_loop_tasks,
)
from janito_core.testing.scenario import Scenario, WireAdapter
from janito_core.testing.server import WireServer
from janito_core.testing.validator import validate_events
from janito_core.tools import Tool

if TYPE_CHECKING:
    from janito_core.harness import AsyncEventStream

DriverFactory = Callable[..., LLMDriver]
_T = TypeVar("_T")


class ConformanceBase:
    """What the suite's test mixins share; ``DriverConformanceTests`` documents it for users.

    The assembled suite is created with ``standard=True``: its tests become the standard ones,
    which its subclasses may not redefine without ``@conformance_override``.
    """

    adapter: ClassVar[WireAdapter]
    #: Empty on the mixins, so that defining the standard tests is not redefining them.
    _standard_tests: ClassVar[frozenset[str]] = frozenset()

    def __init_subclass__(cls, *, standard: bool = False, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if standard:
            cls._standard_tests = standard_tests(cls)
        else:
            check_overrides(cls, cls._standard_tests)
        adapter = vars(cls).get("adapter")
        if adapter is not None and not isinstance(adapter, WireAdapter):
            hint = " (an instance, not the class)" if isinstance(adapter, type) else ""
            raise TypeError(
                f"{cls.__qualname__}.adapter must be a WireAdapter instance{hint}, got {adapter!r}"
            )

    # -- fixtures --------------------------------------------------------------------------

    @pytest.fixture(autouse=True)
    def _conformance_watch(self) -> Iterator[None]:
        adapter = getattr(type(self), "adapter", None)
        if not isinstance(adapter, WireAdapter):
            pytest.fail(
                f"{type(self).__qualname__} must set the class attribute adapter to a "
                "WireAdapter instance"
            )
        before = self._threads_before = threading.enumerate()
        handler = LogTexts()
        root = logging.getLogger()
        level = root.level
        root.addHandler(handler)
        # DEBUG everywhere: a key leaked in a debug line leaks as soon as someone turns it on.
        root.setLevel(logging.DEBUG)
        self._log_texts = handler.texts
        self._streams: list[EventStream] = []
        try:
            yield
        finally:
            root.removeHandler(handler)
            root.setLevel(level)
            # A test that failed half-way may leave a generation running; one that used no
            # ``driver`` fixture has nobody else to end it.
            for stream in self._streams:
                stream.close()
        left = new_threads(before, grace=PROMPTLY)
        assert not left, f"threads left behind by the test: {left}"
        tasks = shared_loop_tasks(grace=PROMPTLY)
        assert not tasks, f"tasks left on the shared loop by the test: {tasks}"
        self._assert_logs_clean()

    @pytest.fixture
    def server(self, _conformance_watch: None) -> Iterator[WireServer]:
        """A running loopback ``WireServer``, stopped (its threads joined) after the test."""
        with WireServer() as server:
            yield server

    @pytest.fixture
    def driver(self, server: WireServer) -> Iterator[DriverFactory]:
        """``driver(**config)``: the adapter's driver for ``server``, closed after the test."""

        with closing_drivers(lambda **config: self._build(server.url, **config)) as make:
            yield make
            # Before the server stops: stopping it would free a generation stuck on its socket
            # and hide the leak.
            stuck = []
            for stream in self._streams:
                stream.close()
                if not stream.join(PROMPTLY):
                    stuck.append(stream.generation_id)
        assert not stuck, f"generations still running {PROMPTLY}s after the end: {stuck}"
        # Also before the server stops, for the same reason: a worker thread still blocked on
        # its socket once the generation counts as ended.
        left = new_threads(self._threads_before, grace=PROMPTLY, ignore=[WIRE_SERVER_THREADS])
        assert not left, f"threads still running once the test's drivers were closed: {left}"

    def _build(self, url: str, **config: Any) -> LLMDriver:
        built = self.adapter.make_driver(url, **{**DRIVER_DEFAULTS, **config})
        assert built.config.api_key == self.adapter.api_key, (
            "make_driver must build the driver with api_key=adapter.api_key, or the "
            "suite cannot check that the key never leaks"
        )
        return built

    # -- helpers ---------------------------------------------------------------------------

    def require(self, capability: str) -> None:
        """Skip the test, with the adapter's reason, if the provider lacks ``capability``."""
        if capability not in CAPABILITIES:
            raise ValueError(f"unknown capability {capability!r}; known: {sorted(CAPABILITIES)}")
        reason = self.adapter.unsupported.get(capability)
        if reason is not None:
            pytest.skip(f"{capability} unsupported: {reason}")

    def serve(self, server: WireServer, *scenarios: Scenario) -> None:
        """Queue ``scenarios`` in the adapter's wire format, one per coming request."""
        server.enqueue(*(self.adapter.reply(s) for s in scenarios))

    def generate(
        self,
        driver: LLMDriver,
        prompt: str | None = "Hello there.",
        *,
        tools: Sequence[Tool] = (),
        cancel_event: threading.Event | None = None,
        on_event: Callable[[ev.Event, EventStream], object] | None = None,
        validate: bool = True,
        **call: Any,
    ) -> Generation:
        """Stream a generation to its end and check it; ``on_event`` sees each event as it comes.

        ``call`` goes to ``stream_generate`` as is (``messages``, ``attachments``,
        ``output_schema``...).

        Checks: the generation has fully ended (``stream.join``) within ``PROMPTLY`` of the end
        of its stream, the order of events (unless ``validate`` is false, for a stream the test
        closes early) and the absence of the API key. A generation still running after
        ``DEADLINE`` is cancelled and fails the test.
        """
        stream = driver.stream_generate(prompt, tools=tools, cancel_event=cancel_event, **call)
        self._streams.append(stream)
        self._last_stream = stream
        expired = threading.Event()

        def expire() -> None:
            expired.set()
            stream.cancel()

        watchdog = threading.Timer(DEADLINE, expire)
        watchdog.daemon = True
        watchdog.start()
        events: list[ev.Event] = []
        try:
            for event in stream:
                events.append(event)
                if on_event is not None:
                    on_event(event, stream)
        finally:
            watchdog.cancel()
            watchdog.join()
        ended_at = time.monotonic()
        generation = Generation(events=tuple(events), ended_at=ended_at)
        assert not expired.is_set(), f"the generation was still running after {DEADLINE}s"
        assert stream.join(PROMPTLY), f"the generation ran on {PROMPTLY}s after its stream ended"
        if validate:
            validate_events(events)
        self.assert_key_absent(generation.events)
        return generation

    def result(self, driver: LLMDriver, prompt: str | None = "Hello there.", **call: Any) -> Any:
        """``generate``, then the stream's ``result()`` (a ``GenerationResult``; it raises what
        ``generate()`` would: a typed ``GenerationError``, ``OutputError``)."""
        self.generate(driver, prompt, **call)
        return self._last_stream.result()

    def agenerate(
        self,
        driver: LLMDriver,
        prompt: str = "Hello there.",
        *,
        tools: Sequence[Tool] = (),
        on_event: Callable[[ev.Event, AsyncEventStream], object] | None = None,
    ) -> Generation:
        """``generate`` through ``driver.astream_generate``, consumed inside ``asyncio.run``.

        ``on_event(event, stream)`` may be a coroutine function. The same checks as
        ``generate``. The loop runs on a thread of its own, so a call that blocks it (a
        ``close()`` waiting on the loop it runs on) fails the test instead of hanging it.
        """

        async def consume() -> Generation:
            stream = driver.astream_generate(prompt, tools=tools)
            events: list[ev.Event] = []

            async def read() -> None:
                async for event in stream:
                    events.append(event)
                    if on_event is not None:
                        outcome = on_event(event, stream)
                        if inspect.isawaitable(outcome):
                            await outcome

            try:
                try:
                    await asyncio.wait_for(read(), DEADLINE)
                except asyncio.TimeoutError:
                    pytest.fail(f"the generation was still running after {DEADLINE}s")
                ended_at = time.monotonic()
            finally:
                await stream.aclose()
            ended = await stream.join(PROMPTLY)
            assert ended, f"the generation ran on {PROMPTLY}s after its stream ended"
            return Generation(events=tuple(events), ended_at=ended_at)

        generation = self.run_async(consume)
        validate_events(generation.events)
        self.assert_key_absent(generation.events)
        return generation

    def run_async(self, main: Callable[[], Coroutine[Any, Any, _T]]) -> _T:
        """``asyncio.run(main())`` on a thread of its own; fails if the loop is still busy
        after ``DEADLINE`` (plus a margin), which only a blocked loop can be."""
        outcome: list[tuple[bool, Any]] = []

        def run() -> None:
            try:
                outcome.append((True, asyncio.run(main())))
            except BaseException as exc:  # handed to the test's thread, pytest outcomes included
                outcome.append((False, exc))

        runner = threading.Thread(target=run, name="conformance-asyncio", daemon=True)
        runner.start()
        runner.join(DEADLINE + 2 * PROMPTLY)
        assert not runner.is_alive(), (
            f"the event loop was still running {DEADLINE + 2 * PROMPTLY}s later: something "
            "blocked it"
        )
        ok, value = outcome[0]
        if not ok:
            raise value
        result: _T = value
        return result

    def assert_key_absent(self, events: Sequence[ev.Event]) -> None:
        """Fail if ``adapter.api_key`` shows in an event (repr, ``to_dict``, its exception)."""
        key = self.adapter.api_key
        for index, event in enumerate(events):
            texts = [repr(event), json.dumps(event.to_dict(), default=repr)]
            exception = getattr(event, "exception", None)
            if isinstance(exception, BaseException):
                texts += exception_texts(exception)
            for text in texts:
                assert key not in text, (
                    f"event {index} ({type(event).__name__}) shows the API key: {text[:500]}"
                )
        self._assert_logs_clean()

    def _assert_logs_clean(self) -> None:
        key = self.adapter.api_key
        for text in self._log_texts:
            assert key not in text, f"a log record shows the API key: {text[:500]}"
