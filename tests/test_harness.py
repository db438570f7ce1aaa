"""The harness: event order, tool loop, retries and cancellation, through ScriptedDriver."""

from __future__ import annotations

import gc
import threading
import time

import pytest

from janito_core import InvalidRequestError, Message, Tool, Usage
from janito_core import events as ev
from janito_core.parts import (
    FinishPart,
    MetadataPart,
    ReasoningPart,
    TextPart,
    ToolCallPart,
    UsagePart,
)
from janito_core.testing import (
    Delay,
    Fail,
    ScriptedDriver,
    Stall,
    SyncScriptedDriver,
    validate_events,
)

pytestmark = pytest.mark.usefixtures("no_leaked_threads")


def kinds(events: list[ev.Event]) -> list[str]:
    return [type(e).__name__ for e in events]


def run(driver: ScriptedDriver, prompt: str = "hi", **kwargs: object) -> list[ev.Event]:
    stream = driver.stream_generate(prompt, **kwargs)  # type: ignore[arg-type]
    events = list(stream)
    assert stream.join(5)
    validate_events(events)
    return events


def get_weather(city: str) -> str:
    """Weather for a city."""
    return f"sunny in {city}"


WEATHER = Tool.from_function(get_weather)


def test_text_parts_concatenate_to_what_the_provider_sent() -> None:
    pieces = [f"w{i} " for i in range(20)]
    driver = ScriptedDriver([[TextPart(p) for p in pieces] + [FinishPart("stop")]])
    events = run(driver)
    text = "".join(e.content_part for e in events if isinstance(e, ev.ContentPartFound))
    assert text == "".join(pieces)
    finished = events[-1]
    assert isinstance(finished, ev.GenerationFinished)
    assert (finished.status, finished.finish_reason) == ("completed", "stop")
    assert finished.messages == (Message(role="assistant", content="".join(pieces)),)


def test_every_event_carries_the_generation_and_driver() -> None:
    events = run(ScriptedDriver([[TextPart("a")]]))
    assert {e.generation_id for e in events} == {events[0].generation_id}
    assert {e.driver for e in events} == {"scripted"}
    assert all(e.timestamp > 0 for e in events)


def test_text_call_text_keeps_response_order_and_runs_the_tool_in_place() -> None:
    driver = ScriptedDriver(
        [
            [
                TextPart("A"),
                ToolCallPart(id="c1", name="get_weather", arguments='{"city": "Paris"}'),
                TextPart("B"),
                FinishPart("tool_calls"),
            ],
            [TextPart("done"), FinishPart("stop")],
        ]
    )
    events = run(driver, tools=[WEATHER])
    assert kinds(events) == [
        "GenerationStarted",
        "RequestStarted",
        "ContentPartFound",
        "ToolCallStarted",
        "ToolCallFinished",
        "ContentPartFound",
        "RequestFinished",
        "RequestStarted",
        "ContentPartFound",
        "RequestFinished",
        "GenerationFinished",
    ]
    started = events[3]
    assert isinstance(started, ev.ToolCallStarted)
    assert started.arguments == {"city": "Paris"}
    finished_call = events[4]
    assert isinstance(finished_call, ev.ToolCallFinished)
    assert finished_call.result == "sunny in Paris"
    # The second request carries the assistant turn and the tool result.
    second = driver.requests[1].messages
    assert [m.role for m in second] == ["user", "assistant", "tool"]
    assert second[1].content == "AB" and second[1].tool_calls[0].id == "c1"
    assert second[2].content == "sunny in Paris" and second[2].tool_call_id == "c1"
    final = events[-1]
    assert isinstance(final, ev.GenerationFinished)
    assert [m.role for m in final.messages] == ["assistant", "tool", "assistant"]


def test_tool_errors_go_back_to_the_model_and_the_generation_goes_on() -> None:
    def explode() -> str:
        raise RuntimeError("disk on fire")

    driver = ScriptedDriver(
        [
            [
                ToolCallPart(id="a", name="get_weather", arguments="{not json"),
                ToolCallPart(id="b", name="nope", arguments="{}"),
                ToolCallPart(id="c", name="explode", arguments=""),
                ToolCallPart(id="d", name="get_weather", arguments='{"town": 1}'),
                ToolCallPart(id="e", name="get_weather", arguments="[1]"),
            ],
            [TextPart("sorry")],
        ]
    )
    events = run(driver, tools=[WEATHER, Tool.from_function(explode)])
    errors = {e.tool_call_id: e.error for e in events if isinstance(e, ev.ToolCallError)}
    assert set(errors) == {"a", "b", "c", "d", "e"}
    assert "not valid JSON" in errors["a"]
    assert "unknown tool 'nope'" in errors["b"] and "get_weather" in errors["b"]
    assert "RuntimeError: disk on fire" in errors["c"]
    assert "missing required argument(s): city" in errors["d"]
    assert "JSON object" in errors["e"]
    results = [m for m in driver.requests[1].messages if m.role == "tool"]
    assert all(m.is_error and m.content.startswith("Error: ") for m in results)
    assert events[-1].status == "completed"  # type: ignore[attr-defined]


