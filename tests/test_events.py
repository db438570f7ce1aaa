"""Events and value types: frozen, comparable, JSON-ready."""

from __future__ import annotations

import json

import attrs
import pytest

from janito_core import Message, ToolCall, Usage
from janito_core import events as ev


def test_events_are_frozen_and_keyword_only() -> None:
    event = ev.ContentPartFound(generation_id="g", driver="d", request_id="r", content_part="x")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        event.content_part = "y"  # type: ignore[misc]
    with pytest.raises(TypeError):
        ev.ContentPartFound("g", "d", "r", "x")  # type: ignore[misc]


def test_to_dict_is_json_ready() -> None:
    message = Message(
        role="assistant", tool_calls=(ToolCall(id="1", name="f", arguments={"a": 1}),)
    )
    finished = ev.GenerationFinished(
        generation_id="g",
        driver="d",
        status="completed",
        usage=Usage(total_tokens=3),
        messages=(message,),
    )
    data = json.loads(json.dumps(finished.to_dict()))
    assert data["type"] == "GenerationFinished"
    assert data["usage"]["total_tokens"] == 3
    assert data["messages"][0]["tool_calls"][0]["arguments"] == {"a": 1}
    error = ev.RequestError(
        generation_id="g", driver="d", request_id="r", error="e", exception=ValueError("boom")
    )
    assert error.to_dict()["exception"] == "ValueError: boom"


def test_usage_adds_up() -> None:
    total = Usage(input_tokens=1, output_tokens=2, total_tokens=3, cached_input_tokens=1) + Usage(
        input_tokens=10, output_tokens=20, total_tokens=30, reasoning_tokens=5
    )
    assert total == Usage(
        input_tokens=11,
        output_tokens=22,
        total_tokens=33,
        cached_input_tokens=1,
        reasoning_tokens=5,
    )


def test_message_roles_are_checked() -> None:
    with pytest.raises(ValueError, match="role must be one of"):
        Message(role="robot")  # type: ignore[arg-type]
    assert Message.tool_result("c", "f", "ok").role == "tool"


def test_driver_events_subclass_the_base() -> None:
    assert issubclass(ev.ToolCallRequested, ev.DriverEvent)
    assert issubclass(ev.DriverEvent, ev.Event)
