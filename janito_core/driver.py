"""``LLMDriver``: the base class every provider driver subclasses.

The harness (``janito_core.harness``) owns the thread, the event order, retries, the tool loop
and cancellation. A driver implements the provider-specific seam:

- ``stream_request(request, context)``: send one request and yield neutral parts
  (``janito_core.parts``) in the order the response holds them. It runs on the worker thread.
  As soon as it holds something that can be aborted (an HTTP response, a socket), it registers
  an abort callback with ``context.on_abort``: the harness calls it from another thread on
  cancel, and it must make the blocked read fail at once (shut the socket down; do not close
  it there). The generator's own ``finally``/``with`` closes the stream on the worker thread.
- ``describe_error(exc)``: turn what the SDK raised into an ``ErrorInfo`` (message, status,
  retryable, retry_after). The SDK's own retries must be off; the harness retries.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import attrs

from janito_core.errors import DriverConfigError, InvalidRequestError
from janito_core.messages import Message
from janito_core.parts import Part
from janito_core.retry import ErrorInfo, ProviderError
from janito_core.tools import Tool

if TYPE_CHECKING:
    from janito_core.aio import AsyncEventStream
    from janito_core.events import Event
    from janito_core.harness import EventStream, GenerationResult

__all__ = ["DriverConfig", "LLMDriver", "ProviderRequest", "RequestContext"]

_OPTION_TYPES = (str, int, float, bool, type(None), list, tuple, dict)


@attrs.frozen(kw_only=True)
class DriverConfig:
    """How a driver instance talks to its provider. The key never shows in a repr."""

    model: str
    api_key: str | None = attrs.field(default=None, repr=False)
    base_url: str | None = None
    timeout: float | None = None
    max_retries: int = 2
    max_tool_rounds: int = 10
    retry_base_delay: float = 0.5
    max_retry_delay: float = 60.0
    options: Mapping[str, Any] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class ProviderRequest:
    """Everything one provider call needs: the conversation so far, tools and options."""

    request_id: str
    model: str
    messages: tuple[Message, ...]
    system_prompt: str | None = None
    tools: tuple[Tool, ...] = ()
    options: Mapping[str, Any] = attrs.field(factory=dict)
    attempt: int = 0


class RequestContext:
    """One provider call's link back to the harness: abort callbacks and cancel-aware waits."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._callbacks: list[Callable[[], object]] = []
        self._aborted = threading.Event()

    @property
    def aborted(self) -> bool:
        """True once the harness aborted this call."""
        return self._aborted.is_set()

    def on_abort(self, callback: Callable[[], object]) -> None:
        """Run ``callback`` (from the cancelling thread) when the call is aborted; now if it was."""
        with self._lock:
            if not self._aborted.is_set():
                self._callbacks.append(callback)
                return
        _call_quietly(callback)

    def abort(self) -> None:
        """Abort the call: run the callbacks once. Safe from any thread."""
        with self._lock:
            if self._aborted.is_set():
                return
            self._aborted.set()
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            _call_quietly(callback)

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; True (at once) if the call is aborted meanwhile."""
        return self._aborted.wait(seconds)


def _call_quietly(callback: Callable[[], object]) -> None:
    try:
        callback()
    except Exception:  # an abort that fails must not stop the others or the canceller
        import logging

        logging.getLogger(__name__).debug("abort callback failed", exc_info=True)


class LLMDriver:
    """Base class of drivers: configuration, the public calls, and the seam for providers.

    Subclasses set ``name``, ``default_model`` and ``api_key_env``, and implement
    ``stream_request``; most also override ``describe_error``.
    """

    name: ClassVar[str] = ""
    default_model: ClassVar[str] = ""
    api_key_env: ClassVar[tuple[str, ...]] = ()
    requires_api_key: ClassVar[bool] = True

    def __init__(
        self,
        *,
        model: str | None = None,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | None = None,
        max_retries: int = 2,
        max_tool_rounds: int = 10,
        retry_base_delay: float = 0.5,
        max_retry_delay: float = 60.0,
        **options: Any,
    ) -> None:
        if api_key is None:
            api_key = next((os.environ[v] for v in self.api_key_env if os.environ.get(v)), None)
        if self.requires_api_key and not api_key:
            variables = " or ".join(self.api_key_env) or "an API key variable"
            raise DriverConfigError(
                f"The {self.name or type(self).__name__} driver needs an API key: "
                f"set {variables} or pass api_key=..."
            )
        if not isinstance(max_retries, int) or isinstance(max_retries, bool) or max_retries < 0:
            raise DriverConfigError(f"max_retries must be an int >= 0, got {max_retries!r}")
        if not isinstance(max_tool_rounds, int) or max_tool_rounds < 1:
            raise DriverConfigError(f"max_tool_rounds must be an int >= 1, got {max_tool_rounds!r}")
        if timeout is not None and (not isinstance(timeout, (int, float)) or timeout <= 0):
            raise DriverConfigError(
                f"timeout must be a positive number of seconds, got {timeout!r}"
            )
        _check_options(options)
        self.config = DriverConfig(
            model=model or self.default_model,
            api_key=api_key,
            base_url=base_url,
            timeout=float(timeout) if timeout is not None else None,
            max_retries=max_retries,
            max_tool_rounds=max_tool_rounds,
            retry_base_delay=retry_base_delay,
            max_retry_delay=max_retry_delay,
            options=dict(options),
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(model={self.config.model!r}, base_url={self.config.base_url!r})"
        )

    @property
    def model(self) -> str:
        """The model this driver asks for."""
        return self.config.model

    # -- the public calls ------------------------------------------------------------------

    def stream_generate(
        self,
        prompt: str | None = None,
        *,
        messages: Sequence[Message] | None = None,
        system_prompt: str | None = None,
        tools: Iterable[Tool] | None = None,
        cancel_event: threading.Event | None = None,
        observers: Iterable[Callable[[Event], object]] | None = None,
        **options: Any,
    ) -> EventStream:
        """Start a generation on a background thread and return its stream of events.

        ``observers`` see every event of this generation as it is emitted (see
        ``hookspecs.observe_event`` for the rules). Raises ``InvalidRequestError`` at once for
        misuse (no prompt nor messages, a tool that is not a ``Tool``, an option value that is not
        JSON-like).
        """
        from janito_core.harness import start_generation

        return start_generation(
            self,
            prompt=prompt,
            messages=messages,
            system_prompt=system_prompt,
            tools=tools,
            cancel_event=cancel_event,
            options=options,
            observers=observers,
        )

    def generate(
        self,
        prompt: str | None = None,
        *,
        messages: Sequence[Message] | None = None,
        system_prompt: str | None = None,
        tools: Iterable[Tool] | None = None,
        cancel_event: threading.Event | None = None,
        **options: Any,
    ) -> GenerationResult:
        """Run a generation to its end and return its text, tool calls, usage and messages.

        Raises ``GenerationError`` when it ends in error; a cancelled one returns with
        ``status == "cancelled"``.
        """
        stream = self.stream_generate(
            prompt,
            messages=messages,
            system_prompt=system_prompt,
            tools=tools,
            cancel_event=cancel_event,
            **options,
        )
        with stream:
            return stream.result()

    def astream_generate(
        self,
        prompt: str | None = None,
        *,
        messages: Sequence[Message] | None = None,
        system_prompt: str | None = None,
        tools: Iterable[Tool] | None = None,
        cancel_event: threading.Event | None = None,
        observers: Iterable[Callable[[Event], object]] | None = None,
        **options: Any,
    ) -> AsyncEventStream:
        """``stream_generate`` for asyncio: the same events, as an async iterator.

        Awaiting the next event never blocks the event loop. Cancelling the awaiting task (or
        ``asyncio.timeout``), ``aclose()``, leaving ``async with`` or breaking out of
        ``async for`` cancel the generation with the same guarantees as ``cancel_event``.
        """
        from janito_core.aio import astream_generate

        return astream_generate(
            self,
            prompt,
            messages=messages,
            system_prompt=system_prompt,
            tools=tools,
            cancel_event=cancel_event,
            observers=observers,
            **options,
        )

    async def agenerate(
        self,
        prompt: str | None = None,
        *,
        messages: Sequence[Message] | None = None,
        system_prompt: str | None = None,
        tools: Iterable[Tool] | None = None,
        cancel_event: threading.Event | None = None,
        observers: Iterable[Callable[[Event], object]] | None = None,
        **options: Any,
    ) -> GenerationResult:
        """``generate`` for asyncio: await the whole generation's result.

        Raises ``GenerationError`` when it ends in error; a cancelled one returns with
        ``status == "cancelled"``. Cancelling the awaiting task cancels the generation.
        """
        from janito_core.aio import agenerate

        return await agenerate(
            self,
            prompt,
            messages=messages,
            system_prompt=system_prompt,
            tools=tools,
            cancel_event=cancel_event,
            observers=observers,
            **options,
        )

    # -- the seam ----------------------------------------------------------------------------

    def stream_request(self, request: ProviderRequest, context: RequestContext) -> Iterator[Part]:
        """Send one request and yield its response as neutral parts, in response order."""
        raise NotImplementedError(f"{type(self).__name__} must implement stream_request()")

    def describe_error(self, exc: BaseException) -> ErrorInfo:
        """What ``exc`` (raised by ``stream_request``) means; override for the SDK's errors."""
        if isinstance(exc, ProviderError):
            return exc.info
        if isinstance(exc, (ConnectionError, TimeoutError)):
            return ErrorInfo(message=f"connection problem: {exc}", retryable=True)
        return ErrorInfo(message=f"{type(exc).__name__}: {exc}")

    def check_options(self, options: Mapping[str, Any]) -> None:
        """Reject options this driver cannot send; called at the call, before any thread."""

    def close(self) -> None:
        """Release what the driver holds (HTTP clients). The driver is unusable afterwards."""


def _check_options(options: Mapping[str, Any]) -> None:
    for key, value in options.items():
        if not isinstance(value, _OPTION_TYPES):
            raise InvalidRequestError(
                f"Option {key}={value!r} has type {type(value).__name__}; options must be "
                "str, int, float, bool, None, list or dict"
            )
