"""Generations, requests and tool calls as OpenTelemetry spans, after the GenAI conventions.

A generation gets a ``janito.generation`` span, opened in the caller's context (so it nests
under whatever span the caller has current). Each request to the provider gets a ``chat {model}``
client span under it, and each tool call an ``execute_tool {name}`` span under its request. Span
times are the events' own timestamps, so a slow exporter does not skew them.

The recorder keeps state per generation id and drops it at ``GenerationFinished``. A generation
whose span does not record (no tracer provider configured: the API's no-op tracer, or a sampler
that dropped it) leaves no state at all, and each of its events costs one dict lookup.

Content (answer text, reasoning, tool arguments and results, tool error texts) is left out unless
switched on with ``set_capture_content(True)`` or ``JANITO_OTEL_CAPTURE_CONTENT=true``; the
switch is read when a generation starts.
"""

from __future__ import annotations

import functools
import json
import os
import threading
from collections.abc import Callable
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer, TracerProvider

from janito_core import events as ev
from janito_core.usage import Usage

__all__ = [
    "CAPTURE_CONTENT_VARIABLE",
    "SpanRecorder",
    "capture_content",
    "recorder",
    "set_capture_content",
    "use_tracer_provider",
]

CAPTURE_CONTENT_VARIABLE = "JANITO_OTEL_CAPTURE_CONTENT"
_TRUE = frozenset({"1", "true", "yes", "on"})
_INSTRUMENTATION = "janito_otel"

# GenAI semantic-convention attribute names, spelled out so only opentelemetry-api is needed.
OPERATION = "gen_ai.operation.name"
PROVIDER = "gen_ai.provider.name"
REQUEST_MODEL = "gen_ai.request.model"
FINISH_REASONS = "gen_ai.response.finish_reasons"
INPUT_TOKENS = "gen_ai.usage.input_tokens"
OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
CACHE_READ_TOKENS = "gen_ai.usage.cache_read.input_tokens"
CACHE_WRITE_TOKENS = "gen_ai.usage.cache_creation.input_tokens"
REASONING_TOKENS = "gen_ai.usage.reasoning.output_tokens"
OUTPUT_MESSAGES = "gen_ai.output.messages"
FIRST_CHUNK = "gen_ai.response.time_to_first_chunk"
TOOL_NAME = "gen_ai.tool.name"
TOOL_CALL_ID = "gen_ai.tool.call.id"
TOOL_TYPE = "gen_ai.tool.type"
TOOL_ARGUMENTS = "gen_ai.tool.call.arguments"
TOOL_RESULT = "gen_ai.tool.call.result"
ERROR_TYPE = "error.type"
# janito's own attributes and span events.
GENERATION_ID = "janito.generation.id"
GENERATION_STATUS = "janito.generation.status"
# The GenAI conventions have no cost attribute yet (gen_ai.usage.cost.* is only proposed): USD as
# a double, on the generation span, when the price table gave one.
COST = "janito.usage.cost"
USAGE_MISSING = "janito.usage.missing"
REQUEST_ID = "janito.request.id"
REQUEST_STATUS = "janito.request.status"
CANCELLED_EVENT = "janito.cancelled"
RETRY_EVENT = "janito.request.retry"
REQUESTED_EVENT = "janito.tool_call.requested"


def _ns(timestamp: float) -> int:
    return int(timestamp * 1e9)


class _Request:
    """One open request: its span, and what its response held (only when capturing content)."""

    __slots__ = ("context", "parts", "span", "started", "waiting_first_chunk")

    def __init__(self, span: Span, started: float) -> None:
        self.span = span
        self.context = trace.set_span_in_context(span)
        self.started = started
        self.waiting_first_chunk = True
        # [kind, pieces] for text and reasoning runs, [kind, dict] for tool calls, in order.
        self.parts: list[list[Any]] = []

    def add_text(self, kind: str, piece: str) -> None:
        if self.parts and self.parts[-1][0] == kind:
            self.parts[-1][1].append(piece)
        else:
            self.parts.append([kind, [piece]])

    def output_messages(self, finish_reason: str | None) -> str:
        parts: list[dict[str, Any]] = []
        for kind, value in self.parts:
            if kind == "tool_call":
                parts.append(value)
            else:
                parts.append({"type": kind, "content": "".join(value)})
        message: dict[str, Any] = {"role": "assistant", "parts": parts}
        if finish_reason is not None:
            message["finish_reason"] = finish_reason
        return _json([message])


