"""The generation harness: one worker thread per generation, the event order, the tool loop,
retries and cancellation, written once for every driver.

The worker thread runs ``_Run.work``. Every event goes through ``_Run.emit`` under one lock, which
also tracks what is open (a request, a tool call). ``_Run.cancel`` takes the same lock, aborts the
provider call in flight from the cancelling thread and closes whatever is open itself, so the
consumer's stream ends at once even while the worker is still blocked; whatever the worker emits
after that is dropped.
"""

from __future__ import annotations

import itertools
import json
import logging
import queue
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypedDict

import attrs

from janito_core import events as ev
from janito_core.driver import ProviderRequest, RequestContext, _check_options
from janito_core.errors import GenerationError, InvalidRequestError, JanitoError
from janito_core.messages import Message, ToolCall
from janito_core.parts import (
    FinishPart,
    MetadataPart,
    ReasoningPart,
    TextPart,
    ToolCallPart,
    UsagePart,
)
from janito_core.retry import ErrorInfo, backoff_delay
from janito_core.tools import Tool
from janito_core.usage import Usage

if TYPE_CHECKING:
    from janito_core.driver import LLMDriver

__all__ = ["EventStream", "GenerationResult", "Observer", "start_generation"]

Observer = Callable[[ev.Event], object]
"""Something that sees every event of a generation, in order, on the thread that emits it."""

log = logging.getLogger(__name__)

# How long a consumer that polls a caller's cancel_event sleeps between looks, and how long the
# end of iteration waits for the worker thread to exit after a cancel.
_CANCEL_POLL = 0.005
_JOIN_ON_END = 1.0
_thread_numbers = itertools.count(1)


class RedactedError(JanitoError):
    """Stands in for a provider exception whose text held the API key."""


@attrs.frozen(kw_only=True)
class GenerationResult:
    """What ``generate()`` returns: the outcome of one whole generation."""

    status: str
    text: str
    reasoning: str
    tool_calls: tuple[ToolCall, ...]
    finish_reason: str | None
    usage: Usage
    messages: tuple[Message, ...]
    history: tuple[Message, ...]
    events: tuple[ev.Event, ...] = attrs.field(repr=False)


def start_generation(
    driver: LLMDriver,
    *,
    prompt: str | None,
    messages: Sequence[Message] | None,
    system_prompt: str | None,
    tools: Iterable[Tool] | None,
    cancel_event: threading.Event | None,
    options: Mapping[str, Any],
    observers: Iterable[Observer] | None = None,
) -> EventStream:
    """Check the call, then start its worker thread; see ``LLMDriver.stream_generate``."""
    history = _initial_history(prompt, messages)
    if system_prompt is not None and not isinstance(system_prompt, str):
        raise InvalidRequestError("system_prompt must be a str")
    tool_list = tuple(tools or ())
    for tool in tool_list:
        if not isinstance(tool, Tool):
            raise InvalidRequestError(
                f"tools must be Tool instances (use Tool.from_function(fn)); got {tool!r}"
            )
    names = [t.name for t in tool_list]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise InvalidRequestError(f"duplicate tool names: {', '.join(duplicates)}")
    if cancel_event is not None and not hasattr(cancel_event, "is_set"):
        raise InvalidRequestError("cancel_event must be a threading.Event")
    _check_options(options)
    merged = {**driver.config.options, **options}
    driver.check_options(merged)
    watching = list(observers or ())
    if not all(callable(o) for o in watching):
        raise InvalidRequestError("observers must be callables taking one event")
    from janito_core.registry import default_registry

    watching = [*default_registry().observers(), *watching]
    run = _Run(
        driver=driver,
        history=history,
        system_prompt=system_prompt,
        tools=tool_list,
        options=merged,
        user_cancel=cancel_event,
        observers=watching,
    )
    run.start()
    return EventStream(run)


