"""``ScriptedDriver``: a driver that plays back parts you give it, for your own unit tests.

Each round (one provider request) is a list of steps: neutral parts (``TextPart``,
``ToolCallPart``, ...), plus ``Delay(seconds)``, ``Stall()`` (block until cancelled) and
``Fail(...)`` (raise a provider error, optionally retryable). It runs through the real harness:
same events, tool loop, retries and cancellation as any driver. ``ScriptedDriver`` implements the
asynchronous seam; ``SyncScriptedDriver`` plays the same script through the blocking 0.1 seam.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

import attrs

from janito_core.driver import LLMDriver, ProviderRequest, RequestContext
from janito_core.parts import Part
from janito_core.retry import ErrorInfo, ProviderError

__all__ = ["Delay", "Fail", "ScriptedDriver", "Stall", "SyncScriptedDriver"]


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

    def error(self) -> ProviderError:
        """The error this step raises."""
        return ProviderError(
            ErrorInfo(
                message=self.message,
                status_code=self.status_code,
                retryable=self.retryable,
                retry_after=self.retry_after,
            )
        )


Step = Part | Delay | Stall | Fail

# Scripts say nothing about the end marker: a round's end is its end.
_STALL_SECONDS = 3600.0


class _Script(LLMDriver):
    """What both scripted drivers share: the rounds and what they record."""

    default_model = "scripted-1"
    requires_api_key = False
    end_marker = False
    # A stand-in for any provider: it takes every attachment, so code that sends them can be
    # tested; ``requests`` shows what it got.
    accepts = frozenset({"*/*"})
    accepts_urls = frozenset({"*/*"})

    def __init__(self, rounds: Sequence[Sequence[Step]] = (), **config: Any) -> None:
        super().__init__(**config)
        self._rounds = [list(r) for r in rounds]
        self._lock = threading.Lock()
        self.requests: list[ProviderRequest] = []
        self.stalled = threading.Event()
        self.aborted = threading.Event()

    def _next_round(self, request: ProviderRequest) -> list[Step]:
        with self._lock:
            self.requests.append(request)
            return self._rounds.pop(0) if self._rounds else []


class ScriptedDriver(_Script):
    """Plays ``rounds`` back, one list of steps per provider request, in order.

    ``requests`` records every ``ProviderRequest`` it received; ``stalled`` is set while a
    ``Stall`` step is waiting, so a test can cancel at exactly that moment; ``aborted`` is set
    when a request was cancelled or aborted. Rounds need no ``FinishPart``.
    """

    name = "scripted"

    async def astream_request(
        self, request: ProviderRequest, context: RequestContext
    ) -> AsyncIterator[Part]:
        steps = self._next_round(request)
        context.on_abort(self.aborted.set)
        try:
            for step in steps:
                if isinstance(step, Delay):
                    await asyncio.sleep(step.seconds)
                elif isinstance(step, Stall):
                    self.stalled.set()
                    await asyncio.sleep(_STALL_SECONDS)
                    return
                elif isinstance(step, Fail):
                    raise step.error()
                else:
                    yield step
        except (asyncio.CancelledError, GeneratorExit):
            self.aborted.set()
            raise


class SyncScriptedDriver(_Script):
    """``ScriptedDriver`` through the blocking ``stream_request`` seam, on a worker thread."""

    name = "scripted-sync"

    def stream_request(self, request: ProviderRequest, context: RequestContext) -> Iterator[Part]:
        steps = self._next_round(request)
        context.on_abort(self.aborted.set)
        for step in steps:
            if isinstance(step, Delay):
                if context.wait(step.seconds):
                    return
            elif isinstance(step, Stall):
                self.stalled.set()
                context.wait(_STALL_SECONDS)
                return
            elif isinstance(step, Fail):
                raise step.error()
            else:
                yield step
