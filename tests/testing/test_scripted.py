from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

import pytest

from janito_core import Tool
from janito_core import events as ev
from janito_core.harness import EventStream
from janito_core.parts import FinishPart, TextPart, ToolCallPart, UsagePart
from janito_core.testing import Delay, Fail, ScriptedDriver, Stall, validate_events
from janito_core.usage import Usage

PROMPTLY = 2.0
E = TypeVar("E", bound=ev.Event)


@pytest.fixture(autouse=True)
def no_thread_left() -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    left = [t.name for t in threading.enumerate() if t not in before and t.is_alive()]
    assert not left, f"threads left behind: {left}"


def run(
    driver: ScriptedDriver,
    *,
    tools: Sequence[Tool] = (),
    cancel_event: threading.Event | None = None,
    on_event: Callable[[ev.Event, EventStream], object] | None = None,
) -> list[ev.Event]:
    stream = driver.stream_generate("Hello", tools=tools, cancel_event=cancel_event)
    events = []
    for event in stream:
        events.append(event)
        if on_event is not None:
            on_event(event, stream)
    assert stream.join(PROMPTLY)
    validate_events(events)
    return events


def of(events: list[ev.Event], kind: type[E]) -> list[E]:
    return [e for e in events if isinstance(e, kind)]


def get_weather(city: str) -> str:
    """Today's weather in a city."""
    return f"sunny in {city}"


def test_text_usage_and_finish() -> None:
    usage = Usage(input_tokens=3, output_tokens=2, total_tokens=5)
    driver = ScriptedDriver(
        [[TextPart("Hello"), TextPart(" world"), UsagePart(usage), FinishPart("stop")]]
    )
    events = run(driver)
    assert [e.content_part for e in of(events, ev.ContentPartFound)] == ["Hello", " world"]
    (request_finished,) = of(events, ev.RequestFinished)
    assert request_finished.finish_reason == "stop"
    finished = events[-1]
    assert isinstance(finished, ev.GenerationFinished)
    assert (finished.status, finished.usage) == ("completed", usage)
    assert len(driver.requests) == 1


def test_tool_loop() -> None:
    driver = ScriptedDriver(
        [
            [ToolCallPart(id="c1", name="get_weather", arguments='{"city": "Paris"}')],
            [TextPart("Sunny.")],
        ]
    )
    events = run(driver, tools=[Tool.from_function(get_weather)])
    kinds = [type(e).__name__ for e in events]
    assert (
        kinds.index("ToolCallStarted")
        < kinds.index("ToolCallFinished")
        < kinds.index("ContentPartFound")
    )
    (result,) = of(events, ev.ToolCallFinished)
    assert result.result == "sunny in Paris"
    second = driver.requests[1]
    assert second.messages[-1].role == "tool"
    assert second.messages[-1].content == "sunny in Paris"
    assert second.messages[-2].tool_calls[0].name == "get_weather"


def test_fail_is_retried_then_succeeds() -> None:
    driver = ScriptedDriver(
        [[Fail(message="overloaded", status_code=503)], [TextPart("ok")]],
        retry_base_delay=0.01,
    )
    events = run(driver)
    (retry,) = of(events, ev.RequestRetry)
    assert (retry.status_code, retry.attempt, retry.error) == (503, 1, "overloaded")
    assert isinstance(events[-1], ev.GenerationFinished) and events[-1].status == "completed"
    assert len(driver.requests) == 2
    assert [r.attempt for r in driver.requests] == [0, 1]


def test_fail_retry_after_sets_the_delay() -> None:
    driver = ScriptedDriver([[Fail(status_code=429, retry_after=0.05)], [TextPart("ok")]])
    events = run(driver)
    (retry,) = of(events, ev.RequestRetry)
    assert retry.delay == 0.05


def test_fail_not_retryable_ends_in_error() -> None:
    driver = ScriptedDriver([[Fail(message="bad request", status_code=400, retryable=False)]])
    events = run(driver)
    (error,) = of(events, ev.RequestError)
    assert (error.status_code, error.error, error.retryable) == (400, "bad request", False)
    assert isinstance(events[-1], ev.GenerationFinished) and events[-1].status == "error"
    assert not of(events, ev.RequestRetry)


def test_stall_then_cancel() -> None:
    driver = ScriptedDriver([[TextPart("Hello"), Stall()]])
    cancel = threading.Event()
    cancelled_at: list[float] = []

    def cancel_when_stalled(event: ev.Event, stream: EventStream) -> None:
        if isinstance(event, ev.ContentPartFound):
            assert driver.stalled.wait(PROMPTLY)
            cancelled_at.append(time.monotonic())
            cancel.set()

    events = run(driver, cancel_event=cancel, on_event=cancel_when_stalled)
    assert time.monotonic() - cancelled_at[0] < PROMPTLY
    assert [type(e).__name__ for e in events[-2:]] == ["RequestFinished", "GenerationFinished"]
    assert of(events, ev.RequestFinished)[0].status == "cancelled"
    assert of(events, ev.GenerationFinished)[0].status == "cancelled"
    assert driver.aborted.is_set()


def test_delay_waits_then_continues() -> None:
    driver = ScriptedDriver([[TextPart("a"), Delay(0.05), TextPart("b")]])
    times: list[float] = []

    def note(event: ev.Event, stream: EventStream) -> None:
        if isinstance(event, ev.ContentPartFound):
            times.append(time.monotonic())

    events = run(driver, on_event=note)
    assert "".join(e.content_part for e in of(events, ev.ContentPartFound)) == "ab"
    assert times[1] - times[0] >= 0.04


def test_delay_ends_early_on_cancel() -> None:
    driver = ScriptedDriver([[TextPart("a"), Delay(60.0), TextPart("b")]])

    def cancel_on_text(event: ev.Event, stream: EventStream) -> None:
        if isinstance(event, ev.ContentPartFound):
            stream.cancel()

    started = time.monotonic()
    events = run(driver, on_event=cancel_on_text)
    assert time.monotonic() - started < PROMPTLY
    assert [e.content_part for e in of(events, ev.ContentPartFound)] == ["a"]
    assert isinstance(events[-1], ev.GenerationFinished) and events[-1].status == "cancelled"
