"""OpenTelemetry spans for janito-core generations, requests and tool calls.

Installed, the plugin traces every generation through the global tracer provider; with none
configured it records nothing and costs next to nothing. ``use_tracer_provider`` picks another
provider; ``set_capture_content`` (or ``JANITO_OTEL_CAPTURE_CONTENT=true``) adds the content.
Importing this package does not import OpenTelemetry; the names below load it when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = [
    "CAPTURE_CONTENT_VARIABLE",
    "SpanRecorder",
    "capture_content",
    "recorder",
    "set_capture_content",
    "use_tracer_provider",
]

if TYPE_CHECKING:
    from janito_otel.spans import (
        CAPTURE_CONTENT_VARIABLE,
        SpanRecorder,
        capture_content,
        recorder,
        set_capture_content,
        use_tracer_provider,
    )


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module 'janito_otel' has no attribute {name!r}")
    from janito_otel import spans

    return getattr(spans, name)


def __dir__() -> list[str]:
    return sorted(__all__)
