"""janito-otel: generations, requests and tool calls become GenAI spans, through the installed
plugin (found by its entry point), recorded with the SDK's in-memory exporter."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Sequence
from decimal import Decimal
from importlib import metadata
from typing import Any

import janito_otel
import pytest
from janito_otel import plugin
from janito_otel.spans import recorder
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from janito_core import events as ev
from janito_core.parts import FinishPart, TextPart, ToolCallPart, UsagePart
from janito_core.registry import default_registry
from janito_core.testing import Fail, ScriptedDriver, Stall, validate_events
from janito_core.tools import Tool
from janito_core.usage import Usage

SECRET = "the-secret-answer"


def lookup(key: str) -> str:
    """Look a key up."""
    return f"{SECRET} for {key}"


def broken_tool(key: str) -> str:
    """Always fails."""
    raise ValueError(f"cannot look up {key} ({SECRET})")


def wait_for_cancel(key: str, cancel_event: threading.Event) -> str:
    """Blocks until the generation is cancelled."""
    cancel_event.wait(10.0)
    return "too late"


TOOLS = [Tool.from_function(f) for f in (lookup, broken_tool, wait_for_cancel)]


def tool_loop(tool: str = "lookup") -> ScriptedDriver:
    return ScriptedDriver(
        [
            [
                TextPart("Let me look. "),
                ToolCallPart(id="c1", name=tool, arguments='{"key": "k"}'),
                UsagePart(Usage(input_tokens=10, output_tokens=5, total_tokens=15)),
                FinishPart("tool_calls"),
            ],
            [
                TextPart(SECRET),
                UsagePart(Usage(input_tokens=20, output_tokens=7, total_tokens=27)),
                FinishPart("stop"),
            ],
        ]
    )


def run(driver: ScriptedDriver, **kwargs: Any) -> list[ev.Event]:
    stream = driver.stream_generate("hi", tools=TOOLS, **kwargs)
    events = list(stream)
    assert stream.join(5.0)
    validate_events(events)
    return events


def named(spans: Sequence[ReadableSpan], prefix: str) -> list[ReadableSpan]:
    return sorted((s for s in spans if s.name.startswith(prefix)), key=lambda s: s.start_time or 0)


def parent_id(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


def span_id(span: ReadableSpan) -> int:
    assert span.context is not None
    return int(span.context.span_id)


def all_attribute_text(spans: Sequence[ReadableSpan]) -> str:
    texts = [repr(dict(s.attributes or {})) for s in spans]
    texts += [s.status.description or "" for s in spans]
    texts += [repr(dict(e.attributes or {})) for s in spans for e in s.events]
    return "\n".join(texts)


def test_the_plugin_is_installed_through_its_entry_point(provider: TracerProvider) -> None:
    entry_points = metadata.entry_points(group="janito.plugins")
    assert any(e.name == "otel" and e.value == "janito_otel.plugin" for e in entry_points)
    # The registry calls the plugins' observe_event hooks through pluggy: one observer for all.
    assert default_registry().observer() is not None
    assert any(
        impl.plugin is plugin
        for impl in default_registry().plugin_manager.hook.observe_event.get_hookimpls()
    )


def test_a_tool_loop_gives_nested_spans_with_the_genai_attributes(
    exporter: InMemorySpanExporter,
) -> None:
    events = run(tool_loop())
    spans = exporter.get_finished_spans()
    (generation,) = named(spans, "janito.generation")
    first, second = named(spans, "chat ")
    (tool,) = named(spans, "execute_tool ")
    assert len(spans) == 4

    assert generation.parent is None
    assert parent_id(first) == parent_id(second) == span_id(generation)
    assert parent_id(tool) == span_id(first)
    assert len({s.context.trace_id for s in spans if s.context}) == 1

    assert first.name == second.name == "chat scripted-1"
    assert first.kind == trace.SpanKind.CLIENT
    attrs = dict(first.attributes or {})
    assert attrs["gen_ai.operation.name"] == "chat"
    assert attrs["gen_ai.provider.name"] == "scripted"
    assert attrs["gen_ai.request.model"] == "scripted-1"
    assert attrs["gen_ai.response.finish_reasons"] == ("tool_calls",)
    assert (attrs["gen_ai.usage.input_tokens"], attrs["gen_ai.usage.output_tokens"]) == (10, 5)
    assert dict(second.attributes or {})["gen_ai.response.finish_reasons"] == ("stop",)

    assert tool.name == "execute_tool lookup"
    tool_attrs = dict(tool.attributes or {})
    assert tool_attrs["gen_ai.operation.name"] == "execute_tool"
    assert tool_attrs["gen_ai.tool.name"] == "lookup"
    assert tool_attrs["gen_ai.tool.call.id"] == "c1"

    gen_attrs = dict(generation.attributes or {})
    assert gen_attrs["gen_ai.provider.name"] == "scripted"
    assert gen_attrs["janito.generation.id"] == events[0].generation_id
    assert gen_attrs["janito.generation.status"] == "completed"
    assert (gen_attrs["gen_ai.usage.input_tokens"], gen_attrs["gen_ai.usage.output_tokens"]) == (
        30,
        12,
    )
    assert all(s.status.status_code == StatusCode.UNSET for s in spans)

    # Span times are the events' timestamps: the tool runs inside its request, inside the whole.
    assert generation.start_time == int(events[0].timestamp * 1e9)
    assert generation.end_time == int(events[-1].timestamp * 1e9)
    assert generation.start_time <= first.start_time <= tool.start_time  # type: ignore[operator]
    assert tool.end_time <= first.end_time <= second.start_time  # type: ignore[operator]
    assert second.end_time <= generation.end_time  # type: ignore[operator]


def test_the_generation_span_nests_under_the_caller_s_span(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    tracer = provider.get_tracer("the-application")
    with tracer.start_as_current_span("handle request") as outer:
        run(ScriptedDriver([[TextPart("hi")]]))
    (generation,) = named(exporter.get_finished_spans(), "janito.generation")
    assert parent_id(generation) == outer.get_span_context().span_id


def test_an_async_generation_is_traced_the_same_way(exporter: InMemorySpanExporter) -> None:
    async def main() -> None:
        result = await tool_loop().agenerate("hi", tools=TOOLS)
        assert result.status == "completed"

    asyncio.run(main())
    spans = exporter.get_finished_spans()
    assert [len(named(spans, p)) for p in ("janito.generation", "chat ", "execute_tool ")] == [
        1,
        2,
        1,
    ]


def test_a_request_error_marks_the_request_and_the_generation(
    exporter: InMemorySpanExporter,
) -> None:
    events = run(
        ScriptedDriver([[Fail(message="model not found", status_code=404, retryable=False)]])
    )
    assert isinstance(events[-1], ev.GenerationFinished) and events[-1].status == "error"
    spans = exporter.get_finished_spans()
    (request,) = named(spans, "chat ")
    (generation,) = named(spans, "janito.generation")
    for span in (request, generation):
        assert span.status.status_code == StatusCode.ERROR
        # The typed error of the failed request (RequestError.exception), not the driver's own.
        assert dict(span.attributes or {})["error.type"] == "janito_core.errors.ModelNotFoundError"
    assert request.status.description == "model not found"
    assert dict(request.attributes or {})["http.response.status_code"] == 404
    assert [e.name for e in request.events] == ["exception"]


def test_retries_are_events_on_the_request_span(exporter: InMemorySpanExporter) -> None:
    driver = ScriptedDriver(
        [[Fail(message="overloaded", status_code=503)], [TextPart("ok")]], retry_base_delay=0.001
    )
    run(driver)
    (request,) = named(exporter.get_finished_spans(), "chat ")
    (retry,) = request.events
    assert retry.name == "janito.request.retry"
    attributes = dict(retry.attributes or {})
    assert attributes.pop("delay") > 0  # type: ignore[operator]
    assert attributes == {"attempt": 1, "error": "overloaded", "status_code": 503}
    assert request.status.status_code == StatusCode.UNSET


def test_a_cancelled_generation_is_recorded_without_an_error(
    exporter: InMemorySpanExporter,
) -> None:
    driver = ScriptedDriver([[TextPart("a"), Stall()]])
    stream = driver.stream_generate("hi")
    for event in stream:
        if isinstance(event, ev.ContentPartFound):
            assert driver.stalled.wait(5.0)
            stream.cancel()
    assert stream.join(5.0)
    spans = exporter.get_finished_spans()
    (request,) = named(spans, "chat ")
    (generation,) = named(spans, "janito.generation")
    assert dict(request.attributes or {})["janito.request.status"] == "cancelled"
    assert dict(generation.attributes or {})["janito.generation.status"] == "cancelled"
    for span in (request, generation):
        assert dict(span.attributes or {})["janito.cancelled"] is True
        assert [e.name for e in span.events] == ["janito.cancelled"]
        assert span.status.status_code == StatusCode.UNSET


def test_a_tool_call_cut_short_by_a_cancel_is_recorded_as_cancelled(
    exporter: InMemorySpanExporter,
) -> None:
    stream = tool_loop("wait_for_cancel").stream_generate("hi", tools=TOOLS)
    for event in stream:
        if isinstance(event, ev.ToolCallStarted):
            stream.cancel()
    assert stream.join(5.0)
    (tool,) = named(exporter.get_finished_spans(), "execute_tool ")
    assert dict(tool.attributes or {})["janito.cancelled"] is True
    assert tool.status.status_code == StatusCode.UNSET


def test_a_failing_tool_marks_its_span_and_keeps_the_error_text_out(
    exporter: InMemorySpanExporter,
) -> None:
    run(tool_loop("broken_tool"))
    spans = exporter.get_finished_spans()
    (tool,) = named(spans, "execute_tool ")
    assert tool.status.status_code == StatusCode.ERROR
    assert dict(tool.attributes or {})["error.type"] == "tool_error"
    assert SECRET not in (tool.status.description or "")
    # The tool failed, the generation did not: the model got the error and answered.
    (generation,) = named(spans, "janito.generation")
    assert generation.status.status_code == StatusCode.UNSET


def test_content_is_not_captured_by_default(
    exporter: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(janito_otel.CAPTURE_CONTENT_VARIABLE, raising=False)
    assert not janito_otel.capture_content()
    run(tool_loop())
    run(tool_loop("broken_tool"))
    text = all_attribute_text(exporter.get_finished_spans())
    assert SECRET not in text
    assert "gen_ai.output.messages" not in text
    assert "gen_ai.tool.call.arguments" not in text


def _check_captured(spans: Sequence[ReadableSpan]) -> None:
    first, second = named(spans, "chat ")
    (tool,) = named(spans, "execute_tool ")
    output = json.loads(dict(first.attributes or {})["gen_ai.output.messages"])  # type: ignore[arg-type]
    assert output == [
        {
            "role": "assistant",
            "parts": [
                {"type": "text", "content": "Let me look. "},
                {"type": "tool_call", "id": "c1", "name": "lookup", "arguments": {"key": "k"}},
            ],
            "finish_reason": "tool_calls",
        }
    ]
    answer = json.loads(dict(second.attributes or {})["gen_ai.output.messages"])  # type: ignore[arg-type]
    assert answer[0]["parts"] == [{"type": "text", "content": SECRET}]
    tool_attrs = dict(tool.attributes or {})
    assert json.loads(tool_attrs["gen_ai.tool.call.arguments"]) == {"key": "k"}  # type: ignore[arg-type]
    assert tool_attrs["gen_ai.tool.call.result"] == f"{SECRET} for k"


def test_content_capture_switched_on_in_code(exporter: InMemorySpanExporter) -> None:
    janito_otel.set_capture_content(True)
    run(tool_loop())
    _check_captured(exporter.get_finished_spans())


def test_content_capture_switched_on_by_the_environment(
    exporter: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(janito_otel.CAPTURE_CONTENT_VARIABLE, "true")
    run(tool_loop())
    _check_captured(exporter.get_finished_spans())
    exporter.clear()
    janito_otel.set_capture_content(False)  # code wins over the environment
    run(tool_loop())
    assert SECRET not in all_attribute_text(exporter.get_finished_spans())


def test_captured_tool_errors_keep_their_text(exporter: InMemorySpanExporter) -> None:
    janito_otel.set_capture_content(True)
    run(tool_loop("broken_tool"))
    (tool,) = named(exporter.get_finished_spans(), "execute_tool ")
    assert SECRET in (tool.status.description or "")


def test_a_tool_handed_to_the_caller_is_an_event_on_the_request(
    exporter: InMemorySpanExporter,
) -> None:
    driver = ScriptedDriver([[ToolCallPart(id="c9", name="outside", arguments="{}")]])
    outside = Tool(name="outside", description="Runs elsewhere.", parameters={"type": "object"})
    stream = driver.stream_generate("hi", tools=[outside])
    validate_events(list(stream))
    assert stream.join(5.0)
    (request,) = named(exporter.get_finished_spans(), "chat ")
    (requested,) = request.events
    assert requested.name == "janito.tool_call.requested"
    assert dict(requested.attributes or {}) == {
        "gen_ai.tool.name": "outside",
        "gen_ai.tool.call.id": "c9",
    }


def test_no_state_is_left_once_generations_end(exporter: InMemorySpanExporter) -> None:
    driver = ScriptedDriver([[TextPart("a"), Stall()]])
    stream = driver.stream_generate("hi")
    assert driver.stalled.wait(5.0)
    assert recorder().open_generations() == 1
    stream.cancel()
    list(stream)
    assert stream.join(5.0)
    run(tool_loop())
    run(ScriptedDriver([[Fail(retryable=False)]]))
    assert recorder().open_generations() == 0


def test_nothing_is_kept_or_exported_without_a_tracer_provider(
    exporter: InMemorySpanExporter,
) -> None:
    janito_otel.use_tracer_provider(trace.NoOpTracerProvider())
    driver = ScriptedDriver([[TextPart("a"), Stall()]])
    stream = driver.stream_generate("hi")
    assert driver.stalled.wait(5.0)
    assert recorder().open_generations() == 0
    stream.cancel()
    events = list(stream)
    assert stream.join(5.0)
    assert isinstance(events[-1], ev.GenerationFinished)
    assert exporter.get_finished_spans() == ()


def test_a_failure_inside_the_plugin_drops_its_state_and_spares_the_generation(
    exporter: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*args: object) -> None:
        raise RuntimeError("recorder bug")

    monkeypatch.setitem(recorder()._handlers, ev.ContentPartFound, explode)
    events = run(tool_loop())
    assert isinstance(events[-1], ev.GenerationFinished) and events[-1].status == "completed"
    assert recorder().open_generations() == 0
    spans = exporter.get_finished_spans()
    assert spans and all(s.end_time is not None for s in spans)
    assert all(s.status.status_code == StatusCode.ERROR for s in spans)


# -- cost and usage ------------------------------------------------------------------------------


class PricedScript(ScriptedDriver):
    """A scripted driver the price table knows as OpenAI's."""

    name = "priced-script"
    price_provider = "openai"


