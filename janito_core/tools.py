"""Tools the model may call: a name, a description, a JSON schema and, optionally, a function."""

from __future__ import annotations

import enum
import inspect
import json
import math
import re
import threading
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from janito_core.errors import InvalidRequestError

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}$")
_JSON_TYPES = {"object", "array", "string", "number", "integer", "boolean", "null"}
CANCEL_PARAMETER = "cancel_event"


def _check_name(instance: Tool, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str) or not _NAME.match(value):
        raise InvalidRequestError(
            f"Tool name {value!r} is not valid: use 1-64 letters, digits, '_', '-' or '.', "
            "starting with a letter or '_'"
        )


def _check_parameters(
    instance: Tool, attribute: attrs.Attribute[Mapping[str, Any]], value: Mapping[str, Any]
) -> None:
    problem = schema_problem(value)
    if problem:
        raise InvalidRequestError(
            f"Tool {instance.name!r} has a malformed parameters schema: {problem}"
        )


def schema_problem(schema: Any) -> str | None:
    """Why ``schema`` cannot serve as a tool's parameters, or None when it can."""
    if not isinstance(schema, Mapping):
        return f"expected a JSON schema object (a dict), got {type(schema).__name__}"
    try:
        json.dumps(schema, allow_nan=False)
    except (TypeError, ValueError) as exc:
        return f"it cannot be sent as JSON ({exc})"
    if schema.get("type") != "object":
        return 'the top-level "type" must be "object"'
    properties = schema.get("properties", {})
    if not isinstance(properties, Mapping):
        return '"properties" must be an object'
    for key, prop in properties.items():
        if not isinstance(prop, Mapping):
            return f"property {key!r} must be a schema object"
        kind = prop.get("type")
        kinds = kind if isinstance(kind, list) else [kind]
        if kind is not None and not all(k in _JSON_TYPES for k in kinds):
            return f"property {key!r} has unknown type {kind!r}"
    required = schema.get("required", [])
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        return '"required" must be a list of property names'
    missing = [r for r in required if r not in properties]
    if missing:
        return f"required names not in properties: {', '.join(missing)}"
    return None


@attrs.frozen(kw_only=True)
class Tool:
    """A tool offered to the model.

    ``parameters`` is a JSON schema of type object. With a ``function`` the harness runs the
    call and sends the result back; without one the call is handed to the caller
    (``ToolCallRequested``) and the generation ends there.
    """

    name: str = attrs.field(validator=_check_name)
    description: str = ""
    parameters: Mapping[str, Any] = attrs.field(
        factory=lambda: {"type": "object", "properties": {}}, validator=_check_parameters
    )
    function: Callable[..., Any] | None = attrs.field(default=None, eq=False, repr=False)

    @classmethod
    def from_function(
        cls,
        function: Callable[..., Any],
        *,
        name: str | None = None,
        description: str | None = None,
    ) -> Tool:
        """Build a tool from a function's signature, type hints and docstring.

        A parameter named ``cancel_event`` is left out of the schema; it receives the
        generation's cancel event when the tool runs.
        """
        doc = inspect.getdoc(function) or ""
        summary, param_docs = _parse_docstring(doc)
        try:
            hints = typing.get_type_hints(function)
        except Exception:  # unresolvable forward references: fall back to no hints
            hints = {}
        properties: dict[str, Any] = {}
        required: list[str] = []
        for param in inspect.signature(function).parameters.values():
            if param.name == CANCEL_PARAMETER or param.kind in (
                param.VAR_POSITIONAL,
                param.VAR_KEYWORD,
            ):
                continue
            schema = _schema_for(hints.get(param.name, Any))
            if param.name in param_docs:
                schema["description"] = param_docs[param.name]
            if param.default is param.empty:
                required.append(param.name)
            elif isinstance(param.default, float) and not math.isfinite(param.default):
                raise InvalidRequestError(
                    f"Tool {name or function.__name__!r}: the default of {param.name!r} is "
                    f"{param.default!r}, which JSON cannot carry"
                )
            elif param.default is not None and _json_safe(param.default):
                schema["default"] = param.default
            properties[param.name] = schema
        parameters: dict[str, Any] = {"type": "object", "properties": properties}
        if required:
            parameters["required"] = required
        return cls(
            name=name or function.__name__,
            description=description if description is not None else summary,
            parameters=parameters,
            function=function,
        )

    def argument_problem(self, arguments: Mapping[str, Any]) -> str | None:
        """Why ``arguments`` do not fit the schema (top level only), or None when they do."""
        properties: Mapping[str, Any] = self.parameters.get("properties", {})
        missing = [r for r in self.parameters.get("required", []) if r not in arguments]
        if missing:
            return f"missing required argument(s): {', '.join(missing)}"
        if self.parameters.get("additionalProperties") is False or self.function is not None:
            unknown = [k for k in arguments if k not in properties]
            if unknown and not _accepts_var_keyword(self.function):
                return f"unexpected argument(s): {', '.join(unknown)}"
        for key, value in arguments.items():
            expected = properties.get(key, {}).get("type")
            if expected is not None and not _matches(value, expected):
                return f"argument {key!r} should be {expected}, got {type(value).__name__}"
        return None

    @property
    def is_async(self) -> bool:
        """True when the function is an ``async def``: the harness awaits it on its loop."""
        return self.function is not None and inspect.iscoroutinefunction(self.function)

    def run(self, arguments: Mapping[str, Any], cancel_event: threading.Event) -> str:
        """Call the function with ``arguments`` and return its result as text."""
        function = self._function()
        return result_text(function(**self._kwargs(function, arguments, cancel_event)))

    async def arun(self, arguments: Mapping[str, Any], cancel_event: threading.Event) -> str:
        """Await the ``async def`` function with ``arguments``; its result as text."""
        function = self._function()
        return result_text(await function(**self._kwargs(function, arguments, cancel_event)))

    def _function(self) -> Callable[..., Any]:
        if self.function is None:
            raise RuntimeError(f"tool {self.name!r} has no function")
        return self.function

    @staticmethod
    def _kwargs(
        function: Callable[..., Any], arguments: Mapping[str, Any], cancel_event: threading.Event
    ) -> dict[str, Any]:
        kwargs = dict(arguments)
        if _declares(function, CANCEL_PARAMETER):
            kwargs[CANCEL_PARAMETER] = cancel_event
        return kwargs


