"""The Gemini driver against the loopback server, through the real ``google-genai`` SDK."""

from __future__ import annotations

import asyncio
import base64
import logging
import subprocess
import sys
import time

import pytest
from gemini_support import order
from gemini_wire import (
    SEP,
    call,
    chunk,
    error_reply,
    event,
    function_responses,
    stream_reply,
    text,
)
from google import genai
from janito_driver_gemini.driver import GeminiDriver

from conftest import SdkPathDriver
from janito_core import Message, Tool, get_driver
from janito_core import events as ev
from janito_core.errors import (
    AuthenticationError,
    ContentFilterError,
    DriverConfigError,
    InvalidRequestError,
    RateLimitError,
)
from janito_core.testing import (
    client_threads,
    events_of,
    finish,
    finished_event,
    text_of,
    validate_events,
)
from janito_core.testing.server import Drop, Reply, Send, Stall
from janito_core.usage import Usage

# Signatures whose base64 uses "+" and "/": the SDK writes them back URL-safe ("-", "_").
SIG_A = base64.b64encode(b"\xfb\xff\xfesignature-A").decode()
SIG_B = base64.b64encode(b"\xfb\xef\xbesignature-B").decode()


def signature(part: dict) -> bytes:
    """The bytes of a sent part's thought signature (removed from the part)."""
    return base64.urlsafe_b64decode(part.pop("thoughtSignature"))


USAGE = {"promptTokenCount": 9, "candidatesTokenCount": 4, "totalTokenCount": 13}


def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


def get_time(city: str) -> str:
    """The time in a city."""
    return f"noon in {city}"


def broken(city: str) -> str:
    """Always fails."""
    raise RuntimeError(f"no data for {city}")


TOOLS = [Tool.from_function(get_weather), Tool.from_function(get_time)]


def done(text_value: str = "Done.") -> Reply:
    return stream_reply(chunk([text(text_value)], finish="STOP", usage=USAGE))


# -- the request ---------------------------------------------------------------------------


def test_text_stream_and_the_request_sent(server, run):
    server.enqueue(
        stream_reply(
            chunk([text("Hel")], usage={"promptTokenCount": 9, "totalTokenCount": 9}),
            chunk([text("lo")]),
            chunk([text("!")], finish="STOP", usage=USAGE),
        )
    )
    events = run(
        "Say hello",
        system_prompt="be brief",
        temperature=0.2,
        max_tokens=64,
        top_p=0.9,
        top_k=20,
        stop="END",
        seed=7,
    )
    assert text_of(events) == "Hello!"
    end = finished_event(events)
    assert end.status == "completed"
    assert end.finish_reason == "stop"
    assert end.usage == Usage(input_tokens=9, output_tokens=4, total_tokens=13)
    (request,) = server.requests
    assert request.method == "POST"
    assert request.path == "/v1beta/models/gemini-test:streamGenerateContent"
    assert request.query == {"alt": "sse"}
    assert request.json == {
        "contents": [{"parts": [{"text": "Say hello"}], "role": "user"}],
        "systemInstruction": {"parts": [{"text": "be brief"}], "role": "user"},
        "generationConfig": {
            "temperature": 0.2,
            "maxOutputTokens": 64,
            "topP": 0.9,
            "topK": 20,
            "stopSequences": ["END"],
            "seed": 7,
        },
    }
    assert end.messages[0].provider_data["gemini"]["parts"] == [{"text": "Hello!"}]


def test_key_header_and_system_messages(server, driver, adapter):
    server.enqueue(done())
    finish(
        driver.stream_generate(
            messages=[Message.system("rule one"), Message.user("hi")], system_prompt="be brief"
        )
    )
    (request,) = server.requests
    assert request.headers["x-goog-api-key"] == adapter.api_key
    # the timeout is a per-read limit, not a deadline for the server to enforce
    assert "x-server-timeout" not in request.headers
    assert request.json["systemInstruction"]["parts"] == [{"text": "be brief\n\nrule one"}]
    assert request.json["contents"] == [{"parts": [{"text": "hi"}], "role": "user"}]


def test_tools_are_sent_as_json_schema(server, run):
    server.enqueue(done())
    run("hi", tools=TOOLS)
    (declarations,) = [t["functionDeclarations"] for t in server.requests[0].json["tools"]]
    assert declarations[0]["name"] == "get_weather"
    assert declarations[0]["description"] == "The weather in a city."
    schema = declarations[0].get("parametersJsonSchema") or declarations[0].get(
        "parameters_json_schema"
    )
    assert schema == {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    }


