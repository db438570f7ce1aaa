"""``janito_core.chat_completions``: OpenAI's and Mistral's chunk shapes, and what compatible
servers send, read into parts; incomplete streams, malformed events and in-stream errors."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

import pytest

from janito_core.chat_completions import (
    ChatCompletionsReader,
    describe_stream_error,
    neutral_finish,
)
from janito_core.errors import (
    ContentFilterError,
    ContextLengthError,
    GenerationError,
    ProviderOverloadedError,
    RateLimitError,
)
from janito_core.parts import (
    FinishPart,
    Part,
    ReasoningPart,
    TextPart,
    ToolCallPart,
    UsagePart,
)
from janito_core.retry import ProviderError
from janito_core.sse import iter_sse
from janito_core.testing.cassettes import cassette_params, load_cassette
from janito_core.usage import Usage


def chunk(
    delta: Mapping[str, Any] | None = None,
    *,
    finish_reason: str | None = None,
    usage: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One ``chat.completion.chunk`` as OpenAI and Mistral send it."""
    data: dict[str, Any] = {
        "id": "c",
        "object": "chat.completion.chunk",
        "model": "m",
        "choices": [{"index": 0, "delta": dict(delta or {}), "finish_reason": finish_reason}],
    }
    if usage is not None:
        data["usage"] = dict(usage)
    return data


def read(*chunks: Mapping[str, Any] | str, done: bool = True) -> list[Part]:
    """The parts of a stream of chunks (a str is an event's raw data), ``[DONE]`` last."""
    reader = ChatCompletionsReader(provider="Test")
    parts: list[Part] = []
    events = [c if isinstance(c, str) else json.dumps(c) for c in chunks]
    for data in [*events, "[DONE]"] if done else events:
        parts += reader.data(data)
        if reader.done:
            break
    return parts + reader.end()


def failure(*chunks: Mapping[str, Any] | str) -> ProviderError:
    with pytest.raises(ProviderError) as caught:
        read(*chunks)
    return caught.value


# -- text, reasoning, usage, finish -----------------------------------------------------------


def test_openai_text_then_finish_then_usage_chunk() -> None:
    usage = {
        "prompt_tokens": 9,
        "completion_tokens": 3,
        "total_tokens": 12,
        "prompt_tokens_details": {"cached_tokens": 4},
        "completion_tokens_details": {"reasoning_tokens": 1},
    }
    last = chunk(usage=usage)
    last["choices"] = []
    assert read(
        chunk({"role": "assistant", "content": ""}),
        chunk({"content": "Hel"}),
        chunk({"content": "lo"}),
        chunk(finish_reason="stop"),
        last,
    ) == [
        TextPart("Hel"),
        TextPart("lo"),
        UsagePart(
            Usage(
                input_tokens=9,
                output_tokens=3,
                total_tokens=12,
                cached_input_tokens=4,
                reasoning_tokens=1,
            )
        ),
        FinishPart("stop"),
    ]


def test_reasoning_fields_of_compatible_servers() -> None:
    # DeepSeek/vLLM: reasoning_content; Ollama/newer vLLM: reasoning; some send both at once.
    assert read(
        chunk({"content": None, "reasoning_content": ""}),
        chunk({"reasoning_content": "a"}),
        chunk({"reasoning": "b", "reasoning_content": "b"}),
        chunk({"content": "c"}, finish_reason="stop"),
    ) == [ReasoningPart("a"), ReasoningPart("b"), TextPart("c"), FinishPart("stop")]


def test_mistral_thinking_chunks_and_content_lists() -> None:
    thinking = {"type": "thinking", "thinking": [{"type": "text", "text": "hmm"}], "closed": True}
    assert read(
        chunk({"content": [thinking]}),
        # Magistral: an empty thinking list beside the first text chunk, then plain strings.
        chunk({"content": [{"type": "thinking", "thinking": []}, {"type": "text", "text": "4"}]}),
        chunk({"content": [{"type": "reference", "reference_ids": [1]}, {"type": "mystery"}]}),
        chunk({"content": "2"}, finish_reason="stop"),
    ) == [ReasoningPart("hmm"), TextPart("4"), TextPart("2"), FinishPart("stop")]


def test_refusal_is_text_and_other_choices_are_ignored() -> None:
    data = chunk({"refusal": "I can't."})
    data["choices"].append({"index": 1, "delta": {"content": "other"}, "finish_reason": None})
    assert read(data, chunk(finish_reason="stop")) == [TextPart("I can't."), FinishPart("stop")]


@pytest.mark.parametrize(
    ("wire", "neutral"),
    [
        ("stop", "stop"),
        ("model_length", "length"),
        ("max_tokens", "length"),
        ("function_call", "tool_calls"),
        ("odd", "odd"),
    ],
)
def test_finish_reason_names(wire: str, neutral: str) -> None:
    assert neutral_finish(wire) == neutral


