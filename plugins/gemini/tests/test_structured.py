"""Structured output through the real ``google-genai`` SDK to the loopback server: the exact
``generationConfig`` Gemini receives, answers parsed or refused, and schemas refused at the call."""

from __future__ import annotations

import dataclasses
from typing import Literal

import pydantic
import pytest
from gemini_wire import call, chunk, error_reply, stream_reply, text

from janito_core import Tool
from janito_core.errors import BadRequestError, InvalidRequestError, OutputError
from janito_core.structured import output_spec
from janito_core.testing import finish

USAGE = {"promptTokenCount": 9, "candidatesTokenCount": 4, "totalTokenCount": 13}
PARIS = '{"name": "Paris", "population": 2102650}'


@dataclasses.dataclass
class City:
    """A city and how many people live there."""

    name: str
    population: int


class Mayor(pydantic.BaseModel):
    name: str


class Town(pydantic.BaseModel):
    """A town."""

    name: str = pydantic.Field(min_length=1)
    mayor: Mayor = pydantic.Field(description="who runs it")
    deputy: Mayor | None = None
    size: Literal["small", "large", None]


def lookup(city: str) -> str:
    """Look up a city's population."""
    return f"{city}: 2102650"


def answer(*pieces: str):
    parts = [chunk([text(p)]) for p in pieces[:-1]]
    return stream_reply(*parts, chunk([text(pieces[-1])], finish="STOP", usage=USAGE))


def config(request) -> dict:
    return request.json["generationConfig"]


CITY_SENT = {
    "description": "A city and how many people live there.",
    "properties": {
        "name": {"title": "Name", "type": "string"},
        "population": {"title": "Population", "type": "integer"},
    },
    "required": ["name", "population"],
    "title": "City",
    "type": "object",
}


def test_a_dataclass(server, driver):
    server.enqueue(answer(PARIS[:12], PARIS[12:]))
    result = driver.generate("Biggest city of France?", output_schema=City, temperature=0.1)
    assert result.output == City(name="Paris", population=2102650)
    (request,) = server.requests
    # pydantic is installed here, so the harness built the schema through it
    assert config(request) == {
        "temperature": 0.1,
        "responseMimeType": "application/json",
        "responseJsonSchema": CITY_SENT,
    }


def test_a_dataclass_schema_built_without_pydantic(server, driver):
    # What the harness builds from City where pydantic is not installed: already inlined.
    schema = output_spec(City, use_pydantic=False).schema
    server.enqueue(answer(PARIS))
    result = driver.generate("Biggest city of France?", output_schema=schema)
    assert result.output == {"name": "Paris", "population": 2102650}
    assert config(server.requests[0]) == {
        "responseMimeType": "application/json",
        "responseJsonSchema": {
            "type": "object",
            "title": "City",
            "properties": {"name": {"type": "string"}, "population": {"type": "integer"}},
            "required": ["name", "population"],
            "additionalProperties": False,
            "description": "A city and how many people live there.",
        },
    }


def test_a_pydantic_model(server, driver):
    reply = '{"name": "Lyon", "mayor": {"name": "G"}, "size": "large"}'
    server.enqueue(answer(reply))
    result = driver.generate("A French town?", output_schema=Town)
    assert result.output == Town(name="Lyon", mayor=Mayor(name="G"), size="large")
    assert config(server.requests[0])["responseJsonSchema"] == {
        "$defs": {
            "Mayor": {
                "properties": {"name": {"title": "Name", "type": "string"}},
                "required": ["name"],
                "title": "Mayor",
                "type": "object",
            }
        },
        "description": "A town.",
        "properties": {
            "name": {"title": "Name", "type": "string"},  # minLength dropped
            "mayor": {"$ref": "#/$defs/Mayor", "description": "who runs it"},
            "deputy": {"anyOf": [{"$ref": "#/$defs/Mayor"}, {"type": "null"}]},  # default dropped
            # Literal["small", "large", None]: the null taken out of the enum
            "size": {
                "title": "Size",
                "anyOf": [{"enum": ["small", "large"], "type": "string"}, {"type": "null"}],
            },
        },
        "required": ["name", "mayor", "size"],
        "title": "Town",
        "type": "object",
    }


def test_a_schema_dict(server, driver):
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {
            "code": {"type": "string", "pattern": "^[A-Z]{3}$"},
            "kind": {"const": "airport"},
            "runways": {"type": "array", "items": {"type": "integer"}, "minItems": 1},
        },
        "required": ["code", "kind"],
        "additionalProperties": False,
    }
    server.enqueue(answer('{"code": "CDG", "kind": "airport", "runways": [4]}'))
    result = driver.generate("Paris's main airport?", output_schema=schema)
    assert result.output == {"code": "CDG", "kind": "airport", "runways": [4]}
    assert config(server.requests[0])["responseJsonSchema"] == {
        "type": "object",
        "properties": {
            "code": {"type": "string"},
            "kind": {"enum": ["airport"], "type": "string"},
            "runways": {"type": "array", "items": {"type": "integer"}, "minItems": 1},
        },
        "required": ["code", "kind"],
        "additionalProperties": False,
    }


def test_a_non_object_schema_goes_out_as_it_is(server, driver):
    schema = {"type": "array", "items": {"type": "string"}}
    server.enqueue(answer('["Paris", "Lyon"]'))
    result = driver.generate("Two French cities?", output_schema=schema)
    assert result.output == ["Paris", "Lyon"]
    assert config(server.requests[0])["responseJsonSchema"] == schema


