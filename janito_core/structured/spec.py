"""``OutputSpec``: what ``output_schema=`` asked for, as a JSON Schema and a parser of answers.

A type becomes a schema through pydantic's ``TypeAdapter`` where pydantic is installed and takes
the type, else through ``from_types`` (the standard library's introspection); answers are
checked through the same route, so an instance of the type comes back. A schema dict is checked
with ``jsonschema`` when it is installed (``janito-core[jsonschema]``); without it the answer is
only parsed as JSON, and the log says so once.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from janito_core.errors import InvalidRequestError, OutputError
from janito_core.structured.from_types import (
    Mismatch,
    UnsupportedType,
    convert,
    is_structured_type,
    schema_for,
)
from janito_core.structured.transform import resolve_ref

__all__ = ["OutputSpec", "output_spec"]

logger = logging.getLogger(__name__)
_noted_unchecked: list[bool] = []

#: What a provider takes as a schema's name (OpenAI: letters, digits, ``_`` and ``-``, ≤ 64).
_NAME_OK = re.compile(r"[^A-Za-z0-9_-]+")
_FENCE = re.compile(r"^```[A-Za-z0-9_-]*\s*\n(.*)\n```\s*$", re.DOTALL)


@attrs.frozen(kw_only=True)
class OutputSpec:
    """A structured output request: the schema sent to the provider and how answers are read."""

    #: The JSON Schema, as built from the caller's type or given by the caller.
    schema: Mapping[str, Any]
    #: A name for it (the type's name, the schema's title, or "output").
    name: str
    #: The caller's type, or None for a schema dict.
    target: Any = None
    _read: Callable[[str], Any] = attrs.field(alias="read", repr=False)

    def parse(self, text: str, *, finish_reason: str | None = None) -> Any:
        """The answer ``text`` as the caller's type (or JSON value); ``OutputError`` if invalid."""
        body = text.strip()
        fenced = _FENCE.match(body)
        if fenced:  # a model that was only asked, not constrained, often fences its JSON
            body = fenced.group(1).strip()
        if not body:
            raise OutputError("the answer is empty", text=text)
        try:
            return self._read(body)
        except _Invalid as exc:
            reason = str(exc)
            if finish_reason in ("length", "max_tokens", "MAX_TOKENS"):
                reason += " (the answer was cut off at the token limit)"
            raise OutputError(reason, text=text) from None


class _Invalid(ValueError):
    """An answer that does not fit; the message says why."""


def _name(raw: object) -> str:
    cleaned = _NAME_OK.sub("_", str(raw)).strip("_")[:64]
    return cleaned or "output"


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise _Invalid(
            f"it is not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None


def output_spec(target: Any, *, use_pydantic: bool = True) -> OutputSpec:
    """The ``OutputSpec`` for ``output_schema=target``; ``InvalidRequestError`` if it cannot be one.

    ``use_pydantic=False`` builds from the standard library alone (what runs without pydantic).
    """
    if isinstance(target, Mapping):
        return _from_schema(target)
    if not isinstance(target, type) and not _is_generic_alias(target):
        raise InvalidRequestError(
            "output_schema takes a JSON Schema dict or a type (a dataclass, TypedDict, attrs "
            f"class or pydantic model); got {type(target).__name__} {target!r}"
        )
    if use_pydantic and (_is_pydantic_model(target) or _pydantic_installed()):
        spec = _from_pydantic(target)
        if spec is not None:
            return spec
    try:
        schema = schema_for(target)
    except UnsupportedType as exc:
        hint = (
            ""
            if is_structured_type(target) or _is_generic_alias(target)
            else (
                " (output_schema takes a dataclass, TypedDict, attrs class, pydantic model or a "
                "JSON Schema dict)"
            )
        )
        raise InvalidRequestError(f"output_schema={_type_name(target)}: {exc}{hint}") from None

    def read(text: str) -> Any:
        try:
            return convert(_loads(text), target)
        except Mismatch as exc:
            raise _Invalid(str(exc)) from None

    return OutputSpec(schema=schema, name=_name(_type_name(target)), target=target, read=read)


def _type_name(target: Any) -> str:
    return getattr(target, "__name__", None) or repr(target)


def _is_generic_alias(target: Any) -> bool:
    import typing

    return typing.get_origin(target) is not None


def _pydantic_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("pydantic") is not None


def _is_pydantic_model(target: Any) -> bool:
    import sys

    pydantic = sys.modules.get("pydantic")
    return (
        pydantic is not None and isinstance(target, type) and issubclass(target, pydantic.BaseModel)
    )


def _from_pydantic(target: Any) -> OutputSpec | None:
    """The spec through pydantic's ``TypeAdapter``; None if pydantic does not take the type."""
    try:
        import pydantic
    except ImportError:  # pragma: no cover - found by find_spec but broken
        return None
    try:
        adapter: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(target)
        schema = adapter.json_schema()
    except Exception as exc:
        if _is_pydantic_model(target):
            raise InvalidRequestError(
                f"output_schema={_type_name(target)}: pydantic cannot make its schema: {exc}"
            ) from None
        return None  # e.g. an attrs class, or typing.TypedDict before 3.12: our own route

    def read(text: str) -> Any:
        try:
            return adapter.validate_python(_without_strict_nulls(_loads(text), schema))
        except pydantic.ValidationError as exc:
            raise _Invalid(_pydantic_reason(exc)) from None

    return OutputSpec(schema=schema, name=_name(_type_name(target)), target=target, read=read)


def _pydantic_reason(exc: Any) -> str:
    errors = exc.errors(include_url=False)
    if not errors:
        return str(exc)
    first = errors[0]
    where = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first["loc"])
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    if first["type"] == "json_invalid":
        return f"it is not JSON ({first['msg']})"
    return f"at {where}: {first['msg']}{more}"