def _initial_history(prompt: str | None, messages: Sequence[Message] | None) -> list[Message]:
    if prompt is None and not messages:
        raise InvalidRequestError("stream_generate needs a prompt or a non-empty messages list")
    if prompt is not None and not isinstance(prompt, str):
        raise InvalidRequestError(f"prompt must be a str, got {type(prompt).__name__}")
    history = list(messages or ())
    for message in history:
        if not isinstance(message, Message):
            raise InvalidRequestError(f"messages must be Message instances; got {message!r}")
    if prompt is not None:
        history.append(Message.user(prompt))
    return history


class EventStream:
    """The events of one generation, as an iterator; also a context manager.

    Closing it, leaving its ``with`` block, calling ``cancel()`` or dropping it cancels the
    generation. After the last event, iteration ends once the worker thread has exited.
    """

    def __init__(self, run: _Run) -> None:
        self._run = run
        self._done = False

    @property
    def generation_id(self) -> str:
        """The id every event of this generation carries."""
        return self._run.generation_id

    def __iter__(self) -> EventStream:
        return self

    def __next__(self) -> ev.Event:
        if self._done:
            self._run.join(_JOIN_ON_END)
            raise StopIteration
        run = self._run
        if run.user_cancel is None:
            event = run.queue.get()
        else:
            while True:
                if run.user_cancel.is_set():
                    run.cancel()
                try:
                    event = run.queue.get(timeout=_CANCEL_POLL)
                    break
                except queue.Empty:
                    continue
        if type(event) is ev.GenerationFinished:
            self._done = True
        return event

    def cancel(self) -> None:
        """Cancel the generation; the stream then ends with ``GenerationFinished(cancelled)``."""
        self._run.cancel()

    def close(self) -> None:
        """Cancel if still running; the remaining events are discarded."""
        self._run.cancel()
        self._done = True

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the worker thread to exit; True if it has."""
        return self._run.join(timeout)

    def result(self) -> GenerationResult:
        """Consume the rest of the stream and sum it up; raises ``GenerationError`` on error."""
        collected = list(self)
        return _summarise(collected, self._run)

    def __enter__(self) -> EventStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
        self._run.join(_JOIN_ON_END)

    def __del__(self) -> None:
        # Abandoned without being closed: a generation nobody reads must not keep running.
        run = getattr(self, "_run", None)
        if run is not None:
            run.cancel()


def _summarise(collected: list[ev.Event], run: _Run) -> GenerationResult:
    finished = collected[-1] if collected else None
    if not isinstance(finished, ev.GenerationFinished):
        raise GenerationError("the stream was closed before the generation finished")
    if finished.status == "error":
        failure = next((e for e in reversed(collected) if isinstance(e, ev.RequestError)), None)
        message = failure.error if failure else "the generation failed"
        error = GenerationError(
            message,
            status_code=failure.status_code if failure else None,
            retryable=failure.retryable if failure else False,
        )
        raise error from (failure.exception if failure else None)
    calls = tuple(c for m in finished.messages if m.role == "assistant" for c in m.tool_calls)
    return GenerationResult(
        status=finished.status,
        text="".join(e.content_part for e in collected if isinstance(e, ev.ContentPartFound)),
        reasoning="".join(
            e.reasoning_part for e in collected if isinstance(e, ev.ReasoningPartFound)
        ),
        tool_calls=calls,
        finish_reason=finished.finish_reason,
        usage=finished.usage,
        messages=finished.messages,
        history=(*run.initial_history, *finished.messages),
        events=tuple(collected),
    )


@attrs.define
class _Response:
    """What one request's response has produced so far (guarded by ``_Run.lock``)."""

    request_id: str
    text: list[str] = attrs.field(factory=list)
    reasoning: list[str] = attrs.field(factory=list)
    calls: list[ToolCall] = attrs.field(factory=list)
    results: list[Message] = attrs.field(factory=list)
    provider_data: dict[str, Any] = attrs.field(factory=dict)
    usage: Usage = attrs.field(factory=Usage)
    finish_reason: str | None = None
    delivered: bool = False
    handed_to_caller: bool = False

    def messages(self, *, cancelled: bool = False) -> list[Message]:
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
                if c.id not in answered
            ]
        return [assistant, *results]


