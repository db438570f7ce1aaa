"""output_spec: schemas from dicts and types, answers parsed back or refused with OutputError."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import typing
from typing import Any, Literal

import attrs
import pydantic
import pytest

from janito_core import InvalidRequestError, OutputError
from janito_core.structured import output_spec, strict_schema


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@dataclasses.dataclass
class Point:
    x: float
    y: float


@dataclasses.dataclass
class Shape:
    """A named shape."""

    name: str
    corners: list[Point]
    colour: Colour
    kind: Literal["open", "closed"] = "closed"
    note: str | None = None
    made: dt.date | None = None


class Movie(typing.TypedDict):
    title: str
    year: int


@attrs.define
class Book:
    title: str
    pages: int = 0


class Person(pydantic.BaseModel):
    name: str
    age: int = pydantic.Field(ge=0)


BOTH = pytest.mark.parametrize("use_pydantic", [True, False], ids=["pydantic", "stdlib"])


@BOTH
def test_a_dataclass_round_trips(use_pydantic: bool) -> None:
    spec = output_spec(Shape, use_pydantic=use_pydantic)
    assert spec.name == "Shape" and spec.target is Shape
    answer = (
        '{"name": "tri", "corners": [{"x": 0, "y": 0}, {"x": 1, "y": 0.5}], "colour": "red",'
        ' "made": "2026-11-30"}'
    )
    assert spec.parse(answer) == Shape(
        name="tri",
        corners=[Point(0.0, 0.0), Point(1.0, 0.5)],
        colour=Colour.RED,
        made=dt.date(2026, 11, 30),
    )


def test_the_stdlib_schema_is_inline_and_closed() -> None:
    schema = output_spec(Shape, use_pydantic=False).schema
    assert schema["required"] == ["name", "corners", "colour"]
    assert schema["additionalProperties"] is False
    assert schema["description"] == "A named shape."
    assert schema["properties"]["corners"]["items"]["properties"] == {
        "x": {"type": "number"},
        "y": {"type": "number"},
    }
    assert schema["properties"]["colour"] == {"enum": ["red", "blue"]}
    assert schema["properties"]["kind"] == {"enum": ["open", "closed"]}
    assert schema["properties"]["note"] == {"anyOf": [{"type": "string"}, {"type": "null"}]}
    assert "$ref" not in str(schema)


@BOTH
@pytest.mark.parametrize(
    ("answer", "where"),
    [
        ('{"name": "tri", "corners": [], "colour": "green"}', "colour"),
        ('{"name": "tri", "corners": [{"x": "a", "y": 0}], "colour": "red"}', "corners"),
        ('{"name": "tri", "colour": "red"}', "corners"),
        ('{"name": 3, "corners": [], "colour": "red"}', "name"),
    ],
)
def test_an_invalid_answer_says_where(use_pydantic: bool, answer: str, where: str) -> None:
    with pytest.raises(OutputError) as caught:
        output_spec(Shape, use_pydantic=use_pydantic).parse(answer)
    assert where in caught.value.reason
    assert caught.value.text == answer
    assert caught.value.retryable is False


@BOTH
def test_a_typeddict_gives_a_dict(use_pydantic: bool) -> None:
    spec = output_spec(Movie, use_pydantic=use_pydantic)
    assert spec.schema["required"] == ["title", "year"]
    assert spec.parse('{"title": "Alien", "year": 1979}') == {"title": "Alien", "year": 1979}
    with pytest.raises(OutputError, match="year"):
        spec.parse('{"title": "Alien", "year": "1979x"}')


def test_an_attrs_class_is_built_without_pydantic_support() -> None:
    # pydantic takes no attrs classes: the standard library route serves them even with it.
    spec = output_spec(Book)
    assert spec.schema["required"] == ["title"]
    assert spec.parse('{"title": "Dune"}') == Book(title="Dune")
    with pytest.raises(OutputError, match="unexpected field 'author'"):
        spec.parse('{"title": "Dune", "author": "Herbert"}')


def test_a_pydantic_model_is_validated_by_pydantic() -> None:
    spec = output_spec(Person)
    assert spec.schema["properties"]["age"]["minimum"] == 0
    assert spec.parse('{"name": "Ada", "age": 36}') == Person(name="Ada", age=36)
    with pytest.raises(OutputError, match=r"at \$\.age: Input should be greater than or equal"):
        spec.parse('{"name": "Ada", "age": -1}')


@BOTH
def test_nulls_a_strict_provider_writes_for_optional_fields_mean_the_default(
    use_pydantic: bool,
) -> None:
    spec = output_spec(Book, use_pydantic=use_pydantic)
    assert strict_schema(spec.schema)["properties"]["pages"]["type"] == ["integer", "null"]
    assert spec.parse('{"title": "Dune", "pages": null}') == Book(title="Dune", pages=0)


def test_a_schema_dict_is_checked_with_jsonschema() -> None:
    spec = output_spec(
        {
            "title": "weather report!",
            "type": "object",
            "properties": {"temp": {"type": "number"}},
            "required": ["temp"],
        }
    )
    assert spec.name == "weather_report"
    assert spec.parse('{"temp": 21.5}') == {"temp": 21.5}
    with pytest.raises(OutputError, match=r"at \$\.temp: 'warm' is not of type 'number'"):
        spec.parse('{"temp": "warm"}')
    with pytest.raises(OutputError, match="'temp' is a required property"):
        spec.parse("{}")


def test_a_list_schema_gives_a_list() -> None:
    spec = output_spec({"type": "array", "items": {"type": "integer"}})
    assert spec.parse("[1, 2, 3]") == [1, 2, 3]


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        ({"type": "object", "properties": {"a": {"type": "nope"}}}, "not a valid JSON Schema"),
        ({"description": "no type at all"}, "none of type, properties"),
        ({"type": "object", "default": object()}, "is not JSON"),
        (42, "takes a JSON Schema dict or a type"),
        ("City", "takes a JSON Schema dict or a type"),
    ],
)
def test_what_cannot_be_a_schema_is_refused(bad: Any, match: str) -> None:
    with pytest.raises(InvalidRequestError, match=match):
        output_spec(bad)


@dataclasses.dataclass
class Node:
    value: int
    children: list[Node]


class Opaque:
    pass


@dataclasses.dataclass
class HasComplex:
    z: complex


@dataclasses.dataclass
class IntKeys:
    counts: dict[int, int]


@pytest.mark.parametrize(
    ("target", "match"),
    [
        (Node, "contains itself"),
        (Opaque, "cannot become a JSON Schema"),
        (HasComplex, "cannot become a JSON Schema"),
        (IntKeys, "key type must be str"),
    ],
)
def test_a_type_that_cannot_become_a_schema_is_refused(target: type, match: str) -> None:
    with pytest.raises(InvalidRequestError, match=match):
        output_spec(target, use_pydantic=False)


def test_pydantic_refusals_are_clear_too() -> None:
    with pytest.raises(InvalidRequestError, match="output_schema=Opaque"):
        output_spec(Opaque)


def test_answers_in_a_code_fence_are_read() -> None:
    spec = output_spec(Movie, use_pydantic=False)
    assert spec.parse('```json\n{"title": "Up", "year": 2009}\n```') == {
        "title": "Up",
        "year": 2009,
    }


def test_an_empty_or_cut_answer_says_so() -> None:
    spec = output_spec(Movie, use_pydantic=False)
    with pytest.raises(OutputError, match="the answer is empty"):
        spec.parse("  ")
    with pytest.raises(OutputError, match="cut off at the token limit"):
        spec.parse('{"title": "U', finish_reason="length")


@BOTH
def test_null_for_an_optional_field_that_allows_it_stays_null(use_pydantic: bool) -> None:
    # The answer's null for "note: str | None = None" is a value the type allows (anyOf).
    spec = output_spec(Shape, use_pydantic=use_pydantic)
    answer = '{"name": "t", "corners": [], "colour": "blue", "note": null, "kind": null}'
    assert spec.parse(answer) == Shape(name="t", corners=[], colour=Colour.BLUE)
    schema_spec = output_spec(
        {"type": "object", "properties": {"n": {"anyOf": [{"type": "string"}, {"type": "null"}]}}}
    )
    assert schema_spec.parse('{"n": null}') == {"n": None}
