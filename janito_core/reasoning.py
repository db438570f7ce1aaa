"""One reasoning setting for every driver: ``reasoning="off" | "low" | "medium" | "high"`` or an
int budget of thinking tokens.

The harness checks the value at the call and hands it to the driver as
``ProviderRequest.reasoning`` (``None`` when the caller did not ask: the provider's default then
stands). Providers take an effort (OpenAI), a budget or a level (Gemini, Anthropic) or a mode
(Mistral); the helpers here convert between the two forms the same way for every driver, and
``note_once`` says, once, when a value had to be mapped to the nearest one a model honours.
"""

from __future__ import annotations

import logging
import threading
from typing import Literal

from janito_core.errors import InvalidRequestError

__all__ = [
    "DEFAULT_BUDGETS",
    "EFFORTS",
    "Effort",
    "Reasoning",
    "budget_of",
    "check_reasoning",
    "effort_of",
    "note_once",
    "reset_notes",
]

Effort = Literal["off", "low", "medium", "high"]
Reasoning = Effort | int
EFFORTS: tuple[Effort, ...] = ("off", "low", "medium", "high")
#: Thinking tokens each effort stands for, where a provider wants a budget.
DEFAULT_BUDGETS: dict[str, int] = {"low": 1024, "medium": 8192, "high": 24576}

_noted: set[tuple[str, str, str]] = set()
_noted_lock = threading.Lock()


def check_reasoning(value: object) -> Reasoning | None:
    """``value`` if it is a valid reasoning setting (or None); raises ``InvalidRequestError``."""
    if value is None or value in EFFORTS:
        return value
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise InvalidRequestError(
        f"reasoning must be 'off', 'low', 'medium', 'high' or a number of thinking tokens "
        f"(an int >= 0); got {value!r}"
    )


def effort_of(value: Reasoning | None) -> Effort | None:
    """The effort a value stands for: a budget maps to the nearest effort (0 is ``"off"``)."""
    if value is None or isinstance(value, str):
        return value
    if value == 0:
        return "off"
    # The effort whose budget is nearest, on a log scale (1,000 is nearer 1,024 than 8,192).
    best: Effort = "low"
    best_ratio = float("inf")
    for effort in ("low", "medium", "high"):
        budget = DEFAULT_BUDGETS[effort]
        ratio = max(value, budget) / min(value, budget)
        if ratio < best_ratio:
            best, best_ratio = effort, ratio
    return best


def budget_of(
    value: Reasoning | None,
    *,
    budgets: dict[str, int] | None = None,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int | None:
    """The thinking-token budget a value stands for (``"off"`` is 0), kept within the model's
    ``minimum``/``maximum`` (a budget of 0 stays 0: it means off)."""
    if value is None:
        return None
    if isinstance(value, str):
        budget = 0 if value == "off" else (budgets or DEFAULT_BUDGETS)[value]
    else:
        budget = value
    if budget == 0:
        return 0
    if minimum is not None:
        budget = max(budget, minimum)
    if maximum is not None:
        budget = min(budget, maximum)
    return budget


def note_once(logger: logging.Logger, driver: str, model: str, message: str) -> None:
    """Log ``message`` (a value mapped to what the model honours) once per driver and model."""
    key = (driver, model, message)
    with _noted_lock:
        if key in _noted:
            return
        _noted.add(key)
    logger.info("%s (driver %s, model %s)", message, driver, model)


def reset_notes() -> None:
    """Forget what ``note_once`` has logged, so it logs again (for tests)."""
    with _noted_lock:
        _noted.clear()
