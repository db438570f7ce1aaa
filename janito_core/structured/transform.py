"""Schema rewrites providers need before they take a JSON Schema for structured output.

Each returns a new schema and leaves its argument alone. Drivers call the ones their provider
needs: OpenAI's strict mode wants closed objects with every property required
(``strict_schema``); providers without ``$ref`` want references inlined (``inline_refs``);
providers that only take an object at the top say so at the call (``require_object``).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

from janito_core.errors import InvalidRequestError

__all__ = [
    "drop_keywords",
    "inline_refs",
    "is_object_schema",
    "require_object",
    "resolve_ref",
    "strict_schema",
]

Schema = dict[str, Any]

#: Keys whose value is one subschema.
_ONE = ("items", "additionalProperties", "not", "contains", "propertyNames", "if", "then", "else")
#: Keys whose value is a list of subschemas.
_MANY = ("anyOf", "oneOf", "allOf", "prefixItems")
#: Keys whose value maps names to subschemas.
_NAMED = ("properties", "$defs", "definitions", "patternProperties")


def _map_children(schema: Schema, fn: Callable[[Any], Any]) -> Schema:
    """``schema`` with ``fn`` applied to each direct subschema."""
    out = dict(schema)
    for key in _ONE:
        if isinstance(out.get(key), Mapping):
            out[key] = fn(out[key])
    for key in _MANY:
        if isinstance(out.get(key), list):
            out[key] = [fn(s) if isinstance(s, Mapping) else s for s in out[key]]
    for key in _NAMED:
        if isinstance(out.get(key), Mapping):
            out[key] = {
                name: fn(s) if isinstance(s, Mapping) else s for name, s in out[key].items()
            }
    return out


def is_object_schema(schema: Mapping[str, Any]) -> bool:
    """Whether ``schema`` describes a JSON object at its top."""
    kind = schema.get("type")
    if kind == "object" or (kind is None and "properties" in schema):
        return True
    ref = schema.get("$ref")
    if isinstance(ref, str):
        target = resolve_ref(dict(schema), ref)
        return target is not None and is_object_schema(target)
    return False


def require_object(schema: Mapping[str, Any], *, driver: str) -> None:
    """Raise ``InvalidRequestError`` unless ``schema`` is an object schema (for ``driver``)."""
    if not is_object_schema(schema):
        kind = schema.get("type", "a non-object schema")
        raise InvalidRequestError(
            f"the {driver} driver needs an object schema for output_schema (type 'object' at "
            f"the top); got {kind!r}: wrap the value in an object (a dataclass with one field)"
        )


def resolve_ref(root: Mapping[str, Any], ref: str) -> Schema | None:
    """The schema a local ``$ref`` points at in ``root`` (``#``, ``#/$defs/Name``, any JSON
    pointer after ``#``), or None."""
    if ref == "#":
        return dict(root)
    if not ref.startswith("#/"):
        return None
    node: Any = root
    for token in ref[2:].split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(node, Mapping) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return None
    return dict(node) if isinstance(node, Mapping) else None


def inline_refs(schema: Mapping[str, Any]) -> Schema:
    """``schema`` with every local ``$ref`` replaced by its definition and ``$defs`` dropped.

    Raises ``InvalidRequestError`` for a recursive schema, which cannot be inlined.
    """
    root = dict(schema)

    def walk(node: Any, seen: tuple[str, ...]) -> Any:
        if not isinstance(node, Mapping):
            return node
        node = dict(node)
        ref = node.get("$ref")
        if isinstance(ref, str):
            if ref in seen:
                raise InvalidRequestError(
                    f"the output schema refers to itself ({ref}); this provider takes no "
                    "recursive schemas"
                )
            target = resolve_ref(root, ref)
            if target is None:
                raise InvalidRequestError(f"the output schema's $ref {ref!r} cannot be resolved")
            siblings = {k: v for k, v in node.items() if k != "$ref"}
            return walk({**target, **siblings}, (*seen, ref))
        return _map_children(node, lambda child: walk(child, seen))

    out = walk(root, ())
    out.pop("$defs", None)
    out.pop("definitions", None)
    return out  # type: ignore[no-any-return]


def drop_keywords(schema: Mapping[str, Any], keywords: frozenset[str]) -> Schema:
    """``schema`` without ``keywords`` anywhere (a property *named* like one is kept)."""

    def walk(node: Any) -> Any:
        if not isinstance(node, Mapping):
            return node
        kept = {k: v for k, v in node.items() if k not in keywords or k in _NAMED}
        return _map_children(kept, walk)

    return walk(schema)  # type: ignore[no-any-return]


def _nullable(schema: Schema) -> Schema:
    kind = schema.get("type")
    if isinstance(kind, str):
        if kind == "null":
            return schema
        out = dict(schema, type=[kind, "null"])
        if "enum" in out and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
        return out
    if isinstance(kind, list):
        return schema if "null" in kind else dict(schema, type=[*kind, "null"])
    variants = schema.get("anyOf")
    if isinstance(variants, list):
        if any(v.get("type") == "null" for v in variants if isinstance(v, Mapping)):
            return schema
        return dict(schema, anyOf=[*variants, {"type": "null"}])
    return {"anyOf": [schema, {"type": "null"}]}


def strict_schema(schema: Mapping[str, Any]) -> Schema:
    """``schema`` as OpenAI's strict mode takes it (Mistral's too).

    Every object is closed (``additionalProperties: false``) and lists every property as
    required; a property that was optional becomes nullable instead, so the model may still
    leave it empty. ``default`` values go (strict mode refuses them), and a ``$ref`` keeps no
    sibling keywords. An object meant to hold arbitrary keys cannot be strict: it raises
    ``InvalidRequestError``.
    """

    def walk(node: Any) -> Any:
        if not isinstance(node, Mapping):
            return node
        node = {k: v for k, v in node.items() if k != "default"}
        if "$ref" in node:
            return {"$ref": node["$ref"]}
        node = _map_children(node, walk)
        if node.get("type") == "object" or "properties" in node:
            extra = node.get("additionalProperties")
            if isinstance(extra, Mapping) or (extra is True and not node.get("properties")):
                raise InvalidRequestError(
                    "strict structured output takes no open-ended objects (a dict of any keys); "
                    "use a type with named fields"
                )
            properties = dict(node.get("properties", {}))
            required = set(node.get("required", ()))
            for name, sub in properties.items():
                if name not in required and isinstance(sub, Mapping):
                    properties[name] = _nullable(dict(sub))
            node["properties"] = properties
            node["required"] = list(properties)
            node["additionalProperties"] = False
        return node

    return walk(copy.deepcopy(dict(schema)))  # type: ignore[no-any-return]
