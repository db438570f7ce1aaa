"""Mistral chunks (parsed by the SDK's own models) → neutral parts."""

from __future__ import annotations

from typing import Any

from janito_driver_mistral.chunks import ChunkReader
from mistral_wire import chunk
from mistralai.client.models import CompletionChunk

from janito_core.parts import FinishPart, ReasoningPart, TextPart, ToolCallPart, UsagePart


def read(*deltas: dict[str, Any], finish: str = "stop") -> list[Any]:
    reader = ChunkReader()
    parts: list[Any] = []
    for delta in deltas:
        parts += reader.chunk(CompletionChunk.model_validate(chunk(delta)))
    parts += reader.chunk(
        CompletionChunk.model_validate(chunk({"content": ""}, finish_reason=finish))
    )
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
    assert list(reader.chunk(CompletionChunk.model_validate(data))) == [TextPart("hi")]


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
    parts = list(
        reader.chunk(CompletionChunk.model_validate(chunk({"content": thinking}, usage=usage)))
    )
    assert parts[0] == ReasoningPart("hmm")
    (usage_part,) = parts[1:]
    assert isinstance(usage_part, UsagePart)
    assert (usage_part.usage.cached_input_tokens, usage_part.usage.reasoning_tokens) == (1, 2)


def test_model_length_means_length():
    assert read({"content": "x"}, finish="model_length")[-1] == FinishPart("length")
