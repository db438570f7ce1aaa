"""What a generation cost in USD, from the genai-prices table (the ``janito-core[prices]`` extra).

The table is imported only when a priced generation ends, never by ``import janito_core``; the
first time costs about 0.4 s (the import and the table's load), later ones a fraction of a
millisecond. Without it (not installed, or Python 3.10, which genai-prices does not support) every
cost is ``None``. So it is for a model the table does not know, a driver that is not priced, and
usage the provider did not report: a cost is computed from reported token counts or not at all.

Each request is priced on its own usage, then the prices are added: some prices depend on the
size of one request's prompt (Gemini 2.5 Pro's change above 200k input tokens), which a
generation's total would misjudge.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import threading
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from janito_core import events as ev
from janito_core.usage import Usage

if TYPE_CHECKING:
    from datetime import datetime
    from decimal import Decimal

    from janito_core.driver import LLMDriver

__all__ = [
    "Cost",
    "finished_cost",
    "generation_cost",
    "preload_prices",
    "price_provider",
    "request_cost",
    "request_usages",
]

log = logging.getLogger("janito_core.cost")

_NOT_INSTALLED = "the price table is not installed (pip install 'janito-core[prices]')"
_TOO_OLD = "the price table needs Python >= 3.11"


@attrs.frozen(kw_only=True)
class Cost:
    """A price in USD, or ``None`` and why there is none (``unknown``, for people to read)."""

    usd: Decimal | None
    unknown: str | None = None


def price_provider(driver: LLMDriver) -> str | None:
    """The price table's provider id for ``driver``'s models; ``None`` when it is not priced.

    The driver's ``price_provider`` if it sets one, else its ``name`` when it needs an API key: a
    driver that needs none talks to something nobody bills (echo, a local server), and looking it
    up would load the table for nothing.
    """
    declared = type(driver).price_provider
    if declared is not None:
        return declared or None
    if not type(driver).requires_api_key:
        return None
    return driver.name or None


def request_usages(events: Iterable[ev.Event], total: Usage) -> list[Usage]:
    """Each request's usage in a generation whose usage adds up to ``total``.

    The requests that finished say theirs (``RequestFinished.usage``); a request that failed
    counts in the generation's usage without an event saying how much, so it is what ``total``
    holds beyond them.
    """
    usages = [e.usage for e in events if type(e) is ev.RequestFinished]
    counted = sum(usages, Usage())
    rest = Usage(
        input_tokens=total.input_tokens - counted.input_tokens,
        output_tokens=total.output_tokens - counted.output_tokens,
        total_tokens=total.total_tokens - counted.total_tokens,
        cached_input_tokens=total.cached_input_tokens - counted.cached_input_tokens,
        reasoning_tokens=total.reasoning_tokens - counted.reasoning_tokens,
        cache_write_tokens=total.cache_write_tokens - counted.cache_write_tokens,
        missing=total.missing and not counted.missing,
    )
    if rest != Usage():
        usages.append(rest)
    return usages


_preloading: threading.Thread | None = None


def preload_prices(driver: LLMDriver) -> None:
    """Start loading the price table on a thread of its own, once, for a priced ``driver``.

    Loading it takes ~0.4 s (import and table); done on the loop that prices the first
    generation, it would stall every generation sharing that loop.
    """
    global _preloading
    if _preloading is not None or price_provider(driver) is None:
        return
    if importlib.util.find_spec("genai_prices") is None:
        return

    def load() -> None:
        with contextlib.suppress(Exception):
            import genai_prices.data_snapshot

            genai_prices.data_snapshot.get_snapshot()

    _preloading = threading.Thread(target=load, name="janito-prices-preload", daemon=True)
    _preloading.start()


def finished_cost(driver: LLMDriver, events: Iterable[ev.Event], total: Usage) -> Decimal | None:
    """``GenerationFinished.cost``: what the requests among ``events`` cost with the driver's
    model, ``total`` being the generation's usage. ``None`` at once for a driver not priced."""
    if price_provider(driver) is None:
        return None
    return generation_cost(driver, driver.model, request_usages(events, total)).usd


def generation_cost(
    driver: LLMDriver, model: str, usages: Sequence[Usage], *, at: datetime | None = None
) -> Cost:
    """What ``usages`` (one per request, as ``request_usages`` gives them) cost with ``model``.

    ``at`` is when the requests were made (prices change over time; ``None``: now). Never raises:
    whatever goes wrong is the reason the cost is unknown (and an unexpected failure is logged).
    """
    provider = price_provider(driver)
    if provider is None:
        name = driver.name or type(driver).__name__
        return Cost(usd=None, unknown=f"the {name} driver is not priced")
    if any(u.missing for u in usages):
        return Cost(usd=None, unknown="usage not reported by the provider")
    total: Decimal | None = None
    # A generation that sent no request cost nothing, for a model the table knows.
    for usage in usages or (Usage(),):
        cost = request_cost(usage, provider=provider, model=model, at=at)
        if cost.usd is None:
            return cost
        total = cost.usd if total is None else total + cost.usd
    return Cost(usd=total)


def request_cost(usage: Usage, *, provider: str, model: str, at: datetime | None = None) -> Cost:
    """What one request's ``usage`` cost with ``model`` at ``provider`` (a price table id).

    Never raises; see ``generation_cost``.
    """
    if usage.missing:
        return Cost(usd=None, unknown="usage not reported by the provider")
    try:
        import genai_prices
    except ImportError:
        import sys

        return Cost(usd=None, unknown=_TOO_OLD if sys.version_info < (3, 11) else _NOT_INSTALLED)
    try:
        calculation = genai_prices.calc_price(
            genai_prices.Usage(**_table_usage(usage)),
            model,
            provider_id=provider,
            genai_request_timestamp=at,
        )
    except LookupError:
        return Cost(usd=None, unknown=f"the price table does not know {model!r} at {provider!r}")
    except ValueError as exc:
        # Counts the table refuses (say, more cached tokens than input tokens).
        return Cost(usd=None, unknown=f"the price table refused the usage: {exc}")
    except Exception as exc:
        log.warning("pricing %r at %r failed", model, provider, exc_info=True)
        return Cost(usd=None, unknown=f"pricing failed: {type(exc).__name__}: {exc}")
    price: Decimal = calculation.total_price
    return Cost(usd=price)


def _table_usage(usage: Usage) -> dict[str, Any]:
    """``usage`` in the table's terms.

    Its input and output counts are totals whose parts it prices apart where the model has a
    price for them, as ours are: cached (cache read) and cache-write tokens are part of
    ``input_tokens``, reasoning tokens part of ``output_tokens`` (every driver counts them so).
    A part the model has no price of its own for stays in its total, at the total's price.
    """
    return {
        "input_tokens": usage.input_tokens,
        "cache_read_tokens": usage.cached_input_tokens,
        "cache_write_tokens": usage.cache_write_tokens,
        "output_tokens": usage.output_tokens,
        "output_reasoning_tokens": usage.reasoning_tokens,
    }
