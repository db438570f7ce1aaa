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
    if _open_turn_without_thinking(kwargs.get("messages")):
        # Anthropic wants the assistant turn a tool loop continues to start with its thinking
        # block; a turn another driver (or Anthropic with thinking off) made has none, so this
        # one request goes without thinking (a 400 otherwise).
        note_once(
            log,
            NAME,
            model,
            "thinking left off for a request continuing a tool call made without it "
            "(another driver's turn): Anthropic requires that turn to start with thinking",
        )
        kwargs["thinking"] = {"type": "disabled"}
        return
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


def _open_turn_without_thinking(messages: object) -> bool:
    """True when the wire messages end in tool results whose assistant turn has no thinking."""
    if not isinstance(messages, list) or len(messages) < 2:
        return False
    last, previous = messages[-1], messages[-2]
    results = last.get("content") if isinstance(last, dict) else None
    if not isinstance(results, list) or not results:
        return False
    if not all(isinstance(b, dict) and b.get("type") == "tool_result" for b in results):
        return False
    blocks = previous.get("content") if isinstance(previous, dict) else None
    if not isinstance(blocks, list) or not blocks:
        return False
    first = blocks[0]
    return not (isinstance(first, dict) and first.get("type") in ("thinking", "redacted_thinking"))
