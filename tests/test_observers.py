"""Observers: per-generation ones given in code, and plugins' ``observe_event`` hooks."""

from __future__ import annotations

import logging
import sys
import types
from collections.abc import Iterator
from importlib import metadata

import pytest

from janito_core import events as ev
from janito_core import hookimpl, registry
from janito_core.parts import FinishPart, TextPart, ToolCallPart
from janito_core.registry import Registry
from janito_core.testing import Delay, ScriptedDriver, Stall, validate_events
from janito_core.tools import Tool

pytestmark = pytest.mark.usefixtures("no_leaked_threads")


def lookup(key: str) -> str:
    """Look a key up."""
    return f"value of {key}"


def script() -> list[list[object]]:
    return [
        [
            TextPart("A"),
            ToolCallPart(id="c1", name="lookup", arguments='{"key": "k"}'),
            FinishPart("tool_calls"),
        ],
        [TextPart("B"), FinishPart("stop")],
    ]


def test_an_observer_sees_exactly_the_stream_in_order() -> None:
    seen: list[ev.Event] = []
    stream = ScriptedDriver(script()).stream_generate(  # type: ignore[arg-type]
        "hi", tools=[Tool.from_function(lookup)], observers=[seen.append]
    )
    events = list(stream)
    assert stream.join(5.0)
    validate_events(events)
    assert seen == events


def test_an_observer_sees_the_closing_events_of_a_cancel() -> None:
    driver = ScriptedDriver([[TextPart("a"), Stall()]])
    seen: list[ev.Event] = []
    stream = driver.stream_generate("hi", observers=[seen.append])
    events = []
    for event in stream:
        events.append(event)
        if isinstance(event, ev.ContentPartFound):
            assert driver.stalled.wait(5.0)
            stream.cancel()
    assert stream.join(5.0)
    assert seen == events
    assert isinstance(seen[-1], ev.GenerationFinished) and seen[-1].status == "cancelled"


def test_an_observer_that_cancels_keeps_every_observer_in_order() -> None:
    driver = ScriptedDriver([[Delay(0.01), TextPart("a"), TextPart("b"), FinishPart("stop")]])
    holder: list[object] = []

    def cancel_on_text(event: ev.Event) -> None:
        if isinstance(event, ev.ContentPartFound):
            holder[0].cancel()  # type: ignore[attr-defined]

    after: list[ev.Event] = []
    stream = driver.stream_generate("hi", observers=[cancel_on_text, after.append])
    holder.append(stream)
    events = list(stream)
    assert stream.join(5.0)
    validate_events(events)
    # The later observer saw the text before the closing events the cancel produced.
    assert after == events
    assert isinstance(events[-1], ev.GenerationFinished) and events[-1].status == "cancelled"


def test_a_raising_observer_is_logged_and_detached(caplog: pytest.LogCaptureFixture) -> None:
    calls: list[ev.Event] = []

    def broken(event: ev.Event) -> None:
        calls.append(event)
        raise RuntimeError("observer bug")

    seen: list[ev.Event] = []
    driver = ScriptedDriver([[TextPart("a"), TextPart("b"), FinishPart("stop")]])
    with caplog.at_level(logging.ERROR, logger="janito_core.harness"):
        result = driver.stream_generate("hi", observers=[broken, seen.append]).result()
    assert result.status == "completed" and result.text == "ab"
    assert len(calls) == 1, "a detached observer must not be called again"
    assert seen == list(result.events)
    assert any("observer bug" in (r.exc_text or "") for r in caplog.records)
    assert any("detached" in r.getMessage() for r in caplog.records)


def test_observers_must_be_callables() -> None:
    from janito_core import InvalidRequestError

    with pytest.raises(InvalidRequestError):
        ScriptedDriver().stream_generate("hi", observers=["not callable"])  # type: ignore[list-item]


# -- plugins ------------------------------------------------------------------------------------

WATCHER = "janito_test_observer_plugin"


@pytest.fixture
def watcher_plugin(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[ev.Event]]:
    """A plugin module implementing ``observe_event``, installed as the process's registry."""
    seen: list[ev.Event] = []
    module = types.ModuleType(WATCHER)

    @hookimpl
    def observe_event(event: ev.Event) -> None:
        seen.append(event)

    module.observe_event = observe_event  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, WATCHER, module)
    entry_point = metadata.EntryPoint(name="watcher", value=WATCHER, group="janito.plugins")
    monkeypatch.setattr(registry, "_default", Registry([entry_point]))
    yield seen
    registry.reload_plugins()


