"""``reasoning=`` → Gemini's ``thinkingConfig``, by model family.

Gemini 2.5 models take a budget of thinking tokens (``thinkingBudget``) within a range of
their own; Gemini 3 and later take a level (``thinkingLevel``) and cannot stop thinking; 2.0
and older do not think at all. The family is read from the model name (see ``family_of``); a
name it does not know gets the budget form, which Gemini 3 also accepts. Thoughts are asked for
(``includeThoughts``) whenever thinking is, so they stream as reasoning.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping
from typing import Any, Literal

import attrs

from janito_core.reasoning import (
    DEFAULT_BUDGETS,
    Reasoning,
    budget_of,
    check_reasoning,
    effort_of,
    note_once,
)

__all__ = ["BUDGET_FAMILIES", "Family", "family_of", "thinking_config"]

log = logging.getLogger(__name__)

DRIVER = "gemini"
# Options that configure thinking by hand; any of them means reasoning= adds nothing.
_HAND_OPTIONS = ("thinking_config", "thinking_budget", "thinking_level", "include_thoughts")
_VERSION = re.compile(r"gemini-(\d+)(?:\.(\d+))?(?=-|$)")


@attrs.frozen
class Family:
    """How one family of models takes reasoning: a budget within a range, a level, or none."""

    name: str
    form: Literal["budget", "level", "none"]
    #: Budget form: the smallest and largest budget the model takes (None: not known).
    minimum: int | None = None
    maximum: int | None = None
    #: Budget form: whether a budget of 0 turns thinking off.
    can_stop: bool = True
    #: Level form: the levels the model takes, least thinking first.
    levels: tuple[str, ...] = ()


#: Gemini 2.5 (Google's thinking guide gives each model's range; -1, dynamic, is never sent).
BUDGET_FAMILIES = {
    "pro": Family("Gemini 2.5 Pro", "budget", minimum=128, maximum=32768, can_stop=False),
    "flash-lite": Family("Gemini 2.5 Flash-Lite", "budget", minimum=512, maximum=24576),
    "flash": Family("Gemini 2.5 Flash", "budget", maximum=24576),
}
_OTHER_25 = Family("Gemini 2.5 (other)", "budget")
_GEMINI_3_PRO = Family("Gemini 3 Pro", "level", levels=("low", "high"))
_LATER_PRO = Family("Gemini 3.1+ Pro", "level", levels=("low", "medium", "high"))
_LATER = Family("Gemini 3+ Flash", "level", levels=("minimal", "low", "medium", "high"))
_OLD = Family("Gemini 2.0 and older", "none")
_UNKNOWN = Family("unknown", "budget")


def family_of(model: str) -> Family:
    """The family of a model id (``models/`` prefix and case ignored).

    ``gemini-2.5-pro*``, ``gemini-2.5-flash-lite*``, ``gemini-2.5-flash*``: budget, with the
    ranges of ``BUDGET_FAMILIES``; other ``gemini-2.5-*``: budget, no range known.
    ``gemini-3-pro*``: levels low and high; other Pro models from 3.1 on: low, medium, high;
    every other model from Gemini 3 on: minimal, low, medium, high. ``gemini-1*``/``2.0*``:
    no thinking. Anything else (aliases such as ``gemini-flash-latest``, Gemma, tuned
    models): budget, no range known.
    """
    name = model.rsplit("/", 1)[-1].lower()
    found = _VERSION.match(name)
    if found is None:
        return _UNKNOWN
    version = (int(found.group(1)), int(found.group(2) or 0))
    rest = name[found.end() :]
    if version < (2, 5):
        return _OLD
    if version == (2, 5):
        for kind in ("flash-lite", "flash", "pro"):
            if rest.startswith(f"-{kind}"):
                return BUDGET_FAMILIES[kind]
        return _OTHER_25
    if version >= (3, 0) and rest.startswith("-pro"):
        return _GEMINI_3_PRO if version == (3, 0) else _LATER_PRO
    return _LATER


def thinking_config(
    value: str | int | None, model: str, options: Mapping[str, Any]
) -> dict[str, Any] | None:
    """The ``ThinkingConfig`` fields (snake_case) for a reasoning setting on ``model``.

    None when there is nothing to add: the caller did not ask, configured thinking by hand in
    ``options`` (``thinking_config`` or its shortcuts, which win), or the model does not
    think. Where the value had to be mapped to one the model takes, it is said once in the log.
    """
    reasoning = check_reasoning(value)
    if reasoning is None:
        return None
    if any(options.get(name) is not None for name in _HAND_OPTIONS):
        _note(model, f"reasoning={reasoning!r} not applied: thinking options passed by hand win")
        return None
    family = family_of(model)
    off = effort_of(reasoning) == "off"
    if family.form == "none":
        if not off:
            _note(model, f"reasoning={reasoning!r} not sent: {family.name} models do not think")
        return None
    config: dict[str, Any]
    if family.form == "level":
        config = {"thinking_level": _level(reasoning, family, model).upper()}
    else:
        config = {"thinking_budget": _budget(reasoning, family, model)}
    if not off:
        config["include_thoughts"] = True
    return config


def _budget(reasoning: Reasoning, family: Family, model: str) -> int:
    budget = budget_of(reasoning, minimum=family.minimum, maximum=family.maximum)
    assert budget is not None  # reasoning is not None
    if budget == 0:
        if family.can_stop or family.minimum is None:
            return 0
        _note(
            model,
            f"reasoning={reasoning!r}: {family.name} cannot stop thinking; "
            f"sent the smallest budget, {family.minimum}",
        )
        return family.minimum
    asked = budget_of(reasoning)
    if budget != asked:
        tokens = f" ({asked} thinking tokens)" if isinstance(reasoning, str) else ""
        _note(
            model,
            f"reasoning={reasoning!r}{tokens} is outside {family.name}'s budget range "
            f"{family.minimum or 0}-{family.maximum}; sent {budget}",
        )
    return budget


def _level(reasoning: Reasoning, family: Family, model: str) -> str:
    if effort_of(reasoning) == "off":
        level = "minimal" if "minimal" in family.levels else family.levels[0]
        _note(
            model,
            f"reasoning={reasoning!r}: {family.name} cannot stop thinking; "
            f"sent the lowest level, {level!r}",
        )
        return level
    if isinstance(reasoning, str) and reasoning in family.levels:
        return reasoning
    # A budget, or an effort the model lacks: the level whose budget is nearest on a log
    # scale (minimal has no budget: it stands in for "off" only).
    budget = budget_of(reasoning)
    assert budget is not None
    candidates = [level for level in family.levels if level in DEFAULT_BUDGETS]
    level = min(candidates, key=lambda c: abs(math.log(DEFAULT_BUDGETS[c] / budget)))
    what = "a budget" if isinstance(reasoning, int) else repr(reasoning)
    _note(
        model,
        f"reasoning={reasoning!r}: {family.name} takes a thinking level "
        f"({', '.join(family.levels)}), not {what}; sent {level!r}",
    )
    return level


def _note(model: str, message: str) -> None:
    note_once(log, DRIVER, model, message)
