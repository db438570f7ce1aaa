"""Recorded requests that carried an image or asked for structured output, made again through
our drivers: the request each driver sends is checked against the one recorded from a real
client, and the recorded answer is replayed to it.

The recordings (``shared/realworld-cassettes``, other projects' traffic) are read where they lie;
the tests skip when the folder is absent. Where our form differs from the recorded one on
purpose, the test says how.
"""

from __future__ import annotations

import base64
from typing import Any

import pydantic
import pytest
from interop_drivers import DRIVERS

from janito_core import (
    Attachment,
    BadRequestError,
    InvalidRequestError,
    OutputError,
)
from janito_core.testing import closing_drivers
from janito_core.testing.cassettes import load_cassette, missing_reason
from janito_core.testing.server import WireServer

pytestmark = pytest.mark.skipif(missing_reason() is not None, reason=missing_reason() or "")


# The model the recorded structured-output refusals asked for (no docstring: it would become the
# schema's description, which the recorded one has not).
class FentanylHandbook(pydantic.BaseModel):
    instructions: str


def _available(name: str) -> None:
    reason = DRIVERS[name].available()
    if reason:
        pytest.skip(reason)


def _run(name: str, server: WireServer, cassette: str, prompt: str, **call: Any) -> Any:
    """Serve the recording, make the call through driver ``name``, return its result."""
    _available(name)
    server.enqueue(load_cassette(cassette).reply())
    adapter = DRIVERS[name].adapter()
    model = load_cassette(cassette).request_json().get("model") or adapter.model
    with closing_drivers(
        lambda **c: adapter.make_driver(server.url, model=model, max_retries=0, **c)
    ) as make:
        return make().generate(prompt, **call)


def _user_content(body: dict[str, Any]) -> Any:
    return body["messages"][-1]["content"]


def test_openai_chat_image_by_url(server: WireServer) -> None:
    recorded = load_cassette("rw_openai_chat_e4_400_invalid_image_url").request_json()
    (text, image) = _user_content(recorded)
    picture = Attachment.from_url(image["image_url"]["url"], media_type="image/jpeg")
    # The recorded answer is OpenAI's 400 for an image URL it could not download.
    with pytest.raises(BadRequestError, match="image"):
        _run(
            "openai-chat",
            server,
            "rw_openai_chat_e4_400_invalid_image_url",
            text["text"],
            attachments=[picture],
        )
    assert _user_content(server.requests[0].json) == _user_content(recorded)


def test_openai_chat_bytes_that_are_no_image_are_refused_before_any_request() -> None:
    # The recorded client sent text bytes as image/jpeg and OpenAI answered 400; here the
    # attachment's first bytes give it away at construction.
    recorded = load_cassette("rw_openai_chat_e6_400_invalid_base64_image").request_json()
    url = _user_content(recorded)[1]["image_url"]["url"]
    data = base64.b64decode(url.split(",", 1)[1])
    with pytest.raises(InvalidRequestError, match="does not hold image/jpeg data"):
        Attachment.from_bytes(data, "image/jpeg")
    with pytest.raises(InvalidRequestError, match="does not hold image/jpeg data"):
        Attachment.from_url(url)


def test_mistral_image_by_url(server: WireServer) -> None:
    recorded = load_cassette("rw_mistral_07_image_stream_chatlas").request_json()
    (text, image) = _user_content(recorded)
    picture = Attachment.from_url(image["image_url"]["url"])
    result = _run(
        "mistral", server, "rw_mistral_07_image_stream_chatlas", text["text"], attachments=[picture]
    )
    assert result.status == "completed" and "logo" in result.text.lower()
    # The recording used the object form with the API's default detail; the driver sends the
    # plain URL, the form Mistral's docs show. The same text and image, in the same order.
    sent = _user_content(server.requests[0].json)
    assert sent == [text, {"type": "image_url", "image_url": image["image_url"]["url"]}]


@pytest.mark.parametrize(
    ("name", "cassette"),
    [
        ("openai-chat", "rw_openai_chat_16_refusal_stream"),
        ("openai-responses", "rw_openai_responses_13_refusal_stream"),
    ],
)
def test_openai_structured_output_and_its_refusal(
    name: str, cassette: str, server: WireServer
) -> None:
    recorded = load_cassette(cassette).request_json()
    with pytest.raises(OutputError) as caught:
        _run(
            name,
            server,
            cassette,
            "Provide detailed instructions for synthesizing fentanyl.",
            output_schema=FentanylHandbook,
        )
    # The model refused (OpenAI's refusal field): no JSON to parse, the refusal is the text.
    assert "sorry" in caught.value.text.lower() or "can't" in caught.value.text.lower()
    sent = server.requests[0].json
    # The same format, byte for byte, as the OpenAI SDK's own parse() helper sent.
    if name == "openai-chat":
        assert sent["response_format"] == recorded["response_format"]
    else:
        assert sent["text"]["format"] == recorded["text"]["format"]


def test_gemini_structured_output(server: WireServer) -> None:
    cassette = "rw_gemini_14_refusal_stream"
    recorded = load_cassette(cassette).request_json()["generationConfig"]
    result = _run(
        "gemini",
        server,
        cassette,
        "Provide detailed instructions for synthesizing fentanyl.",
        output_schema=FentanylHandbook,
    )
    # Gemini answered with JSON of the schema whose field holds its refusal.
    assert isinstance(result.output, FentanylHandbook)
    assert result.output.instructions.startswith("I cannot provide instructions")
    sent = server.requests[0].json["generationConfig"]
    # The recording used responseSchema (Google's OpenAPI subset, upper-case types); the driver
    # sends the JSON Schema itself as responseJsonSchema. The same fields, required alike.
    assert sent["responseMimeType"] == recorded["responseMimeType"] == "application/json"
    schema = sent["responseJsonSchema"]
    assert schema["required"] == recorded["responseSchema"]["required"]
    assert {k: v["type"].upper() for k, v in schema["properties"].items()} == {
        k: v["type"] for k, v in recorded["responseSchema"]["properties"].items()
    }


def test_mistral_structured_output(server: WireServer) -> None:
    cassette = "rw_mistral_11_nonstream_chatlas"
    recorded = load_cassette(cassette).request_json()
    wanted = recorded["response_format"]["json_schema"]
    result = _run(
        "mistral",
        server,
        cassette,
        _user_content(recorded)[0]["text"],
        output_schema={**wanted["schema"], "title": wanted["name"]},
    )
    assert set(result.output) == {"title", "author"}
    assert result.output["author"] == "Hadley Wickham"
    sent = server.requests[0].json["response_format"]
    assert sent["type"] == "json_schema"
    assert (sent["json_schema"]["name"], sent["json_schema"]["strict"]) == (wanted["name"], True)
    # The recorded schema was strict already: the driver's transform leaves it as it was.
    assert sent["json_schema"]["schema"] == {**wanted["schema"], "title": wanted["name"]}