class _Generation:
    """One traced generation's open spans; touched only by the thread emitting its event."""

    __slots__ = ("capture", "context", "driver", "error_type", "model", "request", "span", "tool")

    def __init__(self, span: Span, event: ev.GenerationStarted, capture: bool) -> None:
        self.span = span
        self.context: Context = trace.set_span_in_context(span)
        self.driver = event.driver
        self.model = event.model
        self.capture = capture
        self.request: _Request | None = None
        self.tool: Span | None = None
        self.error_type: str | None = None


class SpanRecorder:
    """Turns the events of every generation into spans; ``observe`` is the observer."""

    def __init__(self, tracer_provider: TracerProvider | None = None) -> None:
        self._generations: dict[str, _Generation] = {}
        self._capture: bool | None = None
        self._tracer: Tracer = _tracer(tracer_provider)
        self._handlers: dict[type[ev.Event], Callable[[_Generation, Any], None]] = {
            ev.RequestStarted: self._request_started,
            ev.ContentPartFound: self._content,
            ev.ReasoningPartFound: self._reasoning,
            ev.ToolCallStarted: self._tool_started,
            ev.ToolCallFinished: self._tool_finished,
            ev.ToolCallError: self._tool_error,
            ev.ToolCallRequested: self._tool_requested,
            ev.RequestRetry: self._retry,
            ev.RequestFinished: self._request_finished,
            ev.RequestError: self._request_error,
        }

    def use_tracer_provider(self, tracer_provider: TracerProvider | None) -> None:
        """Record through ``tracer_provider`` from the next generation on; None: the global one."""
        self._tracer = _tracer(tracer_provider)

    def set_capture_content(self, enabled: bool | None) -> None:
        """Capture content from the next generation on (None: follow the environment)."""
        self._capture = enabled

    def capture_content(self) -> bool:
        """Whether a generation starting now would have its content captured."""
        if self._capture is not None:
            return self._capture
        return os.environ.get(CAPTURE_CONTENT_VARIABLE, "").strip().lower() in _TRUE

    def open_generations(self) -> int:
        """How many generations are being traced right now (their state is held until they end)."""
        return len(self._generations)

    def observe(self, event: ev.Event) -> None:
        """Record ``event`` on its generation's spans."""
        generation = self._generations.get(event.generation_id)
        if generation is None:
            if type(event) is ev.GenerationStarted:
                self._generation_started(event)
            return
        if type(event) is ev.GenerationFinished:
            self._generation_finished(generation, event)
            return
        handler = self._handlers.get(type(event))
        if handler is None:
            return
        try:
            handler(generation, event)
        except Exception:
            # The harness detaches an observer that raises, so this generation's end would never
            # be seen here: close its spans now rather than keep its state forever.
            self._abandon(event.generation_id)
            raise

    # -- generations -------------------------------------------------------------------------

    def _generation_started(self, event: ev.GenerationStarted) -> None:
        span = self._tracer.start_span(
            "janito.generation",
            kind=SpanKind.INTERNAL,
            start_time=_ns(event.timestamp),
            attributes={
                PROVIDER: event.driver,
                REQUEST_MODEL: event.model,
                GENERATION_ID: event.generation_id,
            },
        )
        if span.is_recording():
            self._generations[event.generation_id] = _Generation(
                span, event, self.capture_content()
            )

    def _generation_finished(self, generation: _Generation, event: ev.GenerationFinished) -> None:
        self._generations.pop(event.generation_id, None)
        end = _ns(event.timestamp)
        # The harness closes every tool call and request first; this only guards against a
        # stream that broke that promise leaving spans unended.
        if generation.tool is not None:
            generation.tool.end(end)
        if generation.request is not None:
            generation.request.span.end(end)
        span = generation.span
        span.set_attribute(GENERATION_STATUS, event.status)
        if event.finish_reason is not None:
            span.set_attribute(FINISH_REASONS, (event.finish_reason,))
        _set_usage(span, event.usage)
        if event.cost is not None:
            span.set_attribute(COST, float(event.cost))
        if event.status == "error":
            span.set_attribute(ERROR_TYPE, generation.error_type or "_OTHER")
            span.set_status(Status(StatusCode.ERROR, "the generation failed"))
        elif event.status == "cancelled":
            _mark_cancelled(span, event.timestamp)
        span.end(end)

    def _abandon(self, generation_id: str) -> None:
        generation = self._generations.pop(generation_id, None)
        if generation is None:
            return
        for span in (
            generation.tool,
            generation.request.span if generation.request else None,
            generation.span,
        ):
            if span is not None:
                span.set_status(Status(StatusCode.ERROR, "janito-otel failed on this generation"))
                span.end()

    # -- requests ----------------------------------------------------------------------------

    def _request_started(self, generation: _Generation, event: ev.RequestStarted) -> None:
        span = self._tracer.start_span(
            f"chat {generation.model}",
            context=generation.context,
            kind=SpanKind.CLIENT,
            start_time=_ns(event.timestamp),
            attributes={
                OPERATION: "chat",
                PROVIDER: generation.driver,
                REQUEST_MODEL: generation.model,
                REQUEST_ID: event.request_id,
            },
        )
        generation.request = _Request(span, event.timestamp)

    def _first_chunk(self, request: _Request, timestamp: float) -> None:
        request.waiting_first_chunk = False
        request.span.set_attribute(FIRST_CHUNK, max(0.0, timestamp - request.started))

    def _content(self, generation: _Generation, event: ev.ContentPartFound) -> None:
        request = generation.request
        if request is None:
            return
        if request.waiting_first_chunk:
            self._first_chunk(request, event.timestamp)
        if generation.capture:
            request.add_text("text", event.content_part)

    def _reasoning(self, generation: _Generation, event: ev.ReasoningPartFound) -> None:
        request = generation.request
        if request is None:
            return
        if request.waiting_first_chunk:
            self._first_chunk(request, event.timestamp)
        if generation.capture:
            request.add_text("reasoning", event.reasoning_part)

    def _retry(self, generation: _Generation, event: ev.RequestRetry) -> None:
        if generation.request is None:
            return
        attributes: dict[str, Any] = {
            "attempt": event.attempt,
            "delay": event.delay,
            "error": event.error,
        }
        if event.status_code is not None:
            attributes["status_code"] = event.status_code
        generation.request.span.add_event(RETRY_EVENT, attributes, _ns(event.timestamp))

    def _request_finished(self, generation: _Generation, event: ev.RequestFinished) -> None:
        request, generation.request = generation.request, None
        if request is None:
            return
        span = request.span
        span.set_attribute(REQUEST_STATUS, event.status)
        if event.finish_reason is not None:
            span.set_attribute(FINISH_REASONS, (event.finish_reason,))
        _set_usage(span, event.usage)
        if generation.capture:
            span.set_attribute(OUTPUT_MESSAGES, request.output_messages(event.finish_reason))
        if event.status == "cancelled":
            _mark_cancelled(span, event.timestamp)
        span.end(_ns(event.timestamp))

    def _request_error(self, generation: _Generation, event: ev.RequestError) -> None:
        request, generation.request = generation.request, None
        if request is None:
            return
        span = request.span
        error_type = _error_type(event)
        generation.error_type = error_type
        span.set_attribute(ERROR_TYPE, error_type)
        if event.status_code is not None:
            span.set_attribute("http.response.status_code", event.status_code)
        # The harness has already taken the API key out of the error text and exception.
        if event.exception is not None:
            span.record_exception(event.exception, timestamp=_ns(event.timestamp))
        span.set_status(Status(StatusCode.ERROR, event.error))
        span.end(_ns(event.timestamp))

    # -- tool calls --------------------------------------------------------------------------

    def _tool_started(self, generation: _Generation, event: ev.ToolCallStarted) -> None:
        request = generation.request
        attributes: dict[str, Any] = {
            OPERATION: "execute_tool",
            PROVIDER: generation.driver,
            TOOL_NAME: event.name,
            TOOL_CALL_ID: event.tool_call_id,
            TOOL_TYPE: "function",
        }
        if generation.capture:
            attributes[TOOL_ARGUMENTS] = _json(event.arguments)
            if request is not None:
                request.parts.append(["tool_call", _call_part(event)])
        generation.tool = self._tracer.start_span(
            f"execute_tool {event.name}",
            context=request.context if request is not None else generation.context,
            kind=SpanKind.INTERNAL,
            start_time=_ns(event.timestamp),
            attributes=attributes,
        )

    def _tool_finished(self, generation: _Generation, event: ev.ToolCallFinished) -> None:
        span, generation.tool = generation.tool, None
        if span is None:
            return
        if generation.capture:
            span.set_attribute(TOOL_RESULT, event.result)
        span.end(_ns(event.timestamp))

    def _tool_error(self, generation: _Generation, event: ev.ToolCallError) -> None:
        span, generation.tool = generation.tool, None
        if span is None:
            return
        # A cancel closes the open tool call with error "cancelled": that is not a tool failure.
        if event.error == "cancelled":
            _mark_cancelled(span, event.timestamp)
        else:
            span.set_attribute(ERROR_TYPE, "tool_error")
            # The error text may quote the model's arguments or the tool's data: content.
            description = event.error if generation.capture else "the tool call failed"
            span.set_status(Status(StatusCode.ERROR, description))
        span.end(_ns(event.timestamp))

    def _tool_requested(self, generation: _Generation, event: ev.ToolCallRequested) -> None:
        request = generation.request
        if request is None:
            return
        attributes: dict[str, Any] = {TOOL_NAME: event.name, TOOL_CALL_ID: event.tool_call_id}
        if generation.capture:
            attributes[TOOL_ARGUMENTS] = _json(event.arguments)
            request.parts.append(["tool_call", _call_part(event)])
        request.span.add_event(REQUESTED_EVENT, attributes, _ns(event.timestamp))


