"""``reasoning=`` on the wire: the ``thinkingConfig`` each value sends to each model family,
through the real SDK to the loopback server, and the notes said once where a value is mapped.

The expected bodies are written out by hand from Google's thinking guide (budgets and ranges
for Gemini 2.5, levels for Gemini 3), not computed by the driver's code.
"""

from __future__ import annotations

import itertools
import logging
import re

import pytest
from gemini_wire import chunk, stream_reply, text
from janito_driver_gemini.thinking import family_of

from janito_core import events as ev
from janito_core.testing import events_of, finish, finished_event, text_of
from janito_core.usage import Usage

NOTES = "janito_driver_gemini.thinking"
USAGE = {"promptTokenCount": 9, "candidatesTokenCount": 4, "totalTokenCount": 13}

# The families, each by a real model id.
FLASH = "gemini-2.5-flash"
LITE = "gemini-2.5-flash-lite"
PRO = "gemini-2.5-pro"
G3_PRO = "gemini-3-pro-preview"
G31_PRO = "gemini-3.1-pro-preview"
G3_FLASH = "gemini-3-flash-preview"
UNKNOWN = "gemini-flash-latest"
OLD = "gemini-2.0-flash"
MODELS = (FLASH, LITE, PRO, G3_PRO, G31_PRO, G3_FLASH, UNKNOWN, OLD)
VALUES = (None, "off", "low", "medium", "high", 0, 500, 5000, 30000)


def budget(tokens: int, *, thoughts: bool = True) -> dict[str, object]:
    return {"thinkingBudget": tokens, **({"includeThoughts": True} if thoughts else {})}


def level(name: str, *, thoughts: bool = True) -> dict[str, object]:
    return {"thinkingLevel": name, **({"includeThoughts": True} if thoughts else {})}


OFF = budget(0, thoughts=False)
N = None  # nothing sent
# value -> model -> (thinkingConfig sent, whether a note is logged)
# fmt: off
TABLE: dict[object, dict[str, tuple[dict[str, object] | None, bool]]] = {
    None: {m: (N, False) for m in MODELS},
    "off": {
        FLASH: (OFF, False), LITE: (OFF, False),
        PRO: (budget(128, thoughts=False), True),
        G3_PRO: (level("LOW", thoughts=False), True),
        G31_PRO: (level("LOW", thoughts=False), True),
        G3_FLASH: (level("MINIMAL", thoughts=False), True),
        UNKNOWN: (OFF, False), OLD: (N, False),
    },
    "low": {
        FLASH: (budget(1024), False), LITE: (budget(1024), False), PRO: (budget(1024), False),
        G3_PRO: (level("LOW"), False), G31_PRO: (level("LOW"), False),
        G3_FLASH: (level("LOW"), False), UNKNOWN: (budget(1024), False), OLD: (N, True),
    },
    "medium": {
        FLASH: (budget(8192), False), LITE: (budget(8192), False), PRO: (budget(8192), False),
        G3_PRO: (level("HIGH"), True), G31_PRO: (level("MEDIUM"), False),
        G3_FLASH: (level("MEDIUM"), False), UNKNOWN: (budget(8192), False), OLD: (N, True),
    },
    "high": {
        FLASH: (budget(24576), False), LITE: (budget(24576), False),
        PRO: (budget(24576), False),
        G3_PRO: (level("HIGH"), False), G31_PRO: (level("HIGH"), False),
        G3_FLASH: (level("HIGH"), False), UNKNOWN: (budget(24576), False), OLD: (N, True),
    },
    0: {
        FLASH: (OFF, False), LITE: (OFF, False),
        PRO: (budget(128, thoughts=False), True),
        G3_PRO: (level("LOW", thoughts=False), True),
        G31_PRO: (level("LOW", thoughts=False), True),
        G3_FLASH: (level("MINIMAL", thoughts=False), True),
        UNKNOWN: (OFF, False), OLD: (N, False),
    },
    500: {
        FLASH: (budget(500), False), LITE: (budget(512), True), PRO: (budget(500), False),
        G3_PRO: (level("LOW"), True), G31_PRO: (level("LOW"), True),
        G3_FLASH: (level("LOW"), True), UNKNOWN: (budget(500), False), OLD: (N, True),
    },
    5000: {
        FLASH: (budget(5000), False), LITE: (budget(5000), False), PRO: (budget(5000), False),
        # 5000 is a shade nearer 1024 than 24576 (x4.88 against x4.92)
        G3_PRO: (level("LOW"), True), G31_PRO: (level("MEDIUM"), True),
        G3_FLASH: (level("MEDIUM"), True), UNKNOWN: (budget(5000), False), OLD: (N, True),
    },
    30000: {
        FLASH: (budget(24576), True), LITE: (budget(24576), True), PRO: (budget(30000), False),
        G3_PRO: (level("HIGH"), True), G31_PRO: (level("HIGH"), True),
        G3_FLASH: (level("HIGH"), True), UNKNOWN: (budget(30000), False), OLD: (N, True),
    },
}
# fmt: on

_serial = itertools.count()


def unique(model: str) -> str:
    """The model id with a suffix of its own (as a dated preview has), so that the notes, said
    once per driver and model for the whole process, are fresh for each test."""
    return f"{model}-t{next(_serial)}"