class _Base(TypedDict):
    generation_id: str
    driver: str


class _CallIds(TypedDict):
    request_id: str
    tool_call_id: str
    name: str


class _Outcome:
    COMPLETED: Literal["completed"] = "completed"
    CANCELLED: Literal["cancelled"] = "cancelled"
    ERROR: Literal["error"] = "error"


class _Run:
    """One generation's state, shared by the worker thread and whoever cancels."""

    def __init__(
        self,
        *,
        driver: LLMDriver,
        history: list[Message],
        system_prompt: str | None,
        tools: tuple[Tool, ...],
        options: dict[str, Any],
        user_cancel: threading.Event | None,
        observers: Sequence[Observer] = (),
    ) -> None:
        self.driver = driver
        self.driver_name = driver.name or type(driver).__name__
        self.generation_id = uuid.uuid4().hex
        self.initial_history = tuple(history)
        self.system_prompt = system_prompt
        self.tools = tools
        self.tools_by_name = {t.name: t for t in tools}
        self.options = options
        self.user_cancel = user_cancel
        self.queue: queue.SimpleQueue[ev.Event] = queue.SimpleQueue()
        # Re-entrant: an observer runs under the lock (to see events in order) and may cancel.
        self.lock = threading.RLock()
        self.observers = list(observers)
        self.observing = False
        self.backlog: list[ev.Event] = []
        self.wakeup: Callable[[], object] | None = None
        self.cancelled = threading.Event()
        self.finished = False
        self.thread: threading.Thread | None = None
        # What is open, for the canceller to close; all guarded by self.lock.
        self.added: list[Message] = []
        self.usage = Usage()
        self.response: _Response | None = None
        self.request_open: str | None = None
        self.tool_open: tuple[str, str, str] | None = None
        self.context: RequestContext | None = None

    # -- threads -------------------------------------------------------------------------

    def start(self) -> None:
        # GenerationStarted goes out before the thread exists, so even an immediate cancel
        # yields a well-formed stream.
        self.emit(ev.GenerationStarted(**self._base(), model=self.driver.model))
        self.thread = threading.Thread(
            target=self.work,
            name=f"janito-generation-{next(_thread_numbers)}",
            daemon=True,
        )
        self.thread.start()

    def join(self, timeout: float | None) -> bool:
        thread = self.thread
        if thread is None or thread is threading.current_thread():
            return True
        thread.join(timeout)
        return not thread.is_alive()

    # -- emitting ----------------------------------------------------------------------------

    def emit(self, event: ev.Event) -> bool:
        """Hand ``event`` to the consumer unless the generation is already closed."""
        with self.lock:
            if self.finished:
                return False
            self._track(event)
            self._deliver(event)
            return True

    def _deliver(self, event: ev.Event) -> None:
        """Queue ``event`` for the consumer and show it to observers (caller holds the lock)."""
        self.queue.put(event)
        if self.observers:
            self._observe(event)
        wakeup = self.wakeup
        if wakeup is not None:
            wakeup()

    def _observe(self, event: ev.Event) -> None:
        if self.observing:
            # An observer cancelled from inside its call: the closing events wait until every
            # observer has seen the current one, so each of them still sees the stream's order.
            self.backlog.append(event)
            return
        self.observing = True
        try:
            self._show(event)
            backlog = self.backlog
            while backlog:
                self._show(backlog.pop(0))
        finally:
            self.observing = False

    def _show(self, event: ev.Event) -> None:
        for observer in self.observers:
            try:
                observer(event)
            except Exception:
                # One broken observer must never break the generation or the others. The list
                # is replaced, not changed, so the loop goes on over the one it started with.
                log.exception("event observer %r failed; it is detached", observer)
                self.observers = [o for o in self.observers if o is not observer]

    def _track(self, event: ev.Event) -> None:
        kind = type(event)
        if kind is ev.RequestStarted:
            self.request_open = event.request_id  # type: ignore[attr-defined]
        elif kind in (ev.RequestFinished, ev.RequestError):
            self.request_open = None
        elif kind is ev.ToolCallStarted:
            e: Any = event
            self.tool_open = (e.request_id, e.tool_call_id, e.name)
        elif kind in (ev.ToolCallFinished, ev.ToolCallError):
            self.tool_open = None
        elif kind is ev.GenerationFinished:
            self.finished = True

    def _base(self) -> _Base:
        return {"generation_id": self.generation_id, "driver": self.driver_name}

    # -- cancelling --------------------------------------------------------------------------

    def cancel(self) -> None:
        """Cancel from any thread: close the stream now, then abort the call in flight."""
        with self.lock:
            if self.finished:
                return
            # Marking cancelled and closing what is open happen under one lock, so nothing the
            # worker finishes meanwhile (a tool returning, a part arriving) can slip in between.
            self.cancelled.set()
            context = self.context
            for event in self._closing_events():
                self._track(event)
                self._deliver(event)
        if context is not None:
            context.abort()

    def _closing_events(self, failure: BaseException | None = None) -> list[ev.Event]:
        """The events that close whatever is open: as cancelled, or as failed with ``failure``."""
        base = self._base()
        closing: list[ev.Event] = []
        problem = (
            None if failure is None else f"internal error: {type(failure).__name__}: {failure}"
        )
        if self.tool_open is not None:
            request_id, call_id, name = self.tool_open
            closing.append(
                ev.ToolCallError(
                    **base,
                    request_id=request_id,
                    tool_call_id=call_id,
                    name=name,
                    error="cancelled" if problem is None else self._redact(problem),
                )
            )
        usage = self.usage
        request_usage = self.response.usage if self.response else Usage()
        if problem is not None:
            failed_request = self.request_open
            if failed_request is None:  # failed between requests: still say so inside a request
                failed_request = f"{self.generation_id[:12]}-failure"
                closing.append(ev.RequestStarted(**base, request_id=failed_request))
            closing.append(
                ev.RequestError(
                    **base,
                    request_id=failed_request,
                    error=self._redact(problem),
                    exception=self._safe_exception(failure),  # type: ignore[arg-type]
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
        closing.append(
            ev.GenerationFinished(
                **base,
                status=status,
                finish_reason=status,
                usage=usage,
                messages=tuple(added),
            )
        )
        return closing

    def should_stop(self) -> bool:
        """True once cancelled; notices a caller's cancel_event that nobody polled yet."""
        if self.cancelled.is_set():
            return True
        user_cancel = self.user_cancel
        if user_cancel is not None and user_cancel.is_set():
            self.cancel()
            return True
        return False

    # -- the worker --------------------------------------------------------------------------

    def work(self) -> None:
        base = self._base()
        try:
            status, finish_reason = self._loop(base)
            if status == _Outcome.CANCELLED:
                # cancel() has closed the stream already; calling it again is a no-op then, and
                # closes it properly should any path return "cancelled" without it.
                self.cancel()
                return
            with self.lock:
                added, usage = tuple(self.added), self.usage
            self.emit(
                ev.GenerationFinished(
                    **base,
                    status=status,
                    finish_reason=finish_reason,
                    usage=usage,
                    messages=added,
                )
            )
        except BaseException as exc:  # a bug in a driver or here: still end the stream properly
            log.exception("generation %s failed unexpectedly", self.generation_id)
            self._fail_unexpectedly(exc)
        finally:
            with self.lock:
                self.context = None

    def _fail_unexpectedly(self, exc: BaseException) -> None:
        with self.lock:
            if self.finished:
                return
            for event in self._closing_events(failure=exc):
                self._track(event)
                self._deliver(event)

    def _loop(self, base: _Base) -> tuple[ev.GenerationStatus, str | None]:
        history = list(self.initial_history)
        finish_reason: str | None = None
        for number in range(1, self.driver.config.max_tool_rounds + 1):
            if self.should_stop():
                return _Outcome.CANCELLED, "cancelled"
            request_id = f"{self.generation_id[:12]}-{number}"
            response = _Response(request_id=request_id)
            with self.lock:
                self.response = response
            if not self.emit(ev.RequestStarted(**base, request_id=request_id)):
                return _Outcome.CANCELLED, "cancelled"
            outcome, failure = self._request(base, history, response)
            if outcome == _Outcome.CANCELLED:
                return outcome, "cancelled"
            if outcome == _Outcome.ERROR:
                assert failure is not None
                info, exc = failure
                with self.lock:
                    self.added += response.messages(cancelled=True)
                    self.usage = self.usage + response.usage
                    self.response = None
                self.emit(
                    ev.RequestError(
                        **base,
                        request_id=request_id,
                        error=self._redact(info.message),
                        exception=self._safe_exception(exc),
                        status_code=info.status_code,
                        retryable=info.retryable,
                    )
                )
                return _Outcome.ERROR, "error"
            turn = response.messages()
            with self.lock:
                self.added += turn
                self.usage = self.usage + response.usage
                self.response = None
            finish_reason = response.finish_reason
            self.emit(
                ev.RequestFinished(
                    **base,
                    request_id=request_id,
                    status="completed",
                    finish_reason=finish_reason,
                    usage=response.usage,
                )
            )
            history += turn
            if not response.calls or response.handed_to_caller:
                return _Outcome.COMPLETED, finish_reason
        return _Outcome.COMPLETED, "max_tool_rounds"

    def _request(
        self, base: _Base, history: list[Message], response: _Response
    ) -> tuple[ev.GenerationStatus, tuple[ErrorInfo, BaseException] | None]:
        config = self.driver.config
        attempt = 0
        while True:
            context = RequestContext()
            with self.lock:
                if self.cancelled.is_set():
                    return _Outcome.CANCELLED, None
                self.context = context
            request = ProviderRequest(
                request_id=response.request_id,
                model=config.model,
                messages=tuple(history),
                system_prompt=self.system_prompt,
                tools=self.tools,
                options=self.options,
                attempt=attempt,
            )
            try:
                parts = self.driver.stream_request(request, context)
                try:
                    for part in parts:
                        if self.should_stop():
                            break
                        self._handle(base, part, response)
                finally:
                    close = getattr(parts, "close", None)
                    if close is not None:
                        close()
            except Exception as exc:
                if self.cancelled.is_set():
                    return _Outcome.CANCELLED, None
                info = self._describe(exc)
                retry_after = info.retry_after
                can_retry = (
                    info.retryable
                    and not response.delivered
                    and attempt < config.max_retries
                    and (retry_after is None or retry_after <= config.max_retry_delay)
                )
                if not can_retry:
                    return _Outcome.ERROR, (info, exc)
                attempt += 1
                delay = (
                    retry_after
                    if retry_after is not None
                    else backoff_delay(attempt, config.retry_base_delay, config.max_retry_delay)
                )
                self.emit(
                    ev.RequestRetry(
                        **base,
                        request_id=response.request_id,
                        attempt=attempt,
                        delay=delay,
                        error=self._redact(info.message),
                        status_code=info.status_code,
                    )
                )
                if self.cancelled.wait(delay):
                    return _Outcome.CANCELLED, None
                continue
            finally:
                with self.lock:
                    self.context = None
            if self.cancelled.is_set():
                return _Outcome.CANCELLED, None
            return _Outcome.COMPLETED, None

    def _describe(self, exc: BaseException) -> ErrorInfo:
        try:
            return self.driver.describe_error(exc)
        except Exception:
            log.debug("describe_error failed", exc_info=True)
            return ErrorInfo(message=f"{type(exc).__name__}: {exc}")

    def _safe_exception(self, exc: BaseException) -> BaseException:
        """``exc``, or a stand-in without the API key when its text carries the key."""
        key = self.driver.config.api_key
        if key and (key in str(exc) or key in repr(exc.args)):
            return RedactedError(f"{type(exc).__name__}: {self._redact(str(exc))}")
        return exc

    def _redact(self, text: str) -> str:
        key = self.driver.config.api_key
        if key and key in text:
            text = text.replace(key, "***")
        return text

    # -- parts to events -------------------------------------------------------------------

    def _handle(self, base: _Base, part: object, response: _Response) -> None:
        request_id = response.request_id
        kind = type(part)
        if kind is TextPart:
            text = part.text  # type: ignore[attr-defined]
            if not text:
                return
            with self.lock:
                if self.finished:
                    return
                response.text.append(text)
                response.delivered = True
                self._deliver(ev.ContentPartFound(**base, request_id=request_id, content_part=text))
        elif kind is ReasoningPart:
            text = part.text  # type: ignore[attr-defined]
            if not text:
                return
            with self.lock:
                response.reasoning.append(text)
                response.delivered = True
            self.emit(ev.ReasoningPartFound(**base, request_id=request_id, reasoning_part=text))
        elif kind is ToolCallPart:
            self._tool_call(base, part, response)  # type: ignore[arg-type]
        elif kind is UsagePart:
            with self.lock:
                response.usage = part.usage  # type: ignore[attr-defined]
        elif kind is FinishPart:
            response.finish_reason = part.reason  # type: ignore[attr-defined]
        elif kind is MetadataPart:
            with self.lock:
                response.provider_data.update(part.data)  # type: ignore[attr-defined]
        else:
            raise TypeError(f"driver {self.driver_name} yielded {part!r}, not a part")

    def _tool_call(self, base: _Base, part: ToolCallPart, response: _Response) -> None:
        request_id = response.request_id
        arguments, raw, problem = _parse_arguments(part.arguments)
        call = ToolCall(
            id=part.id or f"call_{uuid.uuid4().hex[:12]}",
            name=part.name,
            arguments=arguments,
            raw_arguments=raw,
            provider_data=dict(part.provider_data),
        )
        if self.should_stop():
            return  # no new tool call starts once cancelled
        with self.lock:
            if self.finished:
                return
            response.calls.append(call)
            response.delivered = True
        tool = self.tools_by_name.get(call.name)
        ids = _CallIds(request_id=request_id, tool_call_id=call.id, name=call.name)
        if tool is not None and tool.function is None:
            with self.lock:
                response.handed_to_caller = True
            self.emit(ev.ToolCallRequested(**base, **ids, arguments=dict(arguments)))
            return
        if not self.emit(ev.ToolCallStarted(**base, **ids, arguments=dict(arguments))):
            return
        if tool is None:
            known = ", ".join(self.tools_by_name) or "none"
            problem = f"unknown tool {call.name!r}; the tools offered are: {known}"
        elif problem is None:
            problem = tool.argument_problem(arguments)
        if problem is None:
            assert tool is not None
            try:
                result = tool.run(arguments, self.cancelled)
            except Exception as exc:
                problem = f"{type(exc).__name__}: {exc}"
            else:
                with self.lock:
                    if self.finished:
                        return
                    response.results.append(Message.tool_result(call.id, call.name, result))
                self.emit(ev.ToolCallFinished(**base, **ids, result=result))
                return
        problem = self._redact(problem)
        with self.lock:
            if self.finished:
                return
            response.results.append(
                Message.tool_result(call.id, call.name, f"Error: {problem}", is_error=True)
            )
        self.emit(ev.ToolCallError(**base, **ids, error=problem))


def _parse_arguments(
    arguments: str | Mapping[str, Any],
) -> tuple[dict[str, Any], str | None, str | None]:
    """(parsed arguments, raw text, problem) for a call's arguments."""
    if isinstance(arguments, Mapping):
        return dict(arguments), None, None
    raw = arguments
    if not raw.strip():
        return {}, raw, None
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        return {}, raw, f"the arguments are not valid JSON ({exc.msg}): {raw[:200]!r}"
    if not isinstance(value, dict):
        return {}, raw, f"the arguments must be a JSON object, got {type(value).__name__}"
    return value, raw, None
