"""``schema.py``: a JSON Schema → Gemini's ``responseJsonSchema``, what is kept, rewritten,
dropped and refused."""

from __future__ import annotations

import copy

import pytest
from janito_driver_gemini.schema import GEMINI_KEYWORDS, gemini_schema

from janito_core.errors import InvalidRequestError

# Every keyword Gemini takes, each once, in a schema that must go out unchanged.
SUPPORTED = {
    "$id": "https://example.com/order",
    "$defs": {"Line": {"type": "object", "properties": {"sku": {"type": "string"}}}},
    "title": "Order",
    "description": "An order.",
    "type": "object",
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "status": {"type": "string", "enum": ["open", "shut"]},
        "lines": {"type": "array", "items": {"$ref": "#/$defs/Line"}, "minItems": 1, "maxItems": 9},
        "pair": {"type": "array", "prefixItems": [{"type": "integer"}, {"type": "string"}]},
        "score": {"type": "number", "minimum": 0, "maximum": 10},
        "note": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "either": {"oneOf": [{"type": "integer"}, {"type": "boolean"}]},
        "tags": {"type": "object", "additionalProperties": {"type": "string"}},
        "anchor": {"$anchor": "here", "type": "string"},
    },
    "required": ["id", "lines"],
    "additionalProperties": False,
    "propertyOrdering": ["id", "status"],
}


def test_every_keyword_gemini_takes_goes_out_unchanged():
    assert gemini_schema(SUPPORTED) == SUPPORTED
    used = set(SUPPORTED) | {k for p in SUPPORTED["properties"].values() for k in p}
    assert GEMINI_KEYWORDS.issubset(used | {"$ref", "items"})


def test_the_callers_schema_is_left_alone():
    schema = {"type": "object", "properties": {"a": {"const": "x", "pattern": "^x$"}}}
    before = copy.deepcopy(schema)
    gemini_schema(schema)
    assert schema == before


def test_keywords_gemini_does_not_enforce_are_dropped():
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$comment": "internal",
        "type": "object",
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 9, "pattern": "^[a-z]+$"},
            "age": {"type": "integer", "exclusiveMinimum": 0, "multipleOf": 1, "default": 3},
            "tags": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
            "extra": {"type": "object", "patternProperties": {"^x": {"type": "string"}}},
            "odd": {"not": {"type": "null"}, "if": {}, "then": {}, "else": {}, "examples": [1]},
        },
        "required": ["name"],
    }
    assert gemini_schema(schema) == {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "age": {"type": "integer"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "extra": {"type": "object"},
            "odd": {},
        },
        "required": ["name"],
    }


def test_a_property_named_like_a_keyword_is_kept():
    schema = {
        "type": "object",
        "properties": {"pattern": {"type": "string"}, "default": {"type": "integer"}},
    }
    assert gemini_schema(schema) == schema


def test_const_becomes_a_one_value_enum():
    assert gemini_schema({"const": "cat", "type": "string"}) == {"enum": ["cat"], "type": "string"}
    # no type given: the one its values share
    assert gemini_schema({"const": 3}) == {"enum": [3], "type": "integer"}
    assert gemini_schema({"enum": [1, 2.5]}) == {"enum": [1, 2.5], "type": "number"}
    assert gemini_schema({"enum": ["a", 1]}) == {"enum": ["a", 1]}


def test_null_in_an_enum_becomes_a_null_branch():
    # pydantic's Literal["a", "b", None]
    assert gemini_schema({"enum": ["a", "b", None], "title": "Kinds"}) == {
        "title": "Kinds",
        "anyOf": [{"enum": ["a", "b"], "type": "string"}, {"type": "null"}],
    }
    assert gemini_schema({"type": ["string", "null"], "enum": ["a", None]}) == {
        "anyOf": [{"type": ["string"], "enum": ["a"]}, {"type": "null"}]
    }
    assert gemini_schema({"enum": [None], "title": "T"}) == {"title": "T", "type": "null"}


@pytest.mark.parametrize("value", [True, {"a": 1}, [1]])
def test_an_enum_of_other_values_is_refused(value):
    with pytest.raises(InvalidRequestError, match="strings and numbers") as caught:
        gemini_schema({"type": "object", "properties": {"flag": {"const": value}}})
    assert "#/properties/flag" in str(caught.value)
    assert "gemini" in str(caught.value)


def test_a_ref_keeps_only_its_description_beside_it():
    schema = {
        "$defs": {"Sub": {"type": "object", "properties": {"x": {"type": "integer"}}}},
        "type": "object",
        "properties": {
            "sub": {"$ref": "#/$defs/Sub", "description": "the sub", "title": "S", "default": {}}
        },
    }
    out = gemini_schema(schema)
    assert out["properties"]["sub"] == {"$ref": "#/$defs/Sub", "description": "the sub"}
    assert out["$defs"] == schema["$defs"]


