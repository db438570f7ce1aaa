"""Real recorded Gemini responses (``shared/cassettes``) replayed through the driver.

The server sends the recorded status, headers and body bytes; SSE bodies go out one recorded
event per chunk (the bytes joined are exactly the recording). See the shared folder's README.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from gemini_support import order, recorded_usage
from gemini_wire import SEP, chunk, stream_reply, text

from janito_core import Tool
from janito_core import events as ev
from janito_core.testing import events_of, finish, finished_event, text_of
from janito_core.testing.cassettes import RECORDED, Cassette, load_cassette
from janito_core.usage import Usage


def load(name: str) -> Cassette:
    """One recording of the shared set (the test skips when the shared folder is absent)."""
    return load_cassette(name, RECORDED)


def sent_body(request: Any) -> dict[str, Any]:
    """A recorded request's JSON without the empty ``generationConfig`` the SDK always adds."""
    body = dict(request.json)
    if body.get("generationConfig") == {}:
        del body["generationConfig"]
    return body


def same_bytes(sent: str, recorded: str) -> bool:
    """Whether two base64 texts hold the same bytes.

    The SDK keeps a thought signature as bytes and writes it back in URL-safe base64; Google
    accepts both alphabets (the proto3 JSON mapping), so the bytes are what must survive.
    """
    return base64.urlsafe_b64decode(sent) == base64.b64decode(recorded)


def model_of(cassette: Cassette) -> str:
    return cassette.request["path"].split("/models/", 1)[1].split(":", 1)[0]


def weather(city: str) -> str:
    """Weather for a city."""
    return f"sunny in {city}"


def get_weather(location: str) -> str:
    """Get current weather information for a given location."""
    return f"mild in {location}"


def test_01_text_stream(server, make_driver):
    cassette = load("gemini_01_stream_text_sse")
    server.enqueue(cassette.reply())
    driver = make_driver(model=model_of(cassette))
    events = finish(
        driver.stream_generate(
            "What is the capital of France?",
            system_prompt="You are a helpful chatbot.",
            temperature=0.0,
        )
    )
    assert [e.content_part for e in events_of(events, ev.ContentPartFound)] == [
        "The",
        " capital of France",
        " is Paris.\n",
    ]
    end = finished_event(events)
    assert end.status == "completed"
    assert end.finish_reason == "stop"
    # usage is a running total: the last chunk's counts win over the earlier ones
    assert end.usage == Usage(input_tokens=13, output_tokens=8, total_tokens=21)
    assert end.usage == recorded_usage(cassette)  # every field, as read plainly
    (request,) = server.requests
    assert request.target == cassette.request["path"]
    # what the driver sends is what the recorded client sent
    assert request.json == cassette.request_json()


def test_02_text_then_call_with_thought_signature(server, make_driver):
    cassette = load("gemini_02_stream_text_then_function_call")
    server.enqueue(cassette.reply(), stream_reply(chunk([text("It is sunny.")], finish="STOP")))
    driver = make_driver(model=model_of(cassette))
    events = finish(
        driver.stream_generate(
            "What is the weather in San Francisco?",
            tools=[Tool.from_function(weather, name="get_weather")],
        )
    )
    first = events[: events.index(events_of(events, ev.RequestFinished)[0]) + 1]
    assert order(first) == [
        ("text", "Let me check."),
        ("call", "get_weather"),
        ("result", "sunny in San Francisco"),
    ]
    started = events_of(events, ev.ToolCallStarted)[0]
    assert (started.tool_call_id, started.name, started.arguments) == (
        "g1bmv6il",
        "get_weather",
        {"city": "San Francisco"},
    )
    finished = events_of(events, ev.RequestFinished)[0]
    assert finished.finish_reason == "tool_calls"
    assert finished.usage == Usage(
        input_tokens=83, output_tokens=199, total_tokens=282, reasoning_tokens=178
    )
    assert finished.usage == recorded_usage(cassette)
    recorded = json.loads(cassette.data["response"]["body_chunks"][1])
    signature = recorded["candidates"][0]["content"]["parts"][0]["thoughtSignature"]
    model_turn = server.requests[1].json["contents"][1]
    sent_signature = model_turn["parts"][1].pop("thoughtSignature")
    assert same_bytes(sent_signature, signature)
    assert model_turn == {
        "role": "model",
        "parts": [
            {"text": "Let me check."},
            {
                "functionCall": {
                    "name": "get_weather",
                    "args": {"city": "San Francisco"},
                    "id": "g1bmv6il",
                }
            },
        ],
    }


