"""The matrix's request checks catch what each provider rejects (a check that cannot fail proves
nothing)."""

from __future__ import annotations

import pytest
from interop_drivers import DRIVERS, GEMINI_DUMMY_SIGNATURE, GEMINI_SIGNATURE


def _require(name: str) -> None:
    reason = DRIVERS[name].available()
    if reason:
        pytest.skip(reason)


def _chat(call_id: str, answer_id: str, **extra: object) -> dict[str, object]:
    call = {"id": call_id, "type": "function", "function": {"name": "t", "arguments": "{}"}}
    return {
        "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": None, "tool_calls": [call], **extra},
            {"role": "tool", "tool_call_id": answer_id, "content": "ok"},
        ]
    }


def test_chat_check() -> None:
    _require("openai-chat")
    check = DRIVERS["openai-chat"].check
    assert check(_chat("call_1", "call_1"), "mistral") == []
    assert any("answers no call" in p for p in check(_chat("call_1", "call_2"), "mistral"))
    assert any("40" in p for p in check(_chat("c" * 41, "c" * 41), "mistral"))
    foreign = _chat("call_1", "call_1", reasoning_content="thinking")
    assert any("reasoning_content" in p for p in check(foreign, "mistral"))


def test_responses_check() -> None:
    _require("openai-responses")
    check = DRIVERS["openai-responses"].check
    body = {
        "input": [
            {"role": "user", "content": "hi"},
            {"type": "reasoning", "id": "r1", "summary": []},
            {"type": "function_call", "call_id": "x", "name": "t", "arguments": "{}", "id": "z"},
            {"type": "function_call_output", "call_id": "y", "output": "ok"},
        ]
    }
    problems = " | ".join(check(body, "gemini"))
    assert "reasoning item" in problems
    assert "begin with 'fc'" in problems
    assert "answers no call" in problems


def test_mistral_check() -> None:
    _require("mistral")
    check = DRIVERS["mistral"].check
    body = {
        "model": "m",
        "messages": [
            {"role": "user", "content": "hi"},
            {
                "role": "assistant",
                "content": [{"type": "thinking", "thinking": [{"type": "text", "text": "hm"}]}],
                "tool_calls": [{"id": "call_1", "function": {"name": "t", "arguments": "{}"}}],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "ok"},
        ],
    }
    problems = " | ".join(check(body, "openai-chat"))
    assert "9 letters or digits" in problems
    assert "thinking chunks" in problems


def test_gemini_check() -> None:
    _require("gemini")
    check = DRIVERS["gemini"].check

    def body(signature: str | None, response_role: str = "user") -> dict[str, object]:
        call: dict[str, object] = {"functionCall": {"name": "t", "args": {}, "id": "a"}}
        if signature:
            call["thoughtSignature"] = signature
        answer = {"functionResponse": {"name": "t", "id": "a", "response": {"result": "ok"}}}
        return {
            "contents": [
                {"role": "user", "parts": [{"text": "hi"}]},
                {"role": "model", "parts": [call]},
                {"role": response_role, "parts": [answer]},
            ]
        }

    assert check(body(GEMINI_DUMMY_SIGNATURE), "mistral") == []
    assert check(body(GEMINI_SIGNATURE), "gemini") == []
    assert any("signed 'R0VN" in p for p in check(body(GEMINI_SIGNATURE), "mistral"))
    assert any("signed None" in p for p in check(body(None), "mistral"))
    assert any("functionResponse in a 'model'" in p for p in check(body(None, "model"), "gemini"))
    assert any(
        "signature was sent" in p
        for p in DRIVERS["mistral"].check(body(GEMINI_SIGNATURE), "gemini")
    )