def _tracer(tracer_provider: TracerProvider | None) -> Tracer:
    # Without a provider this is the API's proxy tracer: it follows a global provider set later.
    return trace.get_tracer(_INSTRUMENTATION, _version(), tracer_provider=tracer_provider)


def _set_usage(span: Span, usage: Usage) -> None:
    if usage.missing:
        # Not reported (by some request, or by all): the counts are not measurements, and zeros
        # written as token counts would read as a free call.
        span.set_attribute(USAGE_MISSING, True)
        if usage == Usage(missing=True):
            return
    span.set_attribute(INPUT_TOKENS, usage.input_tokens)
    span.set_attribute(OUTPUT_TOKENS, usage.output_tokens)
    if usage.cached_input_tokens:
        span.set_attribute(CACHE_READ_TOKENS, usage.cached_input_tokens)
    if usage.cache_write_tokens:
        span.set_attribute(CACHE_WRITE_TOKENS, usage.cache_write_tokens)
    if usage.reasoning_tokens:
        span.set_attribute(REASONING_TOKENS, usage.reasoning_tokens)


def _mark_cancelled(span: Span, timestamp: float) -> None:
    # Cancelling is the caller's choice, not a failure: recorded, with the status left unset.
    span.set_attribute("janito.cancelled", True)
    span.add_event(CANCELLED_EVENT, timestamp=_ns(timestamp))