def result_text(value: Any) -> str:
    """A tool's return value as the text sent back to the model."""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return str(value)


def _declares(function: Callable[..., Any], name: str) -> bool:
    try:
        return name in inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False


def _accepts_var_keyword(function: Callable[..., Any] | None) -> bool:
    if function is None:
        return False
    try:
        params = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return True
    return any(p.kind is p.VAR_KEYWORD for p in params)


def _json_safe(value: Any) -> bool:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return False
    return True


_PY_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list, tuple),
    "object": (dict,),
    "null": (type(None),),
}


def _matches(value: Any, expected: str | list[str]) -> bool:
    kinds = expected if isinstance(expected, list) else [expected]
    for kind in kinds:
        allowed = _PY_TYPES.get(kind)
        if allowed is None:
            return True
        # bool is an int in Python but not an integer in JSON schema
        if isinstance(value, bool) and kind in ("integer", "number"):
            continue
        if isinstance(value, allowed):
            return True
    return False


_SIMPLE: dict[Any, str] = {str: "string", int: "integer", float: "number", bool: "boolean"}


def _schema_for(hint: Any) -> dict[str, Any]:
    if hint in _SIMPLE:
        return {"type": _SIMPLE[hint]}
    if hint is type(None):
        return {"type": "null"}
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        values = [member.value for member in hint]
        return {"enum": values}
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is typing.Literal:
        return {"enum": list(args)}
    if origin in (typing.Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        if len(options) == 1:
            return _schema_for(options[0])
        return {"anyOf": [_schema_for(a) for a in options]}
    if hint in (list, tuple, set, frozenset) or origin in (list, tuple, set, frozenset):
        schema: dict[str, Any] = {"type": "array"}
        if args and args[0] is not Ellipsis:
            schema["items"] = _schema_for(args[0])
        return schema
    if hint is dict or origin is dict:
        return {"type": "object"}
    return {}


_SECTION = re.compile(r"^(Args|Arguments|Parameters|Params|Returns?|Raises|Yields|Examples?):\s*$")
_GOOGLE_PARAM = re.compile(r"^\s+\*{0,2}(\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")
_SPHINX_PARAM = re.compile(r"^:param\s+(?:[\w\[\], |]+\s+)?(\w+)\s*:\s*(.*)$")


def _parse_docstring(doc: str) -> tuple[str, dict[str, str]]:
    """The summary paragraph and per-parameter descriptions (Google or Sphinx style)."""
    lines = doc.splitlines()
    summary_lines: list[str] = []
    for line in lines:
        if not line.strip() or _SECTION.match(line.strip()) or line.startswith(":"):
            break
        summary_lines.append(line.strip())
    params: dict[str, str] = {}
    section: str | None = None
    current: str | None = None
    for line in lines:
        stripped = line.strip()
        heading = _SECTION.match(stripped)
        if heading and not line.startswith(" "):
            section = heading.group(1)
            current = None
            continue
        sphinx = _SPHINX_PARAM.match(stripped)
        if sphinx:
            current = sphinx.group(1)
            params[current] = sphinx.group(2).strip()
            continue
        if section in ("Args", "Arguments", "Parameters", "Params"):
            google = _GOOGLE_PARAM.match(line)
            if google and len(line) - len(line.lstrip()) <= 4:
                current = google.group(1)
                params[current] = google.group(2).strip()
            elif current and stripped:
                params[current] = f"{params[current]} {stripped}".strip()
    return " ".join(summary_lines), params
