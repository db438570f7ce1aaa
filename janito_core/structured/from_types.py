"""JSON Schemas from Python types, and parsed JSON checked into those types, without pydantic.

Covers what structured output needs: dataclasses, ``TypedDict``s and attrs classes whose fields
are ``str``, ``int``, ``float``, ``bool``, ``None``, enums, ``Literal``, ``list``/``tuple``/``set``
of one type, ``dict[str, T]``, unions and ``Optional``, ``datetime``/``date``, and nested classes
of the same kinds. Nested classes are written inline (no ``$ref``), which every provider takes;
a class that contains itself cannot be, and is refused.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import enum
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

__all__ = ["Mismatch", "UnsupportedType", "convert", "is_structured_type", "schema_for"]


class UnsupportedType(TypeError):
    """A type that cannot become a JSON Schema."""


class Mismatch(ValueError):
    """Parsed JSON that does not fit the type; the message says where and why."""


_NONE = type(None)
_SCALARS: dict[type, dict[str, str]] = {
    str: {"type": "string"},
    int: {"type": "integer"},
    float: {"type": "number"},
    bool: {"type": "boolean"},
    _NONE: {"type": "null"},
}
_JSON_NAMES = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "true or false",
    _NONE: "null",
}


def _is_typeddict(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, dict) and hasattr(tp, "__required_keys__")


def is_structured_type(tp: Any) -> bool:
    """Whether ``tp`` is a dataclass, ``TypedDict`` or attrs class."""
    return isinstance(tp, type) and (
        dataclasses.is_dataclass(tp) or _is_typeddict(tp) or attrs.has(tp)
    )


def _fields(tp: type) -> list[tuple[str, Any, bool]]:
    """(name, annotation, required) for each field of a structured type."""
    try:
        hints = typing.get_type_hints(tp)
    except Exception as exc:
        raise UnsupportedType(
            f"the annotations of {tp.__qualname__} cannot be read: {exc}"
        ) from None
    if _is_typeddict(tp):
        required = tp.__required_keys__  # type: ignore[attr-defined]
        return [(name, hints[name], name in required) for name in hints]
    if dataclasses.is_dataclass(tp):
        return [
            (
                f.name,
                hints.get(f.name, Any),
                f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING,
            )
            for f in dataclasses.fields(tp)
            if f.init
        ]
    return [
        (a.alias, hints.get(a.name, Any), a.default is attrs.NOTHING)
        for a in attrs.fields(tp)
        if a.init
    ]


def _strip_annotated(tp: Any) -> Any:
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    return tp


def _union_args(tp: Any) -> tuple[Any, ...] | None:
    origin = typing.get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:
        return typing.get_args(tp)
    return None


def schema_for(tp: Any, _seen: tuple[type, ...] = ()) -> dict[str, Any]:
    """The JSON Schema of ``tp``; raises ``UnsupportedType`` for what JSON cannot carry."""
    tp = _strip_annotated(tp)
    if tp is Any or tp is object:
        return {}
    if tp in _SCALARS:
        return dict(_SCALARS[tp])
    if tp is dt.datetime:
        return {"type": "string", "format": "date-time"}
    if tp is dt.date:
        return {"type": "string", "format": "date"}
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        values = [m.value for m in tp]
        return {"enum": values}
    union = _union_args(tp)
    if union is not None:
        return {"anyOf": [schema_for(arg, _seen) for arg in union]}
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Literal:
        return {"enum": list(args)}
    if origin in (list, set, frozenset, Sequence) or tp in (list, set, frozenset):
        return {"type": "array", "items": schema_for(args[0], _seen) if args else {}}
    if origin is tuple or tp is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return {"type": "array", "items": schema_for(args[0], _seen)}
        if not args:
            return {"type": "array"}
        items = [schema_for(a, _seen) for a in args]
        return {
            "type": "array",
            "prefixItems": items,
            "minItems": len(items),
            "maxItems": len(items),
        }
    if origin in (dict, Mapping) or tp is dict:
        if args and args[0] is not str:
            raise UnsupportedType(
                f"{tp}: JSON object keys are strings, so the key type must be str"
            )
        return {
            "type": "object",
            "additionalProperties": schema_for(args[1], _seen) if args else {},
        }
    if is_structured_type(tp):
        if tp in _seen:
            raise UnsupportedType(
                f"{tp.__qualname__} contains itself; a recursive type cannot be inlined"
            )
        properties: dict[str, Any] = {}
        required: list[str] = []
        for name, annotation, needed in _fields(tp):
            properties[name] = schema_for(annotation, (*_seen, tp))
            if needed:
                required.append(name)
        schema: dict[str, Any] = {
            "type": "object",
            "title": tp.__name__,
            "properties": properties,
            "required": required,
            "additionalProperties": False,
        }
        doc = (tp.__doc__ or "").strip()
        if doc and not doc.startswith(f"{tp.__name__}("):  # not a dataclass's generated doc
            schema["description"] = doc
        return schema
    raise UnsupportedType(f"{tp!r} cannot become a JSON Schema")


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def convert(value: Any, tp: Any, where: str = "$") -> Any:
    """``value`` (parsed JSON) as an instance of ``tp``; raises ``Mismatch`` saying where."""
    tp = _strip_annotated(tp)
    if tp is Any or tp is object:
        return value
    if tp in _SCALARS:
        ok = (
            (tp is bool and isinstance(value, bool))
            or (tp is int and isinstance(value, int) and not isinstance(value, bool))
            or (tp is float and isinstance(value, (int, float)) and not isinstance(value, bool))
            or (tp is str and isinstance(value, str))
            or (tp is _NONE and value is None)
        )
        if not ok:
            raise Mismatch(f"at {where}: expected {_JSON_NAMES[tp]}, got {_describe(value)}")
        return float(value) if tp is float else value
    if tp in (dt.datetime, dt.date):
        if not isinstance(value, str):
            raise Mismatch(f"at {where}: expected a date string, got {_describe(value)}")
        try:
            return tp.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise Mismatch(f"at {where}: {value!r} is not an ISO date") from None
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        try:
            return tp(value)
        except ValueError:
            allowed = ", ".join(repr(m.value) for m in tp)
            raise Mismatch(f"at {where}: {value!r} is not one of {allowed}") from None
    union = _union_args(tp)
    if union is not None:
        problems = []
        for arg in union:
            try:
                return convert(value, arg, where)
            except Mismatch as exc:
                problems.append(str(exc))
        raise Mismatch(f"at {where}: fits none of the allowed types ({'; '.join(problems)})")
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Literal:
        if value not in args or isinstance(value, bool) != any(isinstance(a, bool) for a in args):
            raise Mismatch(f"at {where}: {value!r} is not one of {', '.join(map(repr, args))}")
        return value
    if origin in (list, set, frozenset, tuple, Sequence) or tp in (list, set, frozenset, tuple):
        if not isinstance(value, list):
            raise Mismatch(f"at {where}: expected an array, got {_describe(value)}")
        if origin is tuple and args and not (len(args) == 2 and args[1] is Ellipsis):
            if len(value) != len(args):
                raise Mismatch(f"at {where}: expected {len(args)} items, got {len(value)}")
            return tuple(
                convert(v, a, f"{where}[{i}]")
                for i, (v, a) in enumerate(zip(value, args, strict=True))
            )
        item = args[0] if args else Any
        items = [convert(v, item, f"{where}[{i}]") for i, v in enumerate(value)]
        container = (
            origin
            if origin in (set, frozenset, tuple)
            else (tp if tp in (set, frozenset, tuple) else list)
        )
        return container(items)
    if origin in (dict, Mapping) or tp is dict:
        if not isinstance(value, dict):
            raise Mismatch(f"at {where}: expected an object, got {_describe(value)}")
        item = args[1] if args else Any
        return {k: convert(v, item, f"{where}.{k}") for k, v in value.items()}
    if is_structured_type(tp):
        if not isinstance(value, dict):
            raise Mismatch(f"at {where}: expected an object, got {_describe(value)}")
        fields = _fields(tp)
        known = {name for name, _, _ in fields}
        unexpected = sorted(set(value) - known)
        if unexpected:
            raise Mismatch(f"at {where}: unexpected field {unexpected[0]!r}")
        built: dict[str, Any] = {}
        for name, annotation, needed in fields:
            if name in value and value[name] is None and not needed:
                # Strict providers make an optional field nullable rather than leave it out
                # (``strict_schema``): null there means "use the default".
                with contextlib.suppress(Mismatch):
                    built[name] = convert(None, annotation, f"{where}.{name}")
            elif name in value:
                built[name] = convert(value[name], annotation, f"{where}.{name}")
            elif needed:
                raise Mismatch(f"at {where}: missing field {name!r}")
        return built if _is_typeddict(tp) else tp(**built)
    raise Mismatch(f"at {where}: {tp!r} is not a type an answer can be read into")
