"""``MistralDriver``: janito-core's driver for Mistral's chat completions, on the ``mistralai``
SDK's async client.

The SDK builds and sends the request (``chat.stream_async``) and raises its HTTP errors; the
event stream is read raw (``janito_core.sse``) into parts by the core's Chat Completions reader,
since the SDK's typed ``CompletionEvent`` per chunk costs far more than the chunk itself. The only
module of the package that imports the SDK, lazily (first request, first option check, first
error to describe), so registering and constructing the driver stay cheap.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import json
import logging
import weakref
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

from janito_core.attachments import Attachment
from janito_core.chat_completions import ChatCompletionsReader
from janito_core.clients import ClientHolder, http_client, tls_context
from janito_core.driver import LLMDriver, ProviderRequest, RequestContext
from janito_core.errors import InvalidRequestError
from janito_core.parts import Part
from janito_core.redact import redact, redact_url
from janito_core.retry import ErrorInfo, ProviderError, parse_retry_after
from janito_core.sse import aiter_sse, drain
from janito_core.transport import describe_transport_error
from janito_driver_mistral import attachments, output
from janito_driver_mistral.convert import OPTION_ALIASES, RESERVED_OPTIONS, request_kwargs
from janito_driver_mistral.errors import body_detail
from janito_driver_mistral.reasoning import reasoning_effort

if TYPE_CHECKING:
    import httpx2
    from mistralai.client import Mistral
    from mistralai.client.errors import SDKError
    from mistralai.client.models import CompletionEvent
    from mistralai.client.utils.eventstreaming import EventStreamAsync

__all__ = ["MistralDriver"]

KEY_VARIABLE = "MISTRAL_API_KEY"
# After [DONE], how long the rest of the body (normally the end of the chunked framing) may take
# to arrive: read to its end, the connection goes back to the pool for the next tool round.

log = logging.getLogger(__name__)


class _Session(NamedTuple):
    """One event loop's SDK client and its ``httpx2`` clients (the sync one is never used).

    ``arrived`` maps each task to the response its request got, from the moment the headers are
    in until the SDK hands the response over (see ``_send``).
    """

    sdk: Mistral
    http: httpx2.AsyncClient
    unused: httpx2.Client
    arrived: weakref.WeakKeyDictionary[asyncio.Task[Any], httpx2.Response]


class MistralDriver(LLMDriver):
    """Streams chat completions from Mistral (``POST {base_url}/v1/chat/completions``).

    ``base_url`` is the server, e.g. ``https://api.mistral.ai`` (a trailing ``/v1`` is
    dropped, since the SDK adds it). Options go to ``chat.stream_async`` as they are (``seed``
    and ``max_output_tokens`` are accepted for ``random_seed`` and ``max_tokens``).
    ``reasoning=`` becomes ``reasoning_effort`` where the model takes one (see
    ``janito_driver_mistral.reasoning``); a ``reasoning_effort`` or ``prompt_mode`` passed by
    hand wins.

    User turns may attach PNG, JPEG, WEBP and GIF images and PDFs (bytes or http(s) URLs), and
    WAV or MP3 audio for Voxtral models (``janito_driver_mistral.attachments``).
    ``output_schema=`` asks for strict JSON-schema output (``janito_driver_mistral.output``).
    """

    name = "mistral"
    default_model = "mistral-small-latest"
    api_key_env = (KEY_VARIABLE,)
    accepts: ClassVar[frozenset[str]] = attachments.ACCEPTS
    accepts_urls: ClassVar[frozenset[str]] = attachments.ACCEPTS

    def __init__(self, **config: Any) -> None:
        super().__init__(**config)
        self._clients: ClientHolder[_Session] = ClientHolder(
            self._new_session, _close_session, name=self.name
        )

    # -- the seam ----------------------------------------------------------------------------

    def check_options(self, options: Mapping[str, Any]) -> None:
        """Reject options ``chat.stream_async`` has no parameter for, before any request."""
        known = _stream_parameters()
        for name in options:
            wire_name = OPTION_ALIASES.get(name, name)
            if wire_name in RESERVED_OPTIONS:
                raise InvalidRequestError(
                    f"Option {name!r} is set by the mistral driver itself and cannot be passed"
                )
            if wire_name not in known:
                raise InvalidRequestError(
                    f"Unknown option {name!r} for the mistral driver; it accepts: "
                    + ", ".join(sorted(known - RESERVED_OPTIONS))
                )

    def check_attachment(self, attachment: Attachment) -> None:
        """Refuse, at the call, a type Mistral does not take, audio for a model other than
        Voxtral, and a URL Mistral cannot fetch (not http or https)."""
        super().check_attachment(attachment)
        attachments.check(attachment, self.config.model)

    def check_output_schema(self, schema: Mapping[str, Any]) -> None:
        """Refuse, at the call, a schema whose top is not an object or that holds an object of
        arbitrary keys: strict mode cannot take them (``janito_driver_mistral.output``)."""
        output.check_schema(schema)

    def check_request(self, request: ProviderRequest) -> None:
        """Refuse ``output_schema`` next to a ``response_format`` option: one would be dropped."""
        if request.output_schema is not None and "response_format" in request.options:
            raise InvalidRequestError(
                "the mistral driver cannot take both output_schema and a response_format "
                "option: output_schema sets it; pass one of them"
            )

    async def astream_request(
        self, request: ProviderRequest, context: RequestContext
    ) -> AsyncIterator[Part]:
        """Send one ``chat.stream_async`` call and yield its parts in response order."""
        from mistralai.client.errors import SDKError

        kwargs = request_kwargs(
            model=request.model,
            system_prompt=request.system_prompt,
            messages=request.messages,
            tools=request.tools,
            options=request.options,
            output_schema=request.output_schema,
            output_name=request.output_name,
        )
        effort = reasoning_effort(request.model, request.reasoning, request.options)
        if effort is not None:
            kwargs["reasoning_effort"] = effort
        reader = ChatCompletionsReader(
            provider=self._where(), model=request.model, key_variable=KEY_VARIABLE
        )
        async with self._clients.use() as session:
            try:
                stream = await _send(session, kwargs)
            except SDKError as exc:
                # A server that ignored "stream": true (some proxies do) answers 200 with the
                # whole completion as JSON; the SDK calls that unexpected, but it is an answer.
                for part in reader.whole(_whole_completion(exc)):
                    yield part
                return
            # Closed however the generator ends, a cancel included: the server sees it go. The
            # SDK's own iteration is never started; its response is read here.
            async with stream:
                events = aiter_sse(stream.response.aiter_bytes())
                try:
                    async for event in events:
                        for part in reader.data(event.data):
                            yield part
                        if reader.done:
                            break
                except Exception as exc:
                    # A connection cut after the finish reason still leaves a whole answer.
                    if not (reader.complete and _is_transport_error(exc)):
                        raise
                for part in reader.end():
                    yield part
                if reader.done:
                    await drain(events)

    def describe_error(self, exc: BaseException) -> ErrorInfo:
        """Map the SDK's and httpx2's exceptions to a message, status and retry decision."""
        from mistralai.client import errors

        if isinstance(exc, ProviderError):
            # Already described (by the reader, or by the client holder when closed); its
            # cause may be a transport error that must not rename it.
            return exc.info
        if isinstance(exc, errors.MistralError):
            if exc.status_code < 400:
                return ErrorInfo(
                    message=f"{self._where()} answered HTTP {exc.status_code} with Content-Type "
                    f"{exc.headers.get('content-type', 'none')!r} instead of an event stream; "
                    "check base_url",
                    status_code=exc.status_code,
                )
            return ErrorInfo.from_status(
                exc.status_code,
                body_detail(exc.body),
                key_variable=KEY_VARIABLE,
                model=self.config.model,
                retry_after=parse_retry_after(exc.headers),
            )
        transport = describe_transport_error(exc, where=self._where(), timeout=self.config.timeout)
        if transport is not None:
            return transport
        if isinstance(exc, errors.NoResponseError):
            return ErrorInfo(message=f"no response from {self._where()}", retryable=True)
        if _is_validation_error(exc):
            first = str(exc).splitlines()[0] if str(exc) else ""
            return ErrorInfo(
                message="the Mistral SDK could not build the request (check the options and"
                f" messages): {first}"
            )
        return super().describe_error(exc)

    def close(self) -> None:
        """End the requests in flight and close the HTTP clients; later requests are refused."""
        self._clients.close()

    # -- the client --------------------------------------------------------------------------

    def _new_session(self) -> _Session:
        import httpx2
        from mistralai.client import Mistral

        # Our own clients, sharing one TLS context (building one costs ~30 ms, per client): the
        # async one sends; the SDK insists on a sync one too, never used. retry_config=None so
        # only the core retries.
        arrived: weakref.WeakKeyDictionary[asyncio.Task[Any], httpx2.Response] = (
            weakref.WeakKeyDictionary()
        )

        async def note(response: httpx2.Response) -> None:
            task = asyncio.current_task()
            if task is not None:
                arrived[task] = response

        http = http_client(follow_redirects=True, event_hooks={"response": [note]})
        unused = httpx2.Client(verify=tls_context())
        timeout = self.config.timeout
        sdk = Mistral(
            api_key=self.config.api_key,
            server_url=_server_url(self.config.base_url),
            client=unused,
            async_client=http,
            retry_config=None,
            timeout_ms=round(timeout * 1000) if timeout is not None else None,
            debug_logger=_SdkLog(self.config.api_key),
        )
        return _Session(sdk, http, unused, arrived)

    def _where(self) -> str:
        url = redact_url(self.config.base_url, self.config.api_key)
        return f"the server at {url}" if url else "Mistral"


async def _send(session: _Session, kwargs: dict[str, Any]) -> EventStreamAsync[CompletionEvent]:
    """``chat.stream_async(**kwargs)``, closing the response if the call fails once it arrived.

    The SDK runs its response hooks in a worker thread after the headers are in; a cancel
    there (or a hook's error) leaves the response open where nothing will close it, and the
    server would wait on its connection until the client is closed.
    """
    task = asyncio.current_task()
    try:
        return await session.sdk.chat.stream_async(**kwargs)
    except BaseException:
        response = session.arrived.get(task) if task is not None else None
        if response is not None and not response.is_closed:
            await response.aclose()
        raise
    finally:
        if task is not None:
            session.arrived.pop(task, None)


async def _close_session(session: _Session) -> None:
    # The SDK leaves clients it was given open; the sync one holds no connection.
    await session.http.aclose()
    session.unused.close()


class _SdkLog:
    """The SDK's debug logger: its lines go to ``logging`` with the API key masked.

    Without one, the SDK reads ``MISTRAL_DEBUG`` and then calls ``logging.basicConfig`` and
    logs every request's headers itself.
    """

    def __init__(self, api_key: str | None) -> None:
        self._key = api_key

    def debug(self, msg: str, *args: Any, **kwargs: Any) -> None:
        if log.isEnabledFor(logging.DEBUG):
            log.debug("mistralai: %s", redact(msg % args if args else msg, self._key))


def _whole_completion(exc: SDKError) -> dict[str, Any]:
    """The completion in a 200 JSON answer to a streaming request; re-raises ``exc`` if none."""
    content_type = exc.headers.get("content-type", "")
    if exc.status_code != 200 or "json" not in content_type:
        raise exc
    try:
        completion = json.loads(exc.body)
    except ValueError:
        raise exc from None
    if not isinstance(completion, dict) or not isinstance(completion.get("choices"), list):
        raise exc
    return completion


def _is_transport_error(exc: BaseException) -> bool:
    import httpx2

    return isinstance(exc, httpx2.TransportError)


def _is_validation_error(exc: BaseException) -> bool:
    import pydantic

    return isinstance(exc, pydantic.ValidationError)


def _server_url(base_url: str | None) -> str | None:
    if not base_url:
        return None
    url = base_url.rstrip("/")
    return url.removesuffix("/v1")


@functools.cache
def _stream_parameters() -> frozenset[str]:
    from mistralai.client.chat import Chat

    signature = inspect.signature(Chat.stream_async)
    return frozenset(
        name
        for name, parameter in signature.parameters.items()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY
    )