def test_a_one_member_all_of_is_merged():
    schema = {
        "$defs": {"Sub": {"type": "object"}},
        "properties": {"sub": {"allOf": [{"$ref": "#/$defs/Sub"}], "description": "d"}},
    }
    assert gemini_schema(schema)["properties"]["sub"] == {"$ref": "#/$defs/Sub", "description": "d"}
    assert gemini_schema({"allOf": [{"type": "string", "maxLength": 3}], "title": "T"}) == {
        "type": "string",
        "title": "T",
    }


def test_an_all_of_with_several_members_is_refused():
    with pytest.raises(InvalidRequestError, match="allOf"):
        gemini_schema({"allOf": [{"type": "object"}, {"required": ["a"]}]})
    with pytest.raises(InvalidRequestError, match="both set type"):
        gemini_schema({"allOf": [{"type": "object"}], "type": "string"})


def test_definitions_become_defs():
    schema = {
        "definitions": {"Sub": {"type": "string"}},
        "type": "object",
        "properties": {"sub": {"$ref": "#/definitions/Sub"}},
    }
    assert gemini_schema(schema) == {
        "$defs": {"Sub": {"type": "string"}},
        "type": "object",
        "properties": {"sub": {"$ref": "#/$defs/Sub"}},
    }
    with pytest.raises(InvalidRequestError, match="both \\$defs and definitions define Sub"):
        gemini_schema({**schema, "$defs": {"Sub": {"type": "integer"}}})


def test_refs_must_be_local_and_resolve():
    with pytest.raises(InvalidRequestError, match="not local"):
        gemini_schema({"properties": {"a": {"$ref": "https://example.com/a.json"}}})
    with pytest.raises(InvalidRequestError, match="does not resolve"):
        gemini_schema({"properties": {"a": {"$ref": "#/$defs/Missing"}}})
    # behind an optional field too
    with pytest.raises(InvalidRequestError, match="does not resolve"):
        gemini_schema({"properties": {"a": {"$ref": "#/$defs/Missing"}}, "required": []})
    # a JSON pointer anywhere in the document, and the root itself
    pointer = {
        "type": "object",
        "properties": {
            "a": {"type": "string"},
            "b": {"$ref": "#/properties/a"},
            "c": {"$ref": "#"},
        },
    }
    assert gemini_schema(pointer) == pointer


NODE = {"type": "object", "properties": {"value": {"type": "integer"}}, "required": ["value"]}


def _tree(child: dict, required: bool) -> dict:
    node = copy.deepcopy(NODE)
    node["properties"]["child"] = child
    if required:
        node["required"].append("child")
    return {"$defs": {"Node": node}, "$ref": "#/$defs/Node"}


@pytest.mark.parametrize(
    ("child", "required"),
    [
        ({"$ref": "#/$defs/Node"}, False),  # an optional field
        ({"anyOf": [{"$ref": "#/$defs/Node"}, {"type": "null"}]}, True),  # a nullable one
        ({"type": "array", "items": {"$ref": "#/$defs/Node"}}, True),  # a list that may be empty
        ({"type": "array", "items": {"$ref": "#/$defs/Node"}, "minItems": 0}, True),
    ],
)
def test_a_recursive_schema_with_a_way_out_goes_out(child, required):
    schema = _tree(child, required)
    assert gemini_schema(schema) == schema


@pytest.mark.parametrize(
    "child",
    [
        {"$ref": "#/$defs/Node"},
        {"type": "array", "items": {"$ref": "#/$defs/Node"}, "minItems": 1},
        {"type": "array", "prefixItems": [{"$ref": "#/$defs/Node"}], "minItems": 1},
        # Gemini counts a ref in any branch of a non-nullable anyOf as required
        {"anyOf": [{"$ref": "#/$defs/Node"}, {"type": "string"}]},
    ],
)
def test_a_loop_through_required_fields_only_is_refused(child):
    with pytest.raises(InvalidRequestError, match="required fields only") as caught:
        gemini_schema(_tree(child, True))
    assert "#/$defs/Node -> #/$defs/Node" in str(caught.value)


def test_a_loop_across_two_definitions_is_refused():
    schema = {
        "$defs": {
            "A": {"type": "object", "properties": {"b": {"$ref": "#/$defs/B"}}, "required": ["b"]},
            "B": {"type": "object", "properties": {"a": {"$ref": "#/$defs/A"}}, "required": ["a"]},
        },
        "$ref": "#/$defs/A",
    }
    with pytest.raises(InvalidRequestError, match="#/\\$defs/A -> #/\\$defs/B -> #/\\$defs/A"):
        gemini_schema(schema)


def test_non_object_schemas_go_out():
    # Gemini's response schema may be any type: no object wrapper is needed
    for schema in (
        {"type": "array", "items": {"type": "string"}},
        {"type": "string", "enum": ["yes", "no"]},
        {"type": "integer"},
    ):
        assert gemini_schema(schema) == schema
