"""Attachments through the real ``mistralai`` SDK: the exact content chunks Mistral receives,
and what is refused at the call, before any request."""

from __future__ import annotations

import base64

import pytest
from mistral_wire import chunk, stream_reply

from janito_core import Message
from janito_core.attachments import Attachment
from janito_core.errors import InvalidRequestError
from janito_core.testing import text_of
from janito_core.testing.media import pdf, png, wav
from janito_core.testing.server import Reply

USAGE = {"prompt_tokens": 90, "total_tokens": 94, "completion_tokens": 4}


def done(text: str = "Done.") -> Reply:
    return stream_reply([chunk({"content": text}, finish_reason="stop", usage=USAGE)])


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def sent_messages(server) -> list[dict]:
    (request,) = server.requests
    return request.json["messages"]


def test_text_and_image_bytes_go_as_a_data_url(server, make_driver, run):
    server.enqueue(done("A square."))
    image = Attachment.from_bytes(png(1))
    events = run(make_driver().stream_generate("Describe it", attachments=[image]))
    assert text_of(events) == "A square."
    assert sent_messages(server) == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Describe it"},
                {"type": "image_url", "image_url": f"data:image/png;base64,{b64(png(1))}"},
            ],
        }
    ]


def test_an_image_url_goes_as_it_is(server, make_driver, run):
    server.enqueue(done())
    url = "https://images.example.com/cats/tabby.jpg?size=large"
    run(make_driver().stream_generate("What is it?", attachments=[Attachment.from_url(url)]))
    assert sent_messages(server)[0]["content"] == [
        {"type": "text", "text": "What is it?"},
        {"type": "image_url", "image_url": url},
    ]


def test_a_pdf_goes_as_a_document_url(server, make_driver, run):
    server.enqueue(done(), done())
    document = Attachment.from_bytes(pdf("Invoice 42"), filename="invoice.pdf")
    driver = make_driver()
    run(driver.stream_generate("Total?", attachments=[document]))
    by_url = Attachment.from_url("https://files.example.com/report.pdf")
    run(driver.stream_generate("Summary?", attachments=[by_url]))
    first, second = (r.json["messages"][0]["content"] for r in server.requests)
    assert first == [
        {"type": "text", "text": "Total?"},
        {
            "type": "document_url",
            "document_url": f"data:application/pdf;base64,{b64(pdf('Invoice 42'))}",
        },
    ]
    assert second == [
        {"type": "text", "text": "Summary?"},
        {"type": "document_url", "document_url": "https://files.example.com/report.pdf"},
    ]


def test_audio_goes_as_bare_base64_or_its_url_to_voxtral(server, make_driver, run):
    server.enqueue(done("Silence."), done("Speech."))
    driver = make_driver(model="voxtral-mini-latest")
    run(driver.stream_generate("What do you hear?", attachments=[Attachment.from_bytes(wav())]))
    clip = Attachment.from_url("https://audio.example.com/clip.mp3")
    run(driver.stream_generate("And here?", attachments=[clip]))
    first, second = (r.json["messages"][0]["content"] for r in server.requests)
    assert first == [
        {"type": "text", "text": "What do you hear?"},
        {"type": "input_audio", "input_audio": b64(wav())},
    ]
    assert second == [
        {"type": "text", "text": "And here?"},
        {"type": "input_audio", "input_audio": "https://audio.example.com/clip.mp3"},
    ]


def test_interleaved_parts_keep_their_order(server, make_driver, run):
    server.enqueue(done())
    one, two = Attachment.from_bytes(png(1)), Attachment.from_bytes(png(2))
    turn = Message.user("Compare", one, "with", two, "please.")
    run(make_driver().stream_generate(messages=[turn], system_prompt="Be brief."))
    assert sent_messages(server) == [
        {"role": "system", "content": "Be brief."},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Compare"},
                {"type": "image_url", "image_url": f"data:image/png;base64,{b64(png(1))}"},
                {"type": "text", "text": "with"},
                {"type": "image_url", "image_url": f"data:image/png;base64,{b64(png(2))}"},
                {"type": "text", "text": "please."},
            ],
        },
    ]


def test_history_sends_its_attachments_back_and_text_turns_stay_strings(server, make_driver, run):
    server.enqueue(done("Grey."))
    image = Attachment.from_bytes(png(3))
    history = [
        Message.user("What is it?", image),
        Message.assistant("A cat."),
        Message.user("What", "colour?"),
    ]
    run(make_driver().stream_generate(messages=history))
    assert sent_messages(server) == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is it?"},
                {"type": "image_url", "image_url": f"data:image/png;base64,{b64(png(3))}"},
            ],
        },
        {"role": "assistant", "content": "A cat.", "prefix": False},  # the SDK adds prefix
        # Text parts alone: one string, joined as Message.content joins them.
        {"role": "user", "content": "What colour?"},
    ]


def test_a_generation_keeps_the_attachment_in_its_history(server, make_driver):
    server.enqueue(done("A cat."), done("Grey."))
    driver = make_driver()
    image = Attachment.from_bytes(png(4))
    first = driver.generate("What is it?", attachments=[image])
    assert first.history[0].parts == ("What is it?", image)
    driver.generate(messages=[*first.history, Message.user("What colour?")])
    assert server.requests[1].json["messages"] == [
        server.requests[0].json["messages"][0],
        {"role": "assistant", "content": "A cat.", "prefix": False},
        {"role": "user", "content": "What colour?"},
    ]


@pytest.mark.parametrize(
    ("attachment", "model", "says"),
    [
        # A type Mistral takes in no form.
        (Attachment.from_bytes(b"a,b\n1,2\n", "text/csv"), None, "cannot send text/csv"),
        (Attachment.from_url("https://videos.example.com/a.mp4"), None, "cannot send video/mp4"),
        # Audio, to a model that is not Voxtral.
        (Attachment.from_bytes(wav()), "mistral-small-latest", "only Voxtral models"),
        # A URL Mistral cannot fetch.
        (Attachment.from_url("gs://bucket/cat.png"), None, "gs: URL"),
    ],
    ids=["csv", "video-url", "audio-to-small", "gs-url"],
)
def test_refused_at_the_call_before_any_request(server, make_driver, attachment, model, says):
    driver = make_driver(**({"model": model} if model else {}))
    with pytest.raises(InvalidRequestError, match=says) as caught:
        driver.stream_generate("Look.", attachments=[attachment])
    assert "mistral" in str(caught.value)
    assert attachment.media_type in str(caught.value)
    assert not server.requests


def test_an_attachment_in_earlier_history_is_checked_too(server, make_driver):
    history = [
        Message.user("Listen.", Attachment.from_bytes(wav())),
        Message.assistant("Silence."),
        Message.user("Again?"),
    ]
    with pytest.raises(InvalidRequestError, match="audio/wav"):
        make_driver().stream_generate(messages=history)
    assert not server.requests
