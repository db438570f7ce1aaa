"""The example wire, spoken by the loopback server for the conformance suite."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from janito_driver_example.driver import ExampleDriver

from janito_core import LLMDriver
from janito_core.testing.conformance.capabilities import (
    AUDIO_INPUT,
    IMAGE_URL_INPUT,
    PDF_INPUT,
)
from janito_core.testing.scenario import (
    Call,
    Cut,
    Garbage,
    Reasoning,
    Scenario,
    SentFile,
    SentPart,
    Silence,
    Text,
    WireAdapter,
)
from janito_core.testing.server import Drop, RecordedRequest, Reply, Send, Stall


def _line(event: dict[str, Any], delay: float) -> Send:
    # Raw UTF-8, as real servers write it, so the driver meets U+2028 and friends unescaped.
    return Send(json.dumps(event, ensure_ascii=False) + "\n", delay=delay)


class ExampleWireAdapter(WireAdapter):
    """Neutral scenarios as example-wire responses, and requests read back for the suite."""

    # What the provider lacks, and why: the suite skips those tests, saying so. It also checks
    # that the driver's ``accepts`` agrees (a type declared here must be refused at the call).
    unsupported = {
        PDF_INPUT: "the example wire carries images only",
        AUDIO_INPUT: "the example wire carries images only",
        IMAGE_URL_INPUT: "the example server fetches no URLs; images go as bytes",
    }

    def make_driver(self, base_url: str, **config: Any) -> LLMDriver:
        config.setdefault("model", self.model)  # a test may ask for another model
        return ExampleDriver(base_url=base_url, api_key=self.api_key, **config)

    def reply(self, scenario: Scenario) -> Reply:
        if scenario.error is not None:
            headers = {}
            if scenario.error.retry_after is not None:
                headers["Retry-After"] = f"{scenario.error.retry_after:g}"
            return Reply(
                status=scenario.error.status,
                headers=headers,
                body={"error": scenario.error.message},
            )
        headers = {"Content-Type": "application/x-ndjson"}
        steps: list[Send | Stall | Drop] = []
        for number, step in enumerate(scenario.steps):
            if isinstance(step, Text):
                steps.append(_line({"type": "text", "text": step.text}, scenario.delay))
            elif isinstance(step, Reasoning):
                steps.append(_line({"type": "reasoning", "text": step.text}, scenario.delay))
            elif isinstance(step, Call):
                call = {
                    "type": "tool_call",
                    "id": step.id or f"call_{number}",
                    "name": step.name,
                    "arguments": step.arguments,
                }
                steps.append(_line(call, scenario.delay))
            elif isinstance(step, Garbage):
                steps.append(Send("{this is not json\n", delay=scenario.delay))
            elif isinstance(step, Silence):
                return Reply(headers=headers, steps=[*steps, Stall()])
            elif isinstance(step, Cut):
                return Reply(headers=headers, steps=[*steps, Drop()])
        if scenario.usage is not None:
            usage = {
                "type": "usage",
                "input_tokens": scenario.usage.input_tokens,
                "output_tokens": scenario.usage.output_tokens,
                "total_tokens": scenario.usage.total_tokens,
            }
            steps.append(_line(usage, scenario.delay))
        if scenario.end:
            steps.append(_line({"type": "end", "reason": scenario.finish_reason}, scenario.delay))
        return Reply(headers=headers, steps=steps)

    def tool_results(self, request: RecordedRequest) -> list[tuple[str, str]]:
        messages = request.json["messages"]
        return [(m["name"], m["content"]) for m in messages if m["role"] == "tool"]

    def user_turns(self, request: RecordedRequest) -> list[list[SentPart]]:
        return [
            [m["content"]] if isinstance(m["content"], str) else [_sent(p) for p in m["content"]]
            for m in request.json["messages"]
            if m["role"] == "user"
        ]

    def sent_schema(self, request: RecordedRequest) -> Mapping[str, Any] | None:
        schema: Mapping[str, Any] | None = request.json.get("response_schema")
        return schema


def _sent(part: dict[str, Any]) -> SentPart:
    if part["type"] == "text":
        return str(part["text"])
    return SentFile(media_type=part["media_type"], data=base64.b64decode(part["data"]))
