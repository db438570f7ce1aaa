"""The asyncio face (``janito_core.aio``): same events, a loop that is never blocked, and
cancellation from the task, ``asyncio.timeout``, ``aclose``, ``async with`` and ``break``."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest

from janito_core import GenerationError, InvalidRequestError, Tool
from janito_core import events as ev
from janito_core.echo import EchoDriver
from janito_core.parts import FinishPart, TextPart, ToolCallPart, UsagePart
from janito_core.testing import (
    Delay,
    Fail,
    ScriptedDriver,
    Stall,
    SyncScriptedDriver,
    validate_events,
)
from janito_core.testing.server import Reply, WireServer, sse
from janito_core.testing.server import Stall as WireStall
from janito_core.usage import Usage

pytestmark = pytest.mark.usefixtures("no_leaked_threads")

T = TypeVar("T")


def arun(main: Callable[[], Awaitable[T]], timeout: float = 10.0) -> T:
    """Run ``main()`` on a fresh loop, bounded so a hang fails instead of stalling the suite."""

    async def bounded() -> T:
        return await asyncio.wait_for(main(), timeout)

    return asyncio.run(bounded())


async def until(flag: threading.Event, timeout: float = 5.0) -> None:
    """Wait for ``flag`` without blocking the loop."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not flag.is_set():
        assert loop.time() < deadline, "timed out waiting for the flag"
        await asyncio.sleep(0.001)


def kinds(events: list[ev.Event]) -> list[str]:
    return [type(e).__name__ for e in events]


def finished(events: list[ev.Event]) -> ev.GenerationFinished:
    last = events[-1]
    assert isinstance(last, ev.GenerationFinished)
    return last


def get_weather(city: str) -> str:
    """Weather for a city."""
    return f"sunny in {city}"


WEATHER = Tool.from_function(get_weather)


def tool_script() -> list[list[Any]]:
    return [
        [
            TextPart("A"),
            Delay(0.02),  # the consumer parks here and must be woken by the next event
            ToolCallPart(id="c1", name="get_weather", arguments='{"city": "Paris"}'),
            TextPart("B"),
            FinishPart("tool_calls"),
        ],
        [TextPart("done"), UsagePart(Usage(input_tokens=3, output_tokens=1)), FinishPart("stop")],
    ]


def test_the_events_are_those_of_the_sync_stream_in_order() -> None:
    expected = list(ScriptedDriver(tool_script()).stream_generate("hi", tools=[WEATHER]))

    async def main() -> list[ev.Event]:
        stream = ScriptedDriver(tool_script()).astream_generate("hi", tools=[WEATHER])
        events = [event async for event in stream]
        assert await stream.join(5.0)
        return events

    events = arun(main)
    validate_events(events)
    assert kinds(events) == kinds(expected)
    text = "".join(e.content_part for e in events if isinstance(e, ev.ContentPartFound))
    assert text == "ABdone"
    assert finished(events).status == "completed"


def test_agenerate_runs_the_echo_tool_loop() -> None:
    async def main() -> Any:
        return await EchoDriver().agenerate("get_weather city=Paris", tools=[WEATHER])

    result = arun(main)
    assert result.status == "completed"
    assert "sunny in Paris" in result.text
    assert [c.name for c in result.tool_calls] == ["get_weather"]
    validate_events(list(result.events))


def test_agenerate_raises_when_the_generation_fails() -> None:
    driver = ScriptedDriver([[Fail(message="no such model", status_code=404, retryable=False)]])

    async def main() -> None:
        await driver.agenerate("hi")

    with pytest.raises(GenerationError, match="no such model"):
        arun(main)


def test_misuse_raises_at_the_call_before_any_thread() -> None:
    before = threading.active_count()
    with pytest.raises(InvalidRequestError):
        EchoDriver().astream_generate()
    assert threading.active_count() == before


def test_cancelling_the_awaiting_task_cancels_the_generation() -> None:
    driver = ScriptedDriver([[TextPart("a"), Stall()]])
    seen: list[ev.Event] = []

    async def main() -> None:
        stream = driver.astream_generate("hi", observers=[seen.append])
        got_text = asyncio.Event()

        async def consume() -> None:
            async for event in stream:
                if isinstance(event, ev.ContentPartFound):
                    got_text.set()

        task = asyncio.create_task(consume())
        # Once the text is in, the consumer is parked awaiting the next event: cancel it there.
        await got_text.wait()
        await until(driver.stalled)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await stream.join(5.0), "the worker thread did not end"

    arun(main)
    assert driver.aborted.is_set()
    validate_events(seen)
    assert finished(seen).status == "cancelled"
    assert [e.status for e in seen if isinstance(e, ev.RequestFinished)] == ["cancelled"]


