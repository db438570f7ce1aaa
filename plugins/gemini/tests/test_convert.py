"""Messages, tools and options → Gemini request JSON (``convert.py``), without a server."""

from __future__ import annotations

import pytest
from janito_driver_gemini.convert import (
    FOREIGN_CALL_SIGNATURE,
    build_contents,
    build_tools,
    config_fields,
    synthetic_call_id,
)

from janito_core import Message, Tool
from janito_core.errors import InvalidRequestError
from janito_core.messages import ToolCall

SIG = "+//+c2lnbmF0dXJlLUE="


def assistant(content: str = "", *calls: ToolCall, parts: list | None = None) -> Message:
    data = {"gemini": {"parts": parts}} if parts is not None else {}
    return Message(role="assistant", content=content, tool_calls=calls, provider_data=data)


def server_call(call_id: str = "c1", signature: str | None = SIG) -> ToolCall:
    data = {"synthetic_id": False, **({"thought_signature": signature} if signature else {})}
    return ToolCall(
        id=call_id, name="get_weather", arguments={"city": "Oslo"}, provider_data={"gemini": data}
    )


def test_system_turns_join_the_system_prompt():
    contents, system = build_contents(
        [Message.system("one"), Message.user("hi"), Message.system("two")], "base"
    )
    assert system == "base\n\none\n\ntwo"
    assert contents == [{"role": "user", "parts": [{"text": "hi"}]}]
    assert build_contents([Message.user("hi")])[1] is None


def test_assistant_turn_from_fields_keeps_signature_and_server_id():
    contents, _ = build_contents([Message.user("hi"), assistant("Checking.", server_call())])
    assert contents[1] == {
        "role": "model",
        "parts": [
            {"text": "Checking."},
            {
                "functionCall": {"name": "get_weather", "args": {"city": "Oslo"}, "id": "c1"},
                "thoughtSignature": SIG,
            },
        ],
    }


def test_synthetic_ids_never_go_back():
    made = synthetic_call_id("gen-1", 0)
    flagged = ToolCall(id=made, name="t", provider_data={"gemini": {"synthetic_id": True}})
    by_prefix = ToolCall(id=synthetic_call_id("gen-1", 1), name="t")  # provider_data lost
    history = [
        Message.user("hi"),
        assistant("", flagged, by_prefix),
        Message.tool_result(flagged.id, "t", "one"),
        Message.tool_result(by_prefix.id, "t", "two"),
    ]
    contents, _ = build_contents(history)
    assert contents[1]["parts"] == [
        {"functionCall": {"name": "t", "args": {}}},
        {"functionCall": {"name": "t", "args": {}}},
    ]
    assert contents[2] == {
        "role": "user",
        "parts": [
            {"functionResponse": {"name": "t", "response": {"result": "one"}}},
            {"functionResponse": {"name": "t", "response": {"result": "two"}}},
        ],
    }


def test_foreign_ids_are_kept_on_call_and_response():
    # Another driver's call: its id kept, and the dummy signature Gemini 3 needs on the first.
    call = ToolCall(id="call_abc", name="t", arguments={"x": 1}, provider_data={"openai": {}})
    contents, _ = build_contents(
        [assistant("", call), Message.tool_result("call_abc", "t", "bad", is_error=True)]
    )
    assert contents[0]["parts"] == [
        {
            "functionCall": {"name": "t", "args": {"x": 1}, "id": "call_abc"},
            "thoughtSignature": FOREIGN_CALL_SIGNATURE,
        }
    ]
    assert contents[1]["parts"] == [
        {"functionResponse": {"name": "t", "response": {"error": "bad"}, "id": "call_abc"}}
    ]


def test_only_the_first_of_another_drivers_calls_gets_the_dummy_signature():
    # Gemini 3 checks the first call of a step; Gemini's own unsigned calls (2.0, thinking
    # off) stay as they came.
    foreign = [ToolCall(id=f"toolu_{n}", name="t", provider_data={"anthropic": {}}) for n in "ab"]
    contents, _ = build_contents([assistant("Looking.", *foreign)])
    signatures = [p.get("thoughtSignature") for p in contents[0]["parts"]]
    assert signatures == [None, FOREIGN_CALL_SIGNATURE, None]
    own, _ = build_contents([assistant("", server_call(signature=None))])
    assert "thoughtSignature" not in own[0]["parts"][0]


def test_recorded_parts_are_sent_back_when_they_match():
    parts = [
        {"text": "Thinking.", "thought": True, "thoughtSignature": SIG},
        {"text": "Let me look. "},
        {"functionCall": {"name": "get_weather", "args": {"city": "Oslo"}, "id": "c1"}},
        {"text": "Done."},
    ]
    message = assistant("Let me look. Done.", server_call(signature=None), parts=parts)
    contents, _ = build_contents([message])
    assert contents[0]["parts"] == parts
    assert contents[0]["parts"] is not parts


def test_recorded_parts_are_ignored_once_the_message_changed():
    parts = [{"text": "Original."}, {"functionCall": {"name": "get_weather", "args": {}}}]
    edited = assistant("Edited.", server_call(), parts=parts)
    assert build_contents([edited])[0][0]["parts"][0] == {"text": "Edited."}
    renamed = ToolCall(id="c1", name="other", provider_data={"gemini": {"synthetic_id": False}})
    assert build_contents([assistant("Original.", renamed, parts=parts)])[0][0]["parts"] == [
        {"text": "Original."},
        {"functionCall": {"name": "other", "args": {}, "id": "c1"}},
    ]


def test_neighbouring_turns_of_one_role_merge_and_empty_assistants_vanish():
    call = server_call(signature=None)
    contents, _ = build_contents(
        [
            Message.user("a"),
            Message.user("b"),
            assistant(""),
            assistant("", call),
            Message.tool_result("c1", "get_weather", "sunny"),
            Message.user("thanks"),
        ]
    )
    assert [c["role"] for c in contents] == ["user", "model", "user"]
    assert contents[0]["parts"] == [{"text": "a"}, {"text": "b"}]
    assert contents[2]["parts"][1] == {"text": "thanks"}


def test_a_result_without_a_name_is_refused():
    with pytest.raises(InvalidRequestError, match="tool name"):
        build_contents([Message(role="tool", content="x", tool_call_id="orphan")])


def test_tools_become_json_schema_declarations():
    def ping() -> str:
        """Ping."""
        return "pong"

    assert build_tools(()) == []
    assert build_tools([Tool.from_function(ping)]) == [
        {
            "functionDeclarations": [
                {
                    "name": "ping",
                    "description": "Ping.",
                    "parametersJsonSchema": {"type": "object", "properties": {}},
                }
            ]
        }
    ]


def test_option_names_are_mapped():
    assert config_fields(
        {"max_tokens": 5, "stop": "END", "temperature": 0.1, "top_k": None, "thinking_budget": 0}
    ) == {
        "max_output_tokens": 5,
        "stop_sequences": ["END"],
        "temperature": 0.1,
        "thinking_config": {"thinking_budget": 0},
    }
    assert config_fields(
        {"thinking_config": {"include_thoughts": False}, "include_thoughts": True}
    ) == {"thinking_config": {"include_thoughts": True}}


@pytest.mark.parametrize(
    "options",
    [
        {"tools": []},
        {"automatic_function_calling": {"disable": False}},
        {"max_tokens": 5, "max_output_tokens": 6},
        {"candidate_count": 2},
    ],
)
def test_options_that_cannot_work_are_refused(options):
    with pytest.raises(InvalidRequestError):
        config_fields(options)
