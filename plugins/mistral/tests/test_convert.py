"""Neutral requests → ``chat.stream`` keyword arguments."""

from __future__ import annotations

from janito_driver_mistral.convert import BRIDGE_TEXT, mistral_call_id, request_kwargs

from janito_core import Message, Tool
from janito_core.messages import ToolCall


def test_mistral_ids_pass_and_others_map_stably():
    assert mistral_call_id("qDEcl0n92") == "qDEcl0n92"
    mapped = mistral_call_id("call_0123456789ab")
    assert len(mapped) == 9 and mapped.isalnum() and mapped.isascii()
    assert mistral_call_id("call_0123456789ab") == mapped
    assert mistral_call_id("call_0123456789ac") != mapped


def test_messages_tools_and_options():
    calls = (
        ToolCall(id="abcdefgh1", name="f", arguments={"x": 1}, raw_arguments='{"x": 1}'),
        ToolCall(id="abcdefgh2", name="g", arguments={}, raw_arguments="not json"),
    )
    kwargs = request_kwargs(
        model="m",
        system_prompt="sys",
        messages=[
            Message.system("rules"),
            Message.user("hi"),
            Message(role="assistant", content="", tool_calls=calls, reasoning="thought"),
            Message.tool_result("abcdefgh1", "f", "one"),
            Message.tool_result("abcdefgh2", "g", "Error: bad", is_error=True),
        ],
        tools=[Tool(name="f", parameters={"type": "object", "properties": {}})],
        options={"seed": 3, "max_output_tokens": 10, "temperature": 0.5},
    )
    assert kwargs["model"] == "m"
    assert kwargs["random_seed"] == 3 and kwargs["max_tokens"] == 10
    assert kwargs["temperature"] == 0.5
    assert kwargs["tools"] == [
        {
            "type": "function",
            "function": {"name": "f", "parameters": {"type": "object", "properties": {}}},
        }
    ]
    messages = kwargs["messages"]
    assert messages[:3] == [
        {"role": "system", "content": "sys"},
        {"role": "system", "content": "rules"},
        {"role": "user", "content": "hi"},
    ]
    assert messages[3] == {
        "role": "assistant",
        "content": "",
        "tool_calls": [
            {
                "id": "abcdefgh1",
                "type": "function",
                "index": 0,
                "function": {"name": "f", "arguments": '{"x": 1}'},
            },
            # Arguments that were not JSON go back as the parsed (empty) object.
            {
                "id": "abcdefgh2",
                "type": "function",
                "index": 1,
                "function": {"name": "g", "arguments": "{}"},
            },
        ],
    }
    assert messages[4] == {
        "role": "tool",
        "content": "one",
        "tool_call_id": "abcdefgh1",
        "name": "f",
    }
    assert messages[5]["content"] == "Error: bad"


def test_no_tools_no_system_prompt():
    kwargs = request_kwargs(
        model="m", system_prompt=None, messages=[Message.user("hi")], tools=[], options={}
    )
    assert kwargs == {"model": "m", "messages": [{"role": "user", "content": "hi"}]}


def test_history_fits_mistrals_message_order():
    # Tool results nobody answered, then the user; and a turn that held only reasoning.
    call = ToolCall(id="toolu_01A09q90qw90lq917835lq9a", name="f", arguments={})
    kwargs = request_kwargs(
        model="m",
        system_prompt=None,
        messages=[
            Message.user("hi"),
            Message.assistant("", (call,)),
            Message.tool_result(call.id, "f", "done"),
            Message.user("and then?"),
            Message(role="assistant", content="", reasoning="only thinking"),
            Message.user("hello?"),
        ],
        tools=[],
        options={},
    )
    wire = kwargs["messages"]
    assert [m["role"] for m in wire] == ["user", "assistant", "tool", "assistant", "user", "user"]
    assert wire[1]["tool_calls"][0]["id"] == wire[2]["tool_call_id"] == mistral_call_id(call.id)
    assert wire[3] == {"role": "assistant", "content": BRIDGE_TEXT}
