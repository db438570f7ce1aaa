"""Structured output: ``output_config.format`` with the JSON Schema in the form Anthropic takes.

Anthropic constrains the answer's text to a schema sent as ``output_config: {"format": {"type":
"json_schema", "schema": ...}}`` (generally available: no beta header; the older beta spelling,
``output_format`` with ``structured-outputs-2025-11-13``, is not used). It takes a subset of JSON
Schema, so the caller's schema is rewritten, in this order:

1. Local ``$ref``s are inlined (``inline_refs``): the API takes no recursive schema, which this
   refuses at the call, and the SDK's transform below reads ``$defs`` but not draft-07
   ``definitions``.
2. A list of types (``"type": ["string", "null"]``) becomes an ``anyOf`` of one type each, with
   each type's own keywords: the SDK's transform takes one type per schema.
3. The SDK's own ``anthropic.transform_schema`` (what its ``messages.parse`` sends): every object
   closed with ``additionalProperties: false`` (the API requires it), ``oneOf`` sent as ``anyOf``,
   and the keywords the API does not take (``minimum``, ``maxLength``, ``pattern``, ``default``,
   ``minItems`` above 1, unknown string formats...) moved into the ``description`` as text.

Refused at the call: a schema that is not an object at the top (the API constrains the answer to
a JSON object); an object open to any keys (``dict[str, X]``, ``additionalProperties: true`` with
no properties), which closing would empty; a schema with no type (``Any``); a recursive schema.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from janito_core.errors import InvalidRequestError
from janito_core.structured import inline_refs, is_object_schema, require_object

__all__ = ["apply_output", "wire_schema"]

DRIVER = "anthropic"

#: The keywords that apply to one JSON type only, for splitting a list of types.
_TYPE_KEYWORDS: dict[str, frozenset[str]] = {
    "object": frozenset(
        {
            "properties",
            "required",
            "additionalProperties",
            "patternProperties",
            "propertyNames",
            "minProperties",
            "maxProperties",
        }
    ),
    "array": frozenset({"items", "prefixItems", "minItems", "maxItems", "uniqueItems", "contains"}),
    "string": frozenset({"format", "pattern", "minLength", "maxLength"}),
    "number": frozenset(
        {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"}
    ),
}
_TYPE_KEYWORDS["integer"] = _TYPE_KEYWORDS["number"]
_SPECIFIC = frozenset().union(*_TYPE_KEYWORDS.values())

#: Where the SDK's transform looks for subschemas (it writes any other keyword, ``prefixItems``
#: or ``not`` included, into the description as text), and so where this module looks too.
_ONE = ("items",)
_MANY = ("anyOf", "oneOf", "allOf")
_NAMED = ("properties",)
#: What a schema needs, one at least, for the SDK's transform to take it.
_TYPED = ("type", "anyOf", "oneOf", "allOf", "const", "enum")


def apply_output(kwargs: dict[str, Any], schema: Mapping[str, Any] | None) -> None:
    """Ask for structured output in ``kwargs`` when ``schema`` is set.

    An ``output_config`` option keeps its other settings (``effort``); its ``format`` is
    replaced by the schema's.
    """
    if schema is None:
        return
    config = dict(kwargs.get("output_config") or {})
    config["format"] = {"type": "json_schema", "schema": wire_schema(schema)}
    kwargs["output_config"] = config


def wire_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """``schema`` as Anthropic takes it; ``InvalidRequestError`` for what it cannot take."""
    import anthropic

    require_object(schema, driver=DRIVER)
    inlined = inline_refs(schema)
    _check(inlined)
    split = _map(inlined, _split_types)
    try:
        return anthropic.transform_schema(split)
    except (ValueError, TypeError, AssertionError) as exc:
        raise InvalidRequestError(
            f"the {DRIVER} driver cannot send this output_schema: {exc}"
        ) from None


def _children(node: Mapping[str, Any], where: str) -> list[tuple[Mapping[str, Any], str]]:
    """Each direct subschema of ``node`` with where it is (``$.properties.name``)."""
    found = [(node[k], f"{where}.{k}") for k in _ONE if isinstance(node.get(k), Mapping)]
    for key in _MANY:
        if isinstance(node.get(key), list):
            found += [
                (s, f"{where}.{key}[{i}]")
                for i, s in enumerate(node[key])
                if isinstance(s, Mapping)
            ]
    for key in _NAMED:
        if isinstance(node.get(key), Mapping):
            found += [
                (s, f"{where}.{key}.{name}")
                for name, s in node[key].items()
                if isinstance(s, Mapping)
            ]
    return found


def _check(node: Mapping[str, Any], where: str = "$") -> None:
    """Refuse, saying where, what the API cannot take and the SDK's transform would hide."""
    kind = node.get("type")
    if is_object_schema(node) or (isinstance(kind, list) and "object" in kind):
        extra = node.get("additionalProperties")
        if isinstance(extra, Mapping) or (extra is not False and not node.get("properties")):
            raise InvalidRequestError(
                f"the {DRIVER} driver cannot ask for an object of any keys (a dict) in "
                f"output_schema (at {where}): Anthropic's structured outputs close every object "
                "(additionalProperties: false); use a type with named fields"
            )
    if not any(k in node for k in _TYPED):
        raise InvalidRequestError(
            f"the {DRIVER} driver cannot send an output_schema with no type at {where} (a "
            "field typed Any?): Anthropic's structured outputs need a type for every value"
        )
    for child, at in _children(node, where):
        _check(child, at)


def _map(node: Mapping[str, Any], fn: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
    """``node`` with ``fn`` applied to every subschema, innermost first."""
    out = dict(node)
    for key in _ONE:
        if isinstance(out.get(key), Mapping):
            out[key] = _map(out[key], fn)
    for key in _MANY:
        if isinstance(out.get(key), list):
            out[key] = [_map(s, fn) if isinstance(s, Mapping) else s for s in out[key]]
    for key in _NAMED:
        if isinstance(out.get(key), Mapping):
            out[key] = {
                name: _map(s, fn) if isinstance(s, Mapping) else s for name, s in out[key].items()
            }
    return fn(out)


def _split_types(node: dict[str, Any]) -> dict[str, Any]:
    kinds = node.get("type")
    if not isinstance(kinds, list) or "enum" in node or "const" in node:
        # With enum or const the SDK's transform leaves the type out: nothing to split.
        return node
    if len(kinds) == 1:
        return {**node, "type": kinds[0]}
    if "anyOf" in node or "oneOf" in node:
        raise InvalidRequestError(
            f"the {DRIVER} driver cannot send an output_schema with both a list of types and "
            "anyOf/oneOf in one place; write the types as anyOf branches"
        )
    shared = {k: v for k, v in node.items() if k != "type" and k not in _SPECIFIC}
    branches = [
        {"type": kind, **{k: node[k] for k in _TYPE_KEYWORDS.get(kind, ()) if k in node}}
        for kind in kinds
    ]
    return {**shared, "anyOf": branches}
