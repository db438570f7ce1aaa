"""Structured output through the real ``mistralai`` SDK: the exact ``response_format`` Mistral
receives for each form of ``output_schema``, answers parsed or refused, and schemas refused at
the call."""

from __future__ import annotations

import dataclasses

import pytest
from mistral_wire import chunk, stream_reply
from pydantic import BaseModel

from janito_core import Tool
from janito_core.errors import InvalidRequestError, OutputError
from janito_core.structured import output_spec
from janito_core.testing.server import Reply

USAGE = {"prompt_tokens": 30, "total_tokens": 42, "completion_tokens": 12}


@dataclasses.dataclass
class City:
    """A city and its population."""

    name: str
    population: int
    country: str | None = None


class Author(BaseModel):
    name: str


class Book(BaseModel):
    title: str
    authors: list[Author]
    year: int = 2000


def answer(text: str) -> Reply:
    return stream_reply([chunk({"content": text}, finish_reason="stop", usage=USAGE)])


def lookup(city: str) -> str:
    """Look up a city's population."""
    return f"{city}: 2102650"


# What the harness builds from City (through pydantic, installed with the SDK), made strict:
# closed, every property required, the optional one nullable and its default gone.
CITY_FORMAT = {
    "type": "json_schema",
    "json_schema": {
        "name": "City",
        "schema": {
            "description": "A city and its population.",
            "properties": {
                "name": {"title": "Name", "type": "string"},
                "population": {"title": "Population", "type": "integer"},
                "country": {"anyOf": [{"type": "string"}, {"type": "null"}], "title": "Country"},
            },
            "required": ["name", "population", "country"],
            "title": "City",
            "type": "object",
            "additionalProperties": False,
        },
        "strict": True,
    },
}


def test_a_dataclass_goes_out_strict_and_comes_back_as_one(server, make_driver):
    server.enqueue(answer('{"name": "Paris", "population": 2102650, "country": "France"}'))
    result = make_driver().generate("Biggest city of France?", output_schema=City)
    assert result.output == City(name="Paris", population=2102650, country="France")
    (request,) = server.requests
    assert request.json["response_format"] == CITY_FORMAT


def test_null_for_an_optional_field_of_a_dataclass_means_its_default(server, make_driver):
    # Strict mode made ``country`` required and nullable; null must read back as the default.
    server.enqueue(answer('{"name": "Paris", "population": 2102650, "country": null}'))
    result = make_driver().generate("Biggest city of France?", output_schema=City)
    assert result.output == City(name="Paris", population=2102650)


def test_a_pydantic_model_keeps_its_defs(server, make_driver):
    dune = '{"title": "Dune", "authors": [{"name": "Frank Herbert"}], "year": null}'
    server.enqueue(answer(dune))
    result = make_driver().generate("A novel?", output_schema=Book)
    # null for an optional field means its default (strict mode made it nullable).
    assert result.output == Book(title="Dune", authors=[Author(name="Frank Herbert")])
    (request,) = server.requests
    assert request.json["response_format"] == {
        "type": "json_schema",
        "json_schema": {
            "name": "Book",
            "schema": {
                "$defs": {
                    "Author": {
                        "properties": {"name": {"title": "Name", "type": "string"}},
                        "required": ["name"],
                        "title": "Author",
                        "type": "object",
                        "additionalProperties": False,
                    }
                },
                "properties": {
                    "title": {"title": "Title", "type": "string"},
                    "authors": {
                        "items": {"$ref": "#/$defs/Author"},
                        "title": "Authors",
                        "type": "array",
                    },
                    "year": {"title": "Year", "type": ["integer", "null"]},
                },
                "required": ["title", "authors", "year"],
                "title": "Book",
                "type": "object",
                "additionalProperties": False,
            },
            "strict": True,
        },
    }


