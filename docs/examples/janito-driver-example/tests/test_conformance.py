"""The example driver against the whole conformance suite."""

from __future__ import annotations

from wire import ExampleWireAdapter

from janito_core.testing.conformance import DriverConformanceTests


class TestExampleConformance(DriverConformanceTests):
    adapter = ExampleWireAdapter()