def sent_thinking(request) -> dict[str, object] | None:
    """The ``thinkingConfig`` of a recorded request, its keys in camelCase.

    google-genai 3.x writes this object's keys in snake_case (``thinking_budget``); Google's
    JSON parser takes either spelling of a field name, so the spelling is not checked.
    """
    sent = (request.json.get("generationConfig") or {}).get("thinkingConfig")
    if sent is None:
        return None
    return {re.sub(r"_(\w)", lambda m: m.group(1).upper(), k): v for k, v in sent.items()}


def notes(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == NOTES]


def done() -> object:
    return stream_reply(chunk([text("Done.")], finish="STOP", usage=USAGE))


def test_the_table_covers_every_value_and_model():
    assert set(TABLE) == set(VALUES)
    assert all(set(row) == set(MODELS) for row in TABLE.values())


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_reasoning_on_the_wire(value, model, server, make_driver, caplog):
    caplog.set_level(logging.INFO, logger=NOTES)
    wire, noted = TABLE[value][model]
    name = unique(model)
    assert family_of(name) == family_of(model)  # the suffix keeps the family
    driver = make_driver(model=name)
    server.enqueue(done(), done())
    for _ in range(2):  # the same value twice: the note, if any, once
        assert text_of(finish(driver.stream_generate("hi", reasoning=value))) == "Done."
    for request in server.requests:
        assert sent_thinking(request) == wire
    said = notes(caplog)
    assert len(said) == (1 if noted else 0), said
    if noted:
        assert f"reasoning={value!r}" in said[0]
        assert f"model {name}" in said[0]


@pytest.mark.parametrize("model", [FLASH, PRO, G3_PRO, G3_FLASH, UNKNOWN])
@pytest.mark.parametrize(
    ("options", "wire"),
    [
        ({"thinking_config": {"thinking_budget": 77}}, {"thinkingBudget": 77}),
        ({"thinking_config": {"include_thoughts": False}}, {"includeThoughts": False}),
        ({"thinking_level": "LOW"}, {"thinkingLevel": "LOW"}),
        ({"thinking_budget": 0}, {"thinkingBudget": 0}),
        ({"include_thoughts": True}, {"includeThoughts": True}),
    ],
)
def test_thinking_options_passed_by_hand_win(options, wire, model, server, make_driver, caplog):
    caplog.set_level(logging.INFO, logger=NOTES)
    name = unique(model)
    driver = make_driver(model=name)
    server.enqueue(done(), done())
    for _ in range(2):
        finish(driver.stream_generate("hi", reasoning="high", **options))
    assert [sent_thinking(r) for r in server.requests] == [wire, wire]
    (said,) = notes(caplog)
    assert "reasoning='high' not applied" in said
    assert "by hand" in said


def test_hand_options_without_reasoning_say_nothing(server, make_driver, caplog):
    caplog.set_level(logging.INFO, logger=NOTES)
    server.enqueue(done())
    finish(make_driver(model=unique(PRO)).stream_generate("hi", thinking_budget=256))
    assert sent_thinking(server.requests[0]) == {"thinkingBudget": 256}
    assert notes(caplog) == []


def test_thoughts_asked_for_stream_as_reasoning(server, make_driver):
    server.enqueue(
        stream_reply(
            chunk([text("Weighing it up.", thought=True)]),
            chunk(
                [text("Yes.")],
                finish="STOP",
                usage={
                    "promptTokenCount": 3,
                    "candidatesTokenCount": 1,
                    "thoughtsTokenCount": 6,
                    "totalTokenCount": 10,
                },
            ),
        )
    )
    events = finish(make_driver(model=FLASH).stream_generate("Sure?", reasoning="low"))
    assert sent_thinking(server.requests[0]) == budget(1024)
    assert [e.reasoning_part for e in events_of(events, ev.ReasoningPartFound)] == [
        "Weighing it up."
    ]
    assert text_of(events) == "Yes."
    assert finished_event(events).usage == Usage(
        input_tokens=3, output_tokens=7, total_tokens=10, reasoning_tokens=6
    )


@pytest.mark.parametrize(
    ("model", "family"),
    [
        ("gemini-2.5-flash", "Gemini 2.5 Flash"),
        ("models/gemini-2.5-flash-preview-09-2025", "Gemini 2.5 Flash"),
        ("gemini-2.5-flash-lite", "Gemini 2.5 Flash-Lite"),
        ("gemini-2.5-flash-lite-preview-06-17", "Gemini 2.5 Flash-Lite"),
        ("Gemini-2.5-Pro", "Gemini 2.5 Pro"),
        ("gemini-2.5-pro-preview-05-06", "Gemini 2.5 Pro"),
        ("gemini-2.5-computer-use-preview-10-2025", "Gemini 2.5 (other)"),
        ("gemini-3-pro-preview", "Gemini 3 Pro"),
        ("gemini-3-pro-image-preview", "Gemini 3 Pro"),
        ("gemini-3.1-pro-preview", "Gemini 3.1+ Pro"),
        ("gemini-3-flash-preview", "Gemini 3+ Flash"),
        ("gemini-3.1-flash-lite-preview", "Gemini 3+ Flash"),
        ("gemini-4-flash", "Gemini 3+ Flash"),
        ("gemini-2.0-flash", "Gemini 2.0 and older"),
        ("gemini-2.0-flash-lite-001", "Gemini 2.0 and older"),
        ("gemini-1.5-pro", "Gemini 2.0 and older"),
        ("gemini-flash-latest", "unknown"),
        ("gemini-exp-1206", "unknown"),
        ("gemma-3-27b-it", "unknown"),
        ("tunedModels/my-model-1234", "unknown"),
    ],
)
def test_families_by_model_name(model, family):
    assert family_of(model).name == family
