"""The standard tests of attachments: what reaches the provider, in order, and what is refused.

Each test builds the driver, asks it whether it takes the media type (``check_attachment``) and
checks that agrees with the adapter's capabilities, so a provider that lacks a kind says why in
``adapter.unsupported`` and the test is skipped with that reason.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from janito_core.attachments import Attachment
from janito_core.driver import LLMDriver
from janito_core.errors import InvalidRequestError
from janito_core.messages import Message
from janito_core.testing import media
from janito_core.testing.conformance.base import ConformanceBase, DriverFactory
from janito_core.testing.conformance.capabilities import (
    AUDIO_INPUT,
    IMAGE_INPUT,
    IMAGE_URL_INPUT,
    PDF_INPUT,
)
from janito_core.testing.scenario import Scenario, SentFile, SentPart, Text
from janito_core.testing.server import WireServer

IMAGE_URL = "https://images.example.com/cats/tabby.png"

#: capability -> the attachment that shows it.
_SAMPLES = {
    IMAGE_INPUT: lambda: Attachment.from_bytes(media.png(1), filename="one.png"),
    PDF_INPUT: lambda: Attachment.from_bytes(media.pdf("conformance"), filename="doc.pdf"),
    AUDIO_INPUT: lambda: Attachment.from_bytes(media.wav(), filename="clip.wav"),
    IMAGE_URL_INPUT: lambda: Attachment.from_url(IMAGE_URL),
}


def _takes(driver: LLMDriver, attachment: Attachment) -> bool:
    try:
        driver.check_attachment(attachment)
    except InvalidRequestError:
        return False
    return True


def _expected(part: str | Attachment) -> SentPart:
    if isinstance(part, str):
        return part
    return SentFile(media_type=part.media_type, data=part.data, url=part.url)


def assert_turn(sent: Sequence[SentPart], expected: Sequence[str | Attachment]) -> None:
    """Fail unless ``sent`` holds ``expected``'s text and files in order (a media type the wire
    form does not carry, None, matches any)."""
    wanted = [_expected(p) for p in expected]
    assert len(sent) == len(wanted), f"the turn went out as {sent!r}, expected {wanted!r}"
    for got, want in zip(sent, wanted, strict=True):
        if isinstance(want, str):
            assert got == want, f"text part {got!r}, expected {want!r}"
            continue
        assert isinstance(got, SentFile), f"{got!r} went out where a file was expected"
        assert (got.data, got.url) == (want.data, want.url), (
            f"a {want.media_type} attachment went out changed: {got!r}"
        )
        if got.media_type is not None:
            assert got.media_type == want.media_type, f"sent as {got.media_type!r}: {got!r}"


class AttachmentTests(ConformanceBase):
    """User turns with images, documents and audio reach the provider whole and in order."""

    def need(self, driver: LLMDriver, capability: str) -> Attachment:
        """The sample attachment for ``capability``; skips when the provider lacks it, and
        fails when the driver's ``accepts`` and the adapter's ``unsupported`` disagree."""
        sample = _SAMPLES[capability]()
        takes = _takes(driver, sample)
        declared = capability not in self.adapter.unsupported
        assert takes == declared, (
            f"{type(driver).__name__} {'takes' if takes else 'refuses'} {sample!r} but the "
            f"adapter {'does not declare' if takes else 'declares'} {capability!r} unsupported"
        )
        self.require(capability)
        return sample

    def test_text_and_images_keep_their_order(
        self, server: WireServer, driver: DriverFactory
    ) -> None:
        built = driver()
        first = self.need(built, IMAGE_INPUT)
        second = Attachment.from_bytes(media.png(2), filename="two.png")
        self.serve(server, Scenario(steps=(Text("The first is darker."),)))
        turn = Message.user("Compare", first, "with", second)
        generation = self.generate(built, None, messages=[turn])
        assert generation.text == "The first is darker."
        (request,) = server.requests
        assert_turn(self.adapter.user_turns(request)[-1], turn.parts)

    def test_a_pdf_reaches_the_provider(self, server: WireServer, driver: DriverFactory) -> None:
        built = driver()
        document = self.need(built, PDF_INPUT)
        self.serve(server, Scenario(steps=(Text("It says conformance."),)))
        self.generate(built, "What does it say?", attachments=[document])
        (request,) = server.requests
        assert_turn(self.adapter.user_turns(request)[-1], ["What does it say?", document])

    def test_audio_reaches_the_provider(self, server: WireServer, driver: DriverFactory) -> None:
        model = self.adapter.models_for.get(AUDIO_INPUT)
        built = driver(model=model) if model else driver()
        clip = self.need(built, AUDIO_INPUT)
        self.serve(server, Scenario(steps=(Text("Silence."),)))
        self.generate(built, "What do you hear?", attachments=[clip])
        (request,) = server.requests
        assert_turn(self.adapter.user_turns(request)[-1], ["What do you hear?", clip])

    def test_an_image_url_is_passed_on(self, server: WireServer, driver: DriverFactory) -> None:
        built = driver()
        picture = self.need(built, IMAGE_URL_INPUT)
        self.serve(server, Scenario(steps=(Text("A tabby."),)))
        self.generate(built, "What is it?", attachments=[picture])
        (request,) = server.requests
        assert_turn(self.adapter.user_turns(request)[-1], ["What is it?", picture])

    def test_the_history_keeps_attachments(self, server: WireServer, driver: DriverFactory) -> None:
        built = driver()
        picture = self.need(built, IMAGE_INPUT)
        self.serve(server, Scenario(steps=(Text("A cat."),)), Scenario(steps=(Text("Grey."),)))
        first = self.result(built, "What is it?", attachments=[picture])
        assert first.history[0].parts == ("What is it?", picture)
        self.generate(built, "What colour?", messages=list(first.history))
        turns = self.adapter.user_turns(server.requests[1])
        assert len(turns) == 2, f"expected two user turns, got {turns!r}"
        assert_turn(turns[0], ["What is it?", picture])
        assert_turn(turns[1], ["What colour?"])

    def test_an_unaccepted_type_is_refused_at_the_call(
        self, server: WireServer, driver: DriverFactory
    ) -> None:
        built = driver()
        odd = Attachment.from_bytes(b"janito", "application/x-janito-conformance")
        with pytest.raises(InvalidRequestError) as caught:
            built.stream_generate("Read this.", attachments=[odd])
        message = str(caught.value)
        assert "application/x-janito-conformance" in message, message
        assert (built.name or type(built).__name__) in message, message
        assert not server.requests, "a request went out for a refused attachment"

    def test_a_url_the_provider_does_not_fetch_is_refused(
        self, server: WireServer, driver: DriverFactory
    ) -> None:
        built = driver()
        candidates = [
            ("https://files.example.com/report.pdf", _SAMPLES[PDF_INPUT]()),
            ("https://files.example.com/clip.wav", _SAMPLES[AUDIO_INPUT]()),
            (IMAGE_URL, _SAMPLES[IMAGE_INPUT]()),
            ("https://files.example.com/notes.txt", Attachment.from_bytes(b"notes", "text/plain")),
        ]
        for url, as_bytes in candidates:
            by_url = Attachment.from_url(url)
            if _takes(built, as_bytes) and not _takes(built, by_url):
                break
        else:
            pytest.skip("the provider fetches every URL of the types the driver takes")
        with pytest.raises(InvalidRequestError, match="URL"):
            built.stream_generate("Read this.", attachments=[by_url])
        assert not server.requests, "a request went out for a refused URL"
