"""Message parts: text and attachments in order, content as the joined text."""

from __future__ import annotations

import pytest

from janito_core import Attachment, Message
from janito_core.testing import media

IMG1 = Attachment.from_bytes(media.png(1))
IMG2 = Attachment.from_bytes(media.png(2))


def test_a_user_turn_keeps_its_parts_in_order() -> None:
    turn = Message.user("Compare", IMG1, "with", IMG2)
    assert turn.parts == ("Compare", IMG1, "with", IMG2)
    assert turn.content == "Compare with"
    assert turn.attachments == (IMG1, IMG2)


def test_text_only_turns_are_what_they_were() -> None:
    assert Message.user("hi") == Message(role="user", content="hi")
    assert Message.user("hi").parts == ("hi",)
    assert Message.user(content="hi") == Message.user("hi")
    assert Message.assistant().parts == ()
    assert Message.user("hi").attachments == ()


def test_content_must_agree_with_parts() -> None:
    assert Message(role="user", content="a", parts=("a",)).content == "a"
    with pytest.raises(ValueError, match="content must be the text of parts"):
        Message(role="user", content="b", parts=("a", IMG1))


def test_only_user_turns_hold_attachments() -> None:
    with pytest.raises(ValueError, match="only a user turn holds attachments"):
        Message(role="assistant", parts=("here", IMG1))


def test_a_part_is_text_or_an_attachment() -> None:
    with pytest.raises(TypeError, match="a message part is a str or an Attachment"):
        Message.user("a", b"raw bytes")  # type: ignore[arg-type]


def test_messages_with_attachments_compare_and_hash_by_content() -> None:
    one = Message.user("look", Attachment.from_bytes(media.png(1)))
    assert one == Message.user("look", IMG1)
    assert one != Message.user("look", IMG2)
    assert "size=" in repr(one) and "\\x89PNG" not in repr(one)