def test_bad_options_are_refused_at_the_call(driver):
    with pytest.raises(InvalidRequestError, match="no_such_option"):
        driver.stream_generate("hi", no_such_option=1)
    with pytest.raises(InvalidRequestError, match="system_prompt="):
        driver.stream_generate("hi", system_instruction="x")
    with pytest.raises(InvalidRequestError, match="candidate_count"):
        driver.stream_generate("hi", candidate_count=2)


def test_thinking_shortcuts_go_to_thinking_config(server, run):
    server.enqueue(done())
    run("hi", thinking_budget=128, include_thoughts=True)
    config = server.requests[0].json["generationConfig"]
    thinking = config.get("thinkingConfig")
    assert thinking in (
        {"thinkingBudget": 128, "includeThoughts": True},
        {"thinking_budget": 128, "include_thoughts": True},
    )


# -- the order of parts --------------------------------------------------------------------


def test_text_and_calls_interleave_in_response_order(server, run):
    server.enqueue(
        stream_reply(
            chunk([text("First, ")]),
            chunk([text("the weather. ")]),
            chunk([call("get_weather", {"city": "Paris"})]),
            # two parts in one chunk: text then a call (with a server id)
            chunk([text("Then the time. "), call("get_time", {"city": "Rome"}, id="srv-2")]),
            chunk([text("Done.")], finish="STOP", usage=USAGE),
        ),
        done("All set."),
    )
    events = run("Weather and time?", tools=TOOLS)
    first = events[: events.index(events_of(events, ev.RequestFinished)[0])]
    assert order(first) == [
        ("text", "First, "),
        ("text", "the weather. "),
        ("call", "get_weather"),
        ("result", "sunny in Paris"),
        ("text", "Then the time. "),
        ("call", "get_time"),
        ("result", "noon in Rome"),
        ("text", "Done."),
    ]
    assert events_of(events, ev.RequestFinished)[0].finish_reason == "tool_calls"
    assert finished_event(events).finish_reason == "stop"
    started = events_of(events, ev.ToolCallStarted)
    request_id = events_of(events, ev.RequestStarted)[0].request_id
    # a call without an id gets one made from the request id and its position: stable on replay
    assert started[0].tool_call_id == f"gemini-call-{request_id}-0"
    assert started[1].tool_call_id == "srv-2"

    second = server.requests[1].json["contents"]
    assert [c["role"] for c in second] == ["user", "model", "user"]
    assert second[1]["parts"] == [
        {"text": "First, the weather. "},
        {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}},
        {"text": "Then the time. "},
        {"functionCall": {"name": "get_time", "args": {"city": "Rome"}, "id": "srv-2"}},
        {"text": "Done."},
    ]
    # one user content holds every response of the turn; only the server's id goes back
    assert second[2]["parts"] == [
        {"functionResponse": {"name": "get_weather", "response": {"result": "sunny in Paris"}}},
        {
            "functionResponse": {
                "name": "get_time",
                "response": {"result": "noon in Rome"},
                "id": "srv-2",
            }
        },
    ]


def test_thoughts_become_reasoning_in_order(server, run):
    server.enqueue(
        stream_reply(
            chunk([text("Thinking about ", thought=True)]),
            chunk([text("the sky.", thought=True), text("It is ")]),
            chunk([text("blue.", signature=SIG_A)]),
            chunk(
                [text("")],
                finish="STOP",
                usage={
                    "promptTokenCount": 5,
                    "candidatesTokenCount": 3,
                    "thoughtsTokenCount": 7,
                    "cachedContentTokenCount": 2,
                    "totalTokenCount": 15,
                },
            ),
        )
    )
    events = run("Sky colour?")
    assert order(events) == [
        ("reasoning", "Thinking about "),
        ("reasoning", "the sky."),
        ("text", "It is "),
        ("text", "blue."),
    ]
    end = finished_event(events)
    assert end.usage == Usage(
        input_tokens=5, output_tokens=10, total_tokens=15, cached_input_tokens=2, reasoning_tokens=7
    )
    (message,) = end.messages
    assert message.content == "It is blue."
    assert message.reasoning == "Thinking about the sky."
    assert message.provider_data["gemini"]["parts"] == [
        {"text": "Thinking about the sky.", "thought": True},
        {"text": "It is blue.", "thoughtSignature": SIG_A},
    ]