@pytest.mark.skipif(sys.version_info < (3, 11), reason="asyncio.timeout is new in Python 3.11")
def test_asyncio_timeout_cancels_the_generation() -> None:
    driver = ScriptedDriver([[TextPart("a"), Stall()]])
    seen: list[ev.Event] = []

    async def main() -> None:
        loop = asyncio.get_running_loop()
        stream = driver.astream_generate("hi", observers=[seen.append])
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(None) as deadline:
                async for event in stream:
                    if isinstance(event, ev.ContentPartFound):
                        # The provider goes silent after this part: time out while waiting.
                        deadline.reschedule(loop.time() + 0.01)
        assert await stream.join(5.0)

    arun(main)
    assert driver.aborted.is_set()
    validate_events(seen)
    assert finished(seen).status == "cancelled"


def test_wait_for_timeout_cancels_agenerate() -> None:
    driver = ScriptedDriver([[TextPart("a"), Stall()]])
    seen: list[ev.Event] = []

    async def main() -> None:
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(driver.agenerate("hi", observers=[seen.append]), 0.05)

    arun(main)
    validate_events(seen)
    assert finished(seen).status == "cancelled"


def test_breaking_out_of_async_for_cancels() -> None:
    driver = ScriptedDriver([[TextPart("a"), Stall()]])
    seen: list[ev.Event] = []

    async def main() -> None:
        async for event in driver.astream_generate("hi", observers=[seen.append]):
            if isinstance(event, ev.ContentPartFound):
                break
        # Nothing holds the stream any more: dropping it cancelled the generation at once.
        assert driver.aborted.is_set()

    arun(main)
    validate_events(seen)
    assert finished(seen).status == "cancelled"


def test_leaving_async_with_cancels_and_waits_for_the_worker() -> None:
    driver = ScriptedDriver([[TextPart("a"), Stall()]])
    seen: list[ev.Event] = []

    async def main() -> None:
        async with driver.astream_generate("hi", observers=[seen.append]) as stream:
            async for event in stream:
                if isinstance(event, ev.ContentPartFound):
                    break
        assert driver.aborted.is_set()
        assert await stream.join(0.0), "aclose returned before the worker exited"

    arun(main)
    validate_events(seen)
    assert finished(seen).status == "cancelled"


def test_aclose_cancels_and_the_stream_ends() -> None:
    driver = ScriptedDriver([[TextPart("a"), Stall()]])

    async def main() -> list[ev.Event]:
        stream = driver.astream_generate("hi")
        first = [await stream.__anext__(), await stream.__anext__()]
        await stream.aclose()
        rest = [event async for event in stream]
        assert rest == []
        return first

    assert kinds(arun(main)) == ["GenerationStarted", "RequestStarted"]
    assert driver.aborted.is_set()


def test_cancel_then_read_the_closing_events() -> None:
    driver = ScriptedDriver([[TextPart("a"), Stall()]])

    async def main() -> list[ev.Event]:
        stream = driver.astream_generate("hi")
        events: list[ev.Event] = []
        async for event in stream:
            events.append(event)
            if isinstance(event, ev.ContentPartFound):
                stream.cancel()
        return events

    events = arun(main)
    validate_events(events)
    assert kinds(events)[-2:] == ["RequestFinished", "GenerationFinished"]
    assert finished(events).status == "cancelled"