def test_tool_without_function_is_handed_to_the_caller() -> None:
    manual = Tool(
        name="deploy",
        description="Deploy",
        parameters={"type": "object", "properties": {"env": {"type": "string"}}},
    )
    driver = ScriptedDriver([[ToolCallPart(id="x", name="deploy", arguments='{"env": "prod"}')]])
    events = run(driver, tools=[manual])
    requested = [e for e in events if isinstance(e, ev.ToolCallRequested)]
    assert len(requested) == 1 and requested[0].arguments == {"env": "prod"}
    assert len(driver.requests) == 1
    final = events[-1]
    assert isinstance(final, ev.GenerationFinished)
    assert final.messages[0].tool_calls[0].name == "deploy"


def test_tool_rounds_are_bounded() -> None:
    loop = [ToolCallPart(id=None, name="get_weather", arguments='{"city": "X"}')]
    driver = ScriptedDriver([loop] * 10, max_tool_rounds=3)
    events = run(driver, tools=[WEATHER])
    assert len(driver.requests) == 3
    final = events[-1]
    assert isinstance(final, ev.GenerationFinished)
    assert (final.status, final.finish_reason) == ("completed", "max_tool_rounds")


def test_usage_is_per_request_and_summed() -> None:
    one = Usage(input_tokens=10, output_tokens=2, total_tokens=12, cached_input_tokens=4)
    two = Usage(input_tokens=20, output_tokens=3, total_tokens=23, reasoning_tokens=1)
    driver = ScriptedDriver(
        [
            [
                UsagePart(Usage(input_tokens=1)),
                ToolCallPart(id="c", name="get_weather", arguments='{"city": "Rome"}'),
                UsagePart(one),
            ],
            [TextPart("ok"), UsagePart(two)],
        ]
    )
    events = run(driver, tools=[WEATHER])
    per_request = [e.usage for e in events if isinstance(e, ev.RequestFinished)]
    assert per_request == [one, two]
    assert events[-1].usage == one + two  # type: ignore[attr-defined]


def test_reasoning_and_metadata_land_on_the_assistant_message() -> None:
    driver = ScriptedDriver(
        [[ReasoningPart("think "), ReasoningPart("more"), MetadataPart({"p": 1}), TextPart("x")]]
    )
    events = run(driver)
    assert kinds(events)[2:4] == ["ReasoningPartFound", "ReasoningPartFound"]
    message = events[-1].messages[0]  # type: ignore[attr-defined]
    assert message.reasoning == "think more" and message.provider_data == {"p": 1}


def test_retry_after_is_honoured_and_announced() -> None:
    driver = ScriptedDriver(
        [[Fail(status_code=429, retry_after=0.05)], [Fail(status_code=503)], [TextPart("ok")]],
        retry_base_delay=0.01,
    )
    events = run(driver)
    retries = [e for e in events if isinstance(e, ev.RequestRetry)]
    assert [(r.attempt, r.status_code) for r in retries] == [(1, 429), (2, 503)]
    assert retries[0].delay == 0.05
    assert len(driver.requests) == 3 and events[-1].status == "completed"  # type: ignore[attr-defined]


def test_retries_exhausted_end_in_error() -> None:
    driver = ScriptedDriver(
        [[Fail(status_code=500, message="boom")]] * 5, max_retries=2, retry_base_delay=0.001
    )
    events = run(driver)
    assert len(driver.requests) == 3
    error = events[-2]
    assert isinstance(error, ev.RequestError)
    assert (error.status_code, error.retryable, error.error) == (500, True, "boom")
    assert events[-1].status == "error"  # type: ignore[attr-defined]


def test_not_retryable_errors_are_not_retried() -> None:
    driver = ScriptedDriver([[Fail(status_code=401, retryable=False)], [TextPart("never")]])
    events = run(driver)
    assert len(driver.requests) == 1
    assert kinds(events)[-2:] == ["RequestError", "GenerationFinished"]


