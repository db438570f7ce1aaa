"""The standard tests of structured output: the schema goes out, answers parse or are refused."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

import pytest

from janito_core import events as ev
from janito_core.errors import InvalidRequestError, OutputError
from janito_core.structured import inline_refs
from janito_core.testing.conformance.base import ConformanceBase, DriverFactory
from janito_core.testing.conformance.capabilities import STRUCTURED_OUTPUT
from janito_core.testing.scenario import Call, Scenario, Text
from janito_core.testing.server import WireServer
from janito_core.tools import Tool


@dataclasses.dataclass
class City:
    """A city and how many people live there."""

    name: str
    population: int


CITY_SCHEMA: Mapping[str, Any] = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "population": {"type": "integer"}},
    "required": ["name", "population"],
    "additionalProperties": False,
}

PARIS = '{"name": "Paris", "population": 2102650}'


def lookup(city: str) -> str:
    """Look up a city's population."""
    return f"{city}: 2102650"


class StructuredOutputTests(ConformanceBase):
    """``output_schema=`` asks the provider for JSON of that shape and parses the answer."""

    def assert_schema_sent(self, request: Any) -> None:
        """Fail unless the recorded request carried a schema with City's two properties."""
        sent = self.adapter.sent_schema(request)
        assert sent is not None, "the request carried no output schema"
        properties = inline_refs(sent).get("properties", {})
        assert {"name", "population"} <= set(properties), f"the schema went out as {sent!r}"

    def test_a_type_is_asked_for_and_parsed(
        self, server: WireServer, driver: DriverFactory
    ) -> None:
        self.require(STRUCTURED_OUTPUT)
        self.serve(server, Scenario(steps=(Text(PARIS[:12]), Text(PARIS[12:]))))
        result = self.result(driver(), "Biggest city of France?", output_schema=City)
        assert result.output == City(name="Paris", population=2102650)
        # Streaming consumers still see the answer as text.
        parts = [e for e in result.events if isinstance(e, ev.ContentPartFound)]
        assert "".join(e.content_part for e in parts) == PARIS
        (request,) = server.requests
        self.assert_schema_sent(request)

    def test_a_schema_dict_gives_a_dict(self, server: WireServer, driver: DriverFactory) -> None:
        self.require(STRUCTURED_OUTPUT)
        self.serve(server, Scenario(steps=(Text(PARIS),)))
        result = self.result(driver(), "Biggest city of France?", output_schema=CITY_SCHEMA)
        assert result.output == json.loads(PARIS)
        (request,) = server.requests
        self.assert_schema_sent(request)

    def test_an_answer_missing_a_field_raises_output_error(
        self, server: WireServer, driver: DriverFactory
    ) -> None:
        self.require(STRUCTURED_OUTPUT)
        answer = '{"name": "Paris"}'
        self.serve(server, Scenario(steps=(Text(answer),)))
        with pytest.raises(OutputError) as caught:
            self.result(driver(), "Biggest city of France?", output_schema=City)
        assert caught.value.text == answer
        assert "population" in caught.value.reason

    def test_an_answer_that_is_not_json_raises_output_error(
        self, server: WireServer, driver: DriverFactory
    ) -> None:
        self.require(STRUCTURED_OUTPUT)
        answer = "Paris, with about two million people."
        self.serve(server, Scenario(steps=(Text(answer),)))
        with pytest.raises(OutputError) as caught:
            self.result(driver(), "Biggest city of France?", output_schema=City)
        assert caught.value.text == answer
        assert "not JSON" in caught.value.reason

    def test_the_final_answer_after_a_tool_round_is_structured(
        self, server: WireServer, driver: DriverFactory
    ) -> None:
        self.require(STRUCTURED_OUTPUT)
        self.serve(
            server,
            Scenario(steps=(Call(name="lookup", arguments='{"city": "Paris"}'),)),
            Scenario(steps=(Text(PARIS),)),
        )
        result = self.result(
            driver(),
            "Biggest city of France?",
            tools=[Tool.from_function(lookup)],
            output_schema=City,
        )
        assert result.output == City(name="Paris", population=2102650)
        assert len(server.requests) == 2
        for request in server.requests:
            self.assert_schema_sent(request)

    def test_no_schema_asks_for_none(self, server: WireServer, driver: DriverFactory) -> None:
        self.serve(server, Scenario(steps=(Text(PARIS),)))
        result = self.result(driver(), "Biggest city of France?")
        assert result.output is None
        if STRUCTURED_OUTPUT not in self.adapter.unsupported:
            (request,) = server.requests
            assert self.adapter.sent_schema(request) is None

    def test_without_structured_output_a_schema_is_refused_at_the_call(
        self, server: WireServer, driver: DriverFactory
    ) -> None:
        if STRUCTURED_OUTPUT not in self.adapter.unsupported:
            pytest.skip("the provider has structured output")
        built = driver()
        with pytest.raises(InvalidRequestError, match="output_schema"):
            built.stream_generate("Biggest city of France?", output_schema=City)
        assert not server.requests
