"""``reasoning=`` on the wire, both APIs, through the real SDK to the loopback server: the
effort each value and model family is sent as, the option passed by hand that wins over it,
and the mapping said once in the log."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from janito_driver_openai.driver import OpenAIDriver
from janito_driver_openai.effort import DEFAULT, family_of, plan
from openai_wire import ChatWireAdapter, ResponsesWireAdapter

from janito_core import events as ev
from janito_core.errors import InvalidRequestError
from janito_core.harness import EventStream
from janito_core.testing import finished_event
from janito_core.testing.scenario import Scenario, Text
from janito_core.testing.server import WireServer

Run = Callable[[EventStream], list[ev.Event]]
Make = Callable[..., OpenAIDriver]

LOGGER = "janito_driver_openai"
# Each value of reasoning= and the effort it is sent as to a model that takes them all
# (gpt-5.1 and later; also any model the driver does not know). None: nothing is sent.
VALUES: list[tuple[str | int | None, str | None]] = [
    (None, None),
    ("off", "none"),
    ("low", "low"),
    ("medium", "medium"),
    ("high", "high"),
    (0, "none"),
    (500, "low"),
    (5000, "medium"),
    (30000, "high"),
]


def body_of(
    server: WireServer, make_driver: Make, run: Run, api: str, model: str, **call: Any
) -> dict[str, Any]:
    """The body the server recorded for one generation of ``model`` with ``call``'s keywords."""
    adapter = ChatWireAdapter() if api == "chat" else ResponsesWireAdapter()
    server.enqueue(adapter.reply(Scenario(steps=(Text("done"),))))
    events = run(make_driver(api=api, model=model).stream_generate("Q", **call))
    assert finished_event(events).status == "completed"
    body = server.requests[-1].json
    assert isinstance(body, dict)
    return body


def reasoning_fields(body: dict[str, Any]) -> dict[str, Any]:
    """The fields of a request body that say anything about reasoning."""
    return {k: v for k, v in body.items() if "reasoning" in k}


@pytest.mark.parametrize(("value", "effort"), VALUES)
def test_each_value_on_chat(
    server: WireServer, make_driver: Make, run: Run, value: str | int | None, effort: str | None
) -> None:
    body = body_of(server, make_driver, run, "chat", "gpt-5.2", reasoning=value)
    expected = {} if effort is None else {"reasoning_effort": effort}
    assert reasoning_fields(body) == expected


@pytest.mark.parametrize(("value", "effort"), VALUES)
def test_each_value_on_responses(
    server: WireServer, make_driver: Make, run: Run, value: str | int | None, effort: str | None
) -> None:
    body = body_of(server, make_driver, run, "responses", "gpt-5.2", reasoning=value)
    if effort is None:
        assert reasoning_fields(body) == {}
    elif value in ("off", 0):
        # Thinking off: no summary to ask for.
        assert reasoning_fields(body) == {"reasoning": {"effort": "none"}}
    else:
        # A summary, so the reasoning streams as ReasoningPartFound.
        assert reasoning_fields(body) == {"reasoning": {"effort": effort, "summary": "auto"}}


