"""The shared driver conformance suite, run against the Anthropic driver over Anthropic's wire."""

from __future__ import annotations

from anthropic_wire import AnthropicWireAdapter

from janito_core.testing.conformance import DriverConformanceTests


class TestAnthropicConformance(DriverConformanceTests):
    adapter = AnthropicWireAdapter()
