"""Responses API specifics: the request (input items, instructions, tools), error events,
incomplete responses, and reasoning items carried into the next tool round."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from janito_driver_openai.driver import OpenAIDriver
from openai_wire import responses_events, responses_reply

from janito_core import events as ev
from janito_core.harness import EventStream
from janito_core.messages import Message, ToolCall
from janito_core.testing import events_of, finished_event, reasoning_of, text_of
from janito_core.testing.scenario import Call, Reasoning, Scenario, Text
from janito_core.testing.server import Reply, WireServer, sse
from janito_core.tools import Tool

Run = Callable[[EventStream], list[ev.Event]]
Make = Callable[..., OpenAIDriver]


def lookup(key: str) -> str:
    """Look a key up."""
    return f"value of {key}"


TOOLS = [Tool.from_function(lookup)]
DONE_REPLY = responses_reply(Scenario(steps=(Text("done"),)))


def _response(status: str, **fields: Any) -> dict[str, Any]:
    return {"id": "resp_1", "object": "response", "status": status, "output": [], **fields}


def test_request_body(server: WireServer, make_driver: Make, run: Run) -> None:
    history = [
        Message.user("first"),
        Message.assistant(
            "Checking.",
            tool_calls=(
                ToolCall(
                    id="call_1", name="lookup", arguments={"key": "a"}, raw_arguments='{"key":"a"}'
                ),
            ),
        ),
        Message.tool_result("call_1", "lookup", "A"),
        Message.assistant("fine"),
        Message.user("again"),
    ]
    server.enqueue(DONE_REPLY)
    run(
        make_driver(api="responses", model="o-fake").stream_generate(
            messages=history,
            system_prompt="be brief",
            tools=TOOLS,
            max_tokens=50,
            reasoning_effort="low",
        )
    )
    (record,) = server.requests
    assert record.path == "/v1/responses"
    body = record.json
    assert body["model"] == "o-fake"
    assert body["stream"] is True
    assert body["instructions"] == "be brief"
    assert body["max_output_tokens"] == 50
    assert body["reasoning"] == {"effort": "low"}
    assert body["input"] == [
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "Checking."},
        {
            "type": "function_call",
            "call_id": "call_1",
            "name": "lookup",
            "arguments": '{"key":"a"}',
        },
        {"type": "function_call_output", "call_id": "call_1", "output": "A"},
        {"role": "assistant", "content": "fine"},
        {"role": "user", "content": "again"},
    ]
    assert body["tools"] == [
        {
            "type": "function",
            "name": "lookup",
            "description": "Look a key up.",
            "parameters": TOOLS[0].parameters,
            "strict": False,
        }
    ]


def test_error_event_raises_a_provider_error(
    server: WireServer, make_driver: Make, run: Run
) -> None:
    server.enqueue(
        responses_events(
            [
                {"type": "response.created", "response": _response("in_progress")},
                {"type": "error", "code": "invalid_prompt", "message": "bad prompt", "param": None},
            ]
        )
    )
    events = run(make_driver(api="responses").stream_generate("Q"))
    (error,) = events_of(events, ev.RequestError)
    assert "bad prompt" in error.error and "invalid_prompt" in error.error
    assert error.retryable is False
    assert len(server.requests) == 1


def test_failed_response_with_a_server_error_is_retried(
    server: WireServer, make_driver: Make, run: Run
) -> None:
    failed = _response("failed", error={"code": "server_error", "message": "oops"})
    server.enqueue(responses_events([{"type": "response.failed", "response": failed}]), DONE_REPLY)
    events = run(make_driver(api="responses").stream_generate("Q"))
    (retry,) = events_of(events, ev.RequestRetry)
    assert "oops" in retry.error
    assert text_of(events) == "done"


def test_incomplete_response_for_a_content_filter(
    server: WireServer, make_driver: Make, run: Run
) -> None:
    server.enqueue(responses_reply(Scenario(steps=(Text("Well"),), finish_reason="content_filter")))
    events = run(make_driver(api="responses").stream_generate("Q"))
    assert finished_event(events).finish_reason == "content_filter"
    assert text_of(events) == "Well"


def test_function_call_known_only_from_its_done_item(
    server: WireServer, make_driver: Make, run: Run
) -> None:
    item = {
        "id": "fc_1",
        "type": "function_call",
        "status": "completed",
        "call_id": "call_9",
        "name": "lookup",
        "arguments": '{"key": "q"}',
    }
    server.enqueue(
        responses_events(
            [
                {"type": "response.output_item.done", "output_index": 0, "item": item},
                {"type": "response.completed", "response": _response("completed")},
            ]
        ),
        DONE_REPLY,
    )
    events = run(make_driver(api="responses").stream_generate("go", tools=TOOLS))
    (started,) = events_of(events, ev.ToolCallStarted)
    assert (started.tool_call_id, started.arguments) == ("call_9", {"key": "q"})
    assert events_of(events, ev.RequestFinished)[0].finish_reason == "tool_calls"


def test_reasoning_items_go_back_with_the_calls(
    server: WireServer, make_driver: Make, run: Run
) -> None:
    first = Scenario(
        steps=(
            Reasoning("plan"),
            Call(name="lookup", arguments='{"key":"r"}', id="call_r"),
        ),
        finish_reason="tool_calls",
    )
    server.enqueue(responses_reply(first), DONE_REPLY)
    events = run(make_driver(api="responses").stream_generate("go", tools=TOOLS))
    assert reasoning_of(events) == "plan"
    assistant = finished_event(events).messages[0]
    assert assistant.provider_data["openai"]["reasoning_items"][0]["id"] == "rs_0"
    assert assistant.tool_calls[0].provider_data == {"openai": {"item_id": "fc_1"}}
    second = server.requests[1].json["input"]
    assert [i.get("type") for i in second] == [
        None,
        "reasoning",
        "function_call",
        "function_call_output",
    ]
    assert second[1]["id"] == "rs_0"
    assert second[1]["summary"] == [{"type": "summary_text", "text": "plan"}]
    assert second[2] == {
        "type": "function_call",
        "call_id": "call_r",
        "name": "lookup",
        "arguments": '{"key":"r"}',
        "id": "fc_1",
    }
    assert second[3] == {
        "type": "function_call_output",
        "call_id": "call_r",
        "output": "value of r",
    }


def test_reasoning_items_stay_home_when_not_stored(
    server: WireServer, make_driver: Make, run: Run
) -> None:
    history = [
        Message.user("go"),
        Message(
            role="assistant",
            tool_calls=(
                ToolCall(
                    id="call_r",
                    name="lookup",
                    raw_arguments="{}",
                    provider_data={"openai": {"item_id": "fc_1"}},
                ),
            ),
            provider_data={"openai": {"reasoning_items": [{"id": "rs_0", "type": "reasoning"}]}},
        ),
        Message.tool_result("call_r", "lookup", "R"),
    ]
    server.enqueue(DONE_REPLY)
    run(make_driver(api="responses").stream_generate(messages=history, store=False))
    items = server.requests[0].json["input"]
    assert [i.get("type") for i in items] == [None, "function_call", "function_call_output"]
    assert "id" not in items[1]


def test_summary_parts_are_kept_apart(server: WireServer, make_driver: Make, run: Run) -> None:
    def delta(index: int, text: str) -> dict[str, Any]:
        return {
            "type": "response.reasoning_summary_text.delta",
            "item_id": "rs_1",
            "output_index": 0,
            "summary_index": index,
            "delta": text,
        }

    server.enqueue(
        responses_events(
            [
                delta(0, "First"),
                delta(0, " idea."),
                delta(1, "Second."),
                {"type": "response.completed", "response": _response("completed")},
            ]
        )
    )
    events = run(make_driver(api="responses").stream_generate("Q"))
    assert reasoning_of(events) == "First idea.\n\nSecond."
    assert finished_event(events).finish_reason == "stop"


def test_a_server_that_ignores_stream_true(server: WireServer, make_driver: Make, run: Run) -> None:
    output = [
        {"id": "rs_1", "type": "reasoning", "summary": [{"type": "summary_text", "text": "hm"}]},
        {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "Looking.", "annotations": []}],
        },
        {
            "id": "fc_1",
            "type": "function_call",
            "call_id": "call_1",
            "name": "lookup",
            "arguments": '{"key":"w"}',
        },
    ]
    usage = {"input_tokens": 5, "output_tokens": 6, "total_tokens": 11}
    server.enqueue(Reply(body=_response("completed", output=output, usage=usage)), DONE_REPLY)
    events = run(make_driver(api="responses").stream_generate("go", tools=TOOLS))
    assert reasoning_of(events) == "hm"
    (started,) = events_of(events, ev.ToolCallStarted)
    assert (started.tool_call_id, started.arguments) == ("call_1", {"key": "w"})
    first = events_of(events, ev.RequestFinished)[0]
    assert (first.finish_reason, first.usage.total_tokens) == ("tool_calls", 11)
    assert text_of(events) == "Looking.done"


def test_reasoning_text_of_a_whole_answer_is_kept(
    server: WireServer, make_driver: Make, run: Run
) -> None:
    # gpt-oss and DeepSeek servers put raw reasoning in the reasoning item's content.
    reasoning = {
        "id": "rs_1",
        "type": "reasoning",
        "summary": [
            {"type": "summary_text", "text": "Short."},
            {"type": "summary_text", "text": "Shorter."},
        ],
        "content": [{"type": "reasoning_text", "text": "The user wants a word."}],
    }
    message = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "content": [{"type": "output_text", "text": "Word.", "annotations": []}],
    }
    server.enqueue(Reply(body=_response("completed", output=[reasoning, message])))
    events = run(make_driver(api="responses").stream_generate("Q"))
    assert reasoning_of(events) == "Short.\n\nShorter.\n\nThe user wants a word."
    assert text_of(events) == "Word."
    assert finished_event(events).finish_reason == "stop"


def test_a_json_answer_that_is_not_a_response(
    server: WireServer, make_driver: Make, run: Run
) -> None:
    server.enqueue(Reply(body={"detail": "Not Found"}))
    events = run(make_driver(api="responses").stream_generate("Q"))
    (error,) = events_of(events, ev.RequestError)
    assert "not a response: Not Found" in error.error and not error.retryable


def test_a_stream_without_its_terminal_event_is_not_complete(
    server: WireServer, make_driver: Make, run: Run
) -> None:
    server.enqueue(
        responses_events(
            [
                {"type": "response.created", "response": _response("in_progress")},
                {"type": "response.output_text.delta", "output_index": 0, "delta": "Half"},
            ]
        )
    )
    events = run(make_driver(api="responses").stream_generate("Q"))
    (error,) = events_of(events, ev.RequestError)
    assert "ended before" in error.error
    assert text_of(events) == "Half" and finished_event(events).status == "error"


def test_an_event_that_is_not_an_object(server: WireServer, make_driver: Make, run: Run) -> None:
    reply = responses_events([{"type": "response.created", "response": _response("in_progress")}])
    server.enqueue(dataclasses.replace(reply, steps=(*reply.steps, sse("[1]"))))
    events = run(make_driver(api="responses").stream_generate("Q"))
    (error,) = events_of(events, ev.RequestError)
    assert "malformed response: an event that is a JSON array, not an object" in error.error
    assert not error.retryable
