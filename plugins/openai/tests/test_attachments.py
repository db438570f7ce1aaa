"""Attachments on the wire: the exact content parts each API receives (Chat Completions and
Responses, through the real SDK), in order and for every user turn of the history, and what is
refused at the call, before any request, for OpenAI and for the presets."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from janito_driver_openai.driver import OpenAIDriver
from openai_wire import ChatWireAdapter, ResponsesWireAdapter

from janito_core.attachments import Attachment
from janito_core.errors import DriverConfigError, InvalidRequestError
from janito_core.messages import Message
from janito_core.registry import get_driver
from janito_core.testing import closing_drivers, media
from janito_core.testing.scenario import Scenario, Text
from janito_core.testing.server import Reply, WireServer

Make = Callable[..., OpenAIDriver]

PNG_1 = media.png(1)
PNG_2 = media.png(2)
PDF = media.pdf("attached")
WAV = media.wav()
IMAGE_URL = "https://images.example.com/cats/tabby.png"
PDF_URL = "https://files.example.com/report.pdf"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def data_url(media_type: str, data: bytes) -> str:
    return f"data:{media_type};base64,{b64(data)}"


def answer(api: str, text: str = "Seen.") -> Reply:
    adapter = ResponsesWireAdapter() if api == "responses" else ChatWireAdapter()
    return adapter.reply(Scenario(steps=(Text(text),)))


def sent_user_turns(server: WireServer, api: str, index: int = 0) -> list[Any]:
    """The user turns of request ``index`` as the server received them (JSON)."""
    body = server.requests[index].json
    assert body is not None
    if api == "responses":
        return [item for item in body["input"] if item.get("role") == "user"]
    return [m for m in body["messages"] if m["role"] == "user"]


def png_1() -> Attachment:
    return Attachment.from_bytes(PNG_1, filename="one.png")


# -- Chat Completions: exact content parts -----------------------------------------------------


def test_chat_text_and_image_bytes(server: WireServer, make_driver: Make) -> None:
    server.enqueue(answer("chat"))
    result = make_driver().generate("What is it?", attachments=[png_1()])
    assert result.text == "Seen."
    assert server.requests[0].json["messages"] == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is it?"},
                {"type": "image_url", "image_url": {"url": data_url("image/png", PNG_1)}},
            ],
        }
    ]


def test_chat_image_by_url(server: WireServer, make_driver: Make) -> None:
    server.enqueue(answer("chat"))
    make_driver().generate("What is it?", attachments=[Attachment.from_url(IMAGE_URL)])
    assert sent_user_turns(server, "chat")[0]["content"] == [
        {"type": "text", "text": "What is it?"},
        {"type": "image_url", "image_url": {"url": IMAGE_URL}},
    ]


def test_chat_pdf_is_a_file_part(server: WireServer, make_driver: Make) -> None:
    server.enqueue(answer("chat"))
    document = Attachment.from_bytes(PDF, filename="letter.pdf")
    unnamed = Attachment.from_bytes(PDF)
    make_driver().generate("Summarise.", attachments=[document, unnamed])
    assert sent_user_turns(server, "chat")[0]["content"] == [
        {"type": "text", "text": "Summarise."},
        {
            "type": "file",
            "file": {"filename": "letter.pdf", "file_data": data_url("application/pdf", PDF)},
        },
        # OpenAI wants a filename with file_data: one with the type's extension.
        {
            "type": "file",
            "file": {"filename": "document.pdf", "file_data": data_url("application/pdf", PDF)},
        },
    ]


def test_chat_audio_is_input_audio(server: WireServer, make_driver: Make) -> None:
    mp3 = b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x00" * 4
    server.enqueue(answer("chat"))
    make_driver().generate(
        "Transcribe.",
        attachments=[
            Attachment.from_bytes(WAV, filename="clip.wav"),
            Attachment.from_bytes(mp3, filename="clip.mp3"),
        ],
    )
    assert sent_user_turns(server, "chat")[0]["content"] == [
        {"type": "text", "text": "Transcribe."},
        {"type": "input_audio", "input_audio": {"data": b64(WAV), "format": "wav"}},
        {"type": "input_audio", "input_audio": {"data": b64(mp3), "format": "mp3"}},
    ]


# -- Responses: exact content parts ------------------------------------------------------------


def test_responses_text_and_image_bytes(server: WireServer, make_driver: Make) -> None:
    server.enqueue(answer("responses"))
    result = make_driver(api="responses").generate("What is it?", attachments=[png_1()])
    assert result.text == "Seen."
    assert server.requests[0].json["input"] == [
        {
            "role": "user",
            "content": [
                {"type": "input_text", "text": "What is it?"},
                {
                    "type": "input_image",
                    "image_url": data_url("image/png", PNG_1),
                    "detail": "auto",
                },
            ],
        }
    ]


def test_responses_files_by_bytes_and_by_url(server: WireServer, make_driver: Make) -> None:
    server.enqueue(answer("responses"))
    table = Attachment.from_bytes(b"city,people\nParis,2102650\n", "text/csv", filename="t.csv")
    make_driver(api="responses").generate(
        "Compare.",
        attachments=[
            Attachment.from_bytes(PDF, filename="letter.pdf"),
            Attachment.from_url(PDF_URL),
            table,
            Attachment.from_url(IMAGE_URL),
        ],
    )
    assert sent_user_turns(server, "responses")[0]["content"] == [
        {"type": "input_text", "text": "Compare."},
        {
            "type": "input_file",
            "filename": "letter.pdf",
            "file_data": data_url("application/pdf", PDF),
        },
        {"type": "input_file", "file_url": PDF_URL},
        {
            "type": "input_file",
            "filename": "t.csv",
            "file_data": data_url("text/csv", b"city,people\nParis,2102650\n"),
        },
        {"type": "input_image", "image_url": IMAGE_URL, "detail": "auto"},
    ]


# -- both APIs: order, history -----------------------------------------------------------------


@pytest.mark.parametrize("api", ["chat", "responses"])
def test_interleaved_parts_keep_their_order(
    server: WireServer, make_driver: Make, api: str
) -> None:
    server.enqueue(answer(api))
    first, second = png_1(), Attachment.from_bytes(PNG_2, filename="two.png")
    make_driver(api=api).generate(messages=[Message.user("a", first, "b", second)])
    (turn,) = sent_user_turns(server, api)
    if api == "chat":
        assert turn["content"] == [
            {"type": "text", "text": "a"},
            {"type": "image_url", "image_url": {"url": data_url("image/png", PNG_1)}},
            {"type": "text", "text": "b"},
            {"type": "image_url", "image_url": {"url": data_url("image/png", PNG_2)}},
        ]
    else:
        assert turn["content"] == [
            {"type": "input_text", "text": "a"},
            {"type": "input_image", "image_url": data_url("image/png", PNG_1), "detail": "auto"},
            {"type": "input_text", "text": "b"},
            {"type": "input_image", "image_url": data_url("image/png", PNG_2), "detail": "auto"},
        ]


@pytest.mark.parametrize("api", ["chat", "responses"])
def test_the_history_sends_its_attachments_back(
    server: WireServer, make_driver: Make, api: str
) -> None:
    server.enqueue(answer(api, "A cat."), answer(api, "Grey."))
    driver = make_driver(api=api)
    first = driver.generate("What is it?", attachments=[png_1()])
    assert first.history[0].parts == ("What is it?", png_1())
    driver.generate(messages=[*first.history, Message.user("What colour?")])
    body = server.requests[1].json
    if api == "chat":
        assert body["messages"] == [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is it?"},
                    {"type": "image_url", "image_url": {"url": data_url("image/png", PNG_1)}},
                ],
            },
            {"role": "assistant", "content": "A cat."},
            # A text-only turn keeps its plain-string form.
            {"role": "user", "content": "What colour?"},
        ]
    else:
        assert body["input"] == [
            {
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "What is it?"},
                    {
                        "type": "input_image",
                        "image_url": data_url("image/png", PNG_1),
                        "detail": "auto",
                    },
                ],
            },
            {"role": "assistant", "content": "A cat."},
            {"role": "user", "content": "What colour?"},
        ]


# -- refused at the call -----------------------------------------------------------------------


def refused(server: WireServer, driver: OpenAIDriver, attachment: Attachment) -> str:
    """The message of the InvalidRequestError the call raises; no request went out."""
    with pytest.raises(InvalidRequestError) as caught:
        driver.stream_generate("Look.", attachments=[attachment])
    assert not server.requests, "a request went out for a refused attachment"
    return str(caught.value)


@pytest.mark.parametrize("api", ["chat", "responses"])
def test_an_unaccepted_type_is_refused(server: WireServer, make_driver: Make, api: str) -> None:
    odd = Attachment.from_bytes(b"\x00\x01", "application/x-janito", filename="x.bin")
    message = refused(server, make_driver(api=api), odd)
    assert "openai driver" in message and "application/x-janito" in message


def test_chat_refuses_what_only_responses_takes(server: WireServer, make_driver: Make) -> None:
    table = Attachment.from_bytes(b"a,b\n1,2\n", "text/csv", filename="t.csv")
    assert "text/csv" in refused(server, make_driver(), table)
    # OpenAI's Chat API fetches no file URL; the Responses API does (file_url).
    message = refused(server, make_driver(), Attachment.from_url(PDF_URL))
    assert "application/pdf" in message and "URL" in message


def test_chat_refuses_audio_it_cannot_carry(server: WireServer, make_driver: Make) -> None:
    flac = Attachment.from_bytes(b"fLaC\x00\x00\x00\x22" + bytes(34), filename="a.flac")
    assert "wav and mp3" in refused(server, make_driver(), flac)
    by_url = Attachment.from_url("https://files.example.com/clip.wav")
    assert "URL" in refused(server, make_driver(), by_url)
    # Not even when told the server takes them: input_audio has no such form.
    widened = make_driver(accepts=("audio/*",), accepts_urls=("audio/*",))
    assert "wav and mp3" in refused(server, widened, flac)
    assert "not a URL" in refused(server, widened, by_url)


def test_responses_refuses_audio(server: WireServer, make_driver: Make) -> None:
    clip = Attachment.from_bytes(WAV, filename="clip.wav")
    message = refused(server, make_driver(api="responses"), clip)
    assert "audio/wav" in message and "Responses" in message and "api='chat'" in message


def test_accepts_keywords_narrow_or_widen(server: WireServer, make_driver: Make) -> None:
    narrow = make_driver(accepts=("image/png",), accepts_urls=())
    assert narrow.accepts == frozenset({"image/png"})
    assert "image/jpeg" in refused(server, narrow, Attachment.from_bytes(media.jpeg()))
    assert "URL" in refused(server, narrow, Attachment.from_url(IMAGE_URL))
    with pytest.raises(DriverConfigError, match="accepts"):
        make_driver(accepts="image/png")
    with pytest.raises(DriverConfigError, match="accepts_urls"):
        make_driver(accepts_urls=["png"])
    assert OpenAIDriver.accepts == make_driver().accepts  # Chat's, the default API
    assert make_driver(api="responses").accepts >= {"application/pdf", "text/csv"}


# -- presets -----------------------------------------------------------------------------------


@pytest.fixture
def preset() -> Iterator[Callable[..., OpenAIDriver]]:
    """``preset(name, **config)``: a preset driver through the registry, closed at teardown."""

    def make(**config: Any) -> OpenAIDriver:
        config.setdefault("api_key", "sk-preset-attachments")
        config.setdefault("retry_base_delay", 0.01)
        driver = get_driver(config.pop("preset"), **config)
        assert isinstance(driver, OpenAIDriver)
        return driver

    with closing_drivers(make) as made:
        yield lambda name, **config: made(preset=name, **config)


def test_deepseek_takes_text_only(server: WireServer, preset: Callable[..., OpenAIDriver]) -> None:
    driver = preset("deepseek", base_url=f"{server.url}/v1")
    message = refused(server, driver, png_1())
    assert "deepseek driver" in message and "text only" in message


def test_xai_takes_jpeg_and_png_only(
    server: WireServer, preset: Callable[..., OpenAIDriver]
) -> None:
    driver = preset("xai", base_url=f"{server.url}/v1")
    webp = Attachment.from_bytes(b"RIFF\x00\x00\x00\x00WEBPVP8 ", filename="a.webp")
    assert "image/webp" in refused(server, driver, webp)
    server.enqueue(answer("chat"))
    driver.generate("What is it?", attachments=[png_1()])
    assert sent_user_turns(server, "chat")[0]["content"][1] == {
        "type": "image_url",
        "image_url": {"url": data_url("image/png", PNG_1)},
    }


def test_openrouter_takes_a_pdf_url_and_audio(
    server: WireServer, preset: Callable[..., OpenAIDriver]
) -> None:
    driver = preset("openrouter", base_url=f"{server.url}/v1")
    server.enqueue(answer("chat"))
    clip = Attachment.from_bytes(WAV, filename="clip.wav")
    driver.generate("Read and listen.", attachments=[Attachment.from_url(PDF_URL), clip])
    assert sent_user_turns(server, "chat")[0]["content"] == [
        {"type": "text", "text": "Read and listen."},
        # OpenRouter fetches a PDF given by URL in file_data.
        {"type": "file", "file": {"filename": "report.pdf", "file_data": PDF_URL}},
        {"type": "input_audio", "input_audio": {"data": b64(WAV), "format": "wav"}},
    ]


@pytest.mark.parametrize(
    ("name", "kinds"),
    [
        ("groq", {"image"}),
        ("together", {"image"}),
        ("ollama", {"image"}),
        ("vllm", {"image", "audio"}),
        ("azure-openai", {"image"}),
    ],
)
def test_what_each_other_preset_takes(
    name: str, kinds: set[str], server: WireServer, preset: Callable[..., OpenAIDriver]
) -> None:
    driver = preset(name, base_url=f"{server.url}/v1", model="m")
    samples = {
        "image": png_1(),
        "audio": Attachment.from_bytes(WAV, filename="clip.wav"),
        "document": Attachment.from_bytes(PDF, filename="letter.pdf"),
    }
    for kind, sample in samples.items():
        if kind in kinds:
            driver.check_attachment(sample)
        else:
            assert sample.media_type in refused(server, driver, sample)
    driver.check_attachment(Attachment.from_url(IMAGE_URL))