def test_a_schema_dict_goes_out_strict_and_gives_a_dict(server, make_driver):
    schema = {
        "type": "object",
        "properties": {"answer": {"type": "string"}, "confidence": {"type": "number"}},
        "required": ["answer"],
    }
    server.enqueue(answer('{"answer": "42", "confidence": null}'))
    result = make_driver().generate("Meaning of life?", output_schema=schema)
    assert result.output == {"answer": "42"}
    (request,) = server.requests
    assert request.json["response_format"] == {
        "type": "json_schema",
        "json_schema": {
            "name": "output",
            "schema": {
                "type": "object",
                "properties": {
                    "answer": {"type": "string"},
                    "confidence": {"type": ["number", "null"]},
                },
                "required": ["answer", "confidence"],
                "additionalProperties": False,
            },
            "strict": True,
        },
    }


def test_the_schema_a_dataclass_gives_without_pydantic_goes_out_as_it_is(server, make_driver):
    # Built from the standard library alone: inlined and closed already, so strict mode only
    # lists the optional field as required and nullable.
    schema = output_spec(City, use_pydantic=False).schema
    server.enqueue(answer('{"name": "Lyon", "population": 520774, "country": "France"}'))
    result = make_driver().generate("Third city of France?", output_schema=schema)
    assert result.output == {"name": "Lyon", "population": 520774, "country": "France"}
    (request,) = server.requests
    assert request.json["response_format"]["json_schema"] == {
        "name": "City",
        "schema": {
            "type": "object",
            "title": "City",
            "properties": {
                "name": {"type": "string"},
                "population": {"type": "integer"},
                "country": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            },
            "required": ["name", "population", "country"],
            "additionalProperties": False,
            "description": "A city and its population.",
        },
        "strict": True,
    }


def test_the_schema_goes_on_every_request_of_a_tool_loop(server, make_driver):
    call = {
        "id": "qDEcl0n92",
        "function": {"name": "lookup", "arguments": '{"city": "Paris"}'},
        "index": 0,
    }
    calls = chunk({"content": None, "tool_calls": [call]}, finish_reason="tool_calls", usage=USAGE)
    server.enqueue(
        stream_reply([calls]),
        answer('{"name": "Paris", "population": 2102650, "country": "France"}'),
    )
    result = make_driver().generate(
        "Biggest city of France?", tools=[Tool.from_function(lookup)], output_schema=City
    )
    assert result.output == City(name="Paris", population=2102650, country="France")
    assert [r.json["response_format"] for r in server.requests] == [CITY_FORMAT, CITY_FORMAT]
    assert server.requests[1].json["messages"][-1] == {
        "role": "tool",
        "content": "Paris: 2102650",
        "tool_call_id": "qDEcl0n92",
        "name": "lookup",
    }


def test_an_invalid_answer_raises_output_error_with_the_text(server, make_driver):
    server.enqueue(answer('{"name": "Paris"}'))
    with pytest.raises(OutputError) as caught:
        make_driver().generate("Biggest city of France?", output_schema=City)
    assert caught.value.text == '{"name": "Paris"}'
    assert "population" in caught.value.reason


def test_a_response_format_passed_by_hand_clashes_at_the_call(server, make_driver):
    hand = {"type": "json_object"}
    with pytest.raises(InvalidRequestError, match="output_schema and a response_format"):
        make_driver().stream_generate("City?", output_schema=City, response_format=hand)
    with pytest.raises(InvalidRequestError, match="output_schema and a response_format"):
        make_driver(response_format=hand).stream_generate("City?", output_schema=City)
    assert not server.requests


def test_no_schema_sends_no_response_format(server, make_driver):
    server.enqueue(answer("Paris."))
    assert make_driver().generate("Biggest city of France?").output is None
    (request,) = server.requests
    assert "response_format" not in request.json


@dataclasses.dataclass
class Scores:
    by_player: dict[str, int]


@pytest.mark.parametrize(
    ("schema", "says"),
    [
        ({"type": "array", "items": {"type": "string"}}, "needs an object schema"),
        ({"type": "string"}, "needs an object schema"),
        (Scores, "no open-ended objects"),
        ({"type": "object", "additionalProperties": {"type": "integer"}}, "no open-ended"),
    ],
    ids=["array", "string", "dict-field", "open-object"],
)
def test_refused_at_the_call_before_any_request(server, make_driver, schema, says):
    with pytest.raises(InvalidRequestError, match=says):
        make_driver().stream_generate("Scores?", output_schema=schema)
    assert not server.requests
