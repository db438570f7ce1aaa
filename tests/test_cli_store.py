"""``janito_core.cli.store``: where the file lives, what it keeps, how it reads back."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from janito_core.cli.store import (
    Exchange,
    Store,
    StoreError,
    data_dir,
    message_from_json,
    message_to_json,
)
from janito_core.messages import Message, ToolCall
from janito_core.usage import Usage

HOME = Path("/home/ada")


@pytest.mark.parametrize(
    ("environ", "platform", "expected"),
    [
        ({"JANITO_HOME": "/srv/j"}, "linux", Path("/srv/j")),
        ({"JANITO_HOME": "/srv/j", "XDG_DATA_HOME": "/x"}, "darwin", Path("/srv/j")),
        ({}, "linux", HOME / ".local/share/janito"),
        ({"XDG_DATA_HOME": "/data"}, "linux", Path("/data/janito")),
        ({"XDG_DATA_HOME": "relative/is/ignored"}, "linux", HOME / ".local/share/janito"),
        ({"XDG_DATA_HOME": "/data"}, "darwin", HOME / "Library/Application Support/janito"),
        ({"LOCALAPPDATA": "/appdata"}, "win32", Path("/appdata/janito")),
        ({}, "win32", HOME / "AppData/Local/janito"),
        ({}, "freebsd14", HOME / ".local/share/janito"),
    ],
)
def test_data_dir_follows_the_platform(
    environ: dict[str, str], platform: str, expected: Path
) -> None:
    assert data_dir(environ, platform, home=HOME) == expected


def exchange(prompt: str = "hi", cid: str = "c0ffee", **fields: object) -> Exchange:
    values: dict[str, object] = {
        "conversation_id": cid,
        "started": 1_700_000_000.0,
        "duration": 0.5,
        "driver": "echo",
        "model": "echo-1",
        "system": None,
        "prompt": prompt,
        "answer": f"Echo: {prompt}",
        "status": "completed",
        "messages": (Message.user(prompt), Message.assistant(f"Echo: {prompt}")),
    }
    values.update(fields)
    return Exchange(**values)  # type: ignore[arg-type]


def test_every_message_field_survives_the_round_trip(tmp_path: Path) -> None:
    call = ToolCall(
        id="call_1",
        name="weather",
        arguments={"city": "Lisbon"},
        raw_arguments='{"city":"Lisbon"}',
        provider_data={"gemini": {"thought_signature": "c2ln"}},
    )
    messages = (
        Message.user("weather?"),
        Message(
            role="assistant",
            content="",
            tool_calls=(call,),
            reasoning="they want the weather",
            provider_data={"openai": {"reasoning_items": [{"id": "rs_1"}]}},
        ),
        Message.tool_result("call_1", "weather", "sunny", is_error=False),
        Message.assistant("It is sunny."),
    )
    with Store.open(tmp_path / "logs.db") as store:
        store.add(exchange(messages=messages, usage=Usage(input_tokens=7, reasoning_tokens=2)))
        conversation = store.conversation()
    assert conversation is not None
    assert conversation.history == list(messages)
    assert conversation.last.usage == Usage(input_tokens=7, reasoning_tokens=2)
    assert [message_from_json(message_to_json(m)) for m in messages] == list(messages)


def test_fields_from_a_newer_version_are_left_out() -> None:
    data = message_to_json(Message.user("hi")) | {"mood": "curious", "parts": ["hi"]}
    assert message_from_json(data) == Message.user("hi")


def test_the_key_is_masked_in_everything_written(tmp_path: Path) -> None:
    key = "sk-live-abcdef0123456789"
    with Store.open(tmp_path / "logs.db") as store:
        store.add(
            exchange(
                prompt=f"use {key}",
                system=key,
                error=f"HTTP 401 for {key}",
                options={"header": key},
                messages=(Message.user(f"use {key}"),),
            ),
            secrets=(key,),
        )
        (saved,) = store.recent(1)
    assert key.encode() not in (tmp_path / "logs.db").read_bytes()
    assert (saved.prompt, saved.system, saved.options) == ("use ***", "***", {"header": "***"})


def test_only_completed_exchanges_are_history(tmp_path: Path) -> None:
    with Store.open(tmp_path / "logs.db") as store:
        store.add(exchange("one"))
        store.add(exchange("two", status="cancelled"))
        store.add(exchange("three", status="error"))
        conversation = store.conversation("c0ffee")
    assert conversation is not None and len(conversation.exchanges) == 3
    assert [m.content for m in conversation.history] == ["one", "Echo: one"]
    assert conversation.last.prompt == "three"


def test_a_prefix_must_name_one_conversation(tmp_path: Path) -> None:
    with Store.open(tmp_path / "logs.db") as store:
        store.add(exchange(cid="abc123"))
        store.add(exchange(cid="abc456"))
        store.add(exchange(cid="abc"))
        with pytest.raises(StoreError, match="more than one conversation starts with 'ab'"):
            store.conversation("ab")
        found = store.conversation("abc")  # an exact id wins over the ids it starts
        assert found is not None and found.id == "abc"
        assert store.conversation("abc4") is not None
        assert store.conversation("zzz") is None


def test_the_latest_conversation_is_that_of_the_last_exchange(tmp_path: Path) -> None:
    with Store.open(tmp_path / "logs.db") as store:
        store.add(exchange(cid="old"))
        store.add(exchange(cid="new"))
        store.add(exchange(cid="old"))
        latest = store.conversation()
    assert latest is not None and latest.id == "old"


def test_a_store_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "logs.db"
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA user_version = 99")
    connection.close()
    with pytest.raises(StoreError, match="newer janito-drivers"):
        Store.open(path)


def test_opening_without_create_needs_the_file(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no logs yet"):
        Store.open(tmp_path / "logs.db", create=False)
    assert not (tmp_path / "logs.db").exists()


def test_attachments_are_kept_whole() -> None:
    from janito_core import Attachment
    from janito_core.testing import media

    picture = Attachment.from_bytes(media.png(4), filename="p.png")
    link = Attachment.from_url("https://example.com/doc.pdf")
    turn = Message.user("Compare", picture, "with", link)
    data = json.loads(json.dumps(message_to_json(turn)))
    assert message_from_json(data) == turn
    # A text-only turn is written as before: no parts.
    assert "parts" not in message_to_json(Message.user("hi"))