def test_nothing_is_retried_once_content_reached_the_consumer() -> None:
    driver = ScriptedDriver([[TextPart("half"), Fail(status_code=503)], [TextPart("again")]])
    events = run(driver)
    assert len(driver.requests) == 1
    assert kinds(events)[-3:] == ["ContentPartFound", "RequestError", "GenerationFinished"]
    assert events[-1].messages[0].content == "half"  # type: ignore[attr-defined]


def test_retry_after_beyond_the_cap_is_not_waited_for() -> None:
    driver = ScriptedDriver([[Fail(status_code=429, retry_after=600)]], max_retry_delay=60)
    events = run(driver)
    assert len(driver.requests) == 1 and events[-1].status == "error"  # type: ignore[attr-defined]


def test_a_driver_bug_still_ends_the_stream_properly() -> None:
    class Broken(SyncScriptedDriver):
        def stream_request(self, request, context):  # type: ignore[no-untyped-def]
            yield TextPart("x")
            yield "not a part"

    events = run(Broken())
    assert kinds(events)[-2:] == ["RequestError", "GenerationFinished"]
    assert "not a part" in events[-2].error  # type: ignore[attr-defined]


# -- cancellation ------------------------------------------------------------------------


def consume_and_cancel(stream, when, cancel):  # type: ignore[no-untyped-def]
    """Read ``stream``; call ``cancel()`` when ``when(event)``; return events and latency."""
    events, started = [], None
    for event in stream:
        events.append(event)
        if started is None and when(event):
            started = time.monotonic()
            cancel()
    ended = time.monotonic()
    assert stream.join(5)
    validate_events(events)
    return events, (ended - started) if started else None


def test_cancel_event_while_the_provider_is_silent() -> None:
    driver = ScriptedDriver([[TextPart("a"), Stall()]])
    cancel = threading.Event()
    stream = driver.stream_generate("hi", cancel_event=cancel)

    def when(event: ev.Event) -> bool:
        return isinstance(event, ev.ContentPartFound) and driver.stalled.wait(5)

    events, latency = consume_and_cancel(stream, when, cancel.set)
    assert kinds(events)[-2:] == ["RequestFinished", "GenerationFinished"]
    assert events[-2].status == "cancelled" and events[-1].status == "cancelled"  # type: ignore[attr-defined]
    assert driver.aborted.is_set()  # the provider call was aborted, not left to time out
    assert latency is not None and latency < 1.0
    assert events[-1].messages[0].content == "a"  # type: ignore[attr-defined]


def test_stream_cancel_method() -> None:
    driver = ScriptedDriver([[TextPart("a"), Stall()]])
    stream = driver.stream_generate("hi")
    events, _ = consume_and_cancel(
        stream, lambda e: isinstance(e, ev.ContentPartFound), stream.cancel
    )
    assert events[-1].status == "cancelled"  # type: ignore[attr-defined]


def test_cancel_during_a_tool_stops_everything_after_it() -> None:
    entered = threading.Event()
    saw_cancel = threading.Event()

    def slow(cancel_event: threading.Event) -> str:
        """Waits for cancellation."""
        entered.set()
        saw_cancel.set() if cancel_event.wait(5) else None
        return "finished anyway"

    driver = ScriptedDriver(
        [
            [
                ToolCallPart(id="s", name="slow", arguments="{}"),
                ToolCallPart(id="t", name="slow", arguments="{}"),
            ],
            [TextPart("never")],
        ]
    )
    cancel = threading.Event()
    stream = driver.stream_generate("hi", tools=[Tool.from_function(slow)], cancel_event=cancel)
    events, _ = consume_and_cancel(
        stream, lambda e: isinstance(e, ev.ToolCallStarted) and entered.wait(5), cancel.set
    )
    assert kinds(events) == [
        "GenerationStarted",
        "RequestStarted",
        "ToolCallStarted",
        "ToolCallError",
        "RequestFinished",
        "GenerationFinished",
    ]
    assert events[3].error == "cancelled"  # type: ignore[attr-defined]
    assert saw_cancel.is_set()  # the tool got the generation's cancel event
    assert len(driver.requests) == 1  # no new request, and the second call never started
    final = events[-1]
    assert [m.role for m in final.messages] == ["assistant", "tool"]  # type: ignore[attr-defined]
    assert final.messages[1].content == "Error: cancelled"  # type: ignore[attr-defined]


def test_cancel_during_back_off_ends_the_wait() -> None:
    driver = ScriptedDriver([[Fail(status_code=429, retry_after=30)], [TextPart("late")]])
    stream = driver.stream_generate("hi")
    events, latency = consume_and_cancel(
        stream, lambda e: isinstance(e, ev.RequestRetry), stream.cancel
    )
    assert kinds(events)[-3:] == ["RequestRetry", "RequestFinished", "GenerationFinished"]
    assert latency is not None and latency < 1.0
    assert len(driver.requests) == 1


