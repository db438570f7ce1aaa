"""Attachments and output_schema at the public calls: checked at the call, carried to the
driver, kept in the history, and the answer parsed into ``output``."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from janito_core import Attachment, InvalidRequestError, Message, OutputError
from janito_core.echo import EchoDriver
from janito_core.parts import TextPart
from janito_core.testing import ScriptedDriver, media
from janito_core.tools import Tool

PNG = Attachment.from_bytes(media.png(), filename="cat.png")
PDF = Attachment.from_bytes(media.pdf(), filename="doc.pdf")


@dataclasses.dataclass
class City:
    name: str
    population: int


class ImagesOnly(EchoDriver):
    name = "images-only"
    accepts = frozenset({"image/*"})
    accepts_urls = frozenset()


def test_attachments_go_after_the_prompt_and_stay_in_the_history() -> None:
    driver = ScriptedDriver([[TextPart("A cat.")]])
    result = driver.generate("What is it?", attachments=[PNG, PDF])
    (request,) = driver.requests
    assert request.messages[-1].parts == ("What is it?", PNG, PDF)
    assert result.history[0] == Message.user("What is it?", PNG, PDF)


def test_attachments_without_a_prompt_make_a_turn_of_their_own() -> None:
    driver = ScriptedDriver([[TextPart("ok")]])
    driver.generate(messages=[Message.user("Hello")], attachments=[PNG])
    (request,) = driver.requests
    assert [m.parts for m in request.messages] == [("Hello",), (PNG,)]


def test_the_async_calls_take_them_too() -> None:
    driver = ScriptedDriver([[TextPart('{"name": "Oslo", "population": 700000}')]])

    async def main() -> object:
        result = await driver.agenerate("Oslo?", attachments=[PNG], output_schema=City)
        return result.output

    assert asyncio.run(main()) == City("Oslo", 700000)
    assert driver.requests[0].messages[-1].parts == ("Oslo?", PNG)
    assert driver.requests[0].output_schema is not None


def test_a_type_the_driver_does_not_take_is_refused_at_the_call() -> None:
    driver = ImagesOnly()
    with pytest.raises(InvalidRequestError) as caught:
        driver.stream_generate("Read it.", attachments=[PDF])
    assert "images-only" in str(caught.value) and "application/pdf" in str(caught.value)
    assert "image/*" in str(caught.value)


def test_an_attachment_in_the_history_is_checked_too() -> None:
    with pytest.raises(InvalidRequestError, match="application/pdf"):
        ImagesOnly().stream_generate("And?", messages=[Message.user("Read", PDF)])


def test_a_url_the_provider_does_not_fetch_is_refused() -> None:
    with pytest.raises(InvalidRequestError, match="by URL"):
        ImagesOnly().stream_generate(
            "What?", attachments=[Attachment.from_url("https://example.com/a.png")]
        )


@pytest.mark.parametrize(
    "bad",
    [PNG, "cat.png", [b"\x89PNG"], ["cat.png"], 3],
    ids=["one", "str", "bytes", "names", "int"],
)
def test_attachments_must_be_a_list_of_attachments(bad: object) -> None:
    with pytest.raises(InvalidRequestError, match="attachments must be"):
        EchoDriver().stream_generate("hi", attachments=bad)  # type: ignore[arg-type]


def test_the_schema_reaches_the_driver_and_the_answer_is_parsed() -> None:
    driver = ScriptedDriver([[TextPart('{"name": "Oslo",'), TextPart(' "population": 709000}')]])
    result = driver.generate("Oslo?", output_schema=City)
    assert result.output == City("Oslo", 709000)
    (request,) = driver.requests
    assert request.output_name == "City"
    assert request.output_schema is not None
    assert set(request.output_schema["properties"]) == {"name", "population"}


def test_the_final_answer_of_a_tool_loop_is_the_structured_one() -> None:
    def population(city: str) -> str:
        """How many live there."""
        return "709000"

    from janito_core.parts import ToolCallPart

    driver = ScriptedDriver(
        [
            [TextPart("Let me look. "), ToolCallPart(id="c1", name="population", arguments={})],
            [TextPart('{"name": "Oslo", "population": 709000}')],
        ]
    )
    result = driver.generate("Oslo?", tools=[Tool.from_function(population)], output_schema=City)
    assert result.output == City("Oslo", 709000)
    assert all(r.output_schema is not None for r in driver.requests)
    assert len(driver.requests) == 2


def test_an_invalid_answer_raises_output_error_with_the_text() -> None:
    driver = ScriptedDriver([[TextPart("Oslo has 709000 people.")]])
    stream = driver.stream_generate("Oslo?", output_schema=City)
    with stream:
        texts = [e.content_part for e in stream if type(e).__name__ == "ContentPartFound"]
        with pytest.raises(OutputError) as caught:
            stream.result()
    assert texts == ["Oslo has 709000 people."]
    assert caught.value.text == "Oslo has 709000 people."


def test_a_cancelled_generation_has_no_output_and_raises_nothing() -> None:
    driver = ScriptedDriver([[TextPart('{"name": ')]])
    import threading

    cancel = threading.Event()
    cancel.set()
    result = driver.generate("Oslo?", output_schema=City, cancel_event=cancel)
    assert result.status == "cancelled" and result.output is None


def test_no_schema_no_output() -> None:
    assert EchoDriver().generate("hi").output is None


def test_a_bad_schema_is_refused_before_any_request() -> None:
    driver = ScriptedDriver([[TextPart("{}")]])
    with pytest.raises(InvalidRequestError, match="output_schema"):
        driver.stream_generate("hi", output_schema=object())
    assert driver.requests == []


def test_a_driver_may_refuse_a_schema_at_the_call() -> None:
    class ObjectsOnly(ScriptedDriver):
        def check_output_schema(self, schema: object) -> None:
            from janito_core.structured import require_object

            require_object(schema, driver="objects-only")  # type: ignore[arg-type]

    driver = ObjectsOnly()
    with pytest.raises(InvalidRequestError, match="needs an object schema"):
        driver.stream_generate("hi", output_schema=list[int])
    assert driver.requests == []


def test_echo_names_attachments_and_echoes_json_for_a_schema() -> None:
    echo = EchoDriver()
    assert echo.generate("Look", attachments=[PNG]).text == (
        f"Echo: Look [image/png, {len(media.png())} bytes]"
    )
    answer = echo.generate('{"name": "Oslo", "population": 709000}', output_schema=City)
    assert answer.output == City("Oslo", 709000)


def test_check_request_sees_the_first_request_at_the_call() -> None:
    seen = []

    class Picky(ScriptedDriver):
        def check_request(self, request: object) -> None:
            seen.append(request)
            raise InvalidRequestError("too much at once")

    driver = Picky()
    with pytest.raises(InvalidRequestError, match="too much at once"):
        driver.stream_generate(
            "Oslo?", attachments=[PNG], output_schema=City, system_prompt="Be brief.", top_p=0.5
        )
    (request,) = seen
    assert request.request_id == "" and request.system_prompt == "Be brief."
    assert request.messages[-1].parts == ("Oslo?", PNG)
    assert request.options == {"top_p": 0.5}
    assert request.output_name == "City" and request.output_schema["required"] == [
        "name",
        "population",
    ]
    assert driver.requests == []
