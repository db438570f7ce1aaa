"""The driver conformance suite: one pytest base class that every driver's tests subclass.

A driver's test module supplies a ``WireAdapter`` instance and nothing else::

    from janito_core.testing.conformance import DriverConformanceTests

    class TestMyDriverConformance(DriverConformanceTests):
        adapter = MyWireAdapter()

Every standard test then runs the real driver over real HTTP against a loopback ``WireServer``
speaking the provider's wire format, and checks the event order, that no thread is left behind,
and that the API key shows up in no event, log record or error text. A provider that cannot
express a scenario says so in ``adapter.unsupported`` (capability name -> reason) and the tests
needing it are skipped with that reason. A subclass may not quietly drop a standard test: one
that redefines it must mark the override with ``@conformance_override("reason")``.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
import threading
import time
import traceback
from collections.abc import Callable, Coroutine, Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import attrs
import pytest

from janito_core import events as ev
from janito_core.driver import LLMDriver
from janito_core.errors import JanitoError
from janito_core.harness import EventStream
from janito_core.testing.backlog import FullBacklog
from janito_core.testing.helpers import (
    WIRE_SERVER_THREADS,
    closing_drivers,
    events_of,
    finished_event,
    kinds_of,
    new_threads,
    text_of,
)
from janito_core.testing.quirks import (
    body_bytes,
    close_delimited,
    cut_at_end,
    emptied,
    hang_up,
    late_headers,
    split_inside,
    with_bom,
    with_charset,
)
from janito_core.testing.scenario import (
    Call,
    Cut,
    Garbage,
    HttpError,
    Reasoning,
    Scenario,
    Silence,
    Text,
    WireAdapter,
)
from janito_core.testing.server import WireServer
from janito_core.testing.validator import validate_events
from janito_core.tools import Tool
from janito_core.usage import Usage

if TYPE_CHECKING:
    from janito_core.harness import AsyncEventStream

__all__ = [
    "CAPABILITIES",
    "DRIVER_DEFAULTS",
    "END_MARKER",
    "INVALID_JSON_ARGUMENTS",
    "MALFORMED_EVENT",
    "PARALLEL_TOOL_CALLS",
    "REASONING",
    "RETRY_AFTER",
    "TEXT_AFTER_TOOL_CALL",
    "USAGE",
    "DriverConformanceTests",
    "DriverFactory",
    "Generation",
    "conformance_override",
]

# -- capabilities an adapter may declare unsupported -----------------------------------------

#: The provider streams its thinking as separate events.
REASONING = "reasoning"
#: The wire carries tool arguments as JSON text, so a model can send text that is not JSON.
INVALID_JSON_ARGUMENTS = "invalid_json_arguments"
#: One response can hold text after a tool call (text, call, text).
TEXT_AFTER_TOOL_CALL = "text_after_tool_call"
#: One response can hold two tool calls.
PARALLEL_TOOL_CALLS = "parallel_tool_calls"
#: The provider reports token usage in its stream.
USAGE = "usage"
#: The provider says how long to wait on a 429 (a header or a field the driver reads).
RETRY_AFTER = "retry_after"
#: The wire can carry a malformed event that the driver must reject (not skip).
MALFORMED_EVENT = "malformed_event"
#: The provider marks a complete response (an end event, ``[DONE]``, a finish reason, a last
#: line), so a body that stops cleanly between two events can be told from a whole answer.
END_MARKER = "end_marker"

CAPABILITIES = frozenset(
    {
        REASONING,
        INVALID_JSON_ARGUMENTS,
        TEXT_AFTER_TOOL_CALL,
        PARALLEL_TOOL_CALLS,
        USAGE,
        RETRY_AFTER,
        MALFORMED_EVENT,
        END_MARKER,
    }
)

# -- time bounds -----------------------------------------------------------------------------

#: Seconds a stream may take to end after a cancel, and a worker thread to exit after its
#: stream ended. Generous: a correct driver needs milliseconds; a wrong one hangs for good.
PROMPTLY = 2.0
#: Seconds after which a generation that has not ended is cancelled and the test fails, so a
#: broken driver fails the suite instead of hanging it.
DEADLINE = 20.0
#: The Retry-After the retry test sends: small for speed, fractional so it is clearly honoured
#: rather than rounded to a back-off of the driver's own.
RETRY_AFTER_SECONDS = 0.25

#: The read timeout of the tests that wait one out: small for speed, large enough that a busy
#: machine does not trip it where the server is not silent.
READ_TIMEOUT = 0.5
#: Seconds between the two writes that carry the halves of one character, so the client reads
#: them apart.
SPLIT_GAP = 0.05

#: Config every driver of the suite is built with (before a test's own): quick back-off, and a
#: read timeout that ends a stuck request well before ``DEADLINE``.
DRIVER_DEFAULTS: dict[str, Any] = {"retry_base_delay": 0.01, "timeout": 10.0}

DriverFactory = Callable[..., LLMDriver]
_E = TypeVar("_E", bound=ev.Event)
_F = TypeVar("_F", bound=Callable[..., Any])
_T = TypeVar("_T")

_OVERRIDE_MARK = "__conformance_override__"


def conformance_override(reason: str) -> Callable[[_F], _F]:
    """Mark a subclass's redefinition of a standard test as deliberate, saying why.

    Without it, redefining (or setting to None) a ``test_*`` of ``DriverConformanceTests``
    raises ``TypeError`` when the subclass is created. Prefer ``WireAdapter.unsupported`` when
    the provider simply lacks a capability: the test is then skipped with the reason shown.
    """
    if not isinstance(reason, str) or not reason.strip():
        raise TypeError('conformance_override needs a reason: @conformance_override("why")')

    def mark(test: _F) -> _F:
        setattr(test, _OVERRIDE_MARK, reason)
        return test

    return mark


# -- what a test sees of one generation ------------------------------------------------------


@attrs.frozen(kw_only=True)
class Generation:
    """The events a consumer received from one generation, and when iteration ended.

    ``ended_at`` is ``time.monotonic()`` just after the last event, so a test can measure how
    promptly a cancel took effect.
    """

    events: tuple[ev.Event, ...]
    ended_at: float

    def of(self, kind: type[_E]) -> list[_E]:
        """The events of type ``kind`` (subclasses included), in order."""
        return events_of(self.events, kind)

    def one(self, kind: type[_E]) -> _E:
        """The single event of type ``kind``; fails the test if there are none or several."""
        found = self.of(kind)
        assert len(found) == 1, f"expected one {kind.__name__}, got {len(found)}: {self.kinds}"
        return found[0]

    @property
    def kinds(self) -> list[str]:
        """The event type names, in order: handy in assertion messages."""
        return kinds_of(self.events)

    @property
    def text(self) -> str:
        """Every ``content_part``, concatenated."""
        return text_of(self.events)

    @property
    def finished(self) -> ev.GenerationFinished:
        """The closing ``GenerationFinished`` (the stream is validated before tests see it)."""
        return finished_event(self.events)

    def request(self, number: int) -> list[ev.Event]:
        """The events of the ``number``-th request (0-based), RequestStarted to its end."""
        started = self.of(ev.RequestStarted)
        assert number < len(started), f"only {len(started)} request(s): {self.kinds}"
        request_id = started[number].request_id
        return [
            e for e in self.events if isinstance(e, ev.RequestEvent) and e.request_id == request_id
        ]


class _Records(logging.Handler):
    """Keeps the text of every log record emitted while a test runs, tracebacks included."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        # Text, not records: a record's traceback would keep sockets and frames alive.
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
        except Exception:  # a record whose arguments do not fit its message: keep what is there
            text = f"{record.msg!r} {record.args!r}"
        self.texts.append(text)


