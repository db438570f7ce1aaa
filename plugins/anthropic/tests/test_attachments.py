"""Attachments through the real ``anthropic`` SDK to the loopback server: the exact content blocks
of each user turn (images, PDFs and text documents, by bytes or URL, in order, in the history
sent back) and what is refused at the call, before any request."""

from __future__ import annotations

import base64

import pytest
from anthropic_wire import AnthropicWireAdapter

from janito_core import Message, Tool
from janito_core.attachments import Attachment
from janito_core.errors import InvalidRequestError
from janito_core.testing import media
from janito_core.testing.scenario import Call, Scenario, SentFile, Text

# Short byte strings that start as a GIF and a WebP file do: what the media type is read from.
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00;"
WEBP = b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00/\x00\x00\x00\x10\x07\x10"


def reply(*steps, **kwargs):
    return AnthropicWireAdapter().reply(Scenario(steps=steps, **kwargs))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def image_block(data: bytes, media_type: str = "image/png") -> dict:
    return {
        "type": "image",
        "source": {"type": "base64", "media_type": media_type, "data": b64(data)},
    }


def text_block(text: str) -> dict:
    return {"type": "text", "text": text}


def lookup(city: str) -> str:
    """Look up a city."""
    return f"{city}: sunny"


# -- what goes out ------------------------------------------------------------------------------


def test_text_and_an_image_from_bytes(server, make_driver) -> None:
    png = media.png(1)
    server.enqueue(reply(Text("A dot.")))
    result = make_driver().generate(
        "What is it?", attachments=[Attachment.from_bytes(png, filename="dot.png")]
    )
    assert result.text == "A dot."
    assert server.requests[0].json["messages"] == [
        {"role": "user", "content": [text_block("What is it?"), image_block(png)]}
    ]


@pytest.mark.parametrize(
    ("data", "media_type"),
    [
        (media.png(3), "image/png"),
        (media.jpeg(), "image/jpeg"),
        (GIF, "image/gif"),
        (WEBP, "image/webp"),
    ],
)
def test_each_image_type_goes_out_with_its_media_type(
    server, make_driver, data: bytes, media_type: str
) -> None:
    server.enqueue(reply(Text("Seen.")))
    picture = Attachment.from_bytes(data)
    assert picture.media_type == media_type
    make_driver().generate("Look.", attachments=[picture])
    (turn,) = server.requests[0].json["messages"]
    assert turn["content"] == [text_block("Look."), image_block(data, media_type)]


def test_an_image_by_url_is_fetched_by_anthropic(server, make_driver) -> None:
    url = "https://images.example.com/cats/tabby.jpg?size=large"
    server.enqueue(reply(Text("A tabby.")))
    make_driver().generate("What is it?", attachments=[Attachment.from_url(url)])
    (turn,) = server.requests[0].json["messages"]
    assert turn["content"] == [
        text_block("What is it?"),
        {"type": "image", "source": {"type": "url", "url": url}},
    ]


def test_text_and_a_pdf_from_bytes(server, make_driver) -> None:
    pdf = media.pdf("quarterly")
    server.enqueue(reply(Text("It says quarterly.")))
    make_driver().generate("Summarise.", attachments=[Attachment.from_bytes(pdf)])
    (turn,) = server.requests[0].json["messages"]
    assert turn["content"] == [
        text_block("Summarise."),
        {
            "type": "document",
            "source": {"type": "base64", "media_type": "application/pdf", "data": b64(pdf)},
        },
    ]


def test_a_pdf_by_url(server, make_driver) -> None:
    url = "https://files.example.com/report.pdf"
    server.enqueue(reply(Text("A report.")))
    make_driver().generate("Summarise.", attachments=[Attachment.from_url(url)])
    (turn,) = server.requests[0].json["messages"]
    assert turn["content"] == [
        text_block("Summarise."),
        {"type": "document", "source": {"type": "url", "url": url}},
    ]


