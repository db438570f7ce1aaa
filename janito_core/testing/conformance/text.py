"""The standard tests of plain answers: text, reasoning, the key sent, the capabilities."""

from __future__ import annotations

from janito_core import events as ev
from janito_core.testing.conformance.base import ConformanceBase, DriverFactory
from janito_core.testing.conformance.capabilities import CAPABILITIES, REASONING
from janito_core.testing.conformance.generation import runs
from janito_core.testing.scenario import Reasoning, Scenario, Text
from janito_core.testing.server import WireServer


class TextTests(ConformanceBase):
    """A plain answer streams through whole, in order, and the key reaches the provider."""

    def test_text_streamed_in_many_parts(self, server: WireServer, driver: DriverFactory) -> None:
        pieces = [f"w{i} " for i in range(44)]
        pieces += ["naïve ", "日本語 ", "😀 ", 'a "quote" ', "back\\slash ", "new\nline"]
        self.serve(server, Scenario(steps=tuple(Text(p) for p in pieces)))
        generation = self.generate(driver())
        assert generation.text == "".join(pieces)
        assert len(generation.of(ev.ContentPartFound)) > 1, "the text arrived as one part"
        finished = generation.finished
        assert finished.status == "completed"
        assert generation.one(ev.RequestFinished).finish_reason == "stop"
        assert finished.messages[-1].role == "assistant"
        assert finished.messages[-1].content == "".join(pieces)

    def test_reasoning_then_text(self, server: WireServer, driver: DriverFactory) -> None:
        self.require(REASONING)
        steps = (Reasoning("Thinking it over."), Reasoning(" Done."), Text("42"))
        self.serve(server, Scenario(steps=steps))
        generation = self.generate(driver())
        reasoning = generation.of(ev.ReasoningPartFound)
        assert "".join(e.reasoning_part for e in reasoning) == "Thinking it over. Done."
        assert generation.text == "42"
        kinds = runs(generation.request(0))
        assert kinds.index("ReasoningPartFound") < kinds.index("ContentPartFound"), kinds
        assert generation.finished.status == "completed"

    def test_api_key_reaches_the_provider(self, server: WireServer, driver: DriverFactory) -> None:
        self.serve(server, Scenario(steps=(Text("ok"),)))
        self.generate(driver())
        (request,) = server.requests
        sent = [*request.headers.values(), request.target]
        assert any(self.adapter.api_key in value for value in sent), (
            "the API key is in no header nor the URL of the request"
        )

    def test_unsupported_names_known_capabilities(self) -> None:
        unknown = sorted(set(self.adapter.unsupported) - CAPABILITIES)
        assert not unknown, f"unknown capabilities {unknown}; known: {sorted(CAPABILITIES)}"
        blank = sorted(k for k, reason in self.adapter.unsupported.items() if not reason.strip())
        assert not blank, f"capabilities declared unsupported without a reason: {blank}"
