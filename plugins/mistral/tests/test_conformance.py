"""The shared driver conformance suite, run against the Mistral driver over Mistral's wire."""

from __future__ import annotations

from mistral_wire import MistralWireAdapter

from janito_core.testing.conformance import DriverConformanceTests


class TestMistralConformance(DriverConformanceTests):
    adapter = MistralWireAdapter()
