"""``reasoning=`` → OpenAI's reasoning effort, by model family.

OpenAI takes an effort, never a budget: ``reasoning_effort`` on Chat Completions,
``reasoning.effort`` on the Responses API. Which efforts a model takes depends on its family:
gpt-5.1 and later turn thinking off with ``"none"``, gpt-5 can only go down to ``"minimal"``,
the o-series, codex models and gpt-oss to ``"low"``; a few take one or two efforts only, and
gpt-4o, gpt-4.1 and older do not reason (they refuse the field). The family is read from the
model name, after any ``vendor/`` prefix (OpenRouter's ``openai/gpt-5``); a name it does not
know, a compatible server's own model included, gets the effort as asked and ``"none"`` for
``"off"``, the value OpenAI's API and its imitators use for no thinking.

A budget is mapped to the nearest effort (``janito_core.reasoning.effort_of``); whatever had to
change on the way (a budget, an effort the model does not take, ``"off"`` a model cannot honour,
a model that takes no setting) is said once in the log.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

import attrs

from janito_core.reasoning import check_reasoning, effort_of, note_once

__all__ = ["Family", "Plan", "family_of", "hand_set", "plan", "wire_effort"]

log = logging.getLogger(__name__)

DRIVER = "openai"
#: Efforts from least thinking to most, as OpenAI names them.
_SCALE = ("none", "minimal", "low", "medium", "high")


@attrs.frozen
class Family:
    """The efforts one family of models takes, least thinking first.

    ``efforts`` None: the family does not reason (no field is sent). Empty: it reasons but takes
    no setting (o1-mini, o1-preview).
    """

    name: str
    efforts: tuple[str, ...] | None


_LOW_UP = ("low", "medium", "high")
# First match wins, so the narrower names come first. From OpenAI's API reference (the
# ReasoningEffort notes) and its reasoning guide.
_FAMILIES: tuple[tuple[re.Pattern[str], Family], ...] = tuple(
    (re.compile(pattern), family)
    for pattern, family in (
        (r"^(gpt-3\.5|gpt-4|chatgpt-|gpt-5-chat)", Family("a model without reasoning", None)),
        (r"^o1-(mini|preview)", Family("o1-mini and o1-preview", ())),
        (r"^gpt-5\.\d+-chat", Family("gpt-5.x chat models", ("medium",))),
        (r"^gpt-5-pro", Family("gpt-5-pro", ("high",))),
        (r"^gpt-5\.\d+-pro", Family("gpt-5.x pro models", ("medium", "high"))),
        (r"codex", Family("codex models", _LOW_UP)),
        (r"^gpt-oss", Family("gpt-oss", _LOW_UP)),
        (r"^gpt-5(-|$)", Family("gpt-5", ("minimal", *_LOW_UP))),
        (r"^o\d", Family("o-series models", _LOW_UP)),
    )
)
#: gpt-5.1 and later, and every model the table does not know.
DEFAULT = Family("other models", ("none", *_LOW_UP))


def family_of(model: str) -> Family:
    """The family of ``model`` (``vendor/`` and Bedrock's ``openai.`` prefixes ignored)."""
    name = model.lower().rsplit("/", 1)[-1].removeprefix("openai.")
    for pattern, family in _FAMILIES:
        if pattern.search(name):
            return family
    return DEFAULT


@attrs.frozen
class Plan:
    """What goes on the wire for one setting: ``effort`` (None: nothing), and ``note``, what
    changed on the way (None: the setting is honoured as asked)."""

    effort: str | None
    note: str | None = None


def plan(model: str, value: str | int | None) -> Plan:
    """The effort ``model`` is sent for ``value``, and what to say about it (pure).

    ``value`` is a ``reasoning=`` setting; anything else raises ``InvalidRequestError``.
    """
    asked = effort_of(check_reasoning(value))
    if asked is None:
        return Plan(None)
    family = family_of(model)
    wanted = "none" if asked == "off" else asked
    reasons: list[str] = []
    if isinstance(value, int) and value:
        reasons.append("OpenAI takes an effort, not a number of thinking tokens")
    if family.efforts is None:
        # Nothing to turn off; anything else cannot be honoured at all.
        if asked == "off":
            return Plan(None)
        return Plan(None, f"reasoning={value!r} not sent: {model} does not reason")
    if not family.efforts:
        what = (
            "cannot turn reasoning off and takes no setting"
            if asked == "off"
            else "takes no setting"
        )
        return Plan(None, f"reasoning={value!r} not sent: {model} {what}")
    effort: str
    if wanted in family.efforts:
        effort = wanted
    elif asked == "off":
        effort = family.efforts[0]
        reasons.append(f"{model} cannot turn reasoning fully off")
    else:
        rank = _SCALE.index(wanted)
        # The nearest effort the family takes; on a tie, the one that thinks more.
        effort = min(family.efforts, key=lambda e: (abs(_SCALE.index(e) - rank), -_SCALE.index(e)))
        reasons.append(f"the nearest effort {model} takes")
    if not reasons:
        return Plan(effort)
    return Plan(effort, f"reasoning={value!r} sent as effort {effort!r}: {'; '.join(reasons)}")


def wire_effort(model: str, value: str | int | None) -> str | None:
    """The effort to send ``model`` for ``value`` (None: nothing); what changed is logged once."""
    decided = plan(model, value)
    if decided.note is not None:
        note_once(log, DRIVER, model, decided.note)
    return decided.effort


def hand_set(options: Mapping[str, Any], names: tuple[str, ...]) -> bool:
    """True when the caller set reasoning by hand, as an option or inside ``extra_body``: the
    ``reasoning=`` setting then adds nothing."""
    extra = options.get("extra_body")
    return any(name in options or (isinstance(extra, Mapping) and name in extra) for name in names)
