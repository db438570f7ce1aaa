"""``reasoning=``: checked at the call, handed to the driver, converted the same way everywhere."""

from __future__ import annotations

import logging

import pytest

from janito_core import InvalidRequestError
from janito_core.parts import TextPart, UsagePart
from janito_core.reasoning import budget_of, check_reasoning, effort_of, note_once
from janito_core.testing import ScriptedDriver
from janito_core.usage import Usage


@pytest.mark.parametrize("value", ["off", "low", "medium", "high", 0, 1, 32768, None])
def test_valid_settings_reach_the_driver(value: object) -> None:
    driver = ScriptedDriver([[TextPart("x")]])
    driver.generate("hi", reasoning=value)  # type: ignore[arg-type]
    assert driver.requests[0].reasoning == value


@pytest.mark.parametrize("value", ["max", "LOW", -1, 1.5, True, [], "none"])
def test_invalid_settings_are_refused_at_the_call(value: object) -> None:
    driver = ScriptedDriver()
    with pytest.raises(InvalidRequestError, match="reasoning must be"):
        driver.stream_generate("hi", reasoning=value)  # type: ignore[arg-type]
    assert driver.requests == []
    with pytest.raises(InvalidRequestError):
        check_reasoning(value)


def test_the_async_calls_take_it_too() -> None:
    import asyncio

    driver = ScriptedDriver([[TextPart("x")]])
    asyncio.run(driver.agenerate("hi", reasoning="high"))
    assert driver.requests[0].reasoning == "high"


@pytest.mark.parametrize(
    ("value", "effort"),
    [(0, "off"), (1, "low"), (1024, "low"), (3000, "medium"), (8192, "medium"), (20000, "high")],
)
def test_budgets_map_to_the_nearest_effort(value: int, effort: str) -> None:
    assert effort_of(value) == effort


def test_efforts_map_to_budgets_within_the_model_s_bounds() -> None:
    assert budget_of("off") == 0
    assert budget_of("low") == 1024
    assert budget_of("high", maximum=16384) == 16384
    assert budget_of(10, minimum=128) == 128
    assert budget_of(0, minimum=128) == 0  # off stays off
    assert budget_of(None) is None


def test_note_once_logs_a_mapping_once(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("janito_core.test_reasoning")
    with caplog.at_level(logging.INFO, logger=logger.name):
        for _ in range(3):
            note_once(logger, "d", "m-unique-1", "reasoning 'off' cannot be honoured")
    assert len([r for r in caplog.records if "cannot be honoured" in r.getMessage()]) == 1


def test_usage_is_marked_missing_when_the_provider_sent_none() -> None:
    silent = ScriptedDriver([[TextPart("x")]]).generate("hi")
    assert silent.usage.missing and silent.usage.total_tokens == 0
    counted = ScriptedDriver(
        [[TextPart("x"), UsagePart(Usage(input_tokens=3, output_tokens=1, total_tokens=4))]]
    ).generate("hi")
    assert not counted.usage.missing and counted.usage.total_tokens == 4


def test_usage_sums_cache_writes_and_missing() -> None:
    total = Usage(cache_write_tokens=5) + Usage(cache_write_tokens=2, missing=True)
    assert total.cache_write_tokens == 7 and total.missing
