"""Attachments through the real ``google-genai`` SDK to the loopback server: the exact parts
Gemini receives, and what the driver refuses before any request."""

from __future__ import annotations

import base64

import pytest
from gemini_wire import chunk, stream_reply, text
from janito_driver_gemini.driver import GeminiDriver
from janito_driver_gemini.media import MAX_INLINE_BYTES

from janito_core import Attachment, Message
from janito_core.errors import InvalidRequestError
from janito_core.testing import finish, media

USAGE = {"promptTokenCount": 9, "candidatesTokenCount": 4, "totalTokenCount": 13}
PNG_1 = Attachment.from_bytes(media.png(1), filename="one.png")
PNG_2 = Attachment.from_bytes(media.png(2), filename="two.png")
# An MP3 (an ID3 tag, then silence): Attachment calls it audio/mpeg, Google's guide audio/mp3.
MP3 = Attachment.from_bytes(b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(64), filename="a.mp3")


def done(answer: str = "Done."):
    return stream_reply(chunk([text(answer)], finish="STOP", usage=USAGE))


def inline(data: bytes, mime_type: str) -> dict:
    """An ``inlineData`` part as the SDK writes it: URL-safe base64, ``mime_type`` in snake
    case inside the camelCase ``inlineData`` (Google's JSON parser takes either casing)."""
    return {"inlineData": {"data": base64.urlsafe_b64encode(data).decode(), "mime_type": mime_type}}


def by_url(url: str, mime_type: str) -> dict:
    return {"fileData": {"file_uri": url, "mime_type": mime_type}}


def user(*parts: dict) -> dict:
    return {"parts": list(parts), "role": "user"}


def test_text_and_an_image(server, run):
    server.enqueue(done("A square."))
    run("What is it?", attachments=[PNG_1])
    (request,) = server.requests
    assert request.json["contents"] == [
        user({"text": "What is it?"}, inline(media.png(1), "image/png"))
    ]


def test_bytes_go_as_url_safe_base64(server, run):
    # Bytes whose standard base64 holds "+" and "/": the SDK writes "-" and "_".
    jpeg = media.jpeg() + b"\xfb\xff\xfe"
    picture = Attachment.from_bytes(jpeg, filename="x.jpg")
    server.enqueue(done())
    run("What is it?", attachments=[picture])
    sent = server.requests[0].json["contents"][0]["parts"][1]["inlineData"]["data"]
    assert "/" in base64.b64encode(jpeg).decode()
    assert "/" not in sent
    assert sent == base64.urlsafe_b64encode(jpeg).decode()


def test_an_image_by_url(server, run):
    server.enqueue(done())
    picture = Attachment.from_url("https://images.example.com/cats/tabby.png?size=large")
    run("What is it?", attachments=[picture])
    assert server.requests[0].json["contents"] == [
        user(
            {"text": "What is it?"},
            by_url("https://images.example.com/cats/tabby.png?size=large", "image/png"),
        )
    ]


def test_a_files_api_uri_and_a_youtube_link(server, run):
    uploaded = Attachment.from_url(
        "https://generativelanguage.googleapis.com/v1beta/files/abc123", "application/pdf"
    )
    video = Attachment.from_url("https://www.youtube.com/watch?v=9hE5-98ZeCg", "video/mp4")
    server.enqueue(done())
    run("Compare", attachments=[uploaded, video])
    assert server.requests[0].json["contents"] == [
        user(
            {"text": "Compare"},
            by_url(uploaded.url, "application/pdf"),
            by_url(video.url, "video/mp4"),
        )
    ]


def test_text_and_a_pdf(server, run):
    document = Attachment.from_bytes(media.pdf("Quarterly"), filename="q.pdf")
    server.enqueue(done("It says Quarterly."))
    run("What does it say?", attachments=[document])
    assert server.requests[0].json["contents"] == [
        user({"text": "What does it say?"}, inline(media.pdf("Quarterly"), "application/pdf"))
    ]


def test_a_text_document(server, run):
    notes = Attachment.from_bytes(b"# Notes\n\n- one\n", filename="notes.md")
    server.enqueue(done())
    run("Summarise", attachments=[notes])
    assert server.requests[0].json["contents"][0]["parts"][1] == inline(
        b"# Notes\n\n- one\n", "text/markdown"
    )


def test_audio_wav_and_mp3(server, run):
    clip = Attachment.from_bytes(media.wav(), filename="clip.wav")
    assert MP3.media_type == "audio/mpeg"
    server.enqueue(done("Silence."))
    run("What do you hear?", attachments=[clip, MP3])
    assert server.requests[0].json["contents"] == [
        user(
            {"text": "What do you hear?"},
            inline(media.wav(), "audio/wav"),
            inline(MP3.data, "audio/mp3"),  # the spelling Google's audio guide gives
        )
    ]


