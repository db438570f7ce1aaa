"""The testing kit: the event-order validator, a scripted driver, a loopback wire server, helpers
and fixtures for a driver's own tests, and a conformance suite for drivers. Shipped with
janito-core so plugin authors test the same way."""

from __future__ import annotations

from janito_core.testing.helpers import (
    client_threads,
    closing_drivers,
    events_of,
    finish,
    finished_event,
    kinds_of,
    reasoning_of,
    text_of,
)
from janito_core.testing.scripted import Delay, Fail, ScriptedDriver, Stall, SyncScriptedDriver
from janito_core.testing.validator import EventOrderError, event_order_problem, validate_events

__all__ = [
    "Delay",
    "EventOrderError",
    "Fail",
    "ScriptedDriver",
    "Stall",
    "SyncScriptedDriver",
    "client_threads",
    "closing_drivers",
    "event_order_problem",
    "events_of",
    "finish",
    "finished_event",
    "kinds_of",
    "reasoning_of",
    "text_of",
    "validate_events",
]
