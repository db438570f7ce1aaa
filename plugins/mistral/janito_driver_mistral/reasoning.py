"""janito-core's ``reasoning=`` setting → Mistral's ``reasoning_effort``, per model.

Mistral takes an effort, never a token budget, and each model takes its own few values: the
reasoning models (Mistral Small 4, Medium 3.5, and the Magistral names, which Mistral has served
from those two since retiring Magistral in July 2026) take ``"none"`` and ``"high"`` and answer
400 to anything else; Mistral Large 4 takes ``"low"``, ``"medium"`` and ``"high"``; other models
take no reasoning setting at all (400). ``prompt_mode`` only chose Magistral's old system prompt
and is refused by today's models, so it is never sent.

The rule, for a value the caller gave (``None`` sends nothing):

- a model known to take efforts gets the one it takes nearest the value: ``"off"`` is
  ``"none"``; where ``"none"`` is not taken, the least effort (thinking cannot be turned off);
  ``"low"``/``"medium"`` on a two-level model are ``"high"`` (they ask for thinking); an int
  budget first becomes its nearest effort (``effort_of``);
- a model not known to take one gets nothing, since Mistral would refuse the request;
- ``reasoning_effort`` or ``prompt_mode`` passed by hand wins: nothing is added.

Whenever the value sent is not the value asked (or nothing is sent for a value), it is said once
per model in the log (``note_once``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import cast

from janito_core.reasoning import Reasoning, effort_of, note_once

__all__ = ["HAND_OPTIONS", "efforts_for", "reasoning_effort"]

log = logging.getLogger(__name__)

#: Options that set the model's reasoning themselves; one passed by hand wins over ``reasoning=``.
HAND_OPTIONS = ("reasoning_effort", "prompt_mode")

_TWO_LEVEL = ("none", "high")
_THREE_LEVEL = ("low", "medium", "high")
# Dated names (``mistral-small-2603``): reasoning arrived with Small 4 (26.03) and Medium 3.5
# (26.04); earlier dates are the older, non-reasoning models.
_DATED = re.compile(r"mistral-(small|medium)-(\d{4})(?:-.*)?")
_FIRST_REASONING = {"small": 2603, "medium": 2604}
_NAMED = re.compile(r"mistral-(?:small-4|medium-3[-.]5)(?:\b.*)?")


def efforts_for(model: str) -> tuple[str, ...] | None:
    """The ``reasoning_effort`` values ``model`` takes, or None when it takes none we know of."""
    name = model.lower()
    if name.startswith("magistral-") or name in ("mistral-small-latest", "mistral-medium-latest"):
        return _TWO_LEVEL
    if _NAMED.fullmatch(name):
        return _TWO_LEVEL
    dated = _DATED.fullmatch(name)
    if dated and int(dated.group(2)) >= _FIRST_REASONING[dated.group(1)]:
        return _TWO_LEVEL
    if name.startswith("mistral-large-4"):
        return _THREE_LEVEL
    return None


def reasoning_effort(
    model: str, reasoning: str | int | None, options: Mapping[str, object]
) -> str | None:
    """The ``reasoning_effort`` to send for ``reasoning`` on ``model``, or None to send none."""
    if reasoning is None:
        return None
    asked = f"reasoning={reasoning!r}"
    hand = next((name for name in HAND_OPTIONS if name in options), None)
    if hand is not None:
        note_once(log, "mistral", model, f"{asked} not sent: the {hand} passed by hand wins")
        return None
    efforts = efforts_for(model)
    if efforts is None:
        note_once(
            log,
            "mistral",
            model,
            f"{asked} not sent: the model takes no reasoning setting the mistral driver knows "
            "of (pass reasoning_effort= by hand if it takes one)",
        )
        return None
    # Checked by the harness at the call; a budget becomes its nearest effort.
    effort = effort_of(cast(Reasoning, reasoning))
    if effort == "off":
        sent = "none" if "none" in efforts else efforts[0]
    elif effort in efforts:
        sent = effort
    else:
        # Two-level models: "low" and "medium" still ask for thinking.
        sent = "high"
    if sent == reasoning or (reasoning == "off" and sent == "none"):
        return sent
    if effort == "off" and sent != "none":
        why = "thinking cannot be turned off on this model; sent the least effort"
    elif isinstance(reasoning, int):
        why = f"Mistral takes an effort ({', '.join(efforts)}), not a token budget"
    else:
        why = f"the model takes only {', '.join(efforts)}"
    note_once(log, "mistral", model, f"{asked} sent as reasoning_effort={sent!r}: {why}")
    return sent