@pytest.mark.parametrize(
    ("model", "value", "effort", "note"),
    [
        ("gpt-5.1", "off", "none", None),
        ("gpt-5.2-2025-12-11", "high", "high", None),
        ("my-local-model", "off", "none", None),
        ("deepseek-reasoner", "low", "low", None),
        ("gpt-5", "off", "minimal", "gpt-5 cannot turn reasoning fully off"),
        ("gpt-5-mini-2025-08-07", "medium", "medium", None),
        ("gpt-5-nano", 0, "minimal", "gpt-5-nano cannot turn reasoning fully off"),
        ("openai/gpt-5-mini", "off", "minimal", "openai/gpt-5-mini cannot turn reasoning"),
        ("o3", "off", "low", "o3 cannot turn reasoning fully off"),
        ("o4-mini-2025-04-16", "off", "low", "cannot turn reasoning fully off"),
        ("o1-pro", "off", "low", "cannot turn reasoning fully off"),
        ("gpt-5.1-codex-mini", "off", "low", "cannot turn reasoning fully off"),
        ("codex-mini-latest", "off", "low", "cannot turn reasoning fully off"),
        ("gpt-oss-120b", "off", "low", "cannot turn reasoning fully off"),
        ("openai.gpt-oss-20b", "high", "high", None),
        ("gpt-5-pro", "low", "high", "sent as effort 'high': the nearest effort gpt-5-pro takes"),
        ("gpt-5.2-pro", "off", "medium", "cannot turn reasoning fully off"),
        ("gpt-5.2-pro", "low", "medium", "the nearest effort gpt-5.2-pro takes"),
        ("gpt-5.1-chat-latest", "high", "medium", "the nearest effort"),
        ("gpt-4o", "off", None, None),
        ("gpt-4o-mini", "high", None, "reasoning='high' not sent: gpt-4o-mini does not reason"),
        ("gpt-4.1", 5000, None, "does not reason"),
        ("gpt-5-chat-latest", "low", None, "does not reason"),
        ("o1-mini", "low", None, "reasoning='low' not sent: o1-mini takes no setting"),
        ("o1-preview", "off", None, "cannot turn reasoning off and takes no setting"),
        (
            "gpt-5.2",
            5000,
            "medium",
            "reasoning=5000 sent as effort 'medium': OpenAI takes an effort, not a number of "
            "thinking tokens",
        ),
        (
            "gpt-5",
            30000,
            "high",
            "reasoning=30000 sent as effort 'high': OpenAI takes an effort",
        ),
        ("gpt-5", 0, "minimal", "reasoning=0 sent as effort 'minimal': gpt-5 cannot turn"),
        ("gpt-5.2", 0, "none", None),  # 0 is exactly off: nothing to say
        ("o3", 500, "low", "not a number of thinking tokens"),
    ],
)
def test_model_families(model: str, value: str | int, effort: str | None, note: str | None) -> None:
    decided = plan(model, value)
    assert decided.effort == effort
    if note is None:
        assert decided.note is None
    else:
        assert decided.note is not None and note in decided.note


def test_unknown_names_get_the_newest_rules_and_none_sends_nothing() -> None:
    assert family_of("qwen3:8b") is DEFAULT
    assert family_of("GPT-5.5") is DEFAULT
    assert plan("gpt-4o", None).effort is None and plan("gpt-4o", None).note is None
    with pytest.raises(InvalidRequestError):
        plan("gpt-5", "max")


@pytest.mark.parametrize(
    ("model", "value", "effort"),
    [("gpt-5-mini", "off", "minimal"), ("o4-mini", "off", "low"), ("gpt-5-pro", "low", "high")],
)
def test_a_family_s_effort_on_the_wire(
    server: WireServer,
    adapter: ChatWireAdapter,
    make_driver: Make,
    run: Run,
    model: str,
    value: str,
    effort: str,
) -> None:
    body = body_of(server, make_driver, run, adapter.api, model, reasoning=value)
    if adapter.api == "chat":
        assert reasoning_fields(body) == {"reasoning_effort": effort}
    else:
        wanted = {"effort": effort} if value == "off" else {"effort": effort, "summary": "auto"}
        assert reasoning_fields(body) == {"reasoning": wanted}


def test_a_model_without_reasoning_gets_no_field(
    server: WireServer, adapter: ChatWireAdapter, make_driver: Make, run: Run
) -> None:
    # gpt-4o refuses reasoning_effort / reasoning.effort with a 400: nothing is sent.
    for value in ("off", "high", 5000):
        body = body_of(server, make_driver, run, adapter.api, "gpt-4o", reasoning=value)
        assert reasoning_fields(body) == {}


