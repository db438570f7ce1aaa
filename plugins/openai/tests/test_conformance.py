"""The shared driver conformance suite, run once per API over OpenAI's wire formats."""

from __future__ import annotations

from openai_wire import ChatWireAdapter, ResponsesWireAdapter

from janito_core.testing.conformance import DriverConformanceTests


class TestChatCompletionsConformance(DriverConformanceTests):
    adapter = ChatWireAdapter()


class TestResponsesConformance(DriverConformanceTests):
    adapter = ResponsesWireAdapter()