def _error_type(event: ev.RequestError) -> str:
    exception = event.exception
    if exception is not None:
        kind = type(exception)
        module = kind.__module__
        return kind.__qualname__ if module == "builtins" else f"{module}.{kind.__qualname__}"
    if event.status_code is not None:
        return str(event.status_code)
    return "_OTHER"


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _call_part(event: ev.ToolCallStarted | ev.ToolCallRequested) -> dict[str, Any]:
    return {
        "type": "tool_call",
        "id": event.tool_call_id,
        "name": event.name,
        "arguments": event.arguments,
    }


_recorder: SpanRecorder | None = None
_recorder_lock = threading.Lock()


def recorder() -> SpanRecorder:
    """The process-wide recorder the plugin's ``observe_event`` hook feeds."""
    global _recorder
    with _recorder_lock:
        if _recorder is None:
            _recorder = SpanRecorder()
        return _recorder


def use_tracer_provider(tracer_provider: TracerProvider | None) -> None:
    """Trace janito through ``tracer_provider`` instead of the global one (None: back to it)."""
    recorder().use_tracer_provider(tracer_provider)


def set_capture_content(enabled: bool | None) -> None:
    """Switch content capture on or off; None follows ``JANITO_OTEL_CAPTURE_CONTENT`` again."""
    recorder().set_capture_content(enabled)


def capture_content() -> bool:
    """Whether content is captured for a generation starting now."""
    return recorder().capture_content()


@functools.cache
def _version() -> str:
    """The installed janito-otel's version: one source, its distribution's metadata."""
    from importlib import metadata

    try:
        return metadata.version("janito-otel")
    except metadata.PackageNotFoundError:
        return "unknown"
