"""Cost: the genai-prices table's own figures, per request, and None whenever it cannot be known.

The expected figures are worked out here by hand from the per-million-token prices that
genai-prices 0.2.3 lists in its data (``genai_prices/data.py``), so a pricing mistake on our side
(cached tokens double counted, reasoning billed twice, a tier misjudged) cannot cancel out.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from janito_core import Tool, Usage
from janito_core import events as ev
from janito_core.cost import (
    Cost,
    generation_cost,
    price_provider,
    request_cost,
    request_usages,
)
from janito_core.echo import EchoDriver
from janito_core.parts import FinishPart, TextPart, ToolCallPart, UsagePart
from janito_core.testing import Fail, ScriptedDriver, Stall, validate_events

pytestmark = pytest.mark.usefixtures("no_leaked_threads")

genai_prices = pytest.importorskip(
    "genai_prices", reason="the price table (janito-core[prices]) needs Python >= 3.11"
)

MILLION = Decimal(1_000_000)
# Prices change over time (Mistral Small's did on 2026-03-16): each check is made at one date.
AT = datetime(2026, 6, 1, tzinfo=timezone.utc)


def per_million(tokens: int, usd: str) -> Decimal:
    return tokens * Decimal(usd) / MILLION


class PricedScript(ScriptedDriver):
    """A scripted driver the price table knows as OpenAI's."""

    name = "priced-script"
    price_provider = "openai"


# -- one request against the table's figures ---------------------------------------------------


def test_gpt_4o_mini_cached_tokens_are_priced_as_cache_reads() -> None:
    # genai-prices: gpt-4o-mini input 0.15, cache read 0.075, output 0.6 USD per million.
    usage = Usage(input_tokens=12_000, cached_input_tokens=8_000, output_tokens=700)
    expected = (
        per_million(12_000 - 8_000, "0.15") + per_million(8_000, "0.075") + per_million(700, "0.6")
    )
    cost = request_cost(usage, provider="openai", model="gpt-4o-mini", at=AT)
    assert cost == Cost(usd=expected)
    assert expected == Decimal("0.00162")


def test_gemini_2_5_flash_thinking_is_output_once() -> None:
    # genai-prices: gemini-2.5-flash input 0.3, cache read 0.03, output 2.5 USD per million.
    # Our output counts include the thinking (Gemini's candidates + thoughts): priced once.
    usage = Usage(
        input_tokens=20_000, cached_input_tokens=16_000, output_tokens=3_000, reasoning_tokens=2_400
    )
    expected = per_million(4_000, "0.3") + per_million(16_000, "0.03") + per_million(3_000, "2.5")
    # The driver's name "gemini" is the table's "google" provider.
    for provider in ("google", "gemini"):
        assert request_cost(usage, provider=provider, model="gemini-2.5-flash", at=AT).usd == (
            expected
        )
    assert expected == Decimal("0.00918")


def test_mistral_small_at_the_price_of_the_day() -> None:
    # genai-prices: mistral-small-latest 0.1 in / 0.3 out until 2026-03-16, then 0.15 in,
    # cache read 0.015, 0.6 out.
    usage = Usage(input_tokens=10_000, cached_input_tokens=2_000, output_tokens=1_000)
    after = per_million(8_000, "0.15") + per_million(2_000, "0.015") + per_million(1_000, "0.6")
    before = per_million(10_000, "0.1") + per_million(1_000, "0.3")
    assert request_cost(usage, provider="mistral", model="mistral-small-latest", at=AT).usd == (
        after
    )
    early = datetime(2026, 1, 10, tzinfo=timezone.utc)
    assert request_cost(usage, provider="mistral", model="mistral-small-latest", at=early).usd == (
        before
    )
    assert (after, before) == (Decimal("0.00183"), Decimal("0.0013"))


def test_reasoning_tokens_are_part_of_the_output_not_added_to_it() -> None:
    # genai-prices: o4-mini input 1.1, cache read 0.275, output 4.4 USD per million.
    usage = Usage(input_tokens=1_000, output_tokens=500, reasoning_tokens=300)
    expected = per_million(1_000, "1.1") + per_million(500, "4.4")
    assert request_cost(usage, provider="openai", model="o4-mini", at=AT).usd == expected


def test_a_dated_model_name_finds_its_model() -> None:
    usage = Usage(input_tokens=1_000_000)
    cost = request_cost(usage, provider="openai", model="gpt-4o-mini-2024-07-18", at=AT)
    assert cost.usd == Decimal("0.15")


# -- None, never a guess ------------------------------------------------------------------------


