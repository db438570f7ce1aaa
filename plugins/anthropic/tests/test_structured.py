"""Structured output through the real ``anthropic`` SDK to the loopback server: the exact
``output_config`` each form of ``output_schema=`` sends (the schema as Anthropic takes it), the
answer parsed or refused, and the schemas refused at the call, before any request."""

from __future__ import annotations

import dataclasses
from typing import Any

import attrs
import pydantic
import pytest
from anthropic_wire import AnthropicWireAdapter

from janito_core import Tool
from janito_core.errors import InvalidRequestError, OutputError
from janito_core.testing.scenario import Call, Scenario, Text


def reply(*steps, **kwargs):
    return AnthropicWireAdapter().reply(Scenario(steps=steps, **kwargs))


def json_format(schema: dict[str, Any]) -> dict[str, Any]:
    return {"format": {"type": "json_schema", "schema": schema}}


@dataclasses.dataclass
class Address:
    street: str
    zip: str | None = None


@dataclasses.dataclass
class Person:
    """A person and where they live."""

    name: str
    age: int
    address: Address


# pydantic builds the dataclass's schema ($defs for Address); it goes out inlined, every object
# closed, the default moved into the description.
PERSON_SENT = {
    "type": "object",
    "title": "Person",
    "description": "A person and where they live.",
    "properties": {
        "name": {"type": "string", "title": "Name"},
        "age": {"type": "integer", "title": "Age"},
        "address": {
            "type": "object",
            "title": "Address",
            "properties": {
                "street": {"type": "string", "title": "Street"},
                "zip": {
                    "anyOf": [{"type": "string"}, {"type": "null"}],
                    "title": "Zip",
                    "description": "{default: None}",
                },
            },
            "required": ["street"],
            "additionalProperties": False,
        },
    },
    "required": ["name", "age", "address"],
    "additionalProperties": False,
}
ADA = '{"name": "Ada", "age": 36, "address": {"street": "St James\'s Square"}}'


@attrs.frozen
class Town:
    name: str
    population: int
    mayor: str | None = None


# pydantic does not take attrs classes: the standard library's route builds this one.
TOWN_SENT = {
    "type": "object",
    "title": "Town",
    "properties": {
        "name": {"type": "string"},
        "population": {"type": "integer"},
        "mayor": {"anyOf": [{"type": "string"}, {"type": "null"}]},
    },
    "required": ["name", "population"],
    "additionalProperties": False,
}


class Review(pydantic.BaseModel):
    title: str = pydantic.Field(min_length=3, description="A short title")
    stars: int = pydantic.Field(ge=1, le=5)
    tags: list[str] = []


# What the API does not take (minLength, minimum/maximum, default) goes into the descriptions.
REVIEW_SENT = {
    "type": "object",
    "title": "Review",
    "properties": {
        "title": {
            "type": "string",
            "title": "Title",
            "description": "A short title\n\n{minLength: 3}",
        },
        "stars": {"type": "integer", "title": "Stars", "description": "{maximum: 5, minimum: 1}"},
        "tags": {
            "type": "array",
            "title": "Tags",
            "items": {"type": "string"},
            "description": "{default: []}",
        },
    },
    "required": ["title", "stars"],
    "additionalProperties": False,
}

CITY = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "population": {"type": "integer", "minimum": 0},
        "nickname": {"type": ["string", "null"], "maxLength": 20, "description": "If any."},
    },
    "required": ["name", "population", "nickname"],
}
# The list of types becomes anyOf (each type with its own keywords); the object is closed.
CITY_SENT = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "population": {"type": "integer", "description": "{minimum: 0}"},
        "nickname": {
            "anyOf": [{"type": "string", "description": "{maxLength: 20}"}, {"type": "null"}],
            "description": "If any.",
        },
    },
    "required": ["name", "population", "nickname"],
    "additionalProperties": False,
}


def lookup(city: str) -> str:
    """Look up a city's population."""
    return f"{city}: 2102650"


# -- each form, sent and parsed -------------------------------------------------------------------


def test_a_dataclass(server, make_driver) -> None:
    server.enqueue(reply(Text(ADA[:20]), Text(ADA[20:])))
    result = make_driver().generate("Who?", output_schema=Person)
    assert result.output == Person(name="Ada", age=36, address=Address(street="St James's Square"))
    assert result.text == ADA
    body = server.requests[0].json
    assert body["output_config"] == json_format(PERSON_SENT)
    assert "anthropic-beta" not in {k.lower() for k in server.requests[0].headers}


def test_a_null_for_an_optional_field_is_read(server, make_driver) -> None:
    answer = '{"name": "Ada", "age": 36, "address": {"street": "Hill", "zip": null}}'
    server.enqueue(reply(Text(answer)))
    result = make_driver().generate("Who?", output_schema=Person)
    assert result.output == Person(name="Ada", age=36, address=Address(street="Hill"))


