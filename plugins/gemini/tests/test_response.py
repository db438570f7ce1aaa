"""Gemini chunks → neutral parts (``response.py``) and error reading (``errors.py``)."""

from __future__ import annotations

import pytest
from janito_driver_gemini.errors import describe_api_error, describe_stream_error, retry_delay
from janito_driver_gemini.response import ResponseReader, finish_reason, usage_from

from janito_core.errors import AuthenticationError, RateLimitError
from janito_core.parts import (
    FinishPart,
    MetadataPart,
    ReasoningPart,
    TextPart,
    ToolCallPart,
    UsagePart,
)
from janito_core.retry import ProviderError
from janito_core.usage import Usage


def chunk(*parts: dict, finish: str | None = None, usage: dict | None = None) -> dict:
    candidate: dict = {"content": {"role": "model", "parts": list(parts)}}
    if finish:
        candidate["finishReason"] = finish
    data: dict = {"candidates": [candidate], "responseId": "r1"}
    if usage:
        data["usageMetadata"] = usage
    return data


def new_reader(request_id: str = "r") -> ResponseReader:
    return ResponseReader(request_id, model="gemini-test", key_variable="GEMINI_API_KEY")


def read(*chunks: dict, request_id: str = "req-1") -> list:
    reader = new_reader(request_id)
    parts = [p for c in chunks for p in reader.feed(c)]
    return parts + reader.finish()


def recorded(parts: list) -> list:
    (metadata,) = [p for p in parts if isinstance(p, MetadataPart)]
    return metadata.data["gemini"]["parts"]


def test_parts_come_out_in_wire_order():
    parts = read(
        chunk({"text": "a"}, {"functionCall": {"name": "f", "args": {"x": 1}}}),
        chunk({"text": "b", "thought": True}, {"text": "c"}, {"functionCall": {"name": "g"}}),
        chunk({"text": ""}, finish="STOP"),
    )
    assert parts[:-2] == [
        TextPart("a"),
        ToolCallPart(
            id="gemini-call-req-1-0",
            name="f",
            arguments={"x": 1},
            provider_data={"gemini": {"synthetic_id": True}},
        ),
        ReasoningPart("b"),
        TextPart("c"),
        ToolCallPart(
            id="gemini-call-req-1-1",
            name="g",
            arguments={},
            provider_data={"gemini": {"synthetic_id": True}},
        ),
    ]
    assert parts[-1] == FinishPart("tool_calls")


def test_made_up_ids_are_the_same_on_replay():
    response = chunk(
        {"functionCall": {"name": "f"}}, {"functionCall": {"name": "f"}}, finish="STOP"
    )
    ids = [[p.id for p in read(response) if isinstance(p, ToolCallPart)] for _ in range(2)]
    assert ids[0] == ids[1] == ["gemini-call-req-1-0", "gemini-call-req-1-1"]


def test_streamed_text_is_kept_joined_with_its_signature():
    parts = read(
        chunk({"text": "Hmm, ", "thought": True}),
        chunk({"text": "yes.", "thought": True}),
        chunk({"text": "An"}),
        chunk({"text": "swer"}),
        chunk({"text": "", "thoughtSignature": "-_8="}, finish="STOP"),
    )
    assert recorded(parts) == [
        {"text": "Hmm, yes.", "thought": True},
        {"text": "Answer", "thoughtSignature": "+/8="},  # kept in Google's own alphabet
    ]


def test_two_signed_text_parts_stay_apart_and_empty_parts_vanish():
    parts = read(
        chunk({"text": "one", "thoughtSignature": "AAAA"}),
        chunk({"text": "two", "thoughtSignature": "BBBB"}),
        chunk({"text": ""}, finish="STOP"),
    )
    assert recorded(parts) == [
        {"text": "one", "thoughtSignature": "AAAA"},
        {"text": "two", "thoughtSignature": "BBBB"},
    ]


def test_usage_is_yielded_when_it_changes():
    reader = new_reader()
    first = reader.feed(chunk({"text": "a"}, usage={"promptTokenCount": 4, "totalTokenCount": 4}))
    again = reader.feed(chunk({"text": "b"}, usage={"promptTokenCount": 4, "totalTokenCount": 4}))
    assert first[-1] == UsagePart(Usage(input_tokens=4, total_tokens=4))
    assert again == [TextPart("b")]


