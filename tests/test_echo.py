"""The built-in echo driver: offline, streams in parts, runs tools, honours cancel."""

from __future__ import annotations

import pytest

from janito_core import Tool, get_driver
from janito_core import events as ev
from janito_core.testing import validate_events

pytestmark = pytest.mark.usefixtures("no_leaked_threads")


def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


def test_echo_streams_the_prompt_back_in_parts() -> None:
    stream = get_driver("echo").stream_generate("Tell me a joke")
    events = list(stream)
    validate_events(events)
    parts = [e.content_part for e in events if isinstance(e, ev.ContentPartFound)]
    assert len(parts) == 5 and "".join(parts) == "Echo: Tell me a joke"


def test_echo_calls_a_named_tool_then_reports_the_result() -> None:
    result = get_driver("echo").generate("please add a=2 b=40", tools=[Tool.from_function(add)])
    assert result.tool_calls[0].arguments == {"a": 2, "b": 40}
    assert result.text.endswith("add returned 42.")
    validate_events(list(result.events))


def test_echo_honours_cancel_during_its_delay() -> None:
    stream = get_driver("echo").stream_generate(" ".join(["w"] * 100), delay=5)
    events = []
    for event in stream:
        events.append(event)
        if isinstance(event, ev.RequestStarted):
            stream.cancel()
    assert stream.join(5)
    validate_events(events)
    assert events[-1].status == "cancelled"  # type: ignore[attr-defined]
