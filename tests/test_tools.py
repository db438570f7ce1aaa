"""Tools: schemas from functions, validation of schemas and arguments, running."""

from __future__ import annotations

import enum
import threading
from typing import Literal

import pytest

from janito_core import InvalidRequestError, Tool


class Unit(enum.Enum):
    C = "celsius"
    F = "fahrenheit"


def forecast(
    city: str,
    days: int = 3,
    unit: Unit = Unit.C,
    detail: Literal["short", "long"] = "short",
    tags: list[str] | None = None,
    ratio: float = 0.5,
    cancel_event: threading.Event | None = None,
) -> dict[str, object]:
    """Forecast for a city.

    More text that is not the summary.

    Args:
        city: the city name,
            which may span lines
        days: how many days
    """
    return {"city": city, "days": days}


def sphinx_style(path: str, *, follow: bool) -> str:
    """Read a file.

    :param path: where it is
    :param bool follow: follow links
    """
    return path


def test_schema_from_type_hints_and_google_docstring() -> None:
    tool = Tool.from_function(forecast)
    assert tool.name == "forecast"
    assert tool.description == "Forecast for a city."
    props = tool.parameters["properties"]
    assert props["city"] == {"type": "string", "description": "the city name, which may span lines"}
    assert props["days"] == {"type": "integer", "description": "how many days", "default": 3}
    assert props["unit"] == {"enum": ["celsius", "fahrenheit"]}
    assert props["detail"] == {"enum": ["short", "long"], "default": "short"}
    assert props["tags"] == {"type": "array", "items": {"type": "string"}}
    assert props["ratio"]["type"] == "number"
    assert "cancel_event" not in props
    assert tool.parameters["required"] == ["city"]


def test_sphinx_docstring() -> None:
    tool = Tool.from_function(sphinx_style)
    assert tool.parameters["properties"]["path"]["description"] == "where it is"
    assert tool.parameters["properties"]["follow"] == {
        "type": "boolean",
        "description": "follow links",
    }
    assert tool.parameters["required"] == ["path", "follow"]


def test_run_passes_the_cancel_event_and_renders_results() -> None:
    seen: list[threading.Event] = []

    def watch(cancel_event: threading.Event) -> list[int]:
        seen.append(cancel_event)
        return [1, 2]

    cancel = threading.Event()
    assert Tool.from_function(watch).run({}, cancel) == "[1, 2]"
    assert seen == [cancel]
    assert Tool.from_function(forecast).run({"city": "Oslo"}, cancel) == (
        '{"city": "Oslo", "days": 3}'
    )


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        ({}, "missing required argument(s): city"),
        ({"city": 3}, "argument 'city' should be string, got int"),
        ({"city": "x", "days": True}, "argument 'days' should be integer, got bool"),
        ({"city": "x", "color": "red"}, "unexpected argument(s): color"),
        ({"city": "x", "days": 2, "ratio": 1}, None),
    ],
)
def test_argument_problems(arguments: dict[str, object], problem: str | None) -> None:
    assert Tool.from_function(forecast).argument_problem(arguments) == problem


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "has space"}, "Tool name 'has space' is not valid"),
        ({"name": "ok", "parameters": {"type": "string"}}, '"type" must be "object"'),
        ({"name": "ok", "parameters": []}, "expected a JSON schema object"),
        (
            {"name": "ok", "parameters": {"type": "object", "properties": {"a": {"type": "str"}}}},
            "unknown type 'str'",
        ),
        (
            {"name": "ok", "parameters": {"type": "object", "properties": {}, "required": ["a"]}},
            "required names not in properties: a",
        ),
    ],
)
def test_malformed_tools_are_rejected_when_made(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidRequestError, match=message):
        Tool(**kwargs)  # type: ignore[arg-type]


def test_tool_repr_has_no_function_noise() -> None:
    assert "function" not in repr(Tool.from_function(forecast))
