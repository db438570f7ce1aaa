"""``ScriptedDriver``: a driver that plays back parts you give it, for your own unit tests.

Each round (one provider request) is a list of steps: neutral parts (``TextPart``,
``ToolCallPart``, ...), plus ``Delay(seconds)``, ``Stall()`` (block until cancelled) and
``Fail(...)`` (raise a provider error, optionally retryable). It runs through the real harness:
same events, tool loop, retries and cancellation as any driver.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from typing import Any

import attrs

from janito_core.driver import LLMDriver, ProviderRequest, RequestContext
from janito_core.parts import Part
from janito_core.retry import ErrorInfo, ProviderError

__all__ = ["Delay", "Fail", "ScriptedDriver", "Stall"]


@attrs.frozen
class Delay:
    """Wait this long before the next step (ends early on cancel)."""

    seconds: float


@attrs.frozen
class Stall:
    """Send nothing until the request is aborted, like a provider that went silent."""


@attrs.frozen(kw_only=True)
class Fail:
    """Fail the request here, like the provider answering with an error."""

    message: str = "scripted failure"
    status_code: int | None = 500
    retryable: bool = True
    retry_after: float | None = None


Step = Part | Delay | Stall | Fail


class ScriptedDriver(LLMDriver):
    """Plays ``rounds`` back, one list of steps per provider request, in order.

    ``requests`` records every ``ProviderRequest`` it received; ``stalled`` is set while a
    ``Stall`` step is waiting, so a test can cancel at exactly that moment.
    """

    name = "scripted"
    default_model = "scripted-1"
    requires_api_key = False

    def __init__(self, rounds: Sequence[Sequence[Step]] = (), **config: Any) -> None:
        super().__init__(**config)
        self._rounds = [list(r) for r in rounds]
        self._lock = threading.Lock()
        self.requests: list[ProviderRequest] = []
        self.stalled = threading.Event()
        self.aborted = threading.Event()

    def stream_request(self, request: ProviderRequest, context: RequestContext) -> Iterator[Part]:
        with self._lock:
            self.requests.append(request)
            steps = self._rounds.pop(0) if self._rounds else []
        context.on_abort(self.aborted.set)
        for step in steps:
            if isinstance(step, Delay):
                if context.wait(step.seconds):
                    return
            elif isinstance(step, Stall):
                self.stalled.set()
                context.wait(3600.0)
                return
            elif isinstance(step, Fail):
                raise ProviderError(
                    ErrorInfo(
                        message=step.message,
                        status_code=step.status_code,
                        retryable=step.retryable,
                        retry_after=step.retry_after,
                    )
                )
            else:
                yield step