def test_usage_is_the_latest_running_total(server, run):
    server.enqueue(
        stream_reply(
            chunk([text("a")], usage={"promptTokenCount": 9, "totalTokenCount": 9}),
            chunk([text("b")], usage={"promptTokenCount": 9, "candidatesTokenCount": 1}),
            chunk([text("c")], finish="STOP", usage=USAGE),
        )
    )
    events = run()
    assert events_of(events, ev.RequestFinished)[0].usage == Usage(
        input_tokens=9, output_tokens=4, total_tokens=13
    )


def test_no_usage_sent_is_marked_missing_not_zero(server, run):
    server.enqueue(stream_reply(chunk([text("Hi")], finish="STOP")))
    end = finished_event(run())
    assert end.status == "completed"
    assert end.usage == Usage(missing=True)


def test_cached_and_tool_use_prompt_tokens(server, run):
    server.enqueue(
        stream_reply(
            chunk(
                [text("Found it.")],
                finish="STOP",
                usage={
                    "promptTokenCount": 1200,
                    "cachedContentTokenCount": 1024,
                    "toolUsePromptTokenCount": 300,
                    "candidatesTokenCount": 20,
                    "thoughtsTokenCount": 80,
                    "totalTokenCount": 1600,
                },
            )
        )
    )
    assert finished_event(run()).usage == Usage(
        input_tokens=1500,
        output_tokens=100,
        total_tokens=1600,
        cached_input_tokens=1024,
        reasoning_tokens=80,
    )


# -- tool calls and thought signatures -----------------------------------------------------


def test_thought_signatures_round_trip(server, run):
    server.enqueue(
        stream_reply(
            chunk([text("Let me check.")]),
            chunk(
                [
                    call("get_weather", {"city": "Boston"}, id="c1", signature=SIG_A),
                    call("get_weather", {"city": "Delhi"}, id="c2"),
                ]
            ),
            chunk([text("")], finish="STOP", usage=USAGE),
        ),
        stream_reply(
            chunk([call("get_time", {"city": "Boston"}, id="c3", signature=SIG_B)]),
            chunk([text("")], finish="STOP"),
        ),
        done("Sunny and noon."),
    )
    events = run("Weather?", tools=TOOLS)
    assert finished_event(events).status == "completed"
    assert text_of(events) == "Let me check.Sunny and noon."
    second = server.requests[1].json["contents"]
    assert signature(second[1]["parts"][1]) == base64.b64decode(SIG_A)
    assert second[1] == {
        "role": "model",
        "parts": [
            {"text": "Let me check."},
            {"functionCall": {"name": "get_weather", "args": {"city": "Boston"}, "id": "c1"}},
            {"functionCall": {"name": "get_weather", "args": {"city": "Delhi"}, "id": "c2"}},
        ],
    }
    assert [r["id"] for r in function_responses(server.requests[1])] == ["c1", "c2"]
    third = server.requests[2].json["contents"]
    # every earlier model turn keeps its signature on the next requests too
    assert signature(third[1]["parts"][1]) == base64.b64decode(SIG_A)
    assert signature(third[3]["parts"][0]) == base64.b64decode(SIG_B)
    assert third[3]["parts"] == [
        {"functionCall": {"name": "get_time", "args": {"city": "Boston"}, "id": "c3"}}
    ]
    # what the history keeps reads like the wire (standard base64)
    messages = finished_event(events).messages
    assert messages[0].tool_calls[0].provider_data["gemini"]["thought_signature"] == SIG_A
    assert messages[0].provider_data["gemini"]["parts"][1]["thoughtSignature"] == SIG_A


def test_history_from_a_finished_generation_goes_back_verbatim(server, driver):
    server.enqueue(
        stream_reply(
            chunk([call("get_weather", {"city": "Oslo"}, signature=SIG_A)]),
            chunk([text("")], finish="STOP"),
        ),
        done("Cold."),
        done("Bye."),
    )
    first = finish(driver.stream_generate("Weather in Oslo?", tools=TOOLS))
    history = [
        Message.user("Weather in Oslo?"),
        *finished_event(first).messages,
        Message.user("Thanks"),
    ]
    finish(driver.stream_generate(messages=history, tools=TOOLS))
    contents = server.requests[2].json["contents"]
    assert [c["role"] for c in contents] == ["user", "model", "user", "model", "user"]
    assert signature(contents[1]["parts"][0]) == base64.b64decode(SIG_A)
    assert contents[1]["parts"] == [
        {"functionCall": {"name": "get_weather", "args": {"city": "Oslo"}}}
    ]
    assert contents[2]["parts"] == [
        {"functionResponse": {"name": "get_weather", "response": {"result": "sunny in Oslo"}}}
    ]
    assert contents[4]["parts"] == [{"text": "Thanks"}]