def test_usage_mapping():
    assert usage_from(
        {
            "promptTokenCount": 10,
            "toolUsePromptTokenCount": 2,
            "candidatesTokenCount": 5,
            "thoughtsTokenCount": 3,
            "cachedContentTokenCount": 4,
        }
    ) == Usage(
        input_tokens=12, output_tokens=8, total_tokens=20, cached_input_tokens=4, reasoning_tokens=3
    )


def test_usage_total_is_gemini_own():
    # Gemini's total is taken as sent, even where it is not the sum of the parts.
    assert usage_from(
        {"promptTokenCount": 3, "candidatesTokenCount": 2, "totalTokenCount": 9}
    ) == Usage(input_tokens=3, output_tokens=2, total_tokens=9)
    assert usage_from({"promptTokenCount": 3, "totalTokenCount": 0}) == Usage(input_tokens=3)


def test_metadata_without_counts_is_no_usage():
    # A blocked prompt's usageMetadata may hold only its traffic type: no figures, so no
    # UsagePart, and the harness marks the request's usage missing rather than zero.
    assert usage_from({"trafficType": "ON_DEMAND"}) is None
    reader = new_reader()
    assert reader.feed({"usageMetadata": {"trafficType": "ON_DEMAND"}}) == []
    counted = reader.feed({"usageMetadata": {"promptTokenCount": 0, "totalTokenCount": 0}})
    assert counted == [UsagePart(Usage())]


@pytest.mark.parametrize(
    ("gemini", "calls", "neutral"),
    [
        ("STOP", False, "stop"),
        ("STOP", True, "tool_calls"),
        ("MAX_TOKENS", False, "length"),
        ("SAFETY", False, "content_filter"),
        ("PROHIBITED_CONTENT", True, "content_filter"),
        ("MALFORMED_FUNCTION_CALL", False, "malformed_function_call"),
    ],
)
def test_finish_reasons(gemini, calls, neutral):
    assert finish_reason(gemini, made_calls=calls) == neutral


def test_blocked_prompt_raises_and_missing_finish_gives_no_finish():
    reader = new_reader()
    reader.feed({"promptFeedback": {"blockReason": "SAFETY"}})
    with pytest.raises(ProviderError, match=r"blocked the prompt \(block reason: SAFETY\)") as info:
        reader.finish()
    assert info.value.info.retryable is False
    reader = new_reader()
    reader.feed(chunk({"text": "half"}))
    # no FinishPart: the core reports the response as cut short
    assert reader.finish() == []


def test_retry_delay_from_the_error_body():
    def body(delay: object) -> dict:
        info = {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay}
        return {"error": {"code": 429, "details": [{"@type": "other"}, info]}}

    assert retry_delay(body("12s")) == 12.0
    assert retry_delay(body("0.5s")) == 0.5
    assert retry_delay(body("soon")) is None
    assert retry_delay({"error": {"code": 429}}) is None


def test_http_errors_name_the_key_variable():
    info = describe_api_error(
        403,
        {"error": {"code": 403, "message": "key blocked", "status": "PERMISSION_DENIED"}},
        {"Retry-After": "3"},
        key_variable="GOOGLE_API_KEY",
        model="m",
    )
    assert "check GOOGLE_API_KEY" in info.message
    assert "PERMISSION_DENIED: key blocked" in info.message
    assert (info.status_code, info.retryable, info.retry_after) == (403, False, 3.0)
    bad_key = {
        "error": {"code": 400, "message": "API key not valid.", "status": "INVALID_ARGUMENT"}
    }
    info = describe_api_error(400, bad_key, None, key_variable="GEMINI_API_KEY", model="m")
    assert info.kind is AuthenticationError
    assert "refused; check GEMINI_API_KEY" in info.message


def test_stream_errors_read_the_status_word_when_there_is_no_code():
    def stream_error(**error: object):
        return describe_stream_error({"error": error}, key_variable="GEMINI_API_KEY", model="m")

    info = stream_error(status="RESOURCE_EXHAUSTED", message="slow down")
    assert info.message.startswith("Gemini reported an error in the stream: HTTP 429")
    assert "RESOURCE_EXHAUSTED: slow down" in info.message
    assert (info.status_code, info.retryable) == (429, True)
    assert type(info.to_error()) is RateLimitError
    info = stream_error(code=503, status="UNAVAILABLE", message="busy")
    assert (info.status_code, info.retryable) == (503, True)
    info = stream_error(status="SOMETHING_NEW", message="odd")
    assert info.message == "Gemini reported an error in the stream: SOMETHING_NEW: odd"
    assert (info.status_code, info.retryable) == (None, False)