def test_unreadable_usage_counts_are_zero_not_an_error() -> None:
    # Usage is bookkeeping: a bad count must not turn a delivered answer into an error.
    parts = read(chunk({"content": "x"}, finish_reason="stop", usage={"prompt_tokens": "3"}))
    assert UsagePart(Usage()) in parts


# -- the provider's end -----------------------------------------------------------------------


def test_done_without_a_finish_reason_is_complete() -> None:
    assert read(chunk({"content": "x"})) == [TextPart("x"), FinishPart(None)]


def test_finish_reason_without_done_is_complete() -> None:
    assert read(chunk({"content": "x"}, finish_reason="stop"), done=False)[-1] == FinishPart("stop")


def test_a_body_that_just_stops_gives_no_finish_part() -> None:
    call = {"index": 0, "id": "c1", "function": {"name": "f", "arguments": '{"a": '}}
    parts = read(chunk({"content": "half"}), chunk({"tool_calls": [call]}), done=False)
    # The cut call is dropped, not handed over with half its arguments.
    assert parts == [TextPart("half")]


def test_an_empty_body_gives_no_finish_part() -> None:
    assert read(done=False) == []


def test_done_stops_the_reading() -> None:
    reader = ChatCompletionsReader()
    assert reader.data(" [DONE]\n") == [] and reader.done and reader.complete


def test_finish_error_before_anything_is_retryable() -> None:
    error = failure(chunk({"content": ""}, finish_reason="error"))
    assert error.info.retryable and "finish_reason 'error'" in str(error)
    assert isinstance(error.info.to_error(), ProviderOverloadedError)


def test_finish_error_after_content_is_the_finish_reason() -> None:
    assert read(chunk({"content": "Part"}), chunk(finish_reason="error"))[-1] == FinishPart("error")


# -- tool calls --------------------------------------------------------------------------------


def test_openai_fragments_and_parallel_calls() -> None:
    first = {"index": 0, "id": "a", "type": "function", "function": {"name": "f", "arguments": ""}}
    second = {"index": 1, "id": "b", "type": "function", "function": {"name": "g", "arguments": ""}}
    assert read(
        chunk({"tool_calls": [first]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"x"'}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": ": 1}"}}]}),
        chunk({"tool_calls": [second]}),
        chunk(finish_reason="tool_calls"),
    ) == [
        ToolCallPart(id="a", name="f", arguments='{"x": 1}'),
        ToolCallPart(id="b", name="g", arguments=""),
        FinishPart("tool_calls"),
    ]


def test_text_call_text_keeps_the_order() -> None:
    call = {"index": 0, "id": "a", "function": {"name": "f", "arguments": "{}"}}
    assert read(
        chunk({"content": "A"}), chunk({"tool_calls": [call]}), chunk({"content": "B"})
    ) == [
        TextPart("A"),
        ToolCallPart(id="a", name="f", arguments="{}"),
        TextPart("B"),
        FinishPart(None),
    ]


def test_relayed_deltas_without_index_or_id() -> None:
    # Mistral-relayed models: continuations with "" or null id and name, no index.
    assert read(
        chunk({"tool_calls": [{"id": "c1", "index": None, "function": {"name": "f"}}]}),
        chunk({"tool_calls": [{"id": "", "function": {"name": "", "arguments": '{"k"'}}]}),
        chunk({"tool_calls": [{"id": None, "function": {"name": None, "arguments": ": 1}"}}]}),
        chunk({"content": None, "tool_calls": None}, finish_reason="tool_calls"),
    ) == [ToolCallPart(id="c1", name="f", arguments='{"k": 1}'), FinishPart("tool_calls")]


def test_mistral_whole_calls_in_one_delta() -> None:
    calls = [
        {"id": "aaaaaaaa1", "function": {"name": "f", "arguments": "{}"}},
        {"id": "bbbbbbbb2", "function": {"name": "g", "arguments": {"x": 1}}},
    ]
    assert read(chunk({"content": None, "tool_calls": calls}, finish_reason="tool_calls")) == [
        ToolCallPart(id="aaaaaaaa1", name="f", arguments="{}"),
        ToolCallPart(id="bbbbbbbb2", name="g", arguments='{"x": 1}'),
        FinishPart("tool_calls"),
    ]


def test_whole_calls_that_reuse_index_zero_or_carry_neither_index_nor_id() -> None:
    reused = [
        {"index": 0, "id": "a", "function": {"name": "f", "arguments": "{}"}},
        {"index": 0, "id": "b", "function": {"name": "f", "arguments": "{}"}},
    ]
    anonymous = [
        {"function": {"name": "g", "arguments": "{}"}},
        {"function": {"name": "g", "arguments": "{}"}},
    ]
    names = [
        (p.id, p.name)
        for p in read(chunk({"tool_calls": reused}), chunk({"tool_calls": anonymous}))
        if isinstance(p, ToolCallPart)
    ]
    assert names == [("a", "f"), ("b", "f"), (None, "g"), (None, "g")]


def test_a_repeated_id_continues_its_call() -> None:
    # OpenRouter (kimi-k2): the call again under the same id, now with its arguments.
    call = {"index": 0, "id": "0", "type": "function", "function": {"name": "v", "arguments": ""}}
    again = {
        "index": 0,
        "id": "0",
        "type": "function",
        "function": {"name": "v", "arguments": "{}"},
    }
    assert read(chunk({"tool_calls": [call]}), chunk({"tool_calls": [again]}))[0] == ToolCallPart(
        id="0", name="v", arguments="{}"
    )


# -- whole completions -------------------------------------------------------------------------


def test_a_whole_completion_with_reasoning_and_a_call() -> None:
    completion = {
        "object": "chat.completion",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "reasoning": "think",
                    "content": "Let me look.",
                    "tool_calls": [
                        {
                            "id": "c9",
                            "type": "function",
                            "function": {"name": "f", "arguments": "{}"},
                        }
                    ],
                },
                "finish_reason": "tool_calls",
            }
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7},
    }
    assert ChatCompletionsReader().whole(completion) == [
        ReasoningPart("think"),
        TextPart("Let me look."),
        ToolCallPart(id="c9", name="f", arguments="{}"),
        UsagePart(Usage(input_tokens=3, output_tokens=4, total_tokens=7)),
        FinishPart("tool_calls"),
    ]


