"""The testing kit: the event-order validator, a scripted driver, a loopback wire server and a
conformance suite for drivers. Shipped with janito-core so plugin authors test the same way."""

from __future__ import annotations

from janito_core.testing.scripted import Delay, Fail, ScriptedDriver, Stall
from janito_core.testing.validator import EventOrderError, event_order_problem, validate_events

__all__ = [
    "Delay",
    "EventOrderError",
    "Fail",
    "ScriptedDriver",
    "Stall",
    "event_order_problem",
    "validate_events",
]