def test_tool_errors_go_back_as_error(server, run):
    server.enqueue(
        stream_reply(
            chunk([call("broken", {"city": "Paris"}, id="b1"), call("nope", {}, id="b2")]),
            chunk([text("")], finish="STOP"),
        ),
        done("Sorry."),
    )
    events = run("hi", tools=[Tool.from_function(broken)])
    assert [e.tool_call_id for e in events_of(events, ev.ToolCallError)] == ["b1", "b2"]
    responses = function_responses(server.requests[1])
    assert [r["name"] for r in responses] == ["broken", "nope"]
    assert responses[0]["response"] == {"error": "Error: RuntimeError: no data for Paris"}
    assert set(responses[1]["response"]) == {"error"}
    assert "unknown tool" in responses[1]["response"]["error"]


# -- blocked prompts and safety stops ------------------------------------------------------


def test_blocked_prompt_is_a_clear_error(server, run):
    server.enqueue(
        stream_reply(
            {
                "promptFeedback": {
                    "blockReason": "PROHIBITED_CONTENT",
                    "blockReasonMessage": "The prompt is not allowed.",
                },
                "usageMetadata": {"promptTokenCount": 6, "totalTokenCount": 6},
                "modelVersion": "gemini-test",
                "responseId": "r-blocked",
            }
        )
    )
    events = run("something bad")
    (error,) = events_of(events, ev.RequestError)
    assert "blocked the prompt" in error.error
    assert "PROHIBITED_CONTENT" in error.error
    assert "The prompt is not allowed." in error.error
    assert error.retryable is False
    assert isinstance(error.exception, ContentFilterError)
    assert finished_event(events).status == "error"
    assert len(server.requests) == 1


def test_safety_stop_after_text_finishes_as_content_filter(server, run):
    server.enqueue(
        stream_reply(
            chunk([text("Here is the start")]),
            chunk([], finish="SAFETY", usage=USAGE),
        )
    )
    events = run()
    assert text_of(events) == "Here is the start"
    end = finished_event(events)
    assert end.status == "completed"
    assert end.finish_reason == "content_filter"
    assert end.messages[0].provider_data["gemini"]["finish_reason"] == "SAFETY"


def test_safety_stop_without_any_answer_is_an_error_not_an_empty_answer(server, run):
    server.enqueue(stream_reply(chunk([], finish="RECITATION", usage=USAGE)))
    events = run()
    (error,) = events_of(events, ev.RequestError)
    assert "withheld the answer" in error.error
    assert "RECITATION" in error.error
    assert error.retryable is False


def test_max_tokens_finishes_as_length(server, run):
    server.enqueue(stream_reply(chunk([text("cut")], finish="MAX_TOKENS", usage=USAGE)))
    assert finished_event(run()).finish_reason == "length"


# -- errors and retries ----------------------------------------------------------------------


def test_429_waits_for_the_retry_delay_google_sends(server, run):
    server.enqueue(error_reply(429, "Quota exceeded", retry_delay=0.05), done())
    events = run()
    (retry,) = events_of(events, ev.RequestRetry)
    assert retry.status_code == 429
    assert retry.delay == pytest.approx(0.05)
    assert "rate limited" in retry.error and "Quota exceeded" in retry.error
    assert text_of(events) == "Done."
    assert len(server.requests) == 2


def test_retry_after_header_and_retry_info_the_longer_wins(server, make_driver):
    driver = make_driver(max_retries=0)
    server.enqueue(error_reply(429, retry_delay=12, retry_after=30))
    events = finish(driver.stream_generate("hi"))
    (error,) = events_of(events, ev.RequestError)
    assert error.status_code == 429
    assert error.retryable is True
    assert isinstance(error.exception, RateLimitError)
    assert error.exception.retry_after == 30
    server.enqueue(error_reply(429, retry_delay=12.5))
    events = finish(driver.stream_generate("hi"))
    (error,) = events_of(events, ev.RequestError)
    assert error.exception.retry_after == 12.5