def _allows_null(schema: Any, root: Mapping[str, Any]) -> bool:
    if not isinstance(schema, Mapping) or not schema:
        return True
    if isinstance(schema.get("$ref"), str):
        return _allows_null(resolve_ref(root, schema["$ref"]) or {}, root)
    kind = schema.get("type")
    if kind == "null" or (isinstance(kind, list) and "null" in kind):
        return True
    if "enum" in schema and None in schema["enum"]:
        return True
    variants = [*schema.get("anyOf", ()), *schema.get("oneOf", ())]
    return any(_allows_null(v, root) for v in variants)


def _without_strict_nulls(value: Any, schema: Mapping[str, Any]) -> Any:
    """``value`` without the nulls a strict provider wrote for optional fields.

    Strict modes (``strict_schema``) make an optional property nullable instead of optional;
    null there means "not given", so it is dropped where the caller's schema does not allow it.
    """

    def walk(node: Any, sub: Any) -> Any:
        if not isinstance(sub, Mapping):
            return node
        if isinstance(sub.get("$ref"), str):
            sub = resolve_ref(schema, sub["$ref"]) or {}
        if isinstance(node, dict) and isinstance(sub.get("properties"), Mapping):
            required = set(sub.get("required", ()))
            out = {}
            for key, item in node.items():
                prop = sub["properties"].get(key)
                if item is None and key not in required and not _allows_null(prop, schema):
                    continue
                out[key] = walk(item, prop)
            return out
        if isinstance(node, list) and isinstance(sub.get("items"), Mapping):
            return [walk(item, sub["items"]) for item in node]
        if isinstance(node, dict):
            for variant in sub.get("anyOf", ()):
                if isinstance(variant, Mapping) and ("properties" in variant or "$ref" in variant):
                    return walk(node, variant)
        return node

    return walk(value, schema)


def _from_schema(schema: Mapping[str, Any]) -> OutputSpec:
    from janito_core.driver import _json_problem

    problem = _json_problem(dict(schema))
    if problem is not None:
        raise InvalidRequestError(f"output_schema is not a JSON Schema: {problem}")
    if not any(k in schema for k in ("type", "properties", "anyOf", "oneOf", "$ref", "enum")):
        raise InvalidRequestError(
            "output_schema is not a JSON Schema: it has none of type, properties, anyOf, "
            "oneOf, $ref or enum"
        )
    schema = dict(schema)
    check = _jsonschema_checker(schema)

    def read(text: str) -> Any:
        value = _without_strict_nulls(_loads(text), schema)
        check(value)
        return value

    return OutputSpec(schema=schema, name=_name(schema.get("title", "output")), read=read)


def _jsonschema_checker(schema: dict[str, Any]) -> Callable[[Any], None]:
    try:
        import jsonschema
    except ImportError:
        if not _noted_unchecked:
            _noted_unchecked.append(True)
            logger.info(
                "output_schema: answers are parsed as JSON but not checked against a schema "
                'dict without jsonschema (pip install "janito-core[jsonschema]")'
            )
        return lambda value: None
    validator_class = jsonschema.validators.validator_for(schema)
    try:
        validator_class.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise InvalidRequestError(
            f"output_schema is not a valid JSON Schema: {exc.message}"
        ) from None
    validator = validator_class(schema)

    def check(value: Any) -> None:
        error = jsonschema.exceptions.best_match(validator.iter_errors(value))
        if error is not None:
            where = "$" + "".join(
                f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path
            )
            raise _Invalid(f"at {where}: {error.message}")

    return check
