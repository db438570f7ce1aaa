"""The API key never shows: not in events, logs, error texts or reprs."""

from __future__ import annotations

import logging

import pytest

from janito_core import GenerationError, Tool
from janito_core.parts import TextPart, ToolCallPart
from janito_core.testing import Fail, ScriptedDriver

KEY = "sk-SENTINEL-do-not-leak-42"


def test_key_is_absent_everywhere(caplog: pytest.LogCaptureFixture) -> None:
    def leaky() -> str:
        raise ValueError(f"tool saw {KEY}")

    caplog.set_level(logging.DEBUG)
    driver = ScriptedDriver(
        [
            [TextPart("hi"), ToolCallPart(id="c", name="leaky", arguments="{}")],
            [Fail(status_code=429, message=f"rate limited for key {KEY}", retry_after=0)],
            [Fail(status_code=401, retryable=False, message=f"invalid key {KEY}")],
        ],
        api_key=KEY,
    )
    stream = driver.stream_generate("hello", tools=[Tool.from_function(leaky)])
    events = list(stream)
    assert stream.join(5)
    assert KEY not in repr(driver) and KEY not in repr(driver.config)
    for event in events:
        assert KEY not in repr(event)
        assert KEY not in str(event.to_dict())
    for record in caplog.records:
        assert KEY not in record.getMessage()
    with pytest.raises(GenerationError) as info:
        ScriptedDriver(
            [[Fail(status_code=401, retryable=False, message=f"bad {KEY}")]], api_key=KEY
        ).generate("x")
    assert KEY not in str(info.value)
    assert "***" in str(info.value)


def test_key_inside_base_url_is_absent_from_reprs() -> None:
    driver = ScriptedDriver(
        [[TextPart("hi")]], api_key=KEY, base_url=f"https://gateway.example/{KEY}/v1?key={KEY}"
    )
    assert KEY not in repr(driver)
    assert KEY not in repr(driver.config)