def test_server_errors_are_retried(server, run):
    server.enqueue(error_reply(500, "internal"), error_reply(503, "overloaded"), done())
    events = run()
    assert [r.status_code for r in events_of(events, ev.RequestRetry)] == [500, 503]
    assert finished_event(events).status == "completed"


def test_in_stream_error_before_content_is_retried(server, run):
    error = {"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}}
    server.enqueue(stream_reply(error), done())
    events = run()
    (retry,) = events_of(events, ev.RequestRetry)
    assert retry.status_code == 503
    assert text_of(events) == "Done."


@pytest.mark.parametrize(
    ("status", "needle"),
    [(400, "check the options"), (403, "may not use this model"), (404, "'gemini-test'")],
)
def test_client_errors_are_not_retried(server, run, status, needle):
    server.enqueue(error_reply(status, "nope"))
    events = run()
    (error,) = events_of(events, ev.RequestError)
    assert error.status_code == status
    assert needle in error.error
    assert error.retryable is False
    assert len(server.requests) == 1


def test_bad_key_says_which_variable_to_check(server, make_driver, monkeypatch):
    monkeypatch.setenv("GEMINI_API_KEY", "AIza-bad-key-from-env")
    driver = GeminiDriver(base_url=server.url, model="gemini-test")
    try:
        server.enqueue(
            error_reply(
                400,
                "API key not valid. Please pass a valid API key.",
                details=[
                    {
                        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                        "reason": "API_KEY_INVALID",
                        "domain": "googleapis.com",
                    }
                ],
            )
        )
        events = finish(driver.stream_generate("hi"))
    finally:
        driver.close()
    (error,) = events_of(events, ev.RequestError)
    assert "check GEMINI_API_KEY" in error.error
    assert "AIza-bad-key-from-env" not in error.error
    assert error.retryable is False
    assert isinstance(error.exception, AuthenticationError)


def test_dropped_connection_before_content_is_retried(server, run):
    server.enqueue(Reply(steps=[Drop()]), stream_reply(Drop(reset=True)), done())
    events = run()
    retries = events_of(events, ev.RequestRetry)
    assert len(retries) == 2
    assert all(
        f"the connection to the gemini server at {server.url} dropped" in r.error for r in retries
    ), [r.error for r in retries]
    assert finished_event(events).status == "completed"


def test_dropped_connection_after_content_is_not_retried(server, run):
    server.enqueue(stream_reply(chunk([text("partial")]), Drop()))
    events = run()
    (error,) = events_of(events, ev.RequestError)
    assert f"the connection to the gemini server at {server.url} dropped" in error.error
    assert error.retryable is True
    assert text_of(events) == "partial"
    assert len(server.requests) == 1


def test_clean_end_without_finish_reason_is_not_an_answer(server, make_driver):
    driver = make_driver(max_retries=0)
    server.enqueue(stream_reply(chunk([text("half")])))
    events = finish(driver.stream_generate("hi"))
    (error,) = events_of(events, ev.RequestError)
    assert "no end marker or finish reason" in error.error


def test_malformed_event_is_not_retried(server, run):
    server.enqueue(stream_reply(Send("data: {this is not json" + SEP)))
    events = run()
    (error,) = events_of(events, ev.RequestError)
    assert "Gemini sent a malformed response: an event that is not JSON" in error.error
    assert error.retryable is False
    assert len(server.requests) == 1


def test_read_timeout_is_a_retryable_connection_problem(server, make_driver):
    driver = make_driver(timeout=0.3, max_retries=0)
    server.enqueue(stream_reply(chunk([text("slow")]), Stall(2.0)))
    events = finish(driver.stream_generate("hi"))
    (error,) = events_of(events, ev.RequestError)
    assert "timed out after 0.3 s" in error.error
    assert error.retryable is True
    server.requests[0].wait_closed(5.0)


def test_timeout_is_per_read_not_a_total_deadline(server, make_driver):
    driver = make_driver(timeout=0.4, max_retries=0)
    pieces = [event(chunk([text(f"{i} ")]), delay=0.15) for i in range(6)]
    server.enqueue(stream_reply(*pieces, event(chunk([text("end")], finish="STOP"), delay=0.15)))
    events = finish(driver.stream_generate("hi"))  # ~1 s in all, no gap over 0.4 s
    assert finished_event(events).status == "completed"
    assert text_of(events) == "0 1 2 3 4 5 end"


def test_sdk_never_continues_on_its_own(server, make_driver):
    driver = make_driver(max_retries=0)
    token_chunk = chunk([text("part1 ")])
    token_chunk["candidates"][0]["continuationToken"] = "Y2hlY2twb2ludC0x"
    server.enqueue(stream_reply(token_chunk, Drop()), done("part2"))
    events = finish(driver.stream_generate("hi"))
    assert events_of(events, ev.RequestError)
    assert len(server.requests) == 1


# -- cancellation --------------------------------------------------------------------------


def _cancel_when_stalled(server, driver, reply: Reply, *, after_text: bool) -> None:
    before = client_threads()
    server.enqueue(reply)
    stream = driver.stream_generate("hi")
    seen: list[ev.Event] = []
    for event_ in stream:
        seen.append(event_)
        if isinstance(event_, ev.ContentPartFound if after_text else ev.RequestStarted):
            break
    if not after_text:
        server.wait_for_requests(1)  # the driver is now waiting for the response headers
    stream.cancel()
    seen += list(stream)
    validate_events(seen)
    assert stream.join(5.0), "the worker thread did not end"
    assert finished_event(seen).status == "cancelled", seen
    assert events_of(seen, ev.RequestFinished)[0].status == "cancelled", seen
    (request,) = server.requests
    assert request.wait_closed(5.0), "the server never saw the connection go"
    assert request.outcome == "client_disconnected", request
    left = client_threads() - before
    assert not left, f"threads left behind: {[t.name for t in left]}"


def test_cancel_while_the_server_stalls_mid_stream(server, driver):
    reply = stream_reply(chunk([text("first")]), Stall())
    _cancel_when_stalled(server, driver, reply, after_text=True)


def test_cancel_while_the_server_stalls_before_headers(server, driver):
    reply = Reply(headers_delay=30.0, body="{}")
    _cancel_when_stalled(server, driver, reply, after_text=False)


def test_closing_the_stream_after_the_first_text_disconnects(server, driver):
    server.enqueue(stream_reply(*[event(chunk([text(f"{i} ")]), delay=0.02) for i in range(200)]))
    with driver.stream_generate("count") as stream:
        for event_ in stream:
            if isinstance(event_, ev.ContentPartFound):
                break
    assert stream.join(5.0)
    (request,) = server.requests
    assert request.wait_closed(5.0)
    assert request.outcome == "client_disconnected"


# -- configuration -------------------------------------------------------------------------


def test_google_api_key_is_the_fallback(server, monkeypatch):
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    monkeypatch.setenv("GOOGLE_API_KEY", "google-key-123")
    server.enqueue(done(), done())
    driver = get_driver("gemini", base_url=server.url, model="gemini-test")
    try:
        finish(driver.stream_generate("hi"))
        monkeypatch.setenv("GEMINI_API_KEY", "gemini-key-456")
        preferred = GeminiDriver(base_url=server.url, model="gemini-test")
        try:
            finish(preferred.stream_generate("hi"))
        finally:
            preferred.close()
    finally:
        driver.close()
    assert [r.headers["x-goog-api-key"] for r in server.requests] == [
        "google-key-123",
        "gemini-key-456",
    ]


def test_missing_key_names_both_variables(monkeypatch):
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    with pytest.raises(DriverConfigError, match="GEMINI_API_KEY or GOOGLE_API_KEY"):
        GeminiDriver()


def test_api_version_and_model_name(server, make_driver):
    driver = make_driver(api_version="v1", model="models/gemini-other")
    server.enqueue(done())
    finish(driver.stream_generate("hi"))
    assert server.requests[0].path == "/v1/models/gemini-other:streamGenerateContent"
    assert driver.model == "models/gemini-other"


def test_plugin_module_imports_no_sdk():
    code = (
        "import sys, janito_driver_gemini.plugin\n"
        "assert 'google.genai' not in sys.modules, 'plugin imported the SDK'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


# -- the raw body and the SDK's fallback ---------------------------------------------------

COMMENTED = (Send(": keep-alive" + SEP), chunk([text("Hi")], finish="STOP", usage=USAGE))


def test_google_genai_leaves_the_body_to_the_driver(server, driver, caplog):
    """Fails when a google-genai release stops handing the response to the driver's transport.

    Then the driver falls back to the SDK's objects and logs it; the stream here tells the two
    paths apart too: the SDK takes any line that is not ``data: `` for JSON and fails on an
    SSE comment, which the driver's own reader skips as the SSE standard says.
    """
    caplog.set_level(logging.WARNING, logger="janito_driver_gemini")
    server.enqueue(stream_reply(*COMMENTED))
    events = finish(driver.stream_generate("hi"))
    fallback = [r.getMessage() for r in caplog.records if "did not hand" in r.getMessage()]
    assert not fallback, (
        f"the raw-stream path no longer engages with google-genai {genai.__version__}: "
        f"{fallback}; see janito_driver_gemini/capture.py"
    )
    assert finished_event(events).status == "completed", events_of(events, ev.RequestError)
    assert text_of(events) == "Hi"


def test_the_fallback_reads_the_sdk_objects(server):
    """The SDK path, which the test above would meet if the raw path broke."""
    driver = SdkPathDriver(
        api_key="k", base_url=server.url, model="gemini-test", timeout=5.0, max_retries=0
    )
    try:
        server.enqueue(stream_reply(*COMMENTED), done("Fine."))
        events = finish(driver.stream_generate("hi"))
        (error,) = events_of(events, ev.RequestError)
        assert "Gemini sent a malformed response: an event that is not JSON" in error.error
        assert text_of(finish(driver.stream_generate("hi"))) == "Fine."
    finally:
        driver.close()


def test_both_paths_give_the_same_parts(server, either_driver):
    server.enqueue(
        stream_reply(
            chunk([text("Hmm.", thought=True, signature=SIG_A)]),
            chunk([text("Let me "), text("look. "), call("get_weather", {"city": "Oslo"})]),
            chunk([text("")], finish="STOP", usage=USAGE),
        ),
        done("Cold."),
    )
    events = finish(either_driver.stream_generate("Weather?", tools=TOOLS))
    assert order(events) == [
        ("reasoning", "Hmm."),
        ("text", "Let me "),
        ("text", "look. "),
        ("call", "get_weather"),
        ("result", "sunny in Oslo"),
        ("text", "Cold."),
    ]
    first = finished_event(events).messages[0]
    assert first.provider_data["gemini"]["parts"] == [
        {"text": "Hmm.", "thought": True, "thoughtSignature": SIG_A},
        {"text": "Let me look. "},
        {"functionCall": {"name": "get_weather", "args": {"city": "Oslo"}}},
    ]
    assert events_of(events, ev.RequestFinished)[0].usage == Usage(
        input_tokens=9, output_tokens=4, total_tokens=13
    )


def test_a_cut_after_the_final_chunk_keeps_the_answer(server, either_driver):
    server.enqueue(stream_reply(chunk([text("Whole.")], finish="STOP", usage=USAGE), Drop()))
    events = finish(either_driver.stream_generate("hi"))
    assert finished_event(events).status == "completed"
    assert text_of(events) == "Whole."
    assert not events_of(events, ev.RequestRetry)


def test_a_silence_after_the_final_chunk_does_not_hold_the_answer(server, driver):
    server.enqueue(stream_reply(chunk([text("Whole.")], finish="STOP"), Stall()))
    started = time.monotonic()
    events = finish(driver.stream_generate("hi"))
    assert finished_event(events).status == "completed"
    assert time.monotonic() - started < 4.0  # the read timeout is 5 s
    (request,) = server.requests
    assert request.wait_closed(5.0)


def test_in_stream_error_with_a_status_word_only(server, make_driver):
    driver = make_driver(max_retries=1)
    slow_down = {"error": {"status": "RESOURCE_EXHAUSTED", "message": "slow down"}}
    server.enqueue(stream_reply(slow_down), stream_reply(slow_down))
    events = finish(driver.stream_generate("hi"))
    assert len(events_of(events, ev.RequestRetry)) == 1
    (error,) = events_of(events, ev.RequestError)
    assert "RESOURCE_EXHAUSTED: slow down" in error.error
    assert isinstance(error.exception, RateLimitError)


def test_whole_json_array_is_read_as_chunks(server, run):
    body = [chunk([text("Hel")]), chunk([text("lo")], finish="STOP", usage=USAGE)]
    server.enqueue(Reply(headers={"Content-Type": "application/json"}, body=body))
    events = run()
    assert [e.content_part for e in events_of(events, ev.ContentPartFound)] == ["Hel", "lo"]
    assert finished_event(events).status == "completed"


def test_whole_json_object_is_one_chunk(server, run):
    body = chunk([text("Whole")], finish="STOP", usage=USAGE)
    server.enqueue(Reply(headers={"Content-Type": "application/json"}, body=body))
    events = run()
    assert text_of(events) == "Whole"
    assert finished_event(events).usage == Usage(input_tokens=9, output_tokens=4, total_tokens=13)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("<html>proxy</html>", "a JSON answer that is not JSON"),
        ("[1, 2]", "a JSON answer that is neither a chunk nor an array of chunks"),
    ],
)
def test_json_answer_that_holds_no_chunks_is_malformed(server, run, body, problem):
    server.enqueue(Reply(headers={"Content-Type": "application/json"}, body=body))
    events = run()
    (error,) = events_of(events, ev.RequestError)
    assert f"Gemini sent a malformed response: {problem}" in error.error
    assert error.retryable is False
    assert len(server.requests) == 1


