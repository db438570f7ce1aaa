"""The exact request body for images and structured output, and what is refused at the call.

The conformance suite checks behaviour through the adapter; these pin the wire itself, which is
what a provider's API reference describes.
"""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest
from wire import ExampleWireAdapter

from janito_core import Attachment, Message
from janito_core import events as ev
from janito_core.errors import InvalidRequestError
from janito_core.harness import EventStream
from janito_core.testing.fixtures import run, server  # noqa: F401
from janito_core.testing.media import png
from janito_core.testing.scenario import Scenario, Text
from janito_core.testing.server import WireServer

Run = Callable[[EventStream], list[ev.Event]]
adapter = ExampleWireAdapter()


def test_images_go_in_order_with_the_text(server: WireServer, run: Run) -> None:  # noqa: F811
    server.enqueue(adapter.reply(Scenario(steps=(Text("The first is darker."),))))
    one, two = Attachment.from_bytes(png(1)), Attachment.from_bytes(png(2))
    history = [Message.user("Hi"), Message.assistant("Hello."), Message.user("Compare", one, two)]
    run(adapter.make_driver(server.url).stream_generate(messages=history))
    (request,) = server.requests
    assert request.json["messages"][0] == {"role": "user", "content": "Hi"}
    assert request.json["messages"][2] == {
        "role": "user",
        "content": [
            {"type": "text", "text": "Compare"},
            {"type": "image", "media_type": "image/png", "data": base64.b64encode(png(1)).decode()},
            {"type": "image", "media_type": "image/png", "data": base64.b64encode(png(2)).decode()},
        ],
    }
    assert "response_schema" not in request.json


def test_a_schema_goes_as_response_schema(server: WireServer) -> None:  # noqa: F811
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    server.enqueue(adapter.reply(Scenario(steps=(Text('{"n": 3}'),))))
    result = adapter.make_driver(server.url).generate("How many?", output_schema=schema)
    assert result.output == {"n": 3}
    (request,) = server.requests
    assert request.json["response_schema"] == schema


@pytest.mark.parametrize(
    ("call", "says"),
    [
        ({"attachments": [Attachment.from_bytes(b"%PDF-1.4\n", "application/pdf")]}, "takes"),
        ({"attachments": [Attachment.from_url("https://example.com/cat.png")]}, "by URL"),
        ({"output_schema": {"type": "array", "items": {"type": "string"}}}, "object schema"),
    ],
    ids=["pdf", "image-url", "array-schema"],
)
def test_refused_at_the_call(server: WireServer, call: dict, says: str) -> None:  # noqa: F811
    with pytest.raises(InvalidRequestError, match=says):
        adapter.make_driver(server.url).stream_generate("Look.", **call)
    assert not server.requests