def test_an_attrs_class_built_without_pydantic(server, make_driver) -> None:
    server.enqueue(reply(Text('{"name": "Ely", "population": 20256}')))
    result = make_driver().generate("Which town?", output_schema=Town)
    assert result.output == Town(name="Ely", population=20256)
    assert server.requests[0].json["output_config"] == json_format(TOWN_SENT)


def test_a_pydantic_model(server, make_driver) -> None:
    server.enqueue(reply(Text('{"title": "Fine", "stars": 4, "tags": ["quiet"]}')))
    result = make_driver().generate("Review it.", output_schema=Review)
    assert result.output == Review(title="Fine", stars=4, tags=["quiet"])
    assert server.requests[0].json["output_config"] == json_format(REVIEW_SENT)


def test_a_schema_dict(server, make_driver, adapter) -> None:
    server.enqueue(reply(Text('{"name": "Paris", "population": 2102650, "nickname": null}')))
    result = make_driver().generate("Biggest city?", output_schema=CITY)
    assert result.output == {"name": "Paris", "population": 2102650, "nickname": None}
    request = server.requests[0]
    assert request.json["output_config"] == json_format(CITY_SENT)
    assert adapter.sent_schema(request) == CITY_SENT


def test_other_output_config_settings_are_kept(server, make_driver) -> None:
    server.enqueue(reply(Text('{"name": "Ely", "population": 20256}')))
    make_driver().generate(
        "Which town?",
        output_schema=Town,
        output_config={"effort": "low", "format": {"type": "json_schema", "schema": {}}},
    )
    assert server.requests[0].json["output_config"] == {
        "effort": "low",
        **json_format(TOWN_SENT),
    }


def test_no_schema_sends_no_output_config(server, make_driver, adapter) -> None:
    server.enqueue(reply(Text("Paris.")))
    result = make_driver().generate("Biggest city?")
    assert result.output is None
    assert "output_config" not in server.requests[0].json
    assert adapter.sent_schema(server.requests[0]) is None


def test_every_request_of_a_tool_loop_asks_and_the_final_answer_is_parsed(
    server, make_driver
) -> None:
    server.enqueue(
        reply(Call(name="lookup", arguments='{"city": "Ely"}', id="toolu_1")),
        reply(Text('{"name": "Ely", "population": 20256}')),
    )
    result = make_driver().generate(
        "Which town?", tools=[Tool.from_function(lookup)], output_schema=Town
    )
    assert result.output == Town(name="Ely", population=20256)
    assert len(server.requests) == 2
    for request in server.requests:
        assert request.json["output_config"] == json_format(TOWN_SENT)
        assert [t["name"] for t in request.json["tools"]] == ["lookup"]


# -- answers that do not fit ----------------------------------------------------------------------


def test_an_answer_missing_a_field_raises_output_error(server, make_driver) -> None:
    answer = '{"name": "Ely"}'
    server.enqueue(reply(Text(answer)))
    with pytest.raises(OutputError) as caught:
        make_driver().generate("Which town?", output_schema=Town)
    assert caught.value.text == answer
    assert "population" in caught.value.reason


def test_an_answer_cut_at_max_tokens_says_so(server, make_driver) -> None:
    answer = '{"name": "Ely", "popul'
    server.enqueue(reply(Text(answer), finish_reason="length"))
    with pytest.raises(OutputError) as caught:
        make_driver().generate("Which town?", output_schema=Town)
    assert caught.value.text == answer
    assert "token limit" in caught.value.reason


# -- refused at the call --------------------------------------------------------------------------


class Node(pydantic.BaseModel):
    value: int
    children: list[Node] = []


@dataclasses.dataclass
class Tally:
    counts: dict[str, int]


@dataclasses.dataclass
class Loose:
    anything: Any


@pytest.mark.parametrize(
    ("schema", "words"),
    [
        (list[Town], ("object schema", "'array'")),
        ({"type": "string"}, ("object schema", "'string'")),
        (Tally, ("any keys", "$.properties.counts")),
        ({"type": "object"}, ("any keys", "at $)")),
        (Loose, ("no type", "$.properties.anything")),
        (Node, ("refers to itself",)),
    ],
    ids=["array", "string", "dict-field", "bare-object", "any-field", "recursive"],
)
def test_what_anthropic_cannot_take_is_refused_before_any_request(
    server, make_driver, schema: Any, words: tuple[str, ...]
) -> None:
    driver = make_driver()
    with pytest.raises(InvalidRequestError) as caught:
        driver.generate("Answer.", output_schema=schema)
    for word in words:
        assert word in str(caught.value)
    assert server.requests == []
