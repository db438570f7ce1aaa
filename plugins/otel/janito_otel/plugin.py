"""The janito plugin: every event of every generation goes to the span recorder.

OpenTelemetry is not imported when plugins are discovered, nor while nothing else in the
process has imported it: until then no tracer provider can be set, so there is nothing to record,
and a process that never traces does not pay for the import.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from janito_core.hookspecs import hookimpl

if TYPE_CHECKING:
    # Not at run time: discovery (``janito-drivers list``) must not pay for the event classes.
    from janito_core.events import Event

# The API reads this variable to build a provider without any code importing OpenTelemetry.
_PROVIDER_VARIABLE = "OTEL_PYTHON_TRACER_PROVIDER"


@hookimpl
def observe_event(event: Event) -> None:
    """Record ``event`` on the OpenTelemetry spans of its generation."""
    _observe(event)


def _until_opentelemetry(event: Event) -> None:
    # Looked at once per generation; a generation that starts untraced stays untraced. By name:
    # importing the event classes here would cost discovery their import.
    if type(event).__name__ != "GenerationStarted":
        return
    if "opentelemetry.trace" not in sys.modules and _PROVIDER_VARIABLE not in os.environ:
        return
    global _observe
    from janito_otel.spans import recorder

    _observe = recorder().observe
    _observe(event)


_observe: Callable[[Event], None] = _until_opentelemetry
