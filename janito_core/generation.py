"""One generation's state and its single commit path.

Every event goes out through ``Generation.commit``, which applies the state change the event
stands for (the history, the usage, what is open) and delivers the event in one step. All of it
runs on the generation's event loop thread, and so does ``cancel``: nothing can happen between a
change and its event, so the events and ``GenerationFinished.messages`` always agree, whatever
the moment of the cancel. Other threads reach the generation through ``request_cancel``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import uuid
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypedDict

import attrs

from janito_core import events as ev
from janito_core.cost import finished_cost
from janito_core.driver import ProviderRequest
from janito_core.errors import GenerationError, JanitoError
from janito_core.messages import Message, ToolCall
from janito_core.redact import redact
from janito_core.retry import ErrorInfo
from janito_core.tools import Tool
from janito_core.usage import Usage

if TYPE_CHECKING:
    from janito_core.driver import LLMDriver, RequestContext
    from janito_core.structured import OutputSpec

__all__ = ["Generation", "Observer", "RedactedError", "Response"]

Observer = Callable[[ev.Event], object]
"""Something that sees every event of a generation, in order, on the thread that emits it."""

log = logging.getLogger("janito_core.harness")


class RedactedError(JanitoError):
    """Stands in for a provider exception whose text held the API key."""


class Base(TypedDict):
    generation_id: str
    driver: str


@attrs.define
class Response:
    """What one request's response has produced so far."""

    request_id: str
    text: list[str] = attrs.field(factory=list)
    reasoning: list[str] = attrs.field(factory=list)
    calls: list[ToolCall] = attrs.field(factory=list)
    results: list[Message] = attrs.field(factory=list)
    provider_data: dict[str, Any] = attrs.field(factory=dict)
    # Missing until the driver reports usage: a provider that sends none is never estimated.
    usage: Usage = attrs.field(factory=lambda: Usage(missing=True))
    finish_reason: str | None = None
    finished: bool = False
    delivered: bool = False
    handed_to_caller: bool = False

    def messages(self, *, cancelled: bool = False) -> list[Message]:
        """The assistant turn and tool results; unanswered calls get an error on cancel."""
        if not (self.text or self.reasoning or self.calls):
            return []
        assistant = Message(
            role="assistant",
            content="".join(self.text),
            tool_calls=self.calls,
            reasoning="".join(self.reasoning) or None,
            provider_data=dict(self.provider_data),
        )
        results = list(self.results)
        if cancelled:
            answered = {m.tool_call_id for m in results}
            results += [
                Message.tool_result(c.id, c.name, "Error: cancelled", is_error=True)
                for c in self.calls
                if c.id not in answered and not self.handed_to_caller
            ]
        return [assistant, *results]


