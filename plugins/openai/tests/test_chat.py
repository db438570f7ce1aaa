"""Chat Completions specifics: what compatible servers send (reasoning fields, tool-call deltas
without index or id, usage and finish_reason missing or elsewhere), and the request body."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
from janito_driver_openai.driver import OpenAIDriver
from openai_wire import chat_chunk, chat_reply

from janito_core import events as ev
from janito_core.errors import DriverConfigError, InvalidRequestError
from janito_core.harness import EventStream
from janito_core.messages import Message, ToolCall
from janito_core.testing import events_of, finished_event, kinds_of, reasoning_of, text_of
from janito_core.testing.server import Reply, WireServer
from janito_core.tools import Tool
from janito_core.usage import Usage

Run = Callable[[EventStream], list[ev.Event]]
Make = Callable[..., OpenAIDriver]


def lookup(key: str) -> str:
    """Look a key up."""
    return f"value of {key}"


TOOLS = [Tool.from_function(lookup)]
DONE_REPLY = chat_reply([chat_chunk({"content": "done"}), chat_chunk(finish_reason="stop")])


def test_reasoning_content_from_a_compatible_server(
    server: WireServer, make_driver: Make, run: Run
) -> None:
    # vLLM / DeepSeek / llama.cpp put thinking in delta.reasoning_content, before content.
    server.enqueue(
        chat_reply(
            [
                chat_chunk({"role": "assistant", "content": ""}),
                chat_chunk({"reasoning_content": "Let me "}),
                chat_chunk({"reasoning_content": "think.", "content": None}),
                chat_chunk({"content": "42"}),
                chat_chunk({}, finish_reason="stop"),
            ]
        )
    )
    events = run(make_driver().stream_generate("Q"))
    assert reasoning_of(events) == "Let me think."
    assert text_of(events) == "42"
    order = [k for k in kinds_of(events) if k.endswith("PartFound")]
    assert order == ["ReasoningPartFound", "ReasoningPartFound", "ContentPartFound"]


def test_reasoning_field_and_both_fields_at_once(
    server: WireServer, make_driver: Make, run: Run
) -> None:
    # Ollama and newer vLLM say "reasoning"; some servers send both names with the same text.
    server.enqueue(
        chat_reply(
            [
                chat_chunk({"reasoning": "a"}),
                chat_chunk({"reasoning": "b", "reasoning_content": "b"}),
                chat_chunk({"content": "c"}),
            ]
        )
    )
    events = run(make_driver().stream_generate("Q"))
    assert reasoning_of(events) == "ab"
    assert text_of(events) == "c"


def test_tool_call_deltas_without_index_or_id(
    server: WireServer, make_driver: Make, run: Run
) -> None:
    # A relayed model (Mistral-relay style): no index anywhere, continuations without id and
    # with an empty name; then a second call that starts with a new id.
    server.enqueue(
        chat_reply(
            [
                chat_chunk({"tool_calls": [{"id": "c1", "function": {"name": "lookup"}}]}),
                chat_chunk(
                    {"tool_calls": [{"id": "", "function": {"name": "", "arguments": '{"key"'}}]}
                ),
                chat_chunk({"tool_calls": [{"function": {"arguments": ': "a"}'}}]}),
                chat_chunk(
                    {
                        "tool_calls": [
                            {
                                "id": "c2",
                                "function": {"name": "lookup", "arguments": '{"key": "b"}'},
                            }
                        ]
                    }
                ),
                chat_chunk({}, finish_reason="tool_calls"),
            ]
        ),
        DONE_REPLY,
    )
    events = run(make_driver().stream_generate("go", tools=TOOLS))
    started = events_of(events, ev.ToolCallStarted)
    assert [(s.tool_call_id, s.arguments) for s in started] == [
        ("c1", {"key": "a"}),
        ("c2", {"key": "b"}),
    ]


def test_whole_calls_in_one_delta_and_reused_index(
    server: WireServer, make_driver: Make, run: Run
) -> None:
    # Several whole calls in one delta, all numbered index 0 (seen on some servers), one of them
    # with its arguments as an object instead of JSON text.
    calls = [
        {
            "index": 0,
            "id": "c1",
            "type": "function",
            "function": {"name": "lookup", "arguments": '{"key":"a"}'},
        },
        {
            "index": 0,
            "id": "c2",
            "type": "function",
            "function": {"name": "lookup", "arguments": {"key": "b"}},
        },
    ]
    server.enqueue(
        chat_reply([chat_chunk({"tool_calls": calls}), chat_chunk({}, finish_reason="tool_calls")]),
        DONE_REPLY,
    )
    events = run(make_driver().stream_generate("go", tools=TOOLS))
    started = events_of(events, ev.ToolCallStarted)
    assert [(s.tool_call_id, s.arguments) for s in started] == [
        ("c1", {"key": "a"}),
        ("c2", {"key": "b"}),
    ]


def test_done_without_finish_reason_usage_or_index_is_complete(
    server: WireServer, make_driver: Make, run: Run
) -> None:
    chunk = chat_chunk({"content": "hi", "weird": [1, 2]})
    chunk.pop("usage", None)
    chunk["obfuscation"] = "xyz"
    chunk["choices"][0].pop("finish_reason")
    chunk["choices"][0].pop("index")
    server.enqueue(chat_reply([chunk]))  # [DONE] is the only end marker
    events = run(make_driver().stream_generate("Q"))
    assert text_of(events) == "hi"
    assert finished_event(events).status == "completed"
    assert finished_event(events).finish_reason is None
    # The server reported no usage: zeros, marked as missing, never an estimate.
    assert finished_event(events).usage == Usage(missing=True)


def test_a_body_that_just_stops_is_not_a_complete_answer(
    server: WireServer, make_driver: Make, run: Run
) -> None:
    # Close-delimited, neither [DONE] nor a finish reason: the server died between two events.
    reply = chat_reply([chat_chunk({"content": "Half an"})], done=False)
    server.enqueue(dataclasses.replace(reply, framing="close"))
    events = run(make_driver().stream_generate("Q"))
    (error,) = events_of(events, ev.RequestError)
    assert "ended before" in error.error
    assert finished_event(events).status == "error"
    assert text_of(events) == "Half an"
    assert len(server.requests) == 1  # content had been delivered: not retried


def test_an_empty_event_stream_is_retried(server: WireServer, make_driver: Make, run: Run) -> None:
    server.enqueue(chat_reply([], done=False), DONE_REPLY)
    events = run(make_driver().stream_generate("Q"))
    assert len(events_of(events, ev.RequestRetry)) == 1
    assert text_of(events) == "done"
    assert len(server.requests) == 2


@pytest.mark.parametrize(
    ("data", "kind"), [("[1, 2]", "array"), ('"hi"', "string"), ("7", "number")]
)
def test_an_event_that_is_not_an_object(
    server: WireServer, make_driver: Make, run: Run, data: str, kind: str
) -> None:
    server.enqueue(chat_reply([chat_chunk({"content": "a"}), data]))
    events = run(make_driver().stream_generate("Q"))
    (error,) = events_of(events, ev.RequestError)
    assert f"malformed response: an event that is a JSON {kind}, not an object" in error.error
    assert "AttributeError" not in error.error
    assert error.retryable is False


def test_usage_on_the_finish_chunk(server: WireServer, make_driver: Make, run: Run) -> None:
    usage = {"prompt_tokens": 4, "completion_tokens": 2, "total_tokens": 6}
    server.enqueue(
        chat_reply(
            [chat_chunk({"content": "x"}), chat_chunk({}, finish_reason="stop", usage=usage)]
        )
    )
    events = run(make_driver().stream_generate("Q"))
    assert finished_event(events).usage == Usage(input_tokens=4, output_tokens=2, total_tokens=6)


def test_in_stream_error_is_not_retried(server: WireServer, make_driver: Make, run: Run) -> None:
    error = {"error": {"message": "model overheated", "type": "invalid_request_error"}}
    server.enqueue(chat_reply([chat_chunk({"content": "a"}), error]))
    events = run(make_driver().stream_generate("Q"))
    (failure,) = events_of(events, ev.RequestError)
    assert "model overheated" in failure.error
    assert failure.retryable is False
    assert len(server.requests) == 1


def test_in_stream_error_that_says_retry_is_retried(
    server: WireServer, make_driver: Make, run: Run
) -> None:
    error = {"error": {"message": "try later", "type": "server_error", "code": None}}
    server.enqueue(chat_reply([error]), DONE_REPLY)
    events = run(make_driver().stream_generate("Q"))
    (retry,) = events_of(events, ev.RequestRetry)
    assert "try later" in retry.error
    assert text_of(events) == "done"


@pytest.mark.parametrize(
    "error",
    [
        {"error": {"message": "Overloaded", "type": "overloaded_error"}},
        {"error": {"message": "Rate limit reached", "code": "rate_limit_exceeded"}},
        {"object": "error", "message": "Internal error", "type": "internal_server_error"},
    ],
)
def test_in_stream_transient_errors_are_retried_before_content(
    server: WireServer, make_driver: Make, run: Run, error: dict[str, Any]
) -> None:
    server.enqueue(
        chat_reply([chat_chunk({"role": "assistant", "content": ""}), error]), DONE_REPLY
    )
    events = run(make_driver().stream_generate("Q"))
    (retry,) = events_of(events, ev.RequestRetry)
    assert "reported an error in the stream" in retry.error
    assert text_of(events) == "done"


def test_a_server_that_ignores_stream_true(server: WireServer, make_driver: Make, run: Run) -> None:
    completion = {
        "id": "x",
        "object": "chat.completion",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "Let me look.",
                    "tool_calls": [
                        {
                            "id": "c9",
                            "type": "function",
                            "function": {"name": "lookup", "arguments": '{"key":"z"}'},
                        }
                    ],
                },
                "finish_reason": "tool_calls",
            }
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7},
    }
    server.enqueue(Reply(body=completion), DONE_REPLY)
    events = run(make_driver().stream_generate("go", tools=TOOLS))
    assert kinds_of(events)[2:5] == ["ContentPartFound", "ToolCallStarted", "ToolCallFinished"]
    assert events_of(events, ev.RequestFinished)[0].usage.total_tokens == 7
    assert text_of(events) == "Let me look.done"


def test_request_body(server: WireServer, make_driver: Make, run: Run) -> None:
    history = [
        Message.user("first"),
        Message.assistant(
            "",
            tool_calls=(
                ToolCall(
                    id="c1", name="lookup", arguments={"key": "a"}, raw_arguments='{"key":"a"}'
                ),
                ToolCall(id="c2", name="now", arguments={}, raw_arguments=""),
            ),
        ),
        Message.tool_result("c1", "lookup", "A"),
        Message.tool_result("c2", "now", "noon"),
        Message.assistant("fine"),
        Message.user("again"),
    ]
    server.enqueue(DONE_REPLY)
    run(
        make_driver(model="my-model").stream_generate(
            messages=history,
            system_prompt="be brief",
            tools=TOOLS,
            temperature=0.2,
            top_k=5,
            max_tokens=9,
        )
    )
    body = server.requests[0].json
    assert body["model"] == "my-model"
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert body["temperature"] == 0.2
    assert body["top_k"] == 5  # not an SDK keyword: sent through extra_body
    assert body["max_tokens"] == 9
    assert body["messages"] == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "first"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "lookup", "arguments": '{"key":"a"}'},
                },
                {"id": "c2", "type": "function", "function": {"name": "now", "arguments": "{}"}},
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "A"},
        {"role": "tool", "tool_call_id": "c2", "content": "noon"},
        {"role": "assistant", "content": "fine"},
        {"role": "user", "content": "again"},
    ]
    assert body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "lookup",
                "description": "Look a key up.",
                "parameters": TOOLS[0].parameters,
            },
        }
    ]


def test_max_tokens_is_renamed_for_openai_itself() -> None:
    from janito_driver_openai.convert import chat_arguments

    from janito_core.driver import ProviderRequest

    request = ProviderRequest(
        request_id="r", model="m", messages=(Message.user("x"),), options={"max_tokens": 5}
    )
    to_openai = chat_arguments(request, accepted={"max_completion_tokens"}, openai_endpoint=True)
    assert to_openai["max_completion_tokens"] == 5 and "max_tokens" not in to_openai
    elsewhere = chat_arguments(request, accepted={"max_tokens"}, openai_endpoint=False)
    assert elsewhere["max_tokens"] == 5


def test_options_the_driver_sets_are_refused(make_driver: Make) -> None:
    with pytest.raises(InvalidRequestError, match="stream"):
        make_driver().stream_generate("x", messages=[Message.user("y")], stream=False)


def test_unknown_api_is_a_config_error() -> None:
    with pytest.raises(DriverConfigError, match="api"):
        OpenAIDriver(api_key="k", api="completions")


def test_missing_key_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(DriverConfigError, match="OPENAI_API_KEY"):
        OpenAIDriver()


def test_a_page_that_is_not_a_stream_is_an_error(
    server: WireServer, make_driver: Make, run: Run
) -> None:
    server.enqueue(Reply(headers={"content-type": "text/html"}, body="<html>Welcome</html>"))
    events = run(make_driver().stream_generate("Q"))
    (error,) = events_of(events, ev.RequestError)
    assert "text/html, not an event stream" in error.error
    assert error.retryable is False


def test_stream_options_can_be_dropped(server: WireServer, make_driver: Make, run: Run) -> None:
    server.enqueue(DONE_REPLY)
    run(make_driver().stream_generate("Q", stream_options=None))
    assert "stream_options" not in server.requests[0].json
