"""Mistral chunks (their JSON as sent) → neutral parts."""

from __future__ import annotations

from typing import Any

import pytest
from janito_driver_mistral.chunks import ChunkReader
from mistral_wire import chunk

from janito_core.parts import FinishPart, ReasoningPart, TextPart, ToolCallPart, UsagePart
from janito_core.retry import ProviderError


def read(*deltas: dict[str, Any], finish: str = "stop") -> list[Any]:
    reader = ChunkReader()
    parts: list[Any] = []
    for delta in deltas:
        parts += reader.chunk(chunk(delta))
    parts += reader.chunk(chunk({"content": ""}, finish_reason=finish))
    return parts + list(reader.end())


def test_object_arguments_are_passed_as_a_dict():
    call = {"id": "abcdefgh1", "function": {"name": "f", "arguments": {"x": 1}}}
    assert read({"content": "a", "tool_calls": [call]}, finish="tool_calls") == [
        TextPart("a"),
        ToolCallPart(id="abcdefgh1", name="f", arguments={"x": 1}),
        FinishPart("tool_calls"),
    ]


def test_a_call_is_complete_once_text_follows():
    call = {"id": "abcdefgh1", "function": {"name": "f", "arguments": "{}"}, "index": 0}
    assert read({"tool_calls": [call]}, {"content": "after"}) == [
        ToolCallPart(id="abcdefgh1", name="f", arguments="{}"),
        TextPart("after"),
        FinishPart("stop"),
    ]


def test_unknown_chunks_and_other_choices_are_ignored():
    reader = ChunkReader()
    data = chunk({"content": [{"type": "mystery", "x": 1}, {"type": "text", "text": "hi"}]})
    data["choices"].append({"index": 1, "delta": {"content": "other"}, "finish_reason": None})
    assert list(reader.chunk(data)) == [TextPart("hi")]


def test_thinking_and_usage_details():
    thinking = [{"type": "thinking", "thinking": [{"type": "text", "text": "hmm"}]}]
    usage = {
        "prompt_tokens": 3,
        "completion_tokens": 2,
        "total_tokens": 5,
        "prompt_tokens_details": {"cached_tokens": 1},
        "completion_tokens_details": {"reasoning_tokens": 2},
    }
    reader = ChunkReader()
    parts = list(reader.chunk(chunk({"content": thinking}, usage=usage)))
    assert parts[0] == ReasoningPart("hmm")
    (usage_part,) = parts[1:]
    assert isinstance(usage_part, UsagePart)
    assert (usage_part.usage.cached_input_tokens, usage_part.usage.reasoning_tokens) == (1, 2)


def test_model_length_means_length():
    assert read({"content": "x"}, finish="model_length")[-1] == FinishPart("length")


def test_null_fields_mean_absent():
    # As relayed models send them: nulls for the id, index and name of a continuation.
    first = {"id": "call1", "index": None, "function": {"name": "f", "arguments": '{"a":'}}
    rest = {"id": None, "index": None, "type": None, "function": {"name": None, "arguments": "1}"}}
    reader = ChunkReader()
    parts = list(reader.chunk(chunk({"content": None, "tool_calls": [first]})))
    parts += reader.chunk(chunk({"content": None, "tool_calls": [rest]}, usage=None))
    parts += reader.chunk({"id": "x", "model": "m", "choices": [{"delta": None, "index": 0}]})
    parts += reader.chunk(chunk({"content": None, "tool_calls": None}, finish_reason="tool_calls"))
    assert parts + list(reader.end()) == [
        ToolCallPart(id="call1", name="f", arguments='{"a":1}'),
        FinishPart("tool_calls"),
    ]


def test_a_new_id_starts_a_new_call_at_the_same_index():
    calls = [
        {"id": "aaaaaaaa1", "function": {"name": "f", "arguments": "{}"}},
        {"id": "bbbbbbbb2", "function": {"name": "", "arguments": "{}"}},
    ]
    assert read({"tool_calls": calls}, finish="tool_calls")[:2] == [
        ToolCallPart(id="aaaaaaaa1", name="f", arguments="{}"),
        ToolCallPart(id="bbbbbbbb2", name="", arguments="{}"),
    ]


def test_a_whole_non_streamed_completion():
    response = {
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "hi", "tool_calls": None},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 2, "completion_tokens": 1, "total_tokens": 3},
    }
    reader = ChunkReader()
    parts = list(reader.message(response)) + list(reader.end())
    assert parts[0] == TextPart("hi") and parts[-1] == FinishPart("stop")
    assert isinstance(parts[1], UsagePart) and parts[1].usage.total_tokens == 3


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (
            {"object": "error", "message": "Internal error", "type": "internal_server_error"},
            "not a completion chunk: Internal error [type internal_server_error]",
        ),
        (chunk({"content": 5}), "content is a int"),
        (chunk({"content": [{"type": "text", "text": 5}]}), "text is not a string"),
        (chunk({"tool_calls": {"id": "x"}}), "tool_calls is not a list of objects"),
        (chunk({"tool_calls": [{"function": "f"}]}), "function is not an object"),
        (chunk({}, usage={"prompt_tokens": "3"}), "usage.prompt_tokens is '3'"),
        ({"choices": "none"}, "choices is not a list of objects"),
    ],
)
def test_malformed_chunks_are_clear_errors_not_to_retry(data, problem):
    with pytest.raises(ProviderError) as caught:
        list(ChunkReader().chunk(data))
    assert not caught.value.info.retryable
    assert "malformed" in str(caught.value) and problem in str(caught.value)