class WorkerFirstDriver(SyncScriptedDriver):
    """Holds the canceller in its abort callback until the worker has ended the stream: the
    race a busy machine produces now and then, made certain."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.worker_done = threading.Event()

    def stream_request(self, request: Any, context: Any) -> Any:
        parts = super().stream_request(request, context)
        first = next(parts)  # the scripted driver registers its own abort callback first
        context.on_abort(lambda: self.worker_done.wait(5.0))
        yield first
        yield from parts


def test_a_cancel_the_worker_finishes_first_still_closes_the_request() -> None:
    driver = WorkerFirstDriver([[TextPart("a"), Stall()]])
    seen: list[ev.Event] = []

    def observe(event: ev.Event) -> None:
        seen.append(event)
        if isinstance(event, ev.GenerationFinished):
            driver.worker_done.set()

    async def main() -> None:
        async with driver.astream_generate("hi", observers=[observe]) as stream:
            async for event in stream:
                if isinstance(event, ev.ContentPartFound):
                    await until(driver.stalled)
                    stream.cancel()

    arun(main)
    validate_events(seen)
    assert [e.status for e in seen if isinstance(e, ev.RequestFinished)] == ["cancelled"]
    assert finished(seen).status == "cancelled"


def test_a_cancel_event_set_while_the_consumer_waits_is_noticed() -> None:
    driver = ScriptedDriver([[TextPart("a"), Stall()]])
    cancel = threading.Event()

    async def main() -> list[ev.Event]:
        stream = driver.astream_generate("hi", cancel_event=cancel)
        task = asyncio.create_task(_collect(stream))
        await until(driver.stalled)
        # The worker is blocked in the silent request: only the consumer's poll can see this.
        cancel.set()
        return await task

    events = arun(main)
    validate_events(events)
    assert finished(events).status == "cancelled"
    assert driver.aborted.is_set()


async def _collect(stream: Any) -> list[ev.Event]:
    return [event async for event in stream]


def test_the_loop_keeps_running_while_a_generation_waits() -> None:
    driver = ScriptedDriver([[TextPart("a"), Delay(0.3), TextPart("b"), FinishPart("stop")]])

    async def main() -> tuple[int, list[ev.Event]]:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.005)
                ticks += 1

        ticking = asyncio.create_task(ticker())
        events = await _collect(driver.astream_generate("hi"))
        ticking.cancel()
        return ticks, events

    ticks, events = arun(main)
    validate_events(events)
    # 0.3 s at one tick per 5 ms is 60 ticks on an idle machine; a blocked loop gives 0 or 1.
    assert ticks >= 10


def test_a_long_burst_of_queued_events_still_lets_other_tasks_run() -> None:
    driver = ScriptedDriver([[*(TextPart("x") for _ in range(2000)), FinishPart("stop")]])

    async def main() -> tuple[int, int]:
        stream = driver.astream_generate("hi")
        # Every event is queued before the consumer starts: it never has to wait for one.
        assert await stream.join(5.0)
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0)
                ticks += 1

        ticking = asyncio.create_task(ticker())
        await asyncio.sleep(0)
        before = ticks
        count = 0
        async for _ in stream:
            count += 1
        ticking.cancel()
        return ticks - before, count

    ticks, count = arun(main)
    assert count == 2004
    assert ticks >= 10, "the consumer held the loop for the whole burst"


def test_two_hundred_concurrent_generations_half_of_them_cancelled() -> None:
    count = 200
    drivers = [
        ScriptedDriver(
            [[TextPart("a"), Delay(30.0), TextPart("late")]]
            if i % 2
            else [[TextPart("a"), Delay(0.05), TextPart("b"), FinishPart("stop")]]
        )
        for i in range(count)
    ]
    seen: list[list[ev.Event]] = [[] for _ in range(count)]

    async def main() -> list[Any]:
        started = [asyncio.Event() for _ in range(count)]
        streams = [
            d.astream_generate("hi", observers=[s.append])
            for d, s in zip(drivers, seen, strict=True)
        ]

        async def consume(i: int) -> list[ev.Event]:
            events: list[ev.Event] = []
            async for event in streams[i]:
                events.append(event)
                if isinstance(event, ev.ContentPartFound):
                    started[i].set()
            return events

        tasks = [asyncio.create_task(consume(i)) for i in range(count)]
        await asyncio.gather(*(started[i].wait() for i in range(1, count, 2)))
        for i in range(1, count, 2):
            tasks[i].cancel()
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        joined = await asyncio.gather(*(s.join(5.0) for s in streams))
        assert all(joined), "a worker thread did not end"
        return outcomes

    outcomes = arun(main, timeout=15.0)
    for i, outcome in enumerate(outcomes):
        validate_events(seen[i])
        if i % 2:
            assert isinstance(outcome, asyncio.CancelledError)
            assert finished(seen[i]).status == "cancelled"
            assert drivers[i].aborted.is_set()
        else:
            assert outcome == seen[i]
            assert finished(seen[i]).status == "completed"
    assert not [t for t in threading.enumerate() if t.name.startswith("janito-generation")]


def _chunk(delta: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1795609581,
        "model": "gpt-x",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": None}],
        "usage": None,
    }


@pytest.mark.skipif(
    importlib.util.find_spec("janito_driver_openai") is None,
    reason="janito-driver-openai is not installed (plugins/openai)",
)
def test_openai_driver_cancelled_while_the_server_stalls_closes_the_connection() -> None:
    from janito_driver_openai.driver import OpenAIDriver

    seen: list[ev.Event] = []
    with WireServer() as server:
        server.enqueue(
            Reply(
                headers={"content-type": "text/event-stream"},
                steps=[
                    sse(_chunk({"role": "assistant", "content": "", "refusal": None})),
                    sse(_chunk({"content": "Hi"})),
                    WireStall(),
                ],
            )
        )
        driver = OpenAIDriver(base_url=f"{server.url}/v1", api_key="sk-test", model="gpt-x")
        try:

            async def main() -> None:
                stream = driver.astream_generate("hello", observers=[seen.append])

                async def consume() -> None:
                    async for event in stream:
                        if isinstance(event, ev.ContentPartFound):
                            got_text.set()

                got_text = threading.Event()
                task = asyncio.create_task(consume())
                await until(got_text)
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
                assert await stream.join(5.0), "the worker thread did not end"

            arun(main)
            (request,) = server.wait_for_requests(1)
            assert request.wait_closed(5.0)
            assert request.outcome == "client_disconnected"
        finally:
            driver.close()
    validate_events(seen)
    assert finished(seen).status == "cancelled"
    assert "".join(e.content_part for e in seen if isinstance(e, ev.ContentPartFound)) == "Hi"