def test_a_plugin_observer_sees_every_generation(watcher_plugin: list[ev.Event]) -> None:
    first = ScriptedDriver([[TextPart("a")]]).stream_generate("hi").result()
    second = ScriptedDriver([[TextPart("b")]]).stream_generate("hi").result()
    assert watcher_plugin == [*first.events, *second.events]


def test_plugin_observers_see_each_event_before_the_generation_s_own(
    watcher_plugin: list[ev.Event],
) -> None:
    plugin_saw_it_first: list[bool] = []

    def mine(event: ev.Event) -> None:
        plugin_saw_it_first.append(bool(watcher_plugin) and watcher_plugin[-1] is event)

    result = ScriptedDriver([[TextPart("a")]]).stream_generate("hi", observers=[mine]).result()
    assert plugin_saw_it_first == [True] * len(result.events)


def test_a_disabled_plugin_observes_nothing(
    watcher_plugin: list[ev.Event], monkeypatch: pytest.MonkeyPatch
) -> None:
    entry_point = metadata.EntryPoint(name="watcher", value=WATCHER, group="janito.plugins")
    monkeypatch.setenv("JANITO_DISABLE_PLUGINS", "watcher")
    monkeypatch.setattr(registry, "_default", Registry([entry_point]))
    ScriptedDriver([[TextPart("a")]]).stream_generate("hi").result()
    assert watcher_plugin == []


def _install(monkeypatch: pytest.MonkeyPatch, **modules: types.ModuleType) -> None:
    entry_points = []
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, module.__name__, module)
        entry_points.append(
            metadata.EntryPoint(name=name, value=module.__name__, group="janito.plugins")
        )
    monkeypatch.setattr(registry, "_default", Registry(entry_points))


def _plugin(name: str, **hooks: object) -> types.ModuleType:
    module = types.ModuleType(name)
    for attribute, function in hooks.items():
        setattr(module, attribute, function)
    return module


def test_plugin_observers_follow_pluggy_s_order_and_wrappers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []

    @hookimpl(trylast=True)
    def last(event: ev.Event) -> None:
        calls.append("last")

    @hookimpl(tryfirst=True)
    def first(event: ev.Event) -> None:
        calls.append("first")

    @hookimpl(wrapper=True)
    def around(event: ev.Event) -> Iterator[None]:
        calls.append("before")
        yield
        calls.append("after")

    _install(
        monkeypatch,
        a=_plugin("janito_test_last", observe_event=last),
        b=_plugin("janito_test_first", observe_event=first),
        c=_plugin("janito_test_around", observe_event=around),
    )
    try:
        ScriptedDriver([[]]).generate("hi")
    finally:
        registry.reload_plugins()
    # One event's worth: the wrapper around both, tryfirst before trylast, for every event.
    assert calls[:4] == ["before", "first", "last", "after"]
    assert len(calls) % 4 == 0 and len(calls) >= 16


def test_a_failing_plugin_observer_does_not_stop_the_others(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[ev.Event] = []

    @hookimpl(tryfirst=True)
    def broken(event: ev.Event) -> None:
        raise RuntimeError("observer bug")

    @hookimpl
    def good(event: ev.Event) -> None:
        seen.append(event)

    _install(
        monkeypatch,
        a=_plugin("janito_test_broken_observer", observe_event=broken),
        b=_plugin("janito_test_good_observer", observe_event=good),
    )
    try:
        result = ScriptedDriver([[TextPart("a")]]).generate("hi")
    finally:
        registry.reload_plugins()
    assert seen == list(result.events)
    assert result.status == "completed"
    failures = [r for r in caplog.records if "observe_event of plugin" in r.getMessage()]
    assert failures and failures[0].levelname == "ERROR"
    assert all(r.levelname == "DEBUG" for r in failures[1:])


def test_an_observer_raising_system_exit_still_lets_the_stream_close() -> None:
    def exits(event: ev.Event) -> None:
        if isinstance(event, ev.ContentPartFound):
            sys.exit(3)

    stream = ScriptedDriver([[TextPart("a"), TextPart("b")]]).stream_generate(
        "hi", observers=[exits]
    )
    events = list(stream)
    assert stream.join(5)
    validate_events(events)
    assert isinstance(events[-1], ev.GenerationFinished) and events[-1].status == "completed"
