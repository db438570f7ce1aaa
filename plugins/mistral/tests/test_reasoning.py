"""``reasoning=`` → ``reasoning_effort``: the request body as the loopback server recorded it,
sent by the real ``mistralai`` SDK, for every value on each kind of model."""

from __future__ import annotations

import logging

import pytest
from janito_driver_mistral.reasoning import efforts_for
from mistral_wire import chunk, stream_reply

from janito_core import reasoning as core_reasoning
from janito_core.testing.server import Reply

NOTES = "janito_driver_mistral.reasoning"
VALUES = (None, "off", "low", "medium", "high", 0, 5000)
# What goes on the wire for each value; the values not honoured as asked are noted once.
TWO_LEVEL = {
    None: None,
    "off": "none",
    "low": "high",
    "medium": "high",
    "high": "high",
    0: "none",
    5000: "high",  # nearest effort "medium", which these models do not take
}
THREE_LEVEL = {
    None: None,
    "off": "low",  # cannot be turned off: the least effort
    "low": "low",
    "medium": "medium",
    "high": "high",
    0: "low",
    5000: "medium",
}
HONOURED_AS_ASKED = {None, "off", "high"}


@pytest.fixture(autouse=True)
def fresh_notes(monkeypatch: pytest.MonkeyPatch) -> None:
    # Notes are said once per process; each test starts from none said.
    monkeypatch.setattr(core_reasoning, "_noted", set())


def done_reply() -> Reply:
    usage = {"prompt_tokens": 5, "total_tokens": 7, "completion_tokens": 2}
    return stream_reply([chunk({"content": "ok"}, finish_reason="stop", usage=usage)])


def send(server, make_driver, run, model, times=1, **call):
    """Run ``times`` generations on ``model``; the request bodies the server received."""
    driver = make_driver(model=model)
    for _ in range(times):
        server.enqueue(done_reply())
        events = run(driver.stream_generate("How far is the moon?", **call))
        assert events[-1].status == "completed"
    return [request.json for request in server.requests]


def notes(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == NOTES]


@pytest.fixture
def baseline(server, make_driver, run) -> set[str]:
    """The fields the SDK sends for a request without ``reasoning=``."""
    (body,) = send(server, make_driver, run, "mistral-small-latest")
    server.reset()
    return set(body)


@pytest.mark.parametrize("model", ["magistral-medium-latest", "mistral-small-latest"])
@pytest.mark.parametrize("value", VALUES)
def test_each_value_on_a_reasoning_model(server, make_driver, run, caplog, baseline, model, value):
    with caplog.at_level(logging.INFO, logger=NOTES):
        bodies = send(server, make_driver, run, model, times=2, reasoning=value)
    expected = TWO_LEVEL[value]
    for body in bodies:
        extra = set(body) - baseline
        if expected is None:
            assert extra == set()
        else:
            assert extra == {"reasoning_effort"}
            assert body["reasoning_effort"] == expected
        assert "prompt_mode" not in body
    said = notes(caplog)
    if value in HONOURED_AS_ASKED:
        assert said == []
    else:
        # Once for two requests, naming the value, what was sent and the model.
        (note,) = said
        assert f"reasoning={value!r}" in note and f"reasoning_effort={expected!r}" in note
        assert f"model {model}" in note


@pytest.mark.parametrize("value", VALUES)
def test_each_value_on_mistral_large_4(server, make_driver, run, caplog, baseline, value):
    with caplog.at_level(logging.INFO, logger=NOTES):
        (body,) = send(server, make_driver, run, "mistral-large-4", reasoning=value)
    expected = THREE_LEVEL[value]
    assert body.get("reasoning_effort", None) == expected
    assert set(body) - baseline == (set() if expected is None else {"reasoning_effort"})
    said = notes(caplog)
    assert len(said) == (0 if value in (None, "low", "medium", "high") else 1)
    if value in ("off", 0):
        assert "cannot be turned off" in said[0]


@pytest.mark.parametrize("model", ["mistral-large-latest", "codestral-latest", "zai-glm-5-2"])
@pytest.mark.parametrize("value", VALUES)
def test_a_model_without_a_reasoning_setting_gets_none(
    server, make_driver, run, caplog, baseline, model, value
):
    # Mistral answers 400 to reasoning_effort on these models: nothing is sent, and said once.
    with caplog.at_level(logging.INFO, logger=NOTES):
        bodies = send(server, make_driver, run, model, times=2, reasoning=value)
    for body in bodies:
        assert set(body) - baseline == set()
    said = notes(caplog)
    if value is None:
        assert said == []
    else:
        (note,) = said
        assert "not sent" in note and "reasoning_effort= by hand" in note


@pytest.mark.parametrize("model", ["magistral-medium-latest", "mistral-small-latest"])
@pytest.mark.parametrize(
    ("option", "wire"),
    [
        ({"reasoning_effort": "none"}, {"reasoning_effort": "none"}),
        ({"reasoning_effort": "high"}, {"reasoning_effort": "high"}),
        ({"prompt_mode": "reasoning"}, {"prompt_mode": "reasoning"}),
    ],
)
@pytest.mark.parametrize("value", ["off", "low", "high", 5000])
def test_an_option_passed_by_hand_wins(
    server, make_driver, run, caplog, baseline, model, option, wire, value
):
    with caplog.at_level(logging.INFO, logger=NOTES):
        bodies = send(server, make_driver, run, model, times=2, reasoning=value, **option)
    for body in bodies:
        assert set(body) - baseline == set(wire)
        assert {name: body[name] for name in wire} == wire
    (note,) = notes(caplog)
    assert f"the {next(iter(option))} passed by hand wins" in note


def test_an_option_passed_by_hand_without_reasoning_is_sent_as_is(
    server, make_driver, run, caplog, baseline
):
    with caplog.at_level(logging.INFO, logger=NOTES):
        (body,) = send(server, make_driver, run, "mistral-large-latest", reasoning_effort="low")
    assert body["reasoning_effort"] == "low"
    assert notes(caplog) == []


def test_notes_are_said_per_model(server, make_driver, run, caplog):
    with caplog.at_level(logging.INFO, logger=NOTES):
        for model in ("mistral-small-latest", "magistral-small-latest", "mistral-small-latest"):
            send(server, make_driver, run, model, reasoning="low")
    said = notes(caplog)
    assert len(said) == 2
    assert "model mistral-small-latest" in said[0] and "model magistral-small-latest" in said[1]


@pytest.mark.parametrize(
    ("model", "efforts"),
    [
        ("mistral-small-latest", ("none", "high")),
        ("mistral-small-2603", ("none", "high")),
        ("mistral-small-4-0-26-03", ("none", "high")),
        ("mistral-medium-latest", ("none", "high")),
        ("mistral-medium-2604", ("none", "high")),
        ("mistral-medium-3-5", ("none", "high")),
        ("magistral-medium-latest", ("none", "high")),
        ("magistral-small-2509", ("none", "high")),
        ("Mistral-Small-Latest", ("none", "high")),
        ("mistral-large-4", ("low", "medium", "high")),
        ("mistral-large-4-0", ("low", "medium", "high")),
        # Older or non-reasoning models.
        ("mistral-small-2506", None),
        ("mistral-small-2503", None),
        ("mistral-medium-2508", None),
        ("mistral-small-40", None),
        ("mistral-large-latest", None),
        ("mistral-large-2512", None),
        ("ministral-8b-latest", None),
        ("codestral-latest", None),
        ("devstral-medium-latest", None),
        ("mistral-tiny", None),
    ],
)
def test_which_models_take_which_efforts(model, efforts):
    assert efforts_for(model) == efforts