def test_a_page_that_is_no_event_stream_is_not_an_empty_answer(server, run):
    server.enqueue(Reply(headers={"Content-Type": "text/html"}, body="<html>proxy</html>"))
    events = run()
    (error,) = events_of(events, ev.RequestError)
    assert "text/html, not an event stream; check base_url" in error.error
    assert len(server.requests) == 1


def test_raw_line_separators_inside_text(server, run):
    tricky = "a\u2028b\u2029c\u0085d"
    server.enqueue(stream_reply(chunk([text(tricky)], finish="STOP")))
    assert text_of(run()) == tricky


# -- asyncio -------------------------------------------------------------------------------


def test_concurrent_generations_keep_their_own_bodies(server, driver):
    count = 20
    server.enqueue(
        *[
            stream_reply(
                *[chunk([text(f"{i}.{j} ")]) for j in range(5)], chunk([text("")], finish="STOP")
            )
            for i in range(count)
        ]
    )

    async def main():
        return await asyncio.gather(*[driver.agenerate("hi") for _ in range(count)])

    texts = sorted(result.text for result in asyncio.run(main()))
    assert texts == sorted("".join(f"{i}.{j} " for j in range(5)) for i in range(count))


async def _cancel_task_when(driver, ready) -> list[ev.Event]:
    seen: list[ev.Event] = []

    async def consume() -> None:
        async for event_ in driver.astream_generate("hi"):
            seen.append(event_)

    task = asyncio.create_task(consume())
    async with asyncio.timeout(5.0):
        await ready(seen)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    return seen


