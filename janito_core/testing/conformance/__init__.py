"""The driver conformance suite: one pytest base class that every driver's tests subclass.

A driver's test module supplies a ``WireAdapter`` instance and nothing else::

    from janito_core.testing.conformance import DriverConformanceTests

    class TestMyDriverConformance(DriverConformanceTests):
        adapter = MyWireAdapter()

Every standard test then runs the real driver over real HTTP against a loopback ``WireServer``
speaking the provider's wire format, and checks the event order, that no thread is left behind,
and that the API key shows up in no event, log record or error text. A provider that cannot
express a scenario says so in ``adapter.unsupported`` (capability name -> reason) and the tests
needing it are skipped with that reason. A subclass may not quietly drop a standard test: one
that redefines it must mark the override with ``@conformance_override("reason")``.

The suite is one mixin per topic (``text``, ``tools``, ``errors``, ``streams``, ``cancel``,
``aio``, ``attachments``, ``structured``) over ``base`` (fixtures, helpers, the checks after
each test), assembled in ``suite``.
"""

from __future__ import annotations

from janito_core.testing.conformance.base import DriverFactory
from janito_core.testing.conformance.bounds import DRIVER_DEFAULTS
from janito_core.testing.conformance.capabilities import (
    AUDIO_INPUT,
    CAPABILITIES,
    END_MARKER,
    IMAGE_INPUT,
    IMAGE_URL_INPUT,
    INVALID_JSON_ARGUMENTS,
    MALFORMED_EVENT,
    PARALLEL_TOOL_CALLS,
    PDF_INPUT,
    REASONING,
    RETRY_AFTER,
    STRUCTURED_OUTPUT,
    TEXT_AFTER_TOOL_CALL,
    USAGE,
)
from janito_core.testing.conformance.generation import Generation
from janito_core.testing.conformance.guard import conformance_override
from janito_core.testing.conformance.suite import DriverConformanceTests

__all__ = [
    "AUDIO_INPUT",
    "CAPABILITIES",
    "DRIVER_DEFAULTS",
    "END_MARKER",
    "IMAGE_INPUT",
    "IMAGE_URL_INPUT",
    "INVALID_JSON_ARGUMENTS",
    "MALFORMED_EVENT",
    "PARALLEL_TOOL_CALLS",
    "PDF_INPUT",
    "REASONING",
    "RETRY_AFTER",
    "STRUCTURED_OUTPUT",
    "TEXT_AFTER_TOOL_CALL",
    "USAGE",
    "DriverConformanceTests",
    "DriverFactory",
    "Generation",
    "conformance_override",
]
