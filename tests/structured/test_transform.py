"""Schema rewrites for providers: strict mode, inlined references, dropped keywords."""

from __future__ import annotations

import pytest

from janito_core import InvalidRequestError
from janito_core.structured import (
    drop_keywords,
    inline_refs,
    is_object_schema,
    require_object,
    strict_schema,
)

PYDANTIC_LIKE = {
    "$defs": {
        "Point": {
            "properties": {"x": {"type": "number"}, "y": {"default": 0, "type": "number"}},
            "required": ["x"],
            "title": "Point",
            "type": "object",
        }
    },
    "properties": {
        "origin": {"$ref": "#/$defs/Point", "description": "where it starts"},
        "label": {"default": None, "anyOf": [{"type": "string"}, {"type": "null"}]},
        "tags": {"items": {"type": "string"}, "type": "array"},
    },
    "required": ["origin"],
    "title": "Shape",
    "type": "object",
}


def test_strict_closes_objects_requires_all_and_makes_optionals_nullable() -> None:
    strict = strict_schema(PYDANTIC_LIKE)
    assert strict["required"] == ["origin", "label", "tags"]
    assert strict["additionalProperties"] is False
    assert strict["properties"]["origin"] == {"$ref": "#/$defs/Point"}
    assert strict["properties"]["label"] == {"anyOf": [{"type": "string"}, {"type": "null"}]}
    assert strict["properties"]["tags"]["type"] == ["array", "null"]
    point = strict["$defs"]["Point"]
    assert point["required"] == ["x", "y"] and point["additionalProperties"] is False
    assert point["properties"]["y"] == {"type": ["number", "null"]}
    # The argument is left alone.
    assert "additionalProperties" not in PYDANTIC_LIKE


def test_strict_refuses_open_ended_objects() -> None:
    with pytest.raises(InvalidRequestError, match="open-ended"):
        strict_schema(
            {"type": "object", "properties": {"m": {"type": "object", "additionalProperties": {}}}}
        )


def test_an_optional_enum_admits_null() -> None:
    strict = strict_schema(
        {"type": "object", "properties": {"c": {"type": "string", "enum": ["a", "b"]}}}
    )
    assert strict["properties"]["c"] == {"type": ["string", "null"], "enum": ["a", "b", None]}


def test_inline_refs_replaces_references_and_keeps_siblings() -> None:
    inlined = inline_refs(PYDANTIC_LIKE)
    assert "$defs" not in inlined
    origin = inlined["properties"]["origin"]
    assert origin["title"] == "Point" and origin["description"] == "where it starts"
    assert origin["properties"]["x"] == {"type": "number"}


def test_inline_refs_refuses_recursion_and_dangling_references() -> None:
    recursive = {
        "$defs": {"Node": {"type": "object", "properties": {"kids": {"$ref": "#/$defs/Node"}}}},
        "$ref": "#/$defs/Node",
    }
    with pytest.raises(InvalidRequestError, match="refers to itself"):
        inline_refs(recursive)
    with pytest.raises(InvalidRequestError, match="cannot be resolved"):
        inline_refs({"type": "object", "properties": {"a": {"$ref": "#/$defs/Missing"}}})


def test_drop_keywords_keeps_properties_named_like_them() -> None:
    schema = {
        "type": "object",
        "title": "T",
        "properties": {"title": {"type": "string", "title": "Title"}},
    }
    assert drop_keywords(schema, frozenset({"title"})) == {
        "type": "object",
        "properties": {"title": {"type": "string"}},
    }


def test_object_schemas_are_told_apart() -> None:
    assert is_object_schema(PYDANTIC_LIKE)
    assert is_object_schema({"properties": {}})
    assert is_object_schema({"$ref": "#/$defs/P", "$defs": {"P": {"type": "object"}}})
    assert not is_object_schema({"type": "array", "items": {}})
    require_object(PYDANTIC_LIKE, driver="openai")
    with pytest.raises(InvalidRequestError, match="the openai driver needs an object schema"):
        require_object({"type": "array"}, driver="openai")
