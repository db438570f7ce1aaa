"""Fixtures for the janito-otel tests: an in-memory span exporter wired into the plugin."""

from __future__ import annotations

from collections.abc import Iterator

import janito_otel
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from janito_core import registry
from janito_core.testing.fixtures import no_leaked_threads  # noqa: F401


@pytest.fixture(autouse=True)
def _every_test_checks_threads(no_leaked_threads: None) -> None:  # noqa: F811
    """Every test here fails if it leaves a thread behind (the kit's ``no_leaked_threads``)."""


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