def test_a_whole_completion_without_finish_reason_is_complete() -> None:
    completion = {"choices": [{"message": {"content": "hi"}}]}
    assert ChatCompletionsReader().whole(completion) == [TextPart("hi"), FinishPart(None)]


def test_a_json_answer_that_is_not_a_completion() -> None:
    with pytest.raises(ProviderError, match="not a chat completion: Not Found") as caught:
        ChatCompletionsReader().whole({"detail": "Not Found"})
    assert not caught.value.info.retryable


# -- malformed events and in-stream errors ----------------------------------------------------


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ("{not json", "an event that is not JSON"),
        ("[1, 2]", "an event that is a JSON array, not an object"),
        ('"text"', "an event that is a JSON string, not an object"),
        ("5", "an event that is a JSON number, not an object"),
        (chunk({"content": 5}), "content is a number, not a string or a list"),
        (chunk({"content": [{"type": "text", "text": 5}]}), "a text chunk's text is 5"),
        (chunk({"tool_calls": {"id": "x"}}), "tool_calls is not a list"),
        (chunk({"tool_calls": ["x"]}), "a tool call is not an object"),
        (chunk({"tool_calls": [{"function": "f"}]}), "function is not an object"),
        ({"choices": "none"}, "choices is not a list"),
        ({"choices": [1]}, "a choice is not an object"),
        ({"choices": [{"delta": [1]}]}, "delta is not an object"),
        (chunk(finish_reason=5), "finish_reason is 5"),
    ],
)
def test_malformed_events_are_clear_errors_not_to_retry(data: Any, problem: str) -> None:
    error = failure(data)
    assert not error.info.retryable
    assert str(error).startswith("Test sent a malformed response: ") and problem in str(error)


@pytest.mark.parametrize(
    ("data", "retryable", "detail"),
    [
        # OpenAI's shape, its server_error retried, an invalid request not.
        ({"error": {"message": "try later", "type": "server_error"}}, True, "try later"),
        ({"error": {"message": "bad", "type": "invalid_request_error"}}, False, "bad"),
        ({"error": {"message": "slow down", "code": "rate_limit_exceeded"}}, True, "slow down"),
        ({"error": {"message": "x", "type": "overloaded_error"}}, True, "x"),
        ({"error": "Overloaded"}, True, "Overloaded"),
        ({"error": {"message": "no", "type": "server_error", "retryable": False}}, False, "no"),
        ({"error": {"message": "busy", "code": 503}}, True, "HTTP 503"),
        ({"error": {"message": "denied", "code": 403}}, False, "HTTP 403"),
        # Mistral's and vLLM's shape: an error object where a chunk should be.
        (
            {"object": "error", "message": "Internal error", "type": "internal_server_error"},
            True,
            "Internal error",
        ),
        ({"object": "error", "message": "Limit", "type": "rate_limited"}, True, "Limit"),
        (
            {"object": "error", "message": "Bad", "type": "BadRequestError", "code": 400},
            False,
            "Bad",
        ),
    ],
)
def test_in_stream_errors(data: dict[str, Any], retryable: bool, detail: str) -> None:
    error = failure(data)
    assert error.info.retryable is retryable
    assert str(error).startswith("Test reported an error in the stream: ") and detail in str(error)