def test_closing_the_iterator_early_cancels() -> None:
    driver = ScriptedDriver([[TextPart("a"), Stall()]])
    with driver.stream_generate("hi") as stream:
        first = [next(stream), next(stream), next(stream)]
    assert kinds(first) == ["GenerationStarted", "RequestStarted", "ContentPartFound"]
    assert stream.join(5)
    assert driver.aborted.wait(5)


def test_dropping_the_iterator_cancels() -> None:
    driver = ScriptedDriver([[TextPart("a"), Stall()]])
    for event in driver.stream_generate("hi"):
        if isinstance(event, ev.ContentPartFound):
            break
    gc.collect()
    assert driver.aborted.wait(5)


def test_cancel_before_start_gives_a_well_formed_stream() -> None:
    cancel = threading.Event()
    cancel.set()
    driver = ScriptedDriver([[TextPart("a")]])
    events = run(driver, cancel_event=cancel)
    assert kinds(events) == ["GenerationStarted", "GenerationFinished"]
    assert driver.requests == []


def test_delay_steps_are_cut_short_by_cancel() -> None:
    driver = ScriptedDriver([[TextPart("a"), Delay(30), TextPart("b")]])
    stream = driver.stream_generate("hi")
    events, latency = consume_and_cancel(
        stream, lambda e: isinstance(e, ev.ContentPartFound), stream.cancel
    )
    assert latency is not None and latency < 1.0
    assert "b" not in [getattr(e, "content_part", None) for e in events]


# -- misuse and the blocking call ------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "needs a prompt or a non-empty messages list"),
        ({"prompt": 3}, "prompt must be a str"),
        ({"prompt": "x", "tools": [get_weather]}, "Tool.from_function"),
        ({"prompt": "x", "temperature": object()}, "Option temperature="),
        ({"messages": ["hello"]}, "Message instances"),
        ({"prompt": "x", "tools": [WEATHER, WEATHER]}, "duplicate tool names"),
    ],
)
def test_misuse_raises_at_the_call_before_any_thread(kwargs: dict, message: str) -> None:  # type: ignore[type-arg]
    before = threading.active_count()
    with pytest.raises(InvalidRequestError, match=message):
        ScriptedDriver().stream_generate(**kwargs)
    assert threading.active_count() == before


def test_generate_returns_the_summary() -> None:
    driver = ScriptedDriver(
        [
            [ToolCallPart(id="c", name="get_weather", arguments='{"city": "Oslo"}')],
            [TextPart("It is "), TextPart("sunny."), UsagePart(Usage(total_tokens=5))],
        ]
    )
    result = driver.generate("weather?", system_prompt="be brief", tools=[WEATHER])
    assert result.text == "It is sunny."
    assert [c.name for c in result.tool_calls] == ["get_weather"]
    assert result.usage.total_tokens == 5
    assert [m.role for m in result.history] == ["user", "assistant", "tool", "assistant"]
    assert driver.requests[0].system_prompt == "be brief"


def test_generate_raises_on_error() -> None:
    from janito_core import GenerationError

    driver = ScriptedDriver([[Fail(status_code=400, retryable=False, message="bad request")]])
    with pytest.raises(GenerationError, match="bad request") as info:
        driver.generate("x")
    assert info.value.status_code == 400


def test_history_from_a_generation_continues_the_conversation() -> None:
    driver = ScriptedDriver([[TextPart("first")], [TextPart("second")]])
    result = driver.generate("one")
    driver.generate(messages=[*result.history, Message.user("two")])
    sent = driver.requests[1].messages
    assert [(m.role, m.content) for m in sent] == [
        ("user", "one"),
        ("assistant", "first"),
        ("user", "two"),
    ]


def test_a_failure_between_requests_still_ends_in_a_request_error() -> None:
    class FailsOnSecondRound(SyncScriptedDriver):
        calls = 0

        def stream_request(self, request, context):  # type: ignore[no-untyped-def]
            self.calls += 1
            if self.calls == 2:
                raise SystemExit("not an Exception: escapes the retry logic")
            yield ToolCallPart(id="c", name="get_weather", arguments='{"city": "Lima"}')

    events = run(FailsOnSecondRound(), tools=[WEATHER])
    assert kinds(events)[-2:] == ["RequestError", "GenerationFinished"]
    assert "SystemExit" in events[-2].error  # type: ignore[attr-defined]
    assert events[-1].messages[1].content == "sunny in Lima"  # type: ignore[attr-defined]
