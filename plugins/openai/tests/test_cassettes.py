"""Real recorded OpenAI responses (``shared/cassettes``) replayed byte for byte from the loopback
server through the SDK and the driver: text, tool calls, usage and errors as recorded."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from janito_driver_openai.driver import OpenAIDriver

from janito_core import events as ev
from janito_core.harness import EventStream
from janito_core.messages import Message, ToolCall
from janito_core.testing import events_of, finished_event, text_of
from janito_core.testing.cassettes import RECORDED, load_cassette
from janito_core.testing.server import Reply, WireServer
from janito_core.tools import Tool
from janito_core.usage import Usage

Run = Callable[[EventStream], list[ev.Event]]
Make = Callable[..., OpenAIDriver]

CAPITAL_CALL_ID = "call_ZR5UUuTt3pf61kjwAJIYdVMj"
QUESTION = "What is the capital of the UK? Use the tool, then answer."


def replay(name: str) -> Reply:
    """The recorded response: status, headers and body bytes (skips without the shared set)."""
    return load_cassette(name, RECORDED).reply()


def recorded_body(name: str) -> dict[str, Any]:
    body = load_cassette(name, RECORDED).request_json()
    assert isinstance(body, dict)
    return body


def get_capital(country: str) -> str:
    """The capital of a country."""
    return {"UK": "London"}.get(country, "unknown")


def test_01_text_with_usage(server: WireServer, make_driver: Make, run: Run) -> None:
    server.enqueue(replay("openai_01_stream_text_with_usage"))
    history = [
        Message.user(QUESTION),
        Message.assistant(
            tool_calls=(
                ToolCall(
                    id=CAPITAL_CALL_ID,
                    name="get_capital",
                    arguments={"country": "UK"},
                    raw_arguments='{"country":"UK"}',
                ),
            )
        ),
        Message.tool_result(CAPITAL_CALL_ID, "get_capital", "London"),
    ]
    events = run(make_driver(model="gpt-4o-mini").stream_generate(messages=history))
    assert text_of(events) == "The capital of the UK is London."
    done = finished_event(events)
    assert done.finish_reason == "stop"
    assert done.usage == Usage(input_tokens=78, output_tokens=9, total_tokens=87)
    # The history goes out as it went out when this was recorded.
    sent = server.requests[0].json
    assert sent["messages"] == recorded_body("openai_01_stream_text_with_usage")["messages"]
    assert sent["stream_options"] == {"include_usage": True}


def test_02_tool_call_then_01_answer_as_one_tool_loop(
    server: WireServer, make_driver: Make, run: Run
) -> None:
    server.enqueue(replay("openai_02_stream_tool_call"), replay("openai_01_stream_text_with_usage"))
    driver = make_driver(model="gpt-4o-mini")
    events = run(driver.stream_generate(QUESTION, tools=[Tool.from_function(get_capital)]))
    (started,) = events_of(events, ev.ToolCallStarted)
    assert (started.tool_call_id, started.name, started.arguments) == (
        CAPITAL_CALL_ID,
        "get_capital",
        {"country": "UK"},
    )
    (result,) = events_of(events, ev.ToolCallFinished)
    assert result.result == "London"
    first, second = events_of(events, ev.RequestFinished)
    assert first.finish_reason == "tool_calls"
    assert first.usage == Usage(input_tokens=53, output_tokens=15, total_tokens=68)
    assert second.usage == Usage(input_tokens=78, output_tokens=9, total_tokens=87)
    assert text_of(events) == "The capital of the UK is London."
    assert finished_event(events).usage == Usage(
        input_tokens=131, output_tokens=24, total_tokens=155
    )
    assert (
        server.requests[0].json["messages"]
        == recorded_body("openai_02_stream_tool_call")["messages"]
    )
    # The second request carries the call and its result exactly as the recorded one did.
    assert (
        server.requests[1].json["messages"]
        == recorded_body("openai_01_stream_text_with_usage")["messages"]
    )


def test_03_parallel_tool_calls(server: WireServer, make_driver: Make, run: Run) -> None:
    server.enqueue(replay("openai_03_stream_parallel_tool_calls"))
    weather = Tool(
        name="get_current_weather",
        description="Get the current weather in a given location",
        parameters=recorded_body("openai_03_stream_parallel_tool_calls")["tools"][0]["function"][
            "parameters"
        ],
    )
    events = run(
        make_driver().stream_generate(
            "What's the weather in Seattle and San Francisco today?",
            system_prompt="You're a helpful assistant.",
            tools=[weather],
        )
    )
    # No function on the tool: the calls are handed to the caller.
    requested = events_of(events, ev.ToolCallRequested)
    assert [(r.tool_call_id, r.arguments) for r in requested] == [
        ("call_fHCjJqt9Pysde6vcJcvbXGBx", {"location": "Seattle, WA"}),
        ("call_3J9foSw3CUb48lrqIXoTky6U", {"location": "San Francisco, CA"}),
    ]
    done = finished_event(events)
    assert done.finish_reason == "tool_calls"
    assert done.usage == Usage(input_tokens=75, output_tokens=51, total_tokens=126)
    assert [c.raw_arguments for c in done.messages[0].tool_calls] == [
        '{"location": "Seattle, WA"}',
        '{"location": "San Francisco, CA"}',
    ]
    recorded = recorded_body("openai_03_stream_parallel_tool_calls")
    assert server.requests[0].json["messages"] == recorded["messages"]
    assert server.requests[0].json["tools"] == recorded["tools"]


def test_04_non_streamed_completion_is_read_whole(
    server: WireServer, make_driver: Make, run: Run
) -> None:
    # Replayed as recorded: an application/json chat.completion answering the driver's
    # streaming request, as a compatible server that ignores stream=true would. The SDK would
    # find no SSE events in it and end silently; the driver sees the JSON content type and
    # reads the completion whole instead.
    server.enqueue(replay("openai_04_nonstream_text_with_usage"))
    events = run(make_driver().stream_generate("Say this is a test"))
    assert text_of(events) == "This is a test."
    done = finished_event(events)
    assert done.status == "completed"
    assert done.finish_reason == "stop"
    assert done.usage == Usage(input_tokens=12, output_tokens=5, total_tokens=17)


def test_05_error_400_unsupported_parameter(
    server: WireServer, make_driver: Make, run: Run
) -> None:
    server.enqueue(replay("openai_05_error_400_unsupported_parameter"))
    events = run(
        make_driver(model="gpt-5-mini").stream_generate("What is 4200 + 42?", stop=["4242"])
    )
    (error,) = events_of(events, ev.RequestError)
    assert error.status_code == 400
    assert "Unsupported parameter: 'stop' is not supported with this model." in error.error
    assert "unsupported_parameter" in error.error
    assert error.retryable is False
    assert len(server.requests) == 1
    assert server.requests[0].json["stop"] == ["4242"]


def test_06_error_401_on_a_stream_request(server: WireServer, make_driver: Make, run: Run) -> None:
    server.enqueue(replay("openai_06_error_401_invalid_api_key_on_stream_request"))
    events = run(make_driver(model="gpt-4o").stream_generate("This should fail"))
    (error,) = events_of(events, ev.RequestError)
    assert error.status_code == 401
    assert "OPENAI_API_KEY" in error.error
    assert "Incorrect API key provided: invalid-*****2345." in error.error
    assert error.retryable is False
    assert finished_event(events).status == "error"
    assert len(server.requests) == 1