def test_the_mapping_is_logged_once(
    server: WireServer,
    adapter: ChatWireAdapter,
    make_driver: Make,
    run: Run,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A model name of this test's own: the log says a mapping once per driver and model.
    model = f"gpt-5-mini-{uuid.uuid4().hex[:8]}"
    with caplog.at_level(logging.INFO, logger=LOGGER):
        for _ in range(3):
            body_of(server, make_driver, run, adapter.api, model, reasoning="off")
        body_of(server, make_driver, run, adapter.api, model, reasoning=5000)
    notes = [r.getMessage() for r in caplog.records if r.name.startswith(LOGGER)]
    assert notes == [
        f"reasoning='off' sent as effort 'minimal': {model} cannot turn reasoning fully off "
        f"(driver openai, model {model})",
        "reasoning=5000 sent as effort 'medium': OpenAI takes an effort, not a number of "
        f"thinking tokens (driver openai, model {model})",
    ]
    efforts = [
        body.get("reasoning_effort") or body["reasoning"]["effort"]
        for body in (record.json for record in server.requests)
    ]
    assert efforts == ["minimal", "minimal", "minimal", "medium"]


def test_nothing_is_logged_for_a_value_honoured_as_asked(
    server: WireServer,
    adapter: ChatWireAdapter,
    make_driver: Make,
    run: Run,
    caplog: pytest.LogCaptureFixture,
) -> None:
    model = f"gpt-5.9-{uuid.uuid4().hex[:8]}"
    with caplog.at_level(logging.INFO, logger=LOGGER):
        for value in ("off", "low", "medium", "high", 0):
            body_of(server, make_driver, run, adapter.api, model, reasoning=value)
    assert [r for r in caplog.records if r.name.startswith(LOGGER)] == []


# -- an option passed by hand wins --------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"reasoning_effort": "low"}, {"reasoning_effort": "low"}),
        ({"reasoning_effort": "xhigh"}, {"reasoning_effort": "xhigh"}),
        ({"extra_body": {"reasoning_effort": "minimal"}}, {"reasoning_effort": "minimal"}),
        # OpenRouter's object form
        ({"extra_body": {"reasoning": {"max_tokens": 2000}}}, {"reasoning": {"max_tokens": 2000}}),
    ],
)
def test_a_chat_option_passed_by_hand_wins(
    server: WireServer,
    make_driver: Make,
    run: Run,
    caplog: pytest.LogCaptureFixture,
    options: dict[str, Any],
    expected: dict[str, Any],
) -> None:
    # gpt-4o would have been noted as not reasoning: the setting is not even looked at.
    with caplog.at_level(logging.INFO, logger=LOGGER):
        body = body_of(server, make_driver, run, "chat", "gpt-4o", reasoning="high", **options)
    assert reasoning_fields(body) == expected
    assert [r for r in caplog.records if r.name.startswith(LOGGER)] == []


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"reasoning_effort": "low"}, {"effort": "low"}),
        ({"extra_body": {"reasoning": {"effort": "medium"}}}, {"effort": "medium"}),
        ({"extra_body": {"reasoning_effort": "minimal"}}, None),
    ],
)
def test_a_responses_option_passed_by_hand_wins(
    server: WireServer,
    make_driver: Make,
    run: Run,
    options: dict[str, Any],
    expected: dict[str, Any] | None,
) -> None:
    body = body_of(server, make_driver, run, "responses", "gpt-5", reasoning="high", **options)
    if expected is None:  # sent as the caller wrote it
        assert reasoning_fields(body) == {"reasoning_effort": "minimal"}
    else:
        assert reasoning_fields(body) == {"reasoning": expected}


def test_a_reasoning_object_set_on_the_driver_wins(
    server: WireServer, adapter: ChatWireAdapter, make_driver: Make, run: Run
) -> None:
    # Per call, reasoning= is the neutral setting; the provider's own object can be set on the
    # driver (here without a summary, for an organisation not verified for summaries).
    server.enqueue(adapter.reply(Scenario(steps=(Text("done"),))))
    driver = make_driver(api=adapter.api, model="gpt-5", reasoning={"effort": "low"})
    run(driver.stream_generate("Q", reasoning="high"))
    body = server.requests[0].json
    assert reasoning_fields(body) == {"reasoning": {"effort": "low"}}


def test_the_recorded_requests_carry_what_the_driver_sends(
    server: WireServer, make_driver: Make, run: Run
) -> None:
    # Real requests that asked for reasoning as the driver does, recorded by others: the
    # driver's body for the same setting carries the same fields.
    from janito_core.testing.cassettes import load_cassette

    for name, api, value in (
        ("rw_openai_responses_11_gpt5_reasoning_stream", "responses", "medium"),
        ("rw_openai_chat_e5_404_azure_deployment", "chat", "low"),
    ):
        recorded = load_cassette(name).request_json()
        body = body_of(server, make_driver, run, api, recorded["model"], reasoning=value)
        key = "reasoning" if api == "responses" else "reasoning_effort"
        assert body[key] == recorded[key], name