class Generation:
    """One generation: its state, the commit path, cancellation and the hand-off to a consumer.

    ``sink`` receives every committed event (the consumer's queue); ``wake`` is called after
    each, to rouse a parked consumer. Both run on the thread that commits.
    """

    def __init__(
        self,
        *,
        driver: LLMDriver,
        history: Sequence[Message],
        system_prompt: str | None,
        tools: tuple[Tool, ...],
        options: dict[str, Any],
        user_cancel: threading.Event | None,
        observers: Sequence[Observer] = (),
        reasoning: str | int | None = None,
        output: OutputSpec | None = None,
    ) -> None:
        self.driver = driver
        self.reasoning = reasoning
        #: The structured output asked for (``output_schema=``), or None.
        self.output = output
        self.driver_name = driver.name or type(driver).__name__
        self.generation_id = uuid.uuid4().hex
        self.base: Base = {"generation_id": self.generation_id, "driver": self.driver_name}
        self.initial_history = tuple(history)
        self.system_prompt = system_prompt
        self.tools = tools
        self.tools_by_name = {t.name: t for t in tools}
        self.options = options
        self.user_cancel = user_cancel
        self.observers = list(observers)
        self.sink: Callable[[ev.Event], object] = _ignore
        self.events: list[ev.Event] = []
        # Set by any cancel; what tool functions receive as their cancel_event.
        self.cancelled = threading.Event()
        # Set once the generation's task and every thread it started have ended.
        self.ended = threading.Event()
        self.finished = False
        self.loop: asyncio.AbstractEventLoop | None = None
        self.loop_thread: int | None = None
        self.task: asyncio.Task[None] | None = None
        self.ended_future: asyncio.Future[None] | None = None
        # Threads running its blocking parts (tool functions, a synchronous driver's request).
        self.threads: list[threading.Thread] = []
        self._observing = False
        self._in_commit = False
        self._backlog: list[ev.Event] = []
        # The state the commit path keeps, read by the closing events.
        self.added: list[Message] = []
        self.usage = Usage()
        self.response: Response | None = None
        self.request_open: str | None = None
        self.tool_open: tuple[str, str, str] | None = None
        self.context: RequestContext | None = None

    # -- committing --------------------------------------------------------------------------

    def request(
        self, request_id: str, messages: Sequence[Message], attempt: int = 0
    ) -> ProviderRequest:
        """The ``ProviderRequest`` sending ``messages`` with this generation's settings."""
        output = self.output
        return ProviderRequest(
            request_id=request_id,
            model=self.driver.model,
            messages=tuple(messages),
            system_prompt=self.system_prompt,
            tools=self.tools,
            options=self.options,
            attempt=attempt,
            reasoning=self.reasoning,
            output_schema=output.schema if output else None,
            output_name=output.name if output else "output",
        )

    def commit(self, event: ev.Event, change: Callable[[], object] | None = None) -> bool:
        """Apply ``change`` and deliver ``event`` together; False (and neither) once finished."""
        if self.finished:
            return False
        self._in_commit = True
        try:
            if change is not None:
                change()
            self._track(event)
            self._deliver(event)
        finally:
            self._in_commit = False
        return True

    def commit_piece(
        self, event: ev.Event, pieces: list[str], piece: str, response: Response
    ) -> None:
        """``commit`` for a piece of text or reasoning: ``pieces.append(piece)`` is the change.

        The hot path of every stream, so written out rather than through a closure.
        """
        if self.finished:
            return
        self._in_commit = True
        try:
            pieces.append(piece)
            response.delivered = True
            self._deliver(event)
        finally:
            self._in_commit = False

    def _track(self, event: ev.Event) -> None:
        kind = type(event)
        if kind is ev.ContentPartFound or kind is ev.ReasoningPartFound:
            return
        if kind is ev.RequestStarted:
            self.request_open = event.request_id  # type: ignore[attr-defined]
        elif kind is ev.RequestFinished or kind is ev.RequestError:
            self.request_open = None
        elif kind is ev.ToolCallStarted:
            e: Any = event
            self.tool_open = (e.request_id, e.tool_call_id, e.name)
        elif kind is ev.ToolCallFinished or kind is ev.ToolCallError:
            self.tool_open = None
        elif kind is ev.GenerationFinished:
            self.finished = True

    def _deliver(self, event: ev.Event) -> None:
        self.events.append(event)
        self.sink(event)
        if self.observers:
            self._observe(event)

    def _observe(self, event: ev.Event) -> None:
        if self._observing:
            # An observer cancelled from inside its call: the closing events wait until every
            # observer has seen the current one, so each of them still sees the stream's order.
            self._backlog.append(event)
            return
        self._observing = True
        try:
            self._show(event)
            while self._backlog:
                self._show(self._backlog.pop(0))
        finally:
            self._observing = False

    def _show(self, event: ev.Event) -> None:
        for observer in self.observers:
            try:
                observer(event)
            except BaseException:
                # Even sys.exit() in an observer must not stop the generation from closing its
                # stream: it is logged and the observer detached. The list is replaced, not
                # changed, so this loop goes on over the one it started with.
                log.exception("event observer %r failed; it is detached", observer)
                self.observers = [o for o in self.observers if o is not observer]

    # -- closing -----------------------------------------------------------------------------

    def cancel(self) -> None:
        """Cancel, on the generation's loop thread: close what is open, stop the task."""
        if self.finished:
            return
        self.cancelled.set()
        for event in self.closing_events():
            self.commit(event)
        context = self.context
        if context is not None:
            context.abort()
        task = self.task
        # From inside the task itself the code returns at its next look at should_stop():
        # cancelling it there would interrupt the closing of its own HTTP response.
        if task is not None and not task.done() and task is not asyncio.current_task():
            task.cancel()

    def request_cancel(self) -> None:
        """Cancel from any thread: at once on the loop's thread, else scheduled onto it."""
        if self.finished:
            return
        self.cancelled.set()
        loop = self.loop
        if loop is None or self.loop_thread == threading.get_ident():
            self.cancel()
            return
        # A closed loop has nobody left to stream to: the generation is over already.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(self.cancel)

    def cancel_from_finalizer(self) -> None:
        """Cancel from a ``__del__``: at once unless that would cut into a commit.

        A finaliser can run in the middle of a commit (the garbage collector runs where it
        likes): then the cancel waits for its turn on the loop, so the commit stays whole.
        """
        if self.finished:
            return
        self.cancelled.set()
        loop = self.loop
        if loop is None:
            return
        if self.loop_thread == threading.get_ident() and not self._in_commit:
            self.cancel()
            return
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(self.cancel)

    def mark_ended(self) -> None:
        """Record that the task and its threads are over (called on the loop, last)."""
        self.ended.set()
        ended = self.ended_future
        if ended is not None and not ended.done():
            ended.set_result(None)

    def should_stop(self) -> bool:
        """True once cancelled; notices a caller's cancel_event nobody has acted on yet."""
        if self.finished or self.cancelled.is_set():
            if not self.finished:
                self.cancel()
            return True
        user_cancel = self.user_cancel
        if user_cancel is not None and user_cancel.is_set():
            self.cancel()
            return True
        return False

    def fail(self, failure: BaseException, info: ErrorInfo | None = None) -> None:
        """End the stream as failed: after an unexpected exception (a bug in a driver or the
        harness), or with ``info`` when the failure was understood (the driver was closed)."""
        if self.finished:
            return
        for event in self.closing_events(failure, info):
            self.commit(event)

    def closing_events(
        self, failure: BaseException | None = None, info: ErrorInfo | None = None
    ) -> list[ev.Event]:
        """The events that close whatever is open: as cancelled, or as failed with ``failure``."""
        base = self.base
        closing: list[ev.Event] = []
        problem: str | None = None
        if info is not None:
            problem = info.message
        elif failure is not None:
            problem = f"internal error: {type(failure).__name__}: {failure}"
        if self.tool_open is not None:
            request_id, call_id, name = self.tool_open
            closing.append(
                ev.ToolCallError(
                    **base,
                    request_id=request_id,
                    tool_call_id=call_id,
                    name=name,
                    error="cancelled" if problem is None else self.redact(problem),
                )
            )
        usage = self.usage
        request_usage = self.response.usage if self.response is not None else Usage()
        if problem is not None:
            assert failure is not None
            failed_request = self.request_open
            if failed_request is None:  # failed between requests: still say so inside a request
                failed_request = f"{self.generation_id[:12]}-failure"
                closing.append(ev.RequestStarted(**base, request_id=failed_request))
            message = self.redact(problem)
            error = (
                GenerationError(message)
                if info is None
                else attrs.evolve(info, message=message).to_error()
            )
            error.__cause__ = self.safe_exception(failure)
            closing.append(
                ev.RequestError(
                    **base,
                    request_id=failed_request,
                    error=message,
                    exception=error,
                    status_code=None if info is None else info.status_code,
                    retryable=False,
                )
            )
        elif self.request_open is not None:
            closing.append(
                ev.RequestFinished(
                    **base,
                    request_id=self.request_open,
                    status="cancelled",
                    finish_reason="cancelled",
                    usage=request_usage,
                )
            )
        if self.request_open is not None:
            usage = usage + request_usage
        added = list(self.added)
        if self.response is not None:
            added += self.response.messages(cancelled=True)
        status: ev.GenerationStatus = "cancelled" if problem is None else "error"
        # What was used until the cancel or failure, when every request reported it.
        cost = finished_cost(self.driver, (*self.events, *closing), usage)
        closing.append(
            ev.GenerationFinished(
                **base,
                status=status,
                finish_reason=status,
                usage=usage,
                messages=tuple(added),
                cost=cost,
            )
        )
        return closing

    # -- secrets -----------------------------------------------------------------------------

    def redact(self, text: str) -> str:
        """``text`` without the API key (also URL-encoded)."""
        return redact(text, self.driver.config.api_key)

    def safe_exception(self, exc: BaseException) -> BaseException:
        """``exc``, or a stand-in without the API key when its text carries the key."""
        key = self.driver.config.api_key
        if key:
            text = f"{exc}\n{exc.args!r}"
            if redact(text, key) != text:
                return RedactedError(f"{type(exc).__name__}: {self.redact(str(exc))}")
        return exc


def _ignore(event: ev.Event) -> None:
    pass
