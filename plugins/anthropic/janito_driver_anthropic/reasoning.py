"""``reasoning=`` → Anthropic's ``thinking`` setting (and a ``max_tokens`` that leaves it room).

Anthropic takes a budget of thinking tokens, at least 1,024, and below ``max_tokens``: an effort
becomes its budget (``janito_core.reasoning.DEFAULT_BUDGETS``), ``"off"`` or 0 becomes
``{"type": "disabled"}``. A ``thinking`` option passed by hand wins and is sent as it is.
"""

from __future__ import annotations

import logging
from typing import Any

from janito_core.reasoning import Reasoning, budget_of, note_once
from janito_driver_anthropic.stream import NAME

__all__ = ["ANSWER_ROOM", "MINIMUM_BUDGET", "apply_reasoning"]

log = logging.getLogger(__name__)

#: The smallest budget the API accepts.
MINIMUM_BUDGET = 1024
#: Tokens left for the answer above the budget when ``max_tokens`` has to be raised.
ANSWER_ROOM = 4096


def apply_reasoning(kwargs: dict[str, Any], reasoning: Reasoning | str | None) -> None:
    """Set ``thinking`` (and raise ``max_tokens`` if needed) in ``kwargs`` for ``reasoning``."""
    if reasoning is None or "thinking" in kwargs:
        return
    model = str(kwargs.get("model", ""))
    budget = budget_of(reasoning, minimum=MINIMUM_BUDGET)  # type: ignore[arg-type]
    if not budget:
        kwargs["thinking"] = {"type": "disabled"}
        return
    if isinstance(reasoning, int) and reasoning < MINIMUM_BUDGET:
        note_once(
            log,
            NAME,
            model,
            f"reasoning={reasoning} sent as budget_tokens {MINIMUM_BUDGET}, "
            "the smallest Anthropic accepts",
        )
    kwargs["thinking"] = {"type": "enabled", "budget_tokens": budget}
    max_tokens = kwargs.get("max_tokens")
    if isinstance(max_tokens, int) and max_tokens <= budget:
        kwargs["max_tokens"] = budget + ANSWER_ROOM
        note_once(
            log,
            NAME,
            model,
            f"max_tokens {max_tokens} raised to {budget + ANSWER_ROOM}: "
            f"Anthropic wants it above the thinking budget ({budget})",
        )