def _exception_texts(exc: BaseException) -> list[str]:
    """Every text an exception chain can show a user: messages, reprs, formatted traceback."""
    texts = ["".join(traceback.format_exception(type(exc), exc, exc.__traceback__))]
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        texts += [str(current), repr(current)]
        current = current.__cause__ or current.__context__
    return texts


# -- tools the standard tests offer ----------------------------------------------------------


def get_weather(city: str) -> str:
    """Today's weather in a city."""
    return f"sunny in {city}"


def get_time() -> str:
    """The current time."""
    return "12:00"


def check_station(city: str) -> str:
    """Whether a city's weather station works."""
    raise RuntimeError(f"the weather station of {city} is down")


class DriverConformanceTests:
    """Base class of a driver's conformance tests: set ``adapter`` to a ``WireAdapter``.

    Fixtures: ``server`` (a running ``WireServer``, stopped after the test) and ``driver`` (a
    factory: ``driver(**config)`` builds the driver against ``server`` with ``DRIVER_DEFAULTS``
    under ``config``). Helpers for a subclass's own tests: ``serve``, ``generate`` (through
    ``stream_generate``), ``agenerate`` (through ``astream_generate`` in ``asyncio.run``),
    ``require`` and ``assert_key_absent``. After every test, no thread started during it may
    remain (the shared ``janito-loop`` thread aside), and no log record may show the API key.
    """

    adapter: ClassVar[WireAdapter]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name, value in vars(cls).items():
            if name not in _STANDARD_TESTS:
                continue
            target = getattr(value, "__func__", value)  # see through staticmethod/classmethod
            if not getattr(target, _OVERRIDE_MARK, None):
                raise TypeError(
                    f"{cls.__qualname__}.{name} replaces a standard conformance test; a driver "
                    "that cannot pass it declares the capability in adapter.unsupported, or "
                    'marks the override with @conformance_override("reason")'
                )
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
        handler = _Records()
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
        prompt: str = "Hello there.",
        *,
        tools: Sequence[Tool] = (),
        cancel_event: threading.Event | None = None,
        on_event: Callable[[ev.Event, EventStream], object] | None = None,
        validate: bool = True,
    ) -> Generation:
        """Stream a generation to its end and check it; ``on_event`` sees each event as it comes.

        Checks: the generation has fully ended (``stream.join``) within ``PROMPTLY`` of the end
        of its stream, the order of events (unless ``validate`` is false, for a stream the test
        closes early) and the absence of the API key. A generation still running after
        ``DEADLINE`` is cancelled and fails the test.
        """
        stream = driver.stream_generate(prompt, tools=tools, cancel_event=cancel_event)
        self._streams.append(stream)
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
                texts += _exception_texts(exception)
            for text in texts:
                assert key not in text, (
                    f"event {index} ({type(event).__name__}) shows the API key: {text[:500]}"
                )
        self._assert_logs_clean()

    def _assert_logs_clean(self) -> None:
        key = self.adapter.api_key
        for text in self._log_texts:
            assert key not in text, f"a log record shows the API key: {text[:500]}"

    # -- text --------------------------------------------------------------------------------

    def test_text_streamed_in_many_parts(self, server: WireServer, driver: DriverFactory) -> None:
        pieces = [f"w{i} " for i in range(44)]
        pieces += ["naïve ", "日本語 ", "😀 ", 'a "quote" ', "back\\slash ", "new\nline"]
        self.serve(server, Scenario(steps=tuple(Text(p) for p in pieces)))
        generation = self.generate(driver())
        assert generation.text == "".join(pieces)
        assert len(generation.of(ev.ContentPartFound)) > 1, "the text arrived as one part"
        finished = generation.finished
        assert finished.status == "completed"
        assert generation.one(ev.RequestFinished).finish_reason == "stop"
        assert finished.messages[-1].role == "assistant"
        assert finished.messages[-1].content == "".join(pieces)

    def test_reasoning_then_text(self, server: WireServer, driver: DriverFactory) -> None:
        self.require(REASONING)
        steps = (Reasoning("Thinking it over."), Reasoning(" Done."), Text("42"))
        self.serve(server, Scenario(steps=steps))
        generation = self.generate(driver())
        reasoning = generation.of(ev.ReasoningPartFound)
        assert "".join(e.reasoning_part for e in reasoning) == "Thinking it over. Done."
        assert generation.text == "42"
        kinds = _runs(generation.request(0))
        assert kinds.index("ReasoningPartFound") < kinds.index("ContentPartFound"), kinds
        assert generation.finished.status == "completed"

    def test_api_key_reaches_the_provider(self, server: WireServer, driver: DriverFactory) -> None:
        self.serve(server, Scenario(steps=(Text("ok"),)))
        self.generate(driver())
        (request,) = server.requests
        sent = [*request.headers.values(), request.target]
        assert any(self.adapter.api_key in value for value in sent), (
            "the API key is in no header nor the URL of the request"
        )

    def test_unsupported_names_known_capabilities(self) -> None:
        unknown = sorted(set(self.adapter.unsupported) - CAPABILITIES)
        assert not unknown, f"unknown capabilities {unknown}; known: {sorted(CAPABILITIES)}"
        blank = sorted(k for k, reason in self.adapter.unsupported.items() if not reason.strip())
        assert not blank, f"capabilities declared unsupported without a reason: {blank}"

    # -- tools -------------------------------------------------------------------------------

    def test_text_tool_call_text_keeps_order(
        self, server: WireServer, driver: DriverFactory
    ) -> None:
        self.require(TEXT_AFTER_TOOL_CALL)
        call = Call(name="get_weather", arguments='{"city": "Paris"}', id="call_1")
        first = Scenario(
            steps=(Text("Let me look. "), call, Text("One moment.")), finish_reason="tool_calls"
        )
        self.serve(server, first, Scenario(steps=(Text("It is sunny."),)))
        generation = self.generate(driver(), tools=[Tool.from_function(get_weather)])
        assert _runs(generation.request(0)) == [
            "RequestStarted",
            "ContentPartFound",
            "ToolCallStarted",
            "ToolCallFinished",
            "ContentPartFound",
            "RequestFinished",
        ]
        started = generation.one(ev.ToolCallStarted)
        assert (started.name, started.arguments) == ("get_weather", {"city": "Paris"})
        assert generation.one(ev.ToolCallFinished).result == "sunny in Paris"
        assert generation.text == "Let me look. One moment.It is sunny."
        assert generation.finished.status == "completed"

    def test_two_tool_calls_in_one_response(
        self, server: WireServer, driver: DriverFactory
    ) -> None:
        self.require(PARALLEL_TOOL_CALLS)
        calls = (
            Call(name="get_weather", arguments='{"city": "Paris"}', id="call_a"),
            Call(name="get_weather", arguments='{"city": "Rome"}', id="call_b"),
        )
        self.serve(
            server,
            Scenario(steps=calls, finish_reason="tool_calls"),
            Scenario(steps=(Text("Sunny in both."),)),
        )
        generation = self.generate(driver(), tools=[Tool.from_function(get_weather)])
        started = generation.of(ev.ToolCallStarted)
        assert [e.arguments for e in started] == [{"city": "Paris"}, {"city": "Rome"}]
        assert len({e.tool_call_id for e in started}) == 2, "the two calls share an id"
        results = [e.result for e in generation.of(ev.ToolCallFinished)]
        assert results == ["sunny in Paris", "sunny in Rome"]
        assert self.adapter.tool_results(server.requests[1]) == [
            ("get_weather", "sunny in Paris"),
            ("get_weather", "sunny in Rome"),
        ]
        assert generation.finished.status == "completed"

    def test_tool_without_arguments(self, server: WireServer, driver: DriverFactory) -> None:
        self.serve(
            server,
            Scenario(steps=(Call(name="get_time", arguments="{}"),), finish_reason="tool_calls"),
            Scenario(steps=(Text("It is noon."),)),
        )
        generation = self.generate(driver(), tools=[Tool.from_function(get_time)])
        assert generation.one(ev.ToolCallStarted).arguments == {}
        assert generation.one(ev.ToolCallFinished).result == "12:00"
        assert self.adapter.tool_results(server.requests[1]) == [("get_time", "12:00")]
        assert generation.finished.status == "completed"

    def test_tool_result_sent_back(self, server: WireServer, driver: DriverFactory) -> None:
        call = Call(name="get_weather", arguments='{"city": "Oslo"}', id="call_1")
        self.serve(
            server,
            Scenario(steps=(call,), finish_reason="tool_calls"),
            Scenario(steps=(Text("Sunny in Oslo."),)),
        )
        generation = self.generate(driver(), tools=[Tool.from_function(get_weather)])
        assert len(server.requests) == 2
        assert self.adapter.tool_results(server.requests[1]) == [("get_weather", "sunny in Oslo")]
        assert generation.text == "Sunny in Oslo."
        finished = generation.finished
        assert finished.status == "completed"
        assert [m.role for m in finished.messages] == ["assistant", "tool", "assistant"]

    def test_invalid_json_arguments(self, server: WireServer, driver: DriverFactory) -> None:
        self.require(INVALID_JSON_ARGUMENTS)
        call = Call(name="get_weather", arguments='{"city": "Par', id="call_1")
        self.serve(
            server,
            Scenario(steps=(call,), finish_reason="tool_calls"),
            Scenario(steps=(Text("Sorry."),)),
        )
        generation = self.generate(driver(), tools=[Tool.from_function(get_weather)])
        error = generation.one(ev.ToolCallError)
        assert "JSON" in error.error, error.error
        assert not generation.of(ev.ToolCallFinished)
        ((name, result),) = self.adapter.tool_results(server.requests[1])
        assert name == "get_weather"
        assert error.error in result, "the error text did not go back to the model"
        assert generation.finished.status == "completed"

    def test_unknown_tool(self, server: WireServer, driver: DriverFactory) -> None:
        call = Call(name="launch_rocket", arguments="{}", id="call_1")
        self.serve(
            server,
            Scenario(steps=(call,), finish_reason="tool_calls"),
            Scenario(steps=(Text("I cannot."),)),
        )
        generation = self.generate(driver(), tools=[Tool.from_function(get_weather)])
        error = generation.one(ev.ToolCallError)
        assert error.name == "launch_rocket"
        assert "launch_rocket" in error.error, error.error
        ((name, result),) = self.adapter.tool_results(server.requests[1])
        assert name == "launch_rocket"
        assert error.error in result, "the error text did not go back to the model"
        assert generation.finished.status == "completed"

    def test_tool_that_raises(self, server: WireServer, driver: DriverFactory) -> None:
        call = Call(name="check_station", arguments='{"city": "Lima"}', id="call_1")
        self.serve(
            server,
            Scenario(steps=(call,), finish_reason="tool_calls"),
            Scenario(steps=(Text("The station is down."),)),
        )
        generation = self.generate(driver(), tools=[Tool.from_function(check_station)])
        error = generation.one(ev.ToolCallError)
        assert "the weather station of Lima is down" in error.error, error.error
        ((name, result),) = self.adapter.tool_results(server.requests[1])
        assert name == "check_station"
        assert "the weather station of Lima is down" in result
        assert generation.text == "The station is down."
        assert generation.finished.status == "completed"

    # -- usage -------------------------------------------------------------------------------

    def test_usage_summed_across_rounds(self, server: WireServer, driver: DriverFactory) -> None:
        self.require(USAGE)
        first = Usage(input_tokens=11, output_tokens=7, total_tokens=18)
        second = Usage(input_tokens=25, output_tokens=3, total_tokens=28)
        call = Call(name="get_time", arguments="{}", id="call_1")
        self.serve(
            server,
            Scenario(steps=(call,), usage=first, finish_reason="tool_calls"),
            Scenario(steps=(Text("Noon."),), usage=second),
        )
        generation = self.generate(driver(), tools=[Tool.from_function(get_time)])
        assert [e.usage for e in generation.of(ev.RequestFinished)] == [first, second]
        assert generation.finished.usage == first + second

    # -- HTTP errors and retries -------------------------------------------------------------

    def test_401_is_not_retried(self, server: WireServer, driver: DriverFactory) -> None:
        built = driver()
        generation = self._failing(server, built, HttpError(status=401, message="bad key"))
        error = generation.one(ev.RequestError)
        assert error.status_code == 401 and not error.retryable
        assert "401" in error.error, error.error
        variables = type(built).api_key_env
        if variables:
            assert any(v in error.error for v in variables), (
                f"a refused key should name the variable to check ({', '.join(variables)}): "
                f"{error.error}"
            )

    def test_400_is_not_retried(self, server: WireServer, driver: DriverFactory) -> None:
        detail = "temperature must be at most 2"
        generation = self._failing(server, driver(), HttpError(status=400, message=detail))
        error = generation.one(ev.RequestError)
        assert error.status_code == 400 and not error.retryable
        assert "400" in error.error and detail in error.error, error.error

    def test_404_unknown_model(self, server: WireServer, driver: DriverFactory) -> None:
        built = driver()
        generation = self._failing(server, built, HttpError(status=404, message="no such model"))
        error = generation.one(ev.RequestError)
        assert error.status_code == 404 and not error.retryable
        assert "404" in error.error and built.model in error.error, error.error

    def _failing(self, server: WireServer, built: LLMDriver, error: HttpError) -> Generation:
        """Serve ``error`` once; the generation must end in error without a retry."""
        self.serve(server, Scenario(error=error))
        generation = self.generate(built)
        assert not generation.of(ev.RequestRetry), f"HTTP {error.status} was retried"
        assert len(server.requests) == 1
        assert generation.finished.status == "error"
        return generation

    def test_429_honours_retry_after(self, server: WireServer, driver: DriverFactory) -> None:
        self.require(RETRY_AFTER)
        limited = HttpError(status=429, message="slow down", retry_after=RETRY_AFTER_SECONDS)
        self.serve(server, Scenario(error=limited), Scenario(steps=(Text("Hello!"),)))
        generation = self.generate(driver())
        retry = generation.one(ev.RequestRetry)
        assert retry.status_code == 429 and retry.attempt == 1
        assert retry.delay == pytest.approx(RETRY_AFTER_SECONDS, abs=0.01)
        first, second = server.requests
        assert first.t_end is not None
        assert second.t_start - first.t_end >= RETRY_AFTER_SECONDS * 0.8, "Retry-After ignored"
        assert generation.text == "Hello!"
        assert generation.finished.status == "completed"

    def test_500_then_success(self, server: WireServer, driver: DriverFactory) -> None:
        self.serve(
            server,
            Scenario(error=HttpError(status=500, message="internal")),
            Scenario(steps=(Text("Recovered."),)),
        )
        generation = self.generate(driver())
        assert generation.one(ev.RequestRetry).status_code == 500
        assert len(server.requests) == 2
        assert generation.text == "Recovered."
        assert generation.finished.status == "completed"

    def test_retries_exhausted(self, server: WireServer, driver: DriverFactory) -> None:
        overloaded = Scenario(error=HttpError(status=503, message="overloaded"))
        self.serve(server, overloaded, overloaded)
        generation = self.generate(driver(max_retries=1))
        assert len(generation.of(ev.RequestRetry)) == 1
        assert len(server.requests) == 2
        error = generation.one(ev.RequestError)
        assert error.status_code == 503 and error.retryable
        assert generation.finished.status == "error"

    # -- broken streams ----------------------------------------------------------------------

    def test_cut_after_content(self, server: WireServer, driver: DriverFactory) -> None:
        self.serve(server, Scenario(steps=(Text("Hello"), Text(", wor"), Cut())))
        generation = self.generate(driver())
        assert generation.text == "Hello, wor"
        assert not generation.of(ev.RequestRetry), "retried after content was delivered"
        assert len(server.requests) == 1
        generation.one(ev.RequestError)
        assert generation.finished.status == "error"

    def test_malformed_event(self, server: WireServer, driver: DriverFactory) -> None:
        self.require(MALFORMED_EVENT)
        self.serve(server, Scenario(steps=(Garbage(),)))
        generation = self.generate(driver())
        generation.one(ev.RequestError)
        assert not generation.of(ev.RequestRetry), "a malformed response was retried"
        assert len(server.requests) == 1
        assert generation.finished.status == "error"

    def test_read_timeout(self, server: WireServer, driver: DriverFactory) -> None:
        self.serve(server, Scenario(steps=(Silence(),)))
        started = time.monotonic()
        generation = self.generate(driver(timeout=0.5, max_retries=0))
        assert generation.ended_at - started < 0.5 + 2 * PROMPTLY, "the timeout was not applied"
        error = generation.one(ev.RequestError)
        assert "time" in error.error.lower(), f"the error does not say it timed out: {error.error}"
        assert generation.finished.status == "error"
        (request,) = server.requests
        assert request.wait_closed(PROMPTLY), "the connection stayed open after the timeout"

    @pytest.mark.parametrize("how", ["hang_up", "reset_before_headers", "cut_after_headers"])
    def test_drop_before_content_is_retried(
        self, server: WireServer, driver: DriverFactory, how: str
    ) -> None:
        if how == "cut_after_headers":
            self.serve(server, Scenario(steps=(Cut(),)))
        else:
            server.enqueue(hang_up(reset=how == "reset_before_headers"))
        self.serve(server, Scenario(steps=(Text("Hello"),)))
        generation = self.generate(driver())
        retries = generation.of(ev.RequestRetry)
        assert len(retries) == 1, (
            f"a connection dropped before any content must be retried once: {generation.kinds}"
        )
        assert retries[0].attempt == 1
        assert len(server.requests) == 2
        assert generation.text == "Hello"
        assert generation.finished.status == "completed"

    def test_read_timeout_before_content_is_retried(
        self, server: WireServer, driver: DriverFactory
    ) -> None:
        late = late_headers(self.adapter.reply(Scenario(steps=(Text("Too late."),))), DEADLINE)
        server.enqueue(late)
        self.serve(server, Scenario(steps=(Text("Hello"),)))
        generation = self.generate(driver(timeout=READ_TIMEOUT))
        retries = generation.of(ev.RequestRetry)
        assert len(retries) == 1, f"a read timeout must be retried: {generation.kinds}"
        assert "time" in retries[0].error.lower(), (
            f"the retry does not say it timed out: {retries[0].error}"
        )
        first, _ = server.requests
        assert first.wait_closed(PROMPTLY), "the timed-out connection stayed open"
        assert first.outcome == "client_disconnected", first
        assert generation.text == "Hello"
        assert generation.finished.status == "completed"

    # -- responses that end without their end marker -----------------------------------------

    @pytest.mark.parametrize("framing", ["chunked", "close"])
    def test_end_without_marker_after_content(
        self, server: WireServer, driver: DriverFactory, framing: str
    ) -> None:
        self.require(END_MARKER)
        reply = self.adapter.reply(Scenario(steps=(Text("Hello"), Text(", wor")), end=False))
        server.enqueue(close_delimited(reply) if framing == "close" else reply)
        generation = self.generate(driver())
        assert generation.finished.status == "error", (
            "a response that ended without its end marker was taken as complete (or the "
            f"adapter ignores Scenario(end=False)): {generation.kinds}"
        )
        generation.one(ev.RequestError)
        assert generation.text == "Hello, wor"
        assert not generation.of(ev.RequestRetry), "retried after content was delivered"
        assert len(server.requests) == 1

    @pytest.mark.parametrize(
        "body", ["no_marker", "empty", "empty_close_delimited", "empty_content_length"]
    )
    def test_end_without_marker_before_content(
        self, server: WireServer, driver: DriverFactory, body: str
    ) -> None:
        self.require(END_MARKER)
        reply = self.adapter.reply(Scenario(end=False))
        if body.startswith("empty"):
            reply = emptied(reply, length=body == "empty_content_length")
        if body == "empty_close_delimited":
            reply = close_delimited(reply)
        server.enqueue(reply, reply)
        generation = self.generate(driver(max_retries=1))
        assert generation.finished.status == "error", (
            f"a response with no end marker and no content was taken as complete: "
            f"{generation.kinds}"
        )
        assert len(generation.of(ev.RequestRetry)) == 1, (
            f"nothing had reached the consumer, so it should have been retried: {generation.kinds}"
        )
        assert len(server.requests) == 2
        assert generation.one(ev.RequestError).retryable
        assert generation.text == ""

    def test_cut_after_end_marker_keeps_the_answer(
        self, server: WireServer, driver: DriverFactory
    ) -> None:
        self.require(END_MARKER)
        server.enqueue(cut_at_end(self.adapter.reply(Scenario(steps=(Text("Hello"),)))))
        generation = self.generate(driver())
        assert generation.finished.status == "completed", (
            f"a connection cut after the end marker spoilt a complete answer: {generation.kinds}"
        )
        assert generation.text == "Hello"
        assert not generation.of(ev.RequestRetry)

    # -- what the bytes say ------------------------------------------------------------------

    def test_raw_line_separators_and_split_characters(
        self, server: WireServer, driver: DriverFactory
    ) -> None:
        # Raw in JSON strings, which vLLM and llama.cpp send: a reader that splits lines the
        # way str.splitlines() does breaks the event in two.
        pieces = ("one\u2028two", " three\u2029four", " five\u0085six", " 😀", " 日本語")
        reply = self.adapter.reply(Scenario(steps=tuple(Text(p) for p in pieces)))
        written = body_bytes(reply)
        for char in ("\u2028", "\u2029", "\u0085", "😀", "日"):
            assert char.encode() in written, (
                f"the adapter escaped {char!r}; providers write it raw: build JSON with "
                "json.dumps(..., ensure_ascii=False) (janito_core.testing.server.sse does)"
            )
        server.enqueue(split_inside(split_inside(reply, "😀", gap=SPLIT_GAP), "日", gap=SPLIT_GAP))
        generation = self.generate(driver())
        _assert_text(generation, "".join(pieces))
        assert generation.finished.status == "completed"

    def test_charset_in_content_type_is_ignored(
        self, server: WireServer, driver: DriverFactory
    ) -> None:
        # SSE and JSON are UTF-8 whatever the header says; decoding by it gives mojibake.
        pieces = ("Grüße", ", café", " 日本 😀")
        reply = self.adapter.reply(Scenario(steps=tuple(Text(p) for p in pieces)))
        server.enqueue(with_charset(reply, "iso-8859-1"))
        generation = self.generate(driver())
        _assert_text(generation, "".join(pieces))
        assert generation.finished.status == "completed"

    def test_leading_byte_order_mark(self, server: WireServer, driver: DriverFactory) -> None:
        pieces = ("Hello", ", wörld")
        server.enqueue(with_bom(self.adapter.reply(Scenario(steps=tuple(Text(p) for p in pieces)))))
        generation = self.generate(driver())
        _assert_text(generation, "".join(pieces))
        assert generation.finished.status == "completed"

    # -- cancellation ------------------------------------------------------------------------

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
        self._assert_cancelled(server, generation, cancelled_at)
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
        self._assert_cancelled(server, generation, cancelled_at)
        assert generation.text == ""

    def _assert_cancelled(
        self, server: WireServer, generation: Generation, cancelled_at: list[float]
    ) -> None:
        assert cancelled_at, f"the test never cancelled: {generation.kinds}"
        took = generation.ended_at - cancelled_at[0]
        assert took < PROMPTLY, f"the stream took {took:.2f}s to end after the cancel"
        assert generation.one(ev.RequestFinished).status == "cancelled"
        assert generation.finished.status == "cancelled"
        (request,) = server.requests
        assert request.wait_closed(PROMPTLY), "the server never saw the connection go"
        assert request.outcome == "client_disconnected", request

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
        self._assert_ended_by_close(server, generation, closed_at[0])
        self._assert_refuses_when_closed(server, lambda: self.generate(built))

    def _assert_ended_by_close(
        self, server: WireServer, generation: Generation, closed_at: float
    ) -> None:
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

    def _assert_refuses_when_closed(
        self, server: WireServer, run: Callable[[], Generation]
    ) -> None:
        """``run()`` (a generation on a closed driver) fails, at the call or in its stream,
        saying the driver is closed, and sends nothing."""
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

    # -- the same through asyncio ------------------------------------------------------------

    def test_async_text(self, server: WireServer, driver: DriverFactory) -> None:
        pieces = [f"w{i} " for i in range(20)] + ["naïve ", "日本語 ", "😀"]
        self.serve(server, Scenario(steps=tuple(Text(p) for p in pieces)))
        generation = self.agenerate(driver())
        assert generation.text == "".join(pieces)
        assert generation.one(ev.RequestFinished).finish_reason == "stop"
        assert generation.finished.status == "completed"
        assert generation.finished.messages[-1].content == "".join(pieces)

    def test_async_tool_round_trip(self, server: WireServer, driver: DriverFactory) -> None:
        call = Call(name="get_weather", arguments='{"city": "Oslo"}', id="call_1")
        self.serve(
            server,
            Scenario(steps=(call,), finish_reason="tool_calls"),
            Scenario(steps=(Text("Sunny in Oslo."),)),
        )
        generation = self.agenerate(driver(), tools=[Tool.from_function(get_weather)])
        assert generation.one(ev.ToolCallFinished).result == "sunny in Oslo"
        assert self.adapter.tool_results(server.requests[1]) == [("get_weather", "sunny in Oslo")]
        assert generation.text == "Sunny in Oslo."
        finished = generation.finished
        assert finished.status == "completed"
        assert [m.role for m in finished.messages] == ["assistant", "tool", "assistant"]

    def test_async_429_is_retried(self, server: WireServer, driver: DriverFactory) -> None:
        supported = RETRY_AFTER not in self.adapter.unsupported
        # test_429_honours_retry_after checks the wait is kept; a short one keeps this quick.
        wait = 0.05 if supported else None
        limited = HttpError(status=429, message="slow down", retry_after=wait)
        self.serve(server, Scenario(error=limited), Scenario(steps=(Text("Hello!"),)))
        generation = self.agenerate(driver())
        retry = generation.one(ev.RequestRetry)
        assert retry.status_code == 429 and retry.attempt == 1
        if wait is not None:
            assert retry.delay == pytest.approx(wait, abs=0.01)
        assert len(server.requests) == 2
        assert generation.text == "Hello!"
        assert generation.finished.status == "completed"

    def test_async_cancel_mid_stream(self, server: WireServer, driver: DriverFactory) -> None:
        self.serve(server, Scenario(steps=(Text("Hello"), Silence())))
        cancelled_at: list[float] = []

        def cancel_on_text(event: ev.Event, stream: AsyncEventStream) -> None:
            if isinstance(event, ev.ContentPartFound) and not cancelled_at:
                cancelled_at.append(time.monotonic())
                stream.cancel()

        generation = self.agenerate(driver(), on_event=cancel_on_text)
        self._assert_cancelled(server, generation, cancelled_at)
        assert generation.text == "Hello"

    def test_async_task_cancelled_mid_stream(
        self, server: WireServer, driver: DriverFactory
    ) -> None:
        self.serve(server, Scenario(steps=(Text("Hello"), Silence())))
        built = driver()

        async def main() -> tuple[list[ev.Event], bool, float]:
            stream = built.astream_generate("Hello there.")
            events: list[ev.Event] = []
            text_came = asyncio.Event()

            async def read() -> None:
                async for event in stream:
                    events.append(event)
                    if isinstance(event, ev.ContentPartFound):
                        text_came.set()

            reader = asyncio.create_task(read())
            try:
                await asyncio.wait_for(text_came.wait(), DEADLINE)
                cancelled_at = time.monotonic()
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reader
                ended = await stream.join(PROMPTLY)
                return events, ended, time.monotonic() - cancelled_at
            finally:
                reader.cancel()
                await stream.aclose()

        events, ended, took = self.run_async(main)
        assert ended and took < PROMPTLY, (
            f"the generation had not ended {took:.2f}s after its task was cancelled"
        )
        assert kinds_of(events) == ["GenerationStarted", "RequestStarted", "ContentPartFound"]
        self.assert_key_absent(events)
        (request,) = server.requests
        assert request.wait_closed(PROMPTLY), "the server never saw the connection go"
        assert request.outcome == "client_disconnected", request

    def test_async_close_driver_mid_generation(
        self, server: WireServer, driver: DriverFactory
    ) -> None:
        self.serve(server, Scenario(steps=(Text("Hello"), Silence())))
        built = driver()
        closed_at: list[float] = []

        def close_on_text(event: ev.Event, stream: AsyncEventStream) -> None:
            if isinstance(event, ev.ContentPartFound) and not closed_at:
                closed_at.append(time.monotonic())
                # On the loop's own thread, as asyncio code calls it: it must not wait for
                # the loop it blocks.
                built.close()
                took = time.monotonic() - closed_at[0]
                assert took < PROMPTLY, f"driver.close() took {took:.2f}s"

        generation = self.agenerate(built, on_event=close_on_text)
        assert closed_at, f"no text came: {generation.kinds}"
        self._assert_ended_by_close(server, generation, closed_at[0])
        self._assert_refuses_when_closed(server, lambda: self.agenerate(built))


def _assert_text(generation: Generation, expected: str) -> None:
    """The generation's text is exactly ``expected``, said with what came instead."""
    assert generation.text == expected, (
        f"the text differs: {generation.text!r} instead of {expected!r}; events "
        f"{generation.kinds}, errors {[e.error for e in generation.of(ev.RequestError)]}"
    )


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


_STANDARD_TESTS = frozenset(
    name for name in vars(DriverConformanceTests) if name.startswith("test_")
)


def _runs(events: Sequence[ev.Event]) -> list[str]:
    """Event type names, consecutive repeats collapsed: text may come in any number of parts."""
    kinds: list[str] = []
    for event in events:
        name = type(event).__name__
        if not kinds or kinds[-1] != name:
            kinds.append(name)
    return kinds
