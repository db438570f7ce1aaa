"""History from other drivers, sent by this one over the loopback server with the real SDK:
provider-only data of other drivers (thought and thinking signatures) left behind, foreign call
ids kept, reasoning text sent only where DeepSeek wants it, Responses items only from this
driver's own name."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from janito_driver_openai.driver import OpenAIDriver
from openai_wire import chat_chunk, chat_reply, responses_reply

from janito_core import events as ev
from janito_core.harness import EventStream
from janito_core.messages import Message, ToolCall
from janito_core.registry import get_driver
from janito_core.testing import closing_drivers, text_of
from janito_core.testing.scenario import Scenario, Text
from janito_core.testing.server import WireServer
from janito_core.tools import Tool

Run = Callable[[EventStream], list[ev.Event]]
Build = Callable[..., OpenAIDriver]

KEY = "sk-history-test"
CHAT_DONE = chat_reply([chat_chunk({"content": "done"}), chat_chunk(finish_reason="stop")])
SECRETS = ("sig-gemini-0001", "sig-anthropic-0001", "enc-openai-0001")


def lookup(key: str) -> str:
    """Look a key up."""
    return f"value of {key}"


TOOLS = [Tool.from_function(lookup)]


def _round(call_id: str, reasoning: str | None, provider_data: dict[str, Any]) -> list[Message]:
    """One tool round as another driver leaves it in the history."""
    call = ToolCall(
        id=call_id,
        name="lookup",
        arguments={"key": call_id},
        provider_data=provider_data,
    )
    return [
        Message(
            role="assistant",
            content="",
            tool_calls=(call,),
            reasoning=reasoning,
            provider_data=provider_data,
        ),
        Message.tool_result(call_id, "lookup", f"value of {call_id}"),
    ]


# A Gemini round (a harness-made id, a thought signature), an Anthropic round (a signed thinking
# block), a Mistral round (a nine-character id, no reasoning), then an OpenAI Responses round
# whose reasoning item and item id belong to OpenAI's server only.
HISTORY = [
    Message.user("look a, b, c and d up"),
    *_round("call_4f1d2c3b", "Gemini thinks.", {"gemini": {"thought_signature": SECRETS[0]}}),
    *_round(
        "toolu_01A2B3C4",
        "Claude thinks.",
        {"anthropic": {"thinking": [{"thinking": "Claude thinks.", "signature": SECRETS[1]}]}},
    ),
    *_round("aB3dE5fG7", None, {}),
    *_round(
        "call_openai_1",
        "OpenAI thinks.",
        {
            "openai": {
                "item_id": "fc_1",
                "reasoning_items": [
                    {"type": "reasoning", "id": "rs_1", "encrypted_content": SECRETS[2]}
                ],
            }
        },
    ),
    Message(role="assistant", content="a, b, c and d are known.", reasoning="Done thinking."),
    Message.user("and e?"),
]


@pytest.fixture
def build() -> Iterator[Build]:
    def make(**config: Any) -> OpenAIDriver:
        driver = get_driver(config.pop("preset"), api_key=KEY, **config)
        assert isinstance(driver, OpenAIDriver)
        return driver

    with closing_drivers(make) as made:
        yield lambda name, **config: made(preset=name, **config)


def _sent(server: WireServer) -> dict[str, Any]:
    (request,) = server.requests
    body = request.body.decode()
    for secret in SECRETS:
        assert secret not in body
    assert "signature" not in body
    return dict(request.json)


def _chat_turn(call_id: str, reasoning: str | None = None) -> list[dict[str, Any]]:
    assistant: dict[str, Any] = {"role": "assistant"}
    if reasoning is not None:
        assistant["reasoning_content"] = reasoning
    assistant["content"] = None
    assistant["tool_calls"] = [
        {
            "id": call_id,
            "type": "function",
            "function": {"name": "lookup", "arguments": json.dumps({"key": call_id})},
        }
    ]
    return [assistant, {"role": "tool", "tool_call_id": call_id, "content": f"value of {call_id}"}]


@pytest.mark.parametrize("name", ["openai", "groq"])
def test_chat_sends_only_the_neutral_history(
    name: str, build: Build, server: WireServer, run: Run
) -> None:
    server.enqueue(CHAT_DONE)
    driver = build(name, base_url=f"{server.url}/v1")
    assert text_of(run(driver.stream_generate(messages=HISTORY, tools=TOOLS))) == "done"
    assert _sent(server)["messages"] == [
        {"role": "user", "content": "look a, b, c and d up"},
        *_chat_turn("call_4f1d2c3b"),
        *_chat_turn("toolu_01A2B3C4"),
        *_chat_turn("aB3dE5fG7"),
        *_chat_turn("call_openai_1"),
        {"role": "assistant", "content": "a, b, c and d are known."},
        {"role": "user", "content": "and e?"},
    ]


def test_deepseek_gets_the_reasoning_of_the_tool_loop_from_any_driver(
    build: Build, server: WireServer, run: Run
) -> None:
    server.enqueue(CHAT_DONE)
    driver = build("deepseek", base_url=server.url)
    run(driver.stream_generate(messages=HISTORY, tools=TOOLS))
    messages = _sent(server)["messages"]
    assert messages[1:9] == [
        *_chat_turn("call_4f1d2c3b", "Gemini thinks."),
        *_chat_turn("toolu_01A2B3C4", "Claude thinks."),
        # Mistral's round had no reasoning text: DeepSeek still gets the field, empty.
        *_chat_turn("aB3dE5fG7", ""),
        *_chat_turn("call_openai_1", "OpenAI thinks."),
    ]
    # The answer after the tool results belongs to the tool loop too.
    assert messages[9] == {
        "role": "assistant",
        "reasoning_content": "Done thinking.",
        "content": "a, b, c and d are known.",
    }


def _responses_turn(call_id: str, item_id: str | None = None) -> list[dict[str, Any]]:
    call: dict[str, Any] = {
        "type": "function_call",
        "call_id": call_id,
        "name": "lookup",
        "arguments": json.dumps({"key": call_id}),
    }
    if item_id is not None:
        call["id"] = item_id
    return [
        call,
        {"type": "function_call_output", "call_id": call_id, "output": f"value of {call_id}"},
    ]


@pytest.mark.parametrize("name", ["openai", "groq"])
def test_responses_sends_back_only_its_own_items(
    name: str, build: Build, server: WireServer, run: Run
) -> None:
    server.enqueue(responses_reply(Scenario(steps=(Text("done"),))))
    driver = build(name, base_url=f"{server.url}/v1", api="responses")
    assert text_of(run(driver.stream_generate(messages=HISTORY, tools=TOOLS))) == "done"
    body = server.requests[0].body.decode()
    own = name == "openai"
    items = server.requests[0].json["input"]
    expected_openai_round = (
        [
            {"type": "reasoning", "id": "rs_1", "encrypted_content": SECRETS[2]},
            *_responses_turn("call_openai_1", "fc_1"),
        ]
        if own
        else _responses_turn("call_openai_1")
    )
    assert items == [
        {"role": "user", "content": "look a, b, c and d up"},
        *_responses_turn("call_4f1d2c3b"),
        *_responses_turn("toolu_01A2B3C4"),
        *_responses_turn("aB3dE5fG7"),
        *expected_openai_round,
        {"role": "assistant", "content": "a, b, c and d are known."},
        {"role": "user", "content": "and e?"},
    ]
    for secret in SECRETS[:2]:
        assert secret not in body
    assert (SECRETS[2] in body) is own