def test_interleaved_parts_keep_their_order(server, driver):
    server.enqueue(done())
    finish(driver.stream_generate(messages=[Message.user("a", PNG_1, "b", PNG_2)]))
    assert server.requests[0].json["contents"] == [
        user(
            {"text": "a"},
            inline(media.png(1), "image/png"),
            {"text": "b"},
            inline(media.png(2), "image/png"),
        )
    ]


def test_empty_text_parts_beside_attachments_are_left_out(server, driver):
    server.enqueue(done())
    finish(driver.stream_generate(messages=[Message.user("", PNG_1, "")]))
    assert server.requests[0].json["contents"] == [user(inline(media.png(1), "image/png"))]


def test_the_history_sends_its_attachments_back(server, driver):
    server.enqueue(done("A square."), done("Red."))
    first = driver.generate("What is it?", attachments=[PNG_1])
    assert first.history[0].parts == ("What is it?", PNG_1)
    finish(driver.stream_generate(messages=[*first.history, Message.user("What colour?")]))
    assert server.requests[1].json["contents"] == [
        user({"text": "What is it?"}, inline(media.png(1), "image/png")),
        {"parts": [{"text": "A square."}], "role": "model"},
        user({"text": "What colour?"}),
    ]


def test_a_large_file_goes_inline_whole(server, run):
    # 21 MB: over the 20 MB Google documented before January 2026, under today's 100 MB.
    data = media.png(3) + bytes(21 * 2**20)
    big = Attachment.from_bytes(data, filename="big.png")
    server.enqueue(done())
    run("What is it?", attachments=[big])
    sent = server.requests[0].json["contents"][0]["parts"][1]["inlineData"]
    assert sent["mime_type"] == "image/png"
    assert base64.urlsafe_b64decode(sent["data"]) == data


# -- refused at the call -------------------------------------------------------------------


@pytest.mark.parametrize(
    "attachment",
    [
        Attachment.from_bytes(b"GIF89a" + bytes(16), filename="anim.gif"),
        Attachment.from_bytes(b"PK\x03\x04" + bytes(16), "application/zip"),
        Attachment.from_url("https://example.com/sheet.xlsx"),
    ],
    ids=["gif", "zip", "xlsx-url"],
)
def test_a_type_gemini_does_not_take_is_refused(server, driver, attachment):
    with pytest.raises(InvalidRequestError) as caught:
        driver.stream_generate("Read this.", attachments=[attachment])
    assert "gemini driver" in str(caught.value)
    assert attachment.media_type in str(caught.value)
    assert not server.requests


def test_a_cloud_storage_uri_is_refused(server, driver):
    stored = Attachment.from_url("gs://bucket/scans/page.png")
    with pytest.raises(InvalidRequestError, match="gs:// URL") as caught:
        driver.stream_generate("Read this.", attachments=[stored])
    assert "Files API" in str(caught.value)
    assert not server.requests


class SmallInlineDriver(GeminiDriver):
    """The driver with an inline limit small enough to pass in a test."""

    max_inline_bytes = 1000


def test_one_file_too_large_to_go_inline_is_refused_at_the_call(server, adapter):
    driver = SmallInlineDriver(api_key=adapter.api_key, base_url=server.url, model=adapter.model)
    try:
        fits = Attachment.from_bytes(media.png(1) + bytes(600), filename="fits.png")
        too_big = Attachment.from_bytes(media.png(1) + bytes(800), filename="big.png")
        server.enqueue(done())
        finish(driver.stream_generate("ok", attachments=[fits]))
        with pytest.raises(InvalidRequestError, match="Files API") as caught:
            driver.stream_generate("What is it?", attachments=[too_big])
        assert "inline" in str(caught.value)
        assert len(server.requests) == 1
    finally:
        driver.close()


def test_inline_data_past_gemini_s_limit_is_refused_before_any_request(server, driver):
    # One 21 MB file five times over (the same bytes: 21 MB held, 140 MB of base64 to send):
    # each fits alone; the request as a whole is refused at the call (check_request).
    data = media.png(4) + bytes(21 * 2**20)
    big = Attachment.from_bytes(data, filename="big.png")
    assert big.base64_size is not None
    assert big.base64_size < MAX_INLINE_BYTES < 5 * big.base64_size
    with pytest.raises(InvalidRequestError, match="Files API") as caught:
        driver.stream_generate(messages=[Message.user("Compare", big, big, big, big, big)])
    assert "100 MiB" in str(caught.value)
    assert not server.requests