def test_a_model_the_table_does_not_know_has_no_cost() -> None:
    cost = request_cost(Usage(input_tokens=10), provider="openai", model="gpt-nonexistent-9")
    assert cost.usd is None
    assert cost.unknown is not None and "gpt-nonexistent-9" in cost.unknown


def test_a_provider_the_table_does_not_know_has_no_cost() -> None:
    cost = request_cost(Usage(input_tokens=10), provider="nobody-sells-this", model="gpt-4o-mini")
    assert cost.usd is None and cost.unknown is not None


def test_missing_usage_has_no_cost() -> None:
    missing = Usage(missing=True)
    assert request_cost(missing, provider="openai", model="gpt-4o-mini").unknown == (
        "usage not reported by the provider"
    )
    driver = PricedScript(model="gpt-4o-mini")
    cost = generation_cost(driver, "gpt-4o-mini", [Usage(input_tokens=5), missing])
    assert cost == Cost(usd=None, unknown="usage not reported by the provider")


def test_counts_the_table_refuses_give_no_cost() -> None:
    usage = Usage(input_tokens=10, cached_input_tokens=20)
    cost = request_cost(usage, provider="openai", model="gpt-4o-mini")
    assert cost.usd is None and cost.unknown is not None and "refused" in cost.unknown


def test_without_the_table_there_is_no_cost() -> None:
    code = """
import sys
sys.modules["genai_prices"] = None  # as if janito-core[prices] were not installed
from janito_core import Usage
from janito_core.cost import request_cost
cost = request_cost(Usage(input_tokens=1000), provider="openai", model="gpt-4o-mini")
print(repr(cost.usd), cost.unknown)
"""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == (
        "None the price table is not installed (pip install 'janito-core[prices]')"
    )


def test_which_drivers_are_priced_and_as_what() -> None:
    assert price_provider(PricedScript()) == "openai"
    # No key, nobody bills it: the table is not even loaded.
    assert price_provider(EchoDriver()) is None
    assert price_provider(ScriptedDriver()) is None

    class Keyed(ScriptedDriver):
        name = "mistral"
        requires_api_key = True

    assert price_provider(Keyed(api_key="k")) == "mistral"

    class Unpriced(Keyed):
        price_provider = ""

    assert price_provider(Unpriced(api_key="k")) is None
    cost = generation_cost(EchoDriver(), "echo", [Usage(input_tokens=3)])
    assert cost == Cost(usd=None, unknown="the echo driver is not priced")


# -- a generation: each request priced on its own ------------------------------------------------


def test_each_request_is_priced_on_its_own_prompt() -> None:
    # genai-prices: gemini-2.5-pro 1.25 in / 10 out per million, 2.5 / 15 above 200k input
    # tokens in one request. Two requests of 150k stay below; their sum would not.
    class Gemini(ScriptedDriver):
        name = "gemini"
        price_provider = "google"

    request = Usage(input_tokens=150_000, output_tokens=1_000)
    cost = generation_cost(Gemini(), "gemini-2.5-pro", [request, request], at=AT)
    one = per_million(150_000, "1.25") + per_million(1_000, "10")
    assert cost.usd == 2 * one
    big = Usage(input_tokens=250_000, output_tokens=1_000)
    tiered = per_million(250_000, "2.5") + per_million(1_000, "15")
    assert generation_cost(Gemini(), "gemini-2.5-pro", [big], at=AT).usd == tiered


def test_no_request_costs_nothing_for_a_known_model_only() -> None:
    assert generation_cost(PricedScript(), "gpt-4o-mini", []).usd == Decimal(0)
    assert generation_cost(PricedScript(), "gpt-nonexistent-9", []).usd is None


def test_request_usages_adds_the_failed_request_from_the_total() -> None:
    first = Usage(input_tokens=10, output_tokens=2, total_tokens=12)
    finished = ev.RequestFinished(
        generation_id="g", driver="d", request_id="r1", status="completed", usage=first
    )
    assert request_usages([finished], first) == [first]
    failed = Usage(input_tokens=30, output_tokens=1, total_tokens=31, cached_input_tokens=4)
    assert request_usages([finished], first + failed) == [first, failed]
    # A failed request that reported nothing makes the whole unknown.
    assert request_usages([finished], first + Usage(missing=True)) == [first, Usage(missing=True)]


def reply(text: str, usage: Usage) -> list[object]:
    return [TextPart(text), UsagePart(usage), FinishPart("stop")]


FIRST = Usage(input_tokens=1_200, cached_input_tokens=1_024, output_tokens=40, total_tokens=1_240)
SECOND = Usage(input_tokens=1_300, output_tokens=25, total_tokens=1_325)