def test_a_recursive_model_keeps_its_refs(server, driver):
    class Node(pydantic.BaseModel):
        label: str
        children: list[Node]

    server.enqueue(answer('{"label": "a", "children": [{"label": "b", "children": []}]}'))
    result = driver.generate("A tree?", output_schema=Node)
    assert result.output.children[0].label == "b"
    sent = config(server.requests[0])["responseJsonSchema"]
    assert sent["$ref"] == "#/$defs/Node"
    assert sent["$defs"]["Node"]["properties"]["children"]["items"] == {"$ref": "#/$defs/Node"}


def test_the_schema_goes_on_every_request_of_a_tool_round(server, driver):
    server.enqueue(
        stream_reply(chunk([call("lookup", {"city": "Paris"})], finish="STOP", usage=USAGE)),
        answer(PARIS),
    )
    result = driver.generate(
        "Biggest city of France?", tools=[Tool.from_function(lookup)], output_schema=City
    )
    assert result.output == City(name="Paris", population=2102650)
    assert len(server.requests) == 2
    for request in server.requests:
        assert config(request) == {
            "responseMimeType": "application/json",
            "responseJsonSchema": CITY_SENT,
        }
        assert request.json["tools"][0]["functionDeclarations"][0]["name"] == "lookup"


def test_gemini_2_with_tools_gets_the_schema_in_its_instruction(server, adapter):
    # Gemini 2.x answers 400 to function calling with application/json: the schema goes into
    # the system instruction on every request, and the answer is still parsed and checked.
    server.enqueue(
        stream_reply(chunk([call("lookup", {"city": "Paris"})], finish="STOP", usage=USAGE)),
        answer(PARIS),
    )
    driver = adapter.make_driver(server.url, model="gemini-2.5-flash")
    try:
        result = driver.generate(
            "Biggest city of France?",
            system_prompt="Be exact.",
            tools=[Tool.from_function(lookup)],
            output_schema=City,
        )
    finally:
        driver.close()
    assert result.output == City(name="Paris", population=2102650)
    for request in server.requests:
        assert "responseMimeType" not in request.json.get("generationConfig", {})
        (instruction,) = request.json["systemInstruction"]["parts"]
        assert instruction["text"].startswith("Be exact.\n\nWhen you give your final answer")
        assert '"required": ["name", "population"]' in instruction["text"]
    # Without tools, the same model gets native structured output.
    server.enqueue(answer(PARIS))
    driver = adapter.make_driver(server.url, model="gemini-2.5-flash")
    try:
        driver.generate("Biggest city of France?", output_schema=City)
    finally:
        driver.close()
    assert config(server.requests[-1])["responseMimeType"] == "application/json"


def test_gemini_2_refusing_tools_with_json_is_reported(server, driver):
    message = "Function calling with a response mime type: 'application/json' is unsupported"
    server.enqueue(error_reply(400, message))
    with pytest.raises(BadRequestError, match="response mime type") as caught:
        driver.generate("hi", tools=[Tool.from_function(lookup)], output_schema=City)
    assert not caught.value.retryable
    assert len(server.requests) == 1


def test_an_answer_missing_a_field_raises_output_error(server, driver):
    server.enqueue(answer('{"name": "Paris"}'))
    with pytest.raises(OutputError) as caught:
        driver.generate("Biggest city of France?", output_schema=City)
    assert caught.value.text == '{"name": "Paris"}'
    assert "population" in caught.value.reason


def test_an_answer_that_is_not_json_raises_output_error(server, driver):
    server.enqueue(answer("Paris, with about two million people."))
    with pytest.raises(OutputError, match="not JSON") as caught:
        driver.generate("Biggest city of France?", output_schema=City)
    assert caught.value.text == "Paris, with about two million people."


def test_no_schema_asks_for_no_json(server, run):
    server.enqueue(answer("Paris."))
    run("Biggest city of France?")
    sent = server.requests[0].json.get("generationConfig", {})
    assert "responseMimeType" not in sent
    assert "responseJsonSchema" not in sent


# -- refused before any request --------------------------------------------------------------


class Loop(pydantic.BaseModel):
    label: str
    next: Loop  # required, not nullable: no finite value fits, and Gemini answers 400


@pytest.mark.parametrize(
    ("schema", "match"),
    [
        (Loop, "required fields only"),
        ({"type": "object", "allOf": [{"required": ["a"]}, {"required": ["b"]}]}, "allOf"),
        ({"type": "object", "properties": {"on": {"const": True}}}, "strings and numbers"),
        ({"type": "object", "properties": {"a": {"$ref": "https://x.test/a.json"}}}, "not local"),
    ],
    ids=["required-loop", "all-of", "boolean-const", "remote-ref"],
)
def test_a_schema_gemini_cannot_take_is_refused_at_the_call(server, driver, schema, match):
    with pytest.raises(InvalidRequestError, match=match) as caught:
        driver.stream_generate("hi", output_schema=schema)
    assert "gemini driver" in str(caught.value)
    assert not server.requests


@pytest.mark.parametrize(
    ("option", "match"),
    [
        ({"response_json_schema": {"type": "string"}}, "'response_json_schema' and output_schema"),
        ({"response_schema": {"type": "STRING"}}, "'response_schema' and output_schema"),
        ({"response_mime_type": "text/x.enum"}, "does not go with output_schema"),
    ],
)
def test_a_response_option_that_clashes_with_output_schema(server, driver, option, match):
    with pytest.raises(InvalidRequestError, match=match):
        driver.stream_generate("hi", output_schema=City, **option)
    assert not server.requests


def test_response_mime_type_json_by_hand_goes_with_output_schema(server, driver):
    server.enqueue(answer(PARIS))
    finish(driver.stream_generate("hi", output_schema=City, response_mime_type="application/json"))
    assert config(server.requests[0])["responseMimeType"] == "application/json"
