"""The streams the benchmarks serve: one text answer in N parts, in each provider's wire format.

A stream is described by a small JSON-able ``StreamSpec`` so the bench process can hand it to
the server process (``bench.server``), which turns it into a ``WireServer`` ``Reply``. The shapes
are the ones the drivers' own wire adapters use (``plugins/<p>/tests/*wire*.py``), written out
again here so the benchmarks import no test module:

- OpenAI Chat Completions: ``data: {chat.completion.chunk}`` + ``\\n\\n``, a role chunk first,
  ``finish_reason`` on an empty delta, usage in a last chunk with ``choices: []``, ``[DONE]``.
- Gemini: ``data: {GenerateContentResponse}`` + ``\\r\\n\\r\\n``, usage and ``finishReason`` on
  the last chunk, no ``[DONE]``.
- Mistral: ``data: {chat.completion.chunk}`` + ``\\n\\n``, ``finish_reason`` and usage on the
  last chunk, ``[DONE]``.
- Anthropic: ``event: <type>`` + ``data: {event}`` + ``\\n\\n``: ``message_start`` (input usage),
  one text block (``content_block_start``, a ``text_delta`` per part, ``content_block_stop``),
  ``message_delta`` (stop reason, output usage), ``message_stop``.
"""

from __future__ import annotations

import json
from typing import Any, Literal, TypedDict

from janito_core.testing.server import Reply, Send, Stall

Provider = Literal["openai", "gemini", "mistral", "anthropic"]
PROVIDERS: tuple[Provider, ...] = ("openai", "gemini", "mistral", "anthropic")

# The model names the clients ask for; the server answers whatever is asked.
MODELS: dict[Provider, str] = {
    "openai": "gpt-4o-mini",
    "gemini": "gemini-2.5-flash",
    "mistral": "mistral-small-latest",
    "anthropic": "claude-haiku-4-5",
}
API_KEY = "sk-bench-not-a-real-key"


class StreamSpec(TypedDict, total=False):
    """One streamed answer: ``parts`` text events, ``delay`` seconds before each.

    With ``stall_after`` the server sends that many parts, then nothing for ``stall_seconds``
    (for ever when None, until the client leaves), then the rest.
    """

    provider: Provider
    parts: int
    delay: float
    stall_after: int | None
    stall_seconds: float | None


def part_text(index: int) -> str:
    """The text of part ``index``: a short word, like one token of a real answer."""
    return f"w{index} "


def expected_text(parts: int) -> str:
    """What the parts of a complete stream concatenate to."""
    return "".join(part_text(i) for i in range(parts))


def _dumps(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"))


def _chat_chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-bench0001",
        "object": "chat.completion.chunk",
        "created": 1731368641,
        "model": "gpt-4o-mini-2024-07-18",
        "system_fingerprint": "fp_0ba0d124f1",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        "usage": None,
    }


def chat_chunk_json(text: str) -> str:
    """One OpenAI Chat Completions chunk carrying ``text``, as the server sends its JSON."""
    return _dumps(_chat_chunk({"content": text}))


def _openai_events(parts: int) -> tuple[str, list[str], list[str]]:
    head = "data: " + _dumps(_chat_chunk({"role": "assistant", "content": ""})) + "\n\n"
    body = [
        "data: " + _dumps(_chat_chunk({"content": part_text(i)})) + "\n\n" for i in range(parts)
    ]
    usage = {
        "prompt_tokens": 9,
        "completion_tokens": parts,
        "total_tokens": parts + 9,
        "prompt_tokens_details": {"cached_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0},
    }
    last = {**_chat_chunk({}), "choices": [], "usage": usage}
    tail = [
        "data: " + _dumps(_chat_chunk({}, "stop")) + "\n\n",
        "data: " + _dumps(last) + "\n\n",
        "data: [DONE]\n\n",
    ]
    return head, body, tail


def _gemini_chunk(text: str, *, finish: bool = False, parts: int = 0) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"parts": [{"text": text}], "role": "model"}}
    if finish:
        candidate["finishReason"] = "STOP"
    candidate["index"] = 0
    data: dict[str, Any] = {"candidates": [candidate]}
    if finish:
        data["usageMetadata"] = {
            "promptTokenCount": 9,
            "candidatesTokenCount": parts,
            "totalTokenCount": parts + 9,
        }
    data["modelVersion"] = MODELS["gemini"]
    data["responseId"] = "resp-bench-1"
    return data


def _gemini_events(parts: int) -> tuple[str, list[str], list[str]]:
    sep = "\r\n\r\n"
    body = ["data: " + _dumps(_gemini_chunk(part_text(i))) + sep for i in range(parts - 1)]
    # The last part carries the finish reason and the usage, as Gemini sends it.
    body.append("data: " + _dumps(_gemini_chunk(part_text(parts - 1), finish=True, parts=parts)))
    body[-1] += sep
    return "", body, []


def _mistral_chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "6dc321029f5d4aa5899c1b38c9657a61",
        "object": "chat.completion.chunk",
        "created": 1757759492,
        "model": MODELS["mistral"],
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def _mistral_events(parts: int) -> tuple[str, list[str], list[str]]:
    head = "data: " + _dumps(_mistral_chunk({"role": "assistant", "content": ""})) + "\n\n"
    body = [
        "data: " + _dumps(_mistral_chunk({"content": part_text(i)})) + "\n\n" for i in range(parts)
    ]
    last = {
        **_mistral_chunk({"content": ""}, "stop"),
        "usage": {"prompt_tokens": 9, "total_tokens": parts + 9, "completion_tokens": parts},
    }
    tail = ["data: " + _dumps(last) + "\n\n", "data: [DONE]\n\n"]
    return head, body, tail


def _anthropic_event(data: dict[str, Any]) -> str:
    return f"event: {data['type']}\ndata: {_dumps(data)}\n\n"


def _anthropic_events(parts: int) -> tuple[str, list[str], list[str]]:
    start = {
        "type": "message_start",
        "message": {
            "id": "msg_bench_1",
            "type": "message",
            "role": "assistant",
            "model": MODELS["anthropic"],
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 9, "output_tokens": 1},
        },
    }
    block = {
        "type": "content_block_start",
        "index": 0,
        "content_block": {"type": "text", "text": ""},
    }
    head = _anthropic_event(start) + _anthropic_event(block)
    body = [
        _anthropic_event(
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": part_text(i)},
            }
        )
        for i in range(parts)
    ]
    tail = [
        _anthropic_event({"type": "content_block_stop", "index": 0}),
        _anthropic_event(
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": parts},
            }
        ),
        _anthropic_event({"type": "message_stop"}),
    ]
    return head, body, tail


def build_reply(spec: StreamSpec) -> Reply:
    """The ``Reply`` the server sends for ``spec``."""
    provider = spec["provider"]
    parts = spec.get("parts", 1)
    delay = spec.get("delay", 0.0)
    if provider == "openai":
        head, body, tail = _openai_events(parts)
    elif provider == "gemini":
        head, body, tail = _gemini_events(parts)
    elif provider == "anthropic":
        head, body, tail = _anthropic_events(parts)
    else:
        head, body, tail = _mistral_events(parts)
    steps: list[Send | Stall] = []
    if head:
        steps.append(Send(head))
    stall_after = spec.get("stall_after")
    for index, event in enumerate(body):
        if index == stall_after:
            steps.append(Stall(spec.get("stall_seconds")))
        steps.append(Send(event, delay=delay))
    steps.extend(Send(event) for event in tail)
    return Reply(headers={"Content-Type": "text/event-stream"}, steps=steps)
