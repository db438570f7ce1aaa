"""Fixtures for the janito-otel tests: an in-memory span exporter wired into the plugin."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import janito_otel
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from janito_core import registry


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    """Fail the test if it leaves a thread behind."""
    before = {t.ident for t in threading.enumerate()}
    yield
    left = [t for t in threading.enumerate() if t.ident not in before and t.is_alive()]
    for thread in left:
        thread.join(2.0)
    assert not [t.name for t in left if t.is_alive()]


@pytest.fixture
def provider() -> Iterator[TracerProvider]:
    """A tracer provider the plugin records through for this test (the global one is left be)."""
    tracer_provider = TracerProvider()
    registry.reload_plugins()
    janito_otel.use_tracer_provider(tracer_provider)
    yield tracer_provider
    janito_otel.use_tracer_provider(None)
    janito_otel.set_capture_content(None)
    registry.reload_plugins()
    tracer_provider.shutdown()


@pytest.fixture
def exporter(provider: TracerProvider) -> InMemorySpanExporter:
    """The finished spans of the test, in the order they ended."""
    memory = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    return memory