def test_an_error_after_content_is_still_raised() -> None:
    error = failure(chunk({"content": "a"}), {"error": {"message": "cut", "type": "server_error"}})
    assert "cut" in str(error)


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        ({"message": "slow down", "type": "rate_limit_error"}, RateLimitError),
        ({"message": "try later", "type": "server_error"}, ProviderOverloadedError),
        ({"message": "Overloaded"}, ProviderOverloadedError),
        ({"message": "blocked", "code": "content_filter"}, ContentFilterError),
        ({"message": "This model's maximum context length is 8192 tokens"}, ContextLengthError),
        ({"message": "busy", "code": 503}, ProviderOverloadedError),
        ({"message": "bad", "type": "invalid_request_error"}, GenerationError),
    ],
)
def test_in_stream_errors_are_typed(error: dict[str, Any], kind: type[GenerationError]) -> None:
    info = describe_stream_error(error)
    assert type(info.to_error()) is kind
    if kind is ContextLengthError:
        assert not info.retryable


def test_describe_stream_error_names_the_key_variable_for_a_401() -> None:
    info = describe_stream_error({"message": "no", "code": 401}, key_variable="MY_KEY")
    assert info.status_code == 401 and "MY_KEY" in info.message and not info.retryable


# -- recorded traffic: OpenAI, compatible servers and Mistral ---------------------------------

_COUNTS = re.compile(r"(\d+) chars of (text|reasoning)")
_CALLS = re.compile(r"(\d+) tool calls? \(([^)]*)\)")
_FINISH_SAID = re.compile(r"finish (\w+)")


def _replay(body: str, content_type: str) -> list[Part]:
    reader = ChatCompletionsReader(provider="Recorded")
    if "json" in content_type:
        return reader.whole(json.loads(body))
    parts: list[Part] = []
    for event in iter_sse(_pieces(body.encode("utf-8"))):
        parts += reader.data(event.data)
        if reader.done:
            break
    return parts + reader.end()


def _pieces(body: bytes) -> Iterable[bytes]:
    # Odd-sized pieces split lines, events and multi-byte characters across reads.
    return (body[i : i + 97] for i in range(0, len(body), 97))


@pytest.mark.parametrize(
    "name",
    [
        *cassette_params("rw_openai_chat_"),
        *cassette_params("rw_mistral_"),
    ],
)
def test_recorded_answers(name: str) -> None:
    cassette = load_cassette(name)
    if cassette.status != 200:
        pytest.skip("an HTTP error: the driver's SDK reads it, not the chunk reader")
    parts = _replay(cassette.body, cassette.headers.get("content-type", "text/event-stream"))
    said = cassette.exercises
    text = "".join(p.text for p in parts if isinstance(p, TextPart))
    reasoning = "".join(p.text for p in parts if isinstance(p, ReasoningPart))
    for count, kind in _COUNTS.findall(said):
        assert len(text if kind == "text" else reasoning) == int(count), kind
    calls = [p for p in parts if isinstance(p, ToolCallPart)]
    match = _CALLS.search(said)
    expected = [n.strip() for n in match.group(2).split(",")] if match else []
    assert [c.name for c in calls] == expected
    for call in calls:
        # An empty or null "arguments" means no arguments (one relayed model sends null).
        assert call.id and isinstance(json.loads(str(call.arguments) or "{}"), dict)
    # Every recorded answer is complete: it ends with the provider's own end.
    assert isinstance(parts[-1], FinishPart)
    finish = _FINISH_SAID.search(said)
    assert parts[-1].reason == (finish.group(1) if finish else None)
    assert any(isinstance(p, UsagePart) for p in parts) == (
        "usage" in said and "no usage" not in said
    )
    if "refusal" in said:
        assert text


def test_chat_usage_reads_cache_counts_under_every_name_providers_use() -> None:
    from janito_core.chat_completions import chat_usage

    base = {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12}
    assert (
        chat_usage({**base, "prompt_tokens_details": {"cache_write_tokens": 4}}).cache_write_tokens
        == 4
    )
    assert chat_usage({**base, "prompt_cache_hit_tokens": 6}).cached_input_tokens == 6
    assert chat_usage({**base, "num_cached_tokens": 7}).cached_input_tokens == 7
    # The standard field wins, even when it says 0.
    both = {**base, "prompt_tokens_details": {"cached_tokens": 0}, "prompt_cache_hit_tokens": 6}
    assert chat_usage(both).cached_input_tokens == 0
