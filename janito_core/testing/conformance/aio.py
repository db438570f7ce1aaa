"""The standard tests again through ``astream_generate``: the asyncio subset of the suite."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING

import pytest

from janito_core import events as ev
from janito_core.testing.conformance.base import ConformanceBase, DriverFactory
from janito_core.testing.conformance.bounds import DEADLINE, PROMPTLY
from janito_core.testing.conformance.cancel import (
    assert_cancelled,
    assert_ended_by_close,
    assert_refuses_when_closed,
)
from janito_core.testing.conformance.capabilities import RETRY_AFTER
from janito_core.testing.conformance.tools import get_weather
from janito_core.testing.helpers import kinds_of
from janito_core.testing.scenario import Call, HttpError, Scenario, Silence, Text
from janito_core.testing.server import WireServer
from janito_core.tools import Tool

if TYPE_CHECKING:
    from janito_core.harness import AsyncEventStream


class AsyncTests(ConformanceBase):
    """Text, tools, retries, cancels and closes through the asyncio entry point."""

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
        assert_cancelled(server, generation, cancelled_at)
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
        assert_ended_by_close(server, generation, closed_at[0])
        assert_refuses_when_closed(server, lambda: self.agenerate(built))
