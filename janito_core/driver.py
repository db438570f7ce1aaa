"""``LLMDriver``: the base class every provider driver subclasses.

The harness (``janito_core.harness`` and the modules it names) owns the event loop, the event
order, retries, the tool loop and cancellation. A driver implements the provider-specific seam,
in one of two kinds:

- ``async def astream_request(request, context)`` (the 0.2 seam, used by every first-party
  driver): send one request with the SDK's async client and yield neutral parts
  (``janito_core.parts``) in the order the response holds them. A cancel arrives as the task's
  cancellation (``CancelledError`` at an ``await``): let it through, and close the response in
  ``finally``/``async with`` so the server sees the connection go.
- ``stream_request(request, context)`` (the 0.1 seam, still supported unchanged): the same as a
  blocking generator. The harness runs it on a worker thread of its own; on cancel it calls the
  callbacks registered with ``context.on_abort`` from another thread, which must make the
  blocked read fail at once (``janito_core.abort`` does that for ``httpx2``).

Either way ``describe_error(exc)`` turns what the SDK raised into an ``ErrorInfo`` (message,
status, retryable, retry_after). The SDK's own retries must be off; the harness retries. A
response is complete once the driver yielded a ``FinishPart``; see ``end_marker``.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import attrs

from janito_core.attachments import Attachment, matches_media_type
from janito_core.errors import DriverConfigError, InvalidRequestError
from janito_core.messages import Message
from janito_core.parts import Part
from janito_core.redact import redact_url, register_secret
from janito_core.retry import ErrorInfo, ProviderError, check_retry_config
from janito_core.tools import Tool
from janito_core.transport import check_base_url, describe_transport_error

if TYPE_CHECKING:
    from janito_core.aio import AsyncEventStream
    from janito_core.events import Event
    from janito_core.harness import EventStream, GenerationResult

__all__ = [
    "DriverConfig",
    "LLMDriver",
    "ProviderRequest",
    "RequestContext",
    "is_async_driver",
]


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

    def __repr__(self) -> str:
        base_url = redact_url(self.base_url, self.api_key)
        return (
            f"DriverConfig(model={self.model!r}, base_url={base_url!r}, timeout={self.timeout!r}, "
            f"max_retries={self.max_retries!r}, max_tool_rounds={self.max_tool_rounds!r}, "
            f"retry_base_delay={self.retry_base_delay!r}, "
            f"max_retry_delay={self.max_retry_delay!r}, options={self.options!r})"
        )


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
    #: The JSON Schema the final answer must follow (``output_schema=``, built from the
    #: caller's type where it gave one), or None. The driver asks for native structured output
    #: with it, transformed the way its provider needs (``janito_core.structured``); the harness
    #: parses and checks the answer.
    output_schema: Mapping[str, Any] | None = None
    #: A name for that schema, for providers that want one (``response_format.json_schema.name``).
    output_name: str = "output"
    #: How hard the model should think: "off", "low", "medium", "high" or a budget of thinking
    #: tokens; None when the caller did not say (the provider's default stands). An option the
    #: caller passed by hand for the same thing wins over it (see ``janito_core.reasoning``).
    reasoning: str | int | None = None


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
    #: Whether a response must end with the provider's end marker (a ``FinishPart``) to count as
    #: complete; a clean end of stream without one is then an error, retried when nothing was
    #: delivered. ``None`` (the default) means yes for ``astream_request`` drivers and no for
    #: ``stream_request`` ones, which 0.1 never asked for it. A provider with no end marker
    #: sets ``False``.
    end_marker: ClassVar[bool | None] = None
    #: The provider id the price table (``janito-core[prices]``) knows this driver's models
    #: under, e.g. ``"google"``. ``None``: the driver's ``name``, for a driver that needs an API
    #: key; a driver that needs none (local or offline) is not priced unless it sets one.
    price_provider: ClassVar[str | None] = None
    #: The media types a user turn may attach for this driver (``"image/png"``, ``"image/*"``);
    #: empty: text only. Anything else is refused at the call, naming the driver and the type.
    accepts: ClassVar[frozenset[str]] = frozenset()
    #: Of those, the ones the provider fetches itself when given a URL (``Attachment.from_url``);
    #: a URL of another type is refused at the call (download it and attach the bytes).
    accepts_urls: ClassVar[frozenset[str]] = frozenset()

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
        if model is not None and (not isinstance(model, str) or not model.strip()):
            raise DriverConfigError(
                f"model must be a non-empty str (or left out for {self.default_model!r}); "
                f"got {model!r}"
            )
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
        if (
            not isinstance(max_tool_rounds, int)
            or isinstance(max_tool_rounds, bool)
            or max_tool_rounds < 1
        ):
            raise DriverConfigError(f"max_tool_rounds must be an int >= 1, got {max_tool_rounds!r}")
        check_retry_config(retry_base_delay, max_retry_delay, timeout)
        base_url = check_base_url(base_url, secret=api_key)
        _check_options(options)
        self.config = DriverConfig(
            model=model or self.default_model,
            api_key=api_key,
            base_url=base_url,
            timeout=float(timeout) if timeout is not None else None,
            max_retries=max_retries,
            max_tool_rounds=max_tool_rounds,
            retry_base_delay=float(retry_base_delay),
            max_retry_delay=float(max_retry_delay),
            options=dict(options),
        )
        # The key must not show in httpx2's request log either (some gateways take it in the
        # URL); the registration ends with this driver.
        register_secret(api_key, owner=self)

    def __repr__(self) -> str:
        base_url = redact_url(self.config.base_url, self.config.api_key)
        return f"{type(self).__name__}(model={self.config.model!r}, base_url={base_url!r})"

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
        reasoning: str | int | None = None,
        attachments: Iterable[Attachment] | None = None,
        output_schema: Any = None,
        **options: Any,
    ) -> EventStream:
        """Start a generation on a background thread and return its stream of events.

        ``observers`` see every event of this generation as it is emitted (see
        ``hookspecs.observe_event`` for the rules). ``attachments`` go after the prompt in its
        user turn; ``output_schema`` (a JSON Schema dict, a dataclass, ``TypedDict``, attrs class
        or pydantic model) asks for structured output, parsed into ``result().output``. Raises
        ``InvalidRequestError`` at once for misuse (no prompt nor messages, a tool that is not a
        ``Tool``, an option value that is not JSON-like, an attachment the driver does not
        accept, a type that cannot become a schema).
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
            reasoning=reasoning,
            attachments=attachments,
            output_schema=output_schema,
        )

    def generate(
        self,
        prompt: str | None = None,
        *,
        messages: Sequence[Message] | None = None,
        system_prompt: str | None = None,
        tools: Iterable[Tool] | None = None,
        cancel_event: threading.Event | None = None,
        observers: Iterable[Callable[[Event], object]] | None = None,
        reasoning: str | int | None = None,
        attachments: Iterable[Attachment] | None = None,
        output_schema: Any = None,
        **options: Any,
    ) -> GenerationResult:
        """Run a generation to its end and return its text, tool calls, usage and messages.

        Raises ``GenerationError`` (a typed subclass: ``RateLimitError``, ...) when it ends in
        error; a cancelled one returns with ``status == "cancelled"``.
        """
        stream = self.stream_generate(
            prompt,
            messages=messages,
            system_prompt=system_prompt,
            tools=tools,
            cancel_event=cancel_event,
            observers=observers,
            reasoning=reasoning,
            attachments=attachments,
            output_schema=output_schema,
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
        reasoning: str | int | None = None,
        attachments: Iterable[Attachment] | None = None,
        output_schema: Any = None,
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
            reasoning=reasoning,
            attachments=attachments,
            output_schema=output_schema,
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
        reasoning: str | int | None = None,
        attachments: Iterable[Attachment] | None = None,
        output_schema: Any = None,
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
            reasoning=reasoning,
            attachments=attachments,
            output_schema=output_schema,
            **options,
        )

    # -- the seam ----------------------------------------------------------------------------

    def astream_request(
        self, request: ProviderRequest, context: RequestContext
    ) -> AsyncIterator[Part]:
        """Send one request and yield its response as neutral parts, in response order.

        Implement it as an ``async def`` generator. A driver implements this or
        ``stream_request``.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement astream_request()")

    def stream_request(self, request: ProviderRequest, context: RequestContext) -> Iterator[Part]:
        """The blocking form of ``astream_request`` (the 0.1 seam), run on a worker thread."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement astream_request() or stream_request()"
        )

    def end_marker_required(self) -> bool:
        """Whether a response without a ``FinishPart`` is incomplete (see ``end_marker``)."""
        if self.end_marker is not None:
            return self.end_marker
        return is_async_driver(self)

    def describe_error(self, exc: BaseException) -> ErrorInfo:
        """What ``exc`` (raised by ``stream_request``) means; override for the SDK's errors."""
        if isinstance(exc, ProviderError):
            return exc.info
        where = f"the {self.name or type(self).__name__} server"
        if self.config.base_url:
            where += f" at {redact_url(self.config.base_url, self.config.api_key)}"
        transport = describe_transport_error(exc, where=where, timeout=self.config.timeout)
        if transport is not None:
            return transport
        return ErrorInfo(message=f"{type(exc).__name__}: {exc}")

    def check_options(self, options: Mapping[str, Any]) -> None:
        """Reject options this driver cannot send; called at the call, before any thread."""

    def check_attachment(self, attachment: Attachment) -> None:
        """Refuse an attachment this driver cannot send (``InvalidRequestError``), at the call.

        The default checks ``accepts`` and, for a URL, ``accepts_urls``.
        """
        who = f"the {self.name or type(self).__name__} driver"
        if not matches_media_type(attachment.media_type, self.accepts):
            taken = ", ".join(sorted(self.accepts)) or "no attachments (text only)"
            raise InvalidRequestError(
                f"{who} cannot send {attachment.media_type} attachments; it takes {taken}"
            )
        if attachment.url is not None and not matches_media_type(
            attachment.media_type, self.accepts_urls
        ):
            raise InvalidRequestError(
                f"{who} cannot send {attachment.media_type} by URL (the provider does not fetch "
                "it): download it and attach it with Attachment.from_path or from_bytes"
            )

    def check_request(self, request: ProviderRequest) -> None:
        """Refuse, at the call, what the provider cannot take as a whole (``InvalidRequestError``).

        ``request`` is the generation's first request as it will be sent (its ``request_id`` is
        ``""``): options together with ``output_schema``, the total size of the attachments of
        the history. Called after the per-option, per-attachment and schema checks; the base
        takes everything.
        """

    def check_output_schema(self, schema: Mapping[str, Any]) -> None:
        """Refuse an output schema the provider cannot take (``InvalidRequestError``), at the call.

        The default takes any schema.
        """

    def close(self) -> None:
        """Release what the driver holds (HTTP clients). The driver is unusable afterwards."""


def is_async_driver(driver: LLMDriver) -> bool:
    """True when ``driver`` implements the asynchronous seam, ``astream_request``."""
    return type(driver).astream_request is not LLMDriver.astream_request


def _check_options(options: Mapping[str, Any]) -> None:
    for key, value in options.items():
        problem = _json_problem(value)
        if problem is not None:
            raise InvalidRequestError(
                f"Option {key}={value!r} cannot be sent: {problem}; options must be JSON-like "
                "(str, int, float, bool, None, and lists or dicts of those)"
            )


def _json_problem(value: Any, depth: int = 0) -> str | None:
    """Why ``value`` cannot travel as JSON, or None."""
    if depth > 32:
        return "it nests too deeply"
    if value is None or isinstance(value, (str, bool, int)):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{value!r} is not a finite number"
    if isinstance(value, (list, tuple)):
        for item in value:
            problem = _json_problem(item, depth + 1)
            if problem is not None:
                return problem
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"the key {key!r} is not a str"
            problem = _json_problem(item, depth + 1)
            if problem is not None:
                return problem
        return None
    return f"a {type(value).__name__} is not JSON"