def test_03_parallel_calls_in_separate_chunks(server, make_driver):
    cassette = load("gemini_03_stream_parallel_function_calls_split_chunks")
    server.enqueue(cassette.reply(), stream_reply(chunk([text("Mild in both.")], finish="STOP")))
    driver = make_driver(model=model_of(cassette))
    events = finish(
        driver.stream_generate(
            "What is the weather like in Boston & new Delhi?",
            tools=[Tool.from_function(get_weather)],
            thinking_config={"include_thoughts": True, "thinking_level": "LOW"},
        )
    )
    first = events[: events.index(events_of(events, ev.RequestFinished)[0]) + 1]
    assert order(first) == [
        ("call", "get_weather"),
        ("result", "mild in Boston"),
        ("call", "get_weather"),
        ("result", "mild in New Delhi"),
    ]
    assert [e.tool_call_id for e in events_of(events, ev.ToolCallStarted)] == [
        "dv8szvqe",
        "j80tal12",
    ]
    assert events_of(events, ev.RequestFinished)[0].usage == Usage(
        input_tokens=71, output_tokens=126, total_tokens=197, reasoning_tokens=93
    )
    assert events_of(events, ev.RequestFinished)[0].usage == recorded_usage(cassette)
    assert text_of(events) == "Mild in both."
    recorded = cassette.request_json()
    sent = server.requests[0].json
    assert sent["contents"] == recorded["contents"]
    # The recording used the OpenAPI-style "parameters"; the driver sends plain JSON Schema.
    (declaration,) = sent["tools"][0]["functionDeclarations"]
    assert declaration["name"] == "get_weather"
    contents = server.requests[1].json["contents"]
    assert [p["functionResponse"]["id"] for p in contents[2]["parts"]] == ["dv8szvqe", "j80tal12"]
    recorded_first = json.loads(cassette.body.split(SEP)[0][len("data: ") :])
    signature = recorded_first["candidates"][0]["content"]["parts"][0]["thoughtSignature"]
    assert same_bytes(contents[1]["parts"][0]["thoughtSignature"], signature)
    assert "thoughtSignature" not in contents[1]["parts"][1]


def test_04_non_streamed_json_is_read_as_one_chunk(server, make_driver):
    """The recording answers ``:generateContent`` (not streamed); the driver only streams.

    Served to the driver's ``streamGenerateContent`` request, the pretty-printed JSON body is
    read by the SDK's fallback for bodies without ``data:`` lines as one whole chunk, so the
    driver still delivers the text, usage and finish reason. The path differs from the
    recording's, which is expected.
    """
    cassette = load("gemini_04_nonstream_text_with_usage")
    server.enqueue(cassette.reply())
    driver = make_driver(model=model_of(cassette))
    events = finish(driver.stream_generate("What is 4200 + 42?"))
    recorded = json.loads(cassette.body)
    assert text_of(events) == recorded["candidates"][0]["content"]["parts"][0]["text"]
    assert len(events_of(events, ev.ContentPartFound)) == 1
    end = finished_event(events)
    assert end.finish_reason == "stop"
    assert end.usage == Usage(
        input_tokens=13, output_tokens=102, total_tokens=115, reasoning_tokens=25
    )
    assert end.usage == recorded_usage(cassette)
    (request,) = server.requests
    assert request.path == "/v1beta/models/gemini-2.5-flash:streamGenerateContent"
    assert sent_body(request) == cassette.request_json()


def test_05_resource_exhausted_is_retryable(server, make_driver):
    cassette = load("gemini_05_error_429_resource_exhausted")
    server.enqueue(cassette.reply())
    driver = make_driver(model=model_of(cassette), max_retries=0)
    events = finish(driver.stream_generate("What do you see in this video?"))
    (error,) = events_of(events, ev.RequestError)
    assert error.status_code == 429
    assert error.retryable is True
    assert "RESOURCE_EXHAUSTED" in error.error and "rate limited" in error.error
    # no Retry-After and no RetryInfo in this recording: the core's own back-off applies
    assert driver.describe_error(error.exception).retry_after is None


def test_05_then_success_is_retried(server, make_driver):
    server.enqueue(
        load("gemini_05_error_429_resource_exhausted").reply(),
        load("gemini_01_stream_text_sse").reply(),
    )
    events = finish(make_driver().stream_generate("hi"))
    (retry,) = events_of(events, ev.RequestRetry)
    assert retry.status_code == 429
    assert text_of(events) == "The capital of France is Paris.\n"
    assert len(server.requests) == 2


@pytest.mark.parametrize("variable", ["GEMINI_API_KEY", "GOOGLE_API_KEY"])
def test_06_bad_key_names_the_variable(server, monkeypatch, variable):
    from janito_driver_gemini.driver import GeminiDriver

    cassette = load("gemini_06_error_400_api_key_invalid_on_stream")
    server.enqueue(cassette.reply())
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    monkeypatch.setenv(variable, "AIza-not-a-real-key")
    driver = GeminiDriver(base_url=server.url, model=model_of(cassette), timeout=5.0)
    try:
        events = finish(driver.stream_generate("This should fail with AuthenticationError"))
    finally:
        driver.close()
    (error,) = events_of(events, ev.RequestError)
    assert error.status_code == 400
    assert error.retryable is False
    assert f"check {variable}" in error.error
    assert "API key not valid" in error.error
    assert "AIza-not-a-real-key" not in error.error
    assert len(server.requests) == 1
    assert sent_body(server.requests[0]) == cassette.request_json()
    assert finished_event(events).status == "error"