def test_the_generation_span_carries_the_cost_when_it_is_known(
    exporter: InMemorySpanExporter,
) -> None:
    pytest.importorskip("genai_prices", reason="the price table needs Python >= 3.11")
    usage = Usage(input_tokens=2_000, cached_input_tokens=1_000, output_tokens=100)
    driver = PricedScript(
        [[TextPart("hi"), UsagePart(usage), FinishPart("stop")]], model="gpt-4o-mini"
    )
    events = run(driver)
    finished = events[-1]
    assert isinstance(finished, ev.GenerationFinished) and finished.cost is not None
    # genai-prices: gpt-4o-mini 0.15 input, 0.075 cache read, 0.6 output USD per million.
    assert finished.cost * 10**6 == 1_000 * Decimal("0.15") + 1_000 * Decimal("0.075") + 60
    spans = exporter.get_finished_spans()
    (generation,) = named(spans, "janito.generation")
    (request,) = named(spans, "chat ")
    assert dict(generation.attributes or {})["janito.usage.cost"] == float(finished.cost)
    # The cost is the generation's: a request span does not repeat it.
    assert "janito.usage.cost" not in dict(request.attributes or {})


def test_no_cost_attribute_when_the_cost_is_unknown(exporter: InMemorySpanExporter) -> None:
    events = run(tool_loop())  # the scripted driver needs no key: it is not priced
    assert isinstance(events[-1], ev.GenerationFinished) and events[-1].cost is None
    (generation,) = named(exporter.get_finished_spans(), "janito.generation")
    assert "janito.usage.cost" not in dict(generation.attributes or {})


def test_cache_writes_are_recorded_and_unreported_usage_is_not_written_as_zeros(
    exporter: InMemorySpanExporter,
) -> None:
    usage = Usage(
        input_tokens=900, cached_input_tokens=100, cache_write_tokens=700, output_tokens=9
    )
    run(
        ScriptedDriver(
            [
                [
                    ToolCallPart(id="c1", name="lookup", arguments='{"key": "k"}'),
                    UsagePart(usage),
                    FinishPart("tool_calls"),
                ],
                [TextPart("no usage from this one"), FinishPart("stop")],
            ]
        )
    )
    spans = exporter.get_finished_spans()
    (generation,) = named(spans, "janito.generation")
    first, second = (dict(s.attributes or {}) for s in named(spans, "chat "))
    assert first["gen_ai.usage.cache_creation.input_tokens"] == 700
    assert first["gen_ai.usage.cache_read.input_tokens"] == 100
    assert "janito.usage.missing" not in first
    assert second["janito.usage.missing"] is True
    assert not any(k.startswith("gen_ai.usage.") for k in second)
    # The whole: what was reported, marked as not all of it.
    whole = dict(generation.attributes or {})
    assert whole["janito.usage.missing"] is True
    assert whole["gen_ai.usage.input_tokens"] == 900