def test_a_plain_text_document_goes_as_text(server, make_driver) -> None:
    notes = "Café opens at 9.\nClosed on Mondays.\n"
    server.enqueue(reply(Text("At 9.")))
    document = Attachment.from_bytes(notes.encode("utf-8"), "text/plain", filename="notes.txt")
    make_driver().generate("When does it open?", attachments=[document])
    (turn,) = server.requests[0].json["messages"]
    assert turn["content"] == [
        text_block("When does it open?"),
        {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": notes}},
    ]


def test_interleaved_parts_keep_their_order(server, make_driver, adapter) -> None:
    first, second = media.png(1), media.png(2)
    assert first != second
    server.enqueue(reply(Text("The first is darker.")))
    turn = Message.user(
        "Compare",
        Attachment.from_bytes(first),
        "with",
        Attachment.from_bytes(second),
    )
    make_driver().generate(messages=[turn])
    (sent,) = server.requests[0].json["messages"]
    assert sent == {
        "role": "user",
        "content": [
            text_block("Compare"),
            image_block(first),
            text_block("with"),
            image_block(second),
        ],
    }
    assert adapter.user_turns(server.requests[0]) == [
        [
            "Compare",
            SentFile(media_type="image/png", data=first),
            "with",
            SentFile(media_type="image/png", data=second),
        ]
    ]


def test_blank_text_between_attachments_is_left_out(server, make_driver) -> None:
    # The API refuses a text block with nothing visible in it.
    first, second = media.png(1), media.png(2)
    server.enqueue(reply(Text("Two dots.")))
    turn = Message.user(Attachment.from_bytes(first), "\n", Attachment.from_bytes(second), "Both?")
    make_driver().generate(messages=[turn])
    (sent,) = server.requests[0].json["messages"]
    assert sent["content"] == [image_block(first), image_block(second), text_block("Both?")]


def test_a_text_only_turn_of_several_parts_keeps_its_one_block(server, make_driver) -> None:
    server.enqueue(reply(Text("Hi.")))
    make_driver().generate(messages=[Message.user("Hello", "there")])
    (sent,) = server.requests[0].json["messages"]
    assert sent == {"role": "user", "content": [text_block("Hello there")]}


def test_the_history_sent_back_keeps_its_attachments(server, make_driver, adapter) -> None:
    png = media.png(4)
    history = [
        Message.user("What is it?", Attachment.from_bytes(png)),
        Message(role="assistant", content="A dot."),
        Message.user("What colour?"),
    ]
    server.enqueue(reply(Text("Teal.")))
    make_driver().generate(messages=history)
    assert server.requests[0].json["messages"] == [
        {"role": "user", "content": [text_block("What is it?"), image_block(png)]},
        {"role": "assistant", "content": [text_block("A dot.")]},
        {"role": "user", "content": [text_block("What colour?")]},
    ]
    assert adapter.user_turns(server.requests[0]) == [
        ["What is it?", SentFile(media_type="image/png", data=png)],
        ["What colour?"],
    ]


def test_a_generation_returns_and_resends_the_attachment(server, make_driver) -> None:
    png = media.png(5)
    picture = Attachment.from_bytes(png)
    server.enqueue(reply(Text("A dot.")), reply(Text("Teal.")))
    driver = make_driver()
    first = driver.generate("What is it?", attachments=[picture])
    assert first.history[0].parts == ("What is it?", picture)
    driver.generate(messages=[*first.history, Message.user("What colour?")])
    assert server.requests[1].json["messages"][0] == {
        "role": "user",
        "content": [text_block("What is it?"), image_block(png)],
    }


def test_a_tool_round_keeps_the_image_and_results_are_not_a_user_turn(
    server, make_driver, adapter
) -> None:
    png = media.png(6)
    server.enqueue(
        reply(Call(name="lookup", arguments='{"city": "Rome"}', id="toolu_1")),
        reply(Text("Sunny in Rome.")),
    )
    make_driver().generate(
        "Where is this, and the weather?",
        attachments=[Attachment.from_bytes(png)],
        tools=[Tool.from_function(lookup)],
    )
    second = server.requests[1]
    messages = second.json["messages"]
    assert messages[0] == {
        "role": "user",
        "content": [text_block("Where is this, and the weather?"), image_block(png)],
    }
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert messages[2]["content"] == [
        {"type": "tool_result", "tool_use_id": "toolu_1", "content": "Rome: sunny"}
    ]
    assert adapter.user_turns(second) == [
        ["Where is this, and the weather?", SentFile(media_type="image/png", data=png)]
    ]


def test_a_cache_point_marks_the_last_block_an_attachment_too(server, make_driver) -> None:
    pdf = media.pdf("cached")
    server.enqueue(reply(Text("Done.")))
    make_driver(cache="messages").generate("Read.", attachments=[Attachment.from_bytes(pdf)])
    (turn,) = server.requests[0].json["messages"]
    assert turn["content"][-1] == {
        "type": "document",
        "source": {"type": "base64", "media_type": "application/pdf", "data": b64(pdf)},
        "cache_control": {"type": "ephemeral"},
    }


# -- refused at the call --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attachment", "words"),
    [
        (Attachment.from_bytes(media.wav(), filename="clip.wav"), ("audio/wav", "anthropic")),
        (Attachment.from_bytes(b"# Notes\n", "text/markdown"), ("text/markdown", "anthropic")),
        (Attachment.from_bytes(b"a,b\n1,2\n", "text/csv"), ("text/csv", "anthropic")),
        (Attachment.from_url("https://example.com/talk.mp3"), ("audio/mpeg", "anthropic")),
        (Attachment.from_url("https://example.com/notes.txt"), ("text/plain", "URL")),
        (Attachment.from_url("gs://bucket/cat.png"), ("gs://", "http and https")),
        (Attachment.from_bytes(b"caf\xe9\n", "text/plain"), ("UTF-8", "anthropic")),
    ],
    ids=["audio", "markdown", "csv", "audio-url", "text-url", "gs-url", "latin-1-text"],
)
def test_what_anthropic_cannot_take_is_refused_before_any_request(
    server, make_driver, attachment: Attachment, words: tuple[str, ...]
) -> None:
    driver = make_driver()
    with pytest.raises(InvalidRequestError) as caught:
        driver.generate("Read this.", attachments=[attachment])
    for word in words:
        assert word in str(caught.value)
    assert server.requests == []


def test_an_attachment_in_the_history_is_checked_too(server, make_driver) -> None:
    history = [
        Message.user("Listen.", Attachment.from_bytes(media.wav())),
        Message(role="assistant", content="A tone."),
        Message.user("Louder?"),
    ]
    with pytest.raises(InvalidRequestError, match="audio/wav"):
        make_driver().generate(messages=history)
    assert server.requests == []


def test_the_accepted_types_are_declared(make_driver) -> None:
    driver = make_driver()
    assert driver.accepts == {
        "image/jpeg",
        "image/png",
        "image/gif",
        "image/webp",
        "application/pdf",
        "text/plain",
    }
    assert driver.accepts_urls == {
        "image/jpeg",
        "image/png",
        "image/gif",
        "image/webp",
        "application/pdf",
    }
