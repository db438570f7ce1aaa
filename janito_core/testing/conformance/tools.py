"""The standard tests of tool calls, and the sample tools they offer the model."""

from __future__ import annotations

from janito_core import events as ev
from janito_core.testing.conformance.base import ConformanceBase, DriverFactory
from janito_core.testing.conformance.capabilities import (
    INVALID_JSON_ARGUMENTS,
    PARALLEL_TOOL_CALLS,
    TEXT_AFTER_TOOL_CALL,
    USAGE,
)
from janito_core.testing.conformance.generation import runs
from janito_core.testing.scenario import Call, Scenario, Text
from janito_core.testing.server import WireServer
from janito_core.tools import Tool
from janito_core.usage import Usage


def get_weather(city: str) -> str:
    """Today's weather in a city."""
    return f"sunny in {city}"


def get_time() -> str:
    """The current time."""
    return "12:00"


def check_station(city: str) -> str:
    """Whether a city's weather station works."""
    raise RuntimeError(f"the weather station of {city} is down")


class ToolTests(ConformanceBase):
    """Tool calls run, their results and errors go back to the model, usage adds up per round."""

    def test_text_tool_call_text_keeps_order(
        self, server: WireServer, driver: DriverFactory
    ) -> None:
        self.require(TEXT_AFTER_TOOL_CALL)
        call = Call(name="get_weather", arguments='{"city": "Paris"}', id="call_1")
        first = Scenario(
            steps=(Text("Let me look. "), call, Text("One moment.")), finish_reason="tool_calls"
        )
        self.serve(server, first, Scenario(steps=(Text("It is sunny."),)))
        generation = self.generate(driver(), tools=[Tool.from_function(get_weather)])
        assert runs(generation.request(0)) == [
            "RequestStarted",
            "ContentPartFound",
            "ToolCallStarted",
            "ToolCallFinished",
            "ContentPartFound",
            "RequestFinished",
        ]
        started = generation.one(ev.ToolCallStarted)
        assert (started.name, started.arguments) == ("get_weather", {"city": "Paris"})
        assert generation.one(ev.ToolCallFinished).result == "sunny in Paris"
        assert generation.text == "Let me look. One moment.It is sunny."
        assert generation.finished.status == "completed"

    def test_two_tool_calls_in_one_response(
        self, server: WireServer, driver: DriverFactory
    ) -> None:
        self.require(PARALLEL_TOOL_CALLS)
        calls = (
            Call(name="get_weather", arguments='{"city": "Paris"}', id="call_a"),
            Call(name="get_weather", arguments='{"city": "Rome"}', id="call_b"),
        )
        self.serve(
            server,
            Scenario(steps=calls, finish_reason="tool_calls"),
            Scenario(steps=(Text("Sunny in both."),)),
        )
        generation = self.generate(driver(), tools=[Tool.from_function(get_weather)])
        started = generation.of(ev.ToolCallStarted)
        assert [e.arguments for e in started] == [{"city": "Paris"}, {"city": "Rome"}]
        assert len({e.tool_call_id for e in started}) == 2, "the two calls share an id"
        results = [e.result for e in generation.of(ev.ToolCallFinished)]
        assert results == ["sunny in Paris", "sunny in Rome"]
        assert self.adapter.tool_results(server.requests[1]) == [
            ("get_weather", "sunny in Paris"),
            ("get_weather", "sunny in Rome"),
        ]
        assert generation.finished.status == "completed"

    def test_tool_without_arguments(self, server: WireServer, driver: DriverFactory) -> None:
        self.serve(
            server,
            Scenario(steps=(Call(name="get_time", arguments="{}"),), finish_reason="tool_calls"),
            Scenario(steps=(Text("It is noon."),)),
        )
        generation = self.generate(driver(), tools=[Tool.from_function(get_time)])
        assert generation.one(ev.ToolCallStarted).arguments == {}
        assert generation.one(ev.ToolCallFinished).result == "12:00"
        assert self.adapter.tool_results(server.requests[1]) == [("get_time", "12:00")]
        assert generation.finished.status == "completed"

    def test_tool_result_sent_back(self, server: WireServer, driver: DriverFactory) -> None:
        call = Call(name="get_weather", arguments='{"city": "Oslo"}', id="call_1")
        self.serve(
            server,
            Scenario(steps=(call,), finish_reason="tool_calls"),
            Scenario(steps=(Text("Sunny in Oslo."),)),
        )
        generation = self.generate(driver(), tools=[Tool.from_function(get_weather)])
        assert len(server.requests) == 2
        assert self.adapter.tool_results(server.requests[1]) == [("get_weather", "sunny in Oslo")]
        assert generation.text == "Sunny in Oslo."
        finished = generation.finished
        assert finished.status == "completed"
        assert [m.role for m in finished.messages] == ["assistant", "tool", "assistant"]

    def test_invalid_json_arguments(self, server: WireServer, driver: DriverFactory) -> None:
        self.require(INVALID_JSON_ARGUMENTS)
        call = Call(name="get_weather", arguments='{"city": "Par', id="call_1")
        self.serve(
            server,
            Scenario(steps=(call,), finish_reason="tool_calls"),
            Scenario(steps=(Text("Sorry."),)),
        )
        generation = self.generate(driver(), tools=[Tool.from_function(get_weather)])
        error = generation.one(ev.ToolCallError)
        assert "JSON" in error.error, error.error
        assert not generation.of(ev.ToolCallFinished)
        ((name, result),) = self.adapter.tool_results(server.requests[1])
        assert name == "get_weather"
        assert error.error in result, "the error text did not go back to the model"
        assert generation.finished.status == "completed"

    def test_unknown_tool(self, server: WireServer, driver: DriverFactory) -> None:
        call = Call(name="launch_rocket", arguments="{}", id="call_1")
        self.serve(
            server,
            Scenario(steps=(call,), finish_reason="tool_calls"),
            Scenario(steps=(Text("I cannot."),)),
        )
        generation = self.generate(driver(), tools=[Tool.from_function(get_weather)])
        error = generation.one(ev.ToolCallError)
        assert error.name == "launch_rocket"
        assert "launch_rocket" in error.error, error.error
        ((name, result),) = self.adapter.tool_results(server.requests[1])
        assert name == "launch_rocket"
        assert error.error in result, "the error text did not go back to the model"
        assert generation.finished.status == "completed"

    def test_tool_that_raises(self, server: WireServer, driver: DriverFactory) -> None:
        call = Call(name="check_station", arguments='{"city": "Lima"}', id="call_1")
        self.serve(
            server,
            Scenario(steps=(call,), finish_reason="tool_calls"),
            Scenario(steps=(Text("The station is down."),)),
        )
        generation = self.generate(driver(), tools=[Tool.from_function(check_station)])
        error = generation.one(ev.ToolCallError)
        assert "the weather station of Lima is down" in error.error, error.error
        ((name, result),) = self.adapter.tool_results(server.requests[1])
        assert name == "check_station"
        assert "the weather station of Lima is down" in result
        assert generation.text == "The station is down."
        assert generation.finished.status == "completed"

    def test_usage_summed_across_rounds(self, server: WireServer, driver: DriverFactory) -> None:
        self.require(USAGE)
        first = Usage(input_tokens=11, output_tokens=7, total_tokens=18)
        second = Usage(input_tokens=25, output_tokens=3, total_tokens=28)
        call = Call(name="get_time", arguments="{}", id="call_1")
        self.serve(
            server,
            Scenario(steps=(call,), usage=first, finish_reason="tool_calls"),
            Scenario(steps=(Text("Noon."),), usage=second),
        )
        generation = self.generate(driver(), tools=[Tool.from_function(get_time)])
        assert [e.usage for e in generation.of(ev.RequestFinished)] == [first, second]
        assert generation.finished.usage == first + second