def test_task_cancel_mid_stream_closes_the_connection(server, either_driver):
    server.enqueue(stream_reply(chunk([text("first")]), Stall()))

    async def got_text(seen):
        while not events_of(seen, ev.ContentPartFound):
            await asyncio.sleep(0.005)

    seen = asyncio.run(_cancel_task_when(either_driver, got_text))
    assert text_of(seen) == "first"
    (request,) = server.requests
    assert request.wait_closed(5.0), "the server never saw the connection go"
    assert request.outcome == "client_disconnected"


def test_task_cancel_before_the_headers_closes_the_connection(server, either_driver):
    server.enqueue(Reply(headers_delay=30.0, body="{}"))

    async def sent(seen):
        await asyncio.to_thread(server.wait_for_requests, 1)

    asyncio.run(_cancel_task_when(either_driver, sent))
    (request,) = server.requests
    assert request.wait_closed(5.0), "the server never saw the connection go"
    assert request.outcome == "client_disconnected"


def test_close_ends_a_generation_in_flight(server, driver):
    server.enqueue(stream_reply(chunk([text("first")]), Stall()))
    stream = driver.stream_generate("hi")
    seen: list[ev.Event] = []
    for event_ in stream:
        seen.append(event_)
        if isinstance(event_, ev.ContentPartFound):
            break
    driver.close()
    seen += list(stream)
    assert stream.join(5.0)
    validate_events(seen)
    (error,) = events_of(seen, ev.RequestError)
    assert "closed while a request was in flight" in error.error
    (request,) = server.requests
    assert request.wait_closed(5.0)
    assert request.outcome == "client_disconnected"
    (error,) = events_of(finish(driver.stream_generate("hi")), ev.RequestError)
    assert error.error == "the gemini driver was closed"
    assert len(server.requests) == 1
