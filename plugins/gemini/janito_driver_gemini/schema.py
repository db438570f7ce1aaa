"""An output JSON Schema → what Gemini's ``generationConfig.responseJsonSchema`` takes.

Gemini has two fields for a response schema: ``responseSchema``, its own OpenAPI 3.0 subset
(no ``$ref``, no ``additionalProperties``, no type lists), and ``responseJsonSchema``, plain JSON
Schema of which it enforces the keywords ``GEMINI_KEYWORDS`` lists (google-genai's
``GenerateContentConfig.response_json_schema``; Google's structured-output guide). The driver
uses ``responseJsonSchema``: it takes ``$defs``/``$ref`` (recursion included), ``anyOf``,
``additionalProperties``, ``prefixItems``, ``title`` and ``type: "null"`` as a caller writes them.

The transform (``gemini_schema``) keeps what Gemini takes and rewrites or drops the rest:

- ``const: v`` becomes ``enum: [v]`` (Gemini has no ``const``);
- an ``enum`` holding ``null`` becomes ``anyOf: [{enum: the rest}, {type: "null"}]`` (Gemini's
  enums hold strings and numbers), and an enum with no ``type`` gets the one its values share;
- ``allOf`` with one member is merged into its schema (the form older generators give a field
  with a description);
- a ``$ref`` keeps only ``$``-keywords and ``description`` beside it (Gemini refuses any other
  sibling), so a ``title`` or ``default`` next to a ``$ref`` goes;
- root ``definitions`` become ``$defs``, with the ``$ref``s into them;
- any other keyword (``pattern``, ``minLength``, ``maxLength``, ``exclusiveMinimum``,
  ``multipleOf``, ``uniqueItems``, ``default``, ``examples``, ``$schema``, ``not``,
  ``if``/``then``/``else``, ``patternProperties``, ...) is dropped: Gemini does not enforce it,
  and the harness still checks the answer against the caller's whole schema.

Refused at the call (``InvalidRequestError``): a ``$ref`` loop that passes only through required,
non-nullable properties and non-empty arrays (Gemini answers 400 to it, and no finite value fits
it), ``allOf`` with several members, a ``$ref`` that is not local or does not resolve, and an
``enum``/``const`` of booleans, objects or arrays.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from typing import Any

from janito_core.errors import InvalidRequestError
from janito_core.structured import resolve_ref

__all__ = ["GEMINI_KEYWORDS", "gemini_schema"]

#: The JSON Schema keywords ``responseJsonSchema`` takes (google-genai 3.x's field description).
GEMINI_KEYWORDS = frozenset(
    {
        "$id",
        "$defs",
        "$ref",
        "$anchor",
        "type",
        "format",
        "title",
        "description",
        "enum",
        "items",
        "prefixItems",
        "minItems",
        "maxItems",
        "minimum",
        "maximum",
        "anyOf",
        "oneOf",
        "properties",
        "additionalProperties",
        "required",
        "propertyOrdering",
    }
)
#: What Gemini lets stand beside a ``$ref`` (besides ``$``-keywords), as its 400 says.
_REF_SIBLINGS = frozenset({"description"})
_SUBSCHEMA = ("items", "additionalProperties")
_SUBSCHEMAS = ("anyOf", "oneOf", "prefixItems")

Schema = dict[str, Any]


def _refuse(reason: str) -> InvalidRequestError:
    return InvalidRequestError(f"the gemini driver cannot send this output_schema: {reason}")


def gemini_schema(schema: Mapping[str, Any]) -> Schema:
    """``schema`` as Gemini's ``responseJsonSchema`` takes it (see the module docstring).

    Raises ``InvalidRequestError`` for what Gemini cannot take. ``schema`` is left alone.
    """
    root = copy.deepcopy(dict(schema))
    legacy = root.pop("definitions", None)
    if isinstance(legacy, Mapping):
        defs = dict(root.get("$defs") or {})
        clash = sorted(set(defs) & set(legacy))
        if clash:
            raise _refuse(f"both $defs and definitions define {', '.join(clash)}")
        defs.update(legacy)
        root["$defs"] = defs
    out: Schema = _walk(root, "#")
    _check_ref_loops(out)
    return out


def _walk(node: Any, where: str) -> Any:
    """``node`` with its keywords rewritten, and its subschemas in turn."""
    if not isinstance(node, Mapping):
        return node  # a boolean schema
    node = dict(node)
    members = node.pop("allOf", None)
    if members is not None:
        node = _merge_all_of(node, members, where)
    if isinstance(node.get("$ref"), str):
        ref = node["$ref"]
        if ref.startswith("#/definitions/"):
            ref = "#/$defs/" + ref[len("#/definitions/") :]
        if not ref.startswith("#"):
            raise _refuse(f"the $ref {ref!r} at {where} is not local (only '#...' refs)")
        kept = {
            k: v
            for k, v in node.items()
            if (k.startswith("$") and k in GEMINI_KEYWORDS) or k in _REF_SIBLINGS
        }
        kept["$ref"] = ref
        return kept
    if "const" in node:
        value = node.pop("const")
        enum = node.get("enum")
        node["enum"] = [value] if enum is None else [v for v in enum if v == value]
    out: Schema = {}
    for key, value in node.items():
        if key not in GEMINI_KEYWORDS:
            continue
        if key in ("properties", "$defs") and isinstance(value, Mapping):
            out[key] = {name: _walk(sub, f"{where}/{key}/{name}") for name, sub in value.items()}
        elif key in _SUBSCHEMA:
            out[key] = _walk(value, f"{where}/{key}")
        elif key in _SUBSCHEMAS and isinstance(value, list):
            out[key] = [_walk(sub, f"{where}/{key}/{i}") for i, sub in enumerate(value)]
        else:
            out[key] = value
    if isinstance(out.get("enum"), list):
        return _enum(out, where)
    return out


def _merge_all_of(node: Schema, members: Any, where: str) -> Schema:
    if not isinstance(members, list) or len(members) != 1 or not isinstance(members[0], Mapping):
        raise _refuse(
            f"allOf with several schemas at {where}: Gemini has no allOf (merge them into one)"
        )
    member = dict(members[0])
    clash = sorted(k for k in set(member) & set(node) if member[k] != node[k])
    if clash:
        raise _refuse(f"the allOf at {where} and its schema both set {', '.join(clash)}")
    return {**member, **node}


def _enum(node: Schema, where: str) -> Schema:
    values = node["enum"]
    for value in values:
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, (str, int, float))
        ):
            raise _refuse(
                f"the enum (or const) at {where} holds {value!r}: Gemini's enums hold strings "
                "and numbers only"
            )
    kept = [v for v in values if v is not None]
    if "type" not in node and kept:
        kinds = {"string" if isinstance(v, str) else "number" for v in kept}
        if len(kinds) == 1:
            (kind,) = kinds
            if kind == "number" and all(isinstance(v, int) for v in kept):
                kind = "integer"
            node["type"] = kind
    if len(kept) == len(values):
        return node
    # null among the values: the value is one of the others, or null.
    outer: Schema = {k: node.pop(k) for k in ("title", "description") if k in node}
    node["enum"] = kept
    if isinstance(node.get("type"), list):
        node["type"] = [t for t in node["type"] if t != "null"]
    if not kept:
        return {**outer, "type": "null"}
    return {**outer, "anyOf": [node, {"type": "null"}]}


# -- $ref loops ------------------------------------------------------------------------------


def _check_ref_loops(root: Schema) -> None:
    """Refuse a ``$ref`` loop no finite value can end: one through required fields only.

    Gemini takes a loop that passes through an optional or nullable property, or through the
    items of an array that may be empty; it answers 400 to any other.
    """
    forced: dict[str, set[str]] = {}
    targets = {"#": root}
    pending = ["#"]
    while pending:
        ref = pending.pop()
        if ref in forced:
            continue
        forced[ref] = set()
        for target in _forced_refs(targets[ref]):
            forced[ref].add(target)
            if target not in targets:
                resolved = resolve_ref(root, target)
                if resolved is None:
                    raise _refuse(f"the $ref {target!r} does not resolve")
                targets[target] = resolved
            pending.append(target)
    # Every ref, even one reached only through an optional field, must resolve.
    for ref in _all_refs(root):
        if resolve_ref(root, ref) is None:
            raise _refuse(f"the $ref {ref!r} does not resolve")
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(ref: str, path: list[str]) -> None:
        state[ref] = 1
        for target in sorted(forced.get(ref, ())):
            if state.get(target) == 1:
                loop = " -> ".join([*path[path.index(target) :], target])
                raise _refuse(
                    f"it refers to itself through required fields only ({loop}); make a field "
                    "on the way optional or nullable, or let a list on the way be empty"
                )
            if state.get(target) is None:
                visit(target, [*path, target])
        state[ref] = 2

    for ref in sorted(forced):
        if ref not in state:
            visit(ref, [ref])


def _nullable(schema: Any) -> bool:
    if not isinstance(schema, Mapping):
        return schema is True
    kind = schema.get("type")
    if kind == "null" or (isinstance(kind, list) and "null" in kind):
        return True
    return any(
        isinstance(v, Mapping) and _nullable(v)
        for key in ("anyOf", "oneOf")
        for v in schema.get(key) or ()
    )


def _forced_refs(schema: Any) -> Iterator[str]:
    """The refs a value of ``schema`` must contain (not behind an optional or nullable property
    or an array that may be empty)."""
    if not isinstance(schema, Mapping):
        return
    if isinstance(schema.get("$ref"), str):
        yield schema["$ref"]
        return
    if _nullable(schema):
        return
    required = set(schema.get("required") or ())
    for name, sub in (schema.get("properties") or {}).items():
        if name in required:
            yield from _forced_refs(sub)
    least = schema.get("minItems") or 0
    for index, sub in enumerate(schema.get("prefixItems") or ()):
        if index < least:
            yield from _forced_refs(sub)
    if least > len(schema.get("prefixItems") or ()):
        yield from _forced_refs(schema.get("items"))
    for key in ("anyOf", "oneOf"):
        # Gemini counts a ref in any branch as required (its 400 names the branch).
        for sub in schema.get(key) or ():
            yield from _forced_refs(sub)


def _all_refs(schema: Any) -> Iterator[str]:
    if isinstance(schema, Mapping):
        if isinstance(schema.get("$ref"), str):
            yield schema["$ref"]
        for value in schema.values():
            yield from _all_refs(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from _all_refs(value)