def gpt_4o_mini(usage: Usage) -> Decimal:
    # genai-prices: gpt-4o-mini input 0.15, cache read 0.075, output 0.6 USD per million.
    uncached = usage.input_tokens - usage.cached_input_tokens
    return (
        per_million(uncached, "0.15")
        + per_million(usage.cached_input_tokens, "0.075")
        + per_million(usage.output_tokens, "0.6")
    )


def add(a: int, b: int) -> str:
    """Add two numbers."""
    return str(a + b)


def test_a_generation_s_cost_is_on_its_result_and_last_event() -> None:
    driver = PricedScript(
        [
            [
                ToolCallPart(id="c1", name="add", arguments='{"a": 1, "b": 2}'),
                UsagePart(FIRST),
                FinishPart("tool_calls"),
            ],
            reply("3", SECOND),
        ],
        model="gpt-4o-mini",
    )
    result = driver.generate("1+2?", tools=[Tool.from_function(add)])
    expected = gpt_4o_mini(FIRST) + gpt_4o_mini(SECOND)
    assert result.cost == expected
    finished = result.events[-1]
    assert isinstance(finished, ev.GenerationFinished) and finished.cost == expected
    data = json.loads(json.dumps(finished.to_dict()))
    assert data["cost"] == str(expected) and Decimal(data["cost"]) == expected


def test_a_driver_that_is_not_priced_has_no_cost_and_loads_no_table() -> None:
    code = """
import sys
from janito_core.echo import EchoDriver
result = EchoDriver().generate("hi")
print(result.usage.input_tokens > 0, result.cost, "genai_prices" in sys.modules)
"""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.split() == ["True", "None", "False"]


def test_a_request_without_usage_leaves_the_generation_unpriced() -> None:
    driver = PricedScript([[TextPart("hi"), FinishPart("stop")]], model="gpt-4o-mini")
    result = driver.generate("hi")
    assert result.usage.missing and result.cost is None


def test_a_cancelled_generation_is_priced_from_what_was_reported() -> None:
    # A tool call makes a second round; the cancel comes while the second one is silent.
    driver = PricedScript(
        [
            [ToolCallPart(id="c1", name="add", arguments='{"a": 1, "b": 2}'), UsagePart(FIRST)],
            [TextPart("b"), UsagePart(SECOND), Stall()],
        ],
        model="gpt-4o-mini",
    )
    cancel = threading.Event()
    stream = driver.stream_generate("hi", tools=[Tool.from_function(add)], cancel_event=cancel)
    events = []
    for event in stream:
        events.append(event)
        if isinstance(event, ev.ContentPartFound) and driver.stalled.wait(5):
            cancel.set()
    assert stream.join(5)
    validate_events(events)
    finished = events[-1]
    assert isinstance(finished, ev.GenerationFinished) and finished.status == "cancelled"
    assert finished.cost == gpt_4o_mini(FIRST) + gpt_4o_mini(SECOND)


def test_a_cancel_before_usage_leaves_the_generation_unpriced() -> None:
    driver = PricedScript([[TextPart("a"), Stall()]], model="gpt-4o-mini")
    stream = driver.stream_generate("hi")
    events = []
    for event in stream:
        events.append(event)
        if isinstance(event, ev.ContentPartFound) and driver.stalled.wait(5):
            stream.cancel()
    assert stream.join(5)
    finished = events[-1]
    assert isinstance(finished, ev.GenerationFinished) and finished.status == "cancelled"
    assert finished.usage.missing and finished.cost is None


def test_a_failed_generation_is_priced_when_every_request_reported_usage() -> None:
    driver = PricedScript(
        [
            [ToolCallPart(id="c1", name="add", arguments='{"a": 1, "b": 2}'), UsagePart(FIRST)],
            [UsagePart(SECOND), Fail(status_code=400, retryable=False)],
        ],
        model="gpt-4o-mini",
    )
    stream = driver.stream_generate("hi", tools=[Tool.from_function(add)])
    events = list(stream)
    assert stream.join(5)
    finished = events[-1]
    assert isinstance(finished, ev.GenerationFinished) and finished.status == "error"
    assert finished.cost == gpt_4o_mini(FIRST) + gpt_4o_mini(SECOND)
    # The same failure before the provider said anything: unknown, not the first request alone.
    driver = PricedScript(
        [
            [ToolCallPart(id="c1", name="add", arguments='{"a": 1, "b": 2}'), UsagePart(FIRST)],
            [Fail(status_code=400, retryable=False)],
        ],
        model="gpt-4o-mini",
    )
    stream = driver.stream_generate("hi", tools=[Tool.from_function(add)])
    events = list(stream)
    assert stream.join(5)
    assert events[-1].cost is None  # type: ignore[attr-defined]
