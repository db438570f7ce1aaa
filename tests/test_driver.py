"""``LLMDriver``: configuration and call misuse are refused at once, with a clear error."""

from __future__ import annotations

import math

import pytest

from janito_core import DriverConfigError, InvalidRequestError, Tool
from janito_core.testing import ScriptedDriver


@pytest.mark.parametrize(
    ("config", "words"),
    [
        ({"model": ""}, "model"),
        ({"model": "   "}, "model"),
        ({"retry_base_delay": math.nan}, "retry_base_delay"),
        ({"retry_base_delay": "0.5"}, "retry_base_delay"),
        ({"max_retry_delay": math.nan}, "max_retry_delay"),
        ({"timeout": math.inf}, "timeout"),
        ({"timeout": math.nan}, "timeout"),
        ({"timeout": 0}, "timeout"),
        ({"base_url": "localhost:8000"}, "base_url"),
        ({"base_url": "ftp://example.com"}, "base_url"),
        ({"max_retries": True}, "max_retries"),
        ({"max_tool_rounds": 0}, "max_tool_rounds"),
    ],
)
def test_broken_configuration_is_refused_at_construction(
    config: dict[str, object], words: str
) -> None:
    with pytest.raises(DriverConfigError, match=words):
        ScriptedDriver(**config)  # type: ignore[arg-type]


def test_a_good_configuration_is_kept() -> None:
    driver = ScriptedDriver(
        base_url="https://example.com/v1", timeout=5, retry_base_delay=0, max_retry_delay=1
    )
    assert driver.config.base_url == "https://example.com/v1"
    assert driver.config.timeout == 5.0 and driver.config.retry_base_delay == 0.0


@pytest.mark.parametrize(
    ("call", "words"),
    [
        ({"messages": 5}, "messages must be a list"),
        ({"messages": "hello"}, "messages must be a list"),
        ({"prompt": "hi", "observers": print}, "observers=\\[fn\\]"),
        ({"prompt": "hi", "tools": "get_weather"}, "tools must be a list"),
        ({"prompt": "hi", "extra": {"nested": object()}}, "extra"),
        ({"prompt": "hi", "extra": [1, math.nan]}, "finite"),
        ({"prompt": "hi", "extra": {1: "a"}}, "not a str"),
    ],
)
def test_call_misuse_is_refused_before_anything_runs(call: dict[str, object], words: str) -> None:
    driver = ScriptedDriver()
    with pytest.raises(InvalidRequestError, match=words):
        driver.stream_generate(**call)  # type: ignore[arg-type]
    assert driver.requests == []


def test_a_nan_tool_default_is_refused_when_the_tool_is_built() -> None:
    def scale(factor: float = math.nan) -> str:
        """Scale."""
        return str(factor)

    with pytest.raises(InvalidRequestError, match="factor"):
        Tool.from_function(scale)


def test_a_schema_that_is_not_json_is_refused() -> None:
    with pytest.raises(InvalidRequestError, match="JSON"):
        Tool(
            name="t",
            parameters={
                "type": "object",
                "properties": {"x": {"type": "number", "default": math.nan}},
            },
        )
