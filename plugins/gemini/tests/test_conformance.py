"""The shared driver conformance suite, run against the Gemini driver and its wire adapter."""

from __future__ import annotations

from gemini_wire import GeminiWireAdapter

from janito_core.testing.conformance import DriverConformanceTests


class TestGeminiConformance(DriverConformanceTests):
    adapter = GeminiWireAdapter()
