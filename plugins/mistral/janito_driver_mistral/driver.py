"""``MistralDriver``: janito-core's driver for Mistral's chat completions, on the ``mistralai`` SDK.

This is the only module that imports the SDK, and it does so lazily (first request, first
option check, first error to describe), so registering and constructing the driver stay cheap.
"""

from __future__ import annotations

import inspect
import json
import logging
import threading
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import attrs

from janito_core.abort import abortable_transport, watch_reads
from janito_core.driver import LLMDriver, ProviderRequest, RequestContext
from janito_core.errors import InvalidRequestError
from janito_core.parts import Part
from janito_core.retry import ErrorInfo, ProviderError, parse_retry_after
from janito_core.sse import iter_events
from janito_driver_mistral.chunks import ChunkReader, malformed
from janito_driver_mistral.convert import OPTION_ALIASES, RESERVED_OPTIONS, request_kwargs
from janito_driver_mistral.errors import body_detail

if TYPE_CHECKING:
    import httpx2
    from mistralai.client import Mistral
    from mistralai.client.errors import SDKError

__all__ = ["MistralDriver"]

_KEY_VARIABLE = "MISTRAL_API_KEY"

log = logging.getLogger(__name__)


class MistralDriver(LLMDriver):
    """Streams chat completions from Mistral (``POST {base_url}/v1/chat/completions``).

    ``base_url`` is the server, e.g. ``https://api.mistral.ai`` (a trailing ``/v1`` is
    dropped, since the SDK adds it). Options go to ``chat.stream`` as they are (``seed`` and
    ``max_output_tokens`` are accepted for ``random_seed`` and ``max_tokens``).
    """

    name = "mistral"
    default_model = "mistral-small-latest"
    api_key_env = (_KEY_VARIABLE,)

    _option_names: ClassVar[frozenset[str] | None] = None

    def __init__(self, **config: Any) -> None:
        super().__init__(**config)
        self._lock = threading.Lock()
        self._sdk: Mistral | None = None
        self._http: httpx2.Client | None = None

    # -- the client --------------------------------------------------------------------------

    def _client(self) -> Mistral:
        with self._lock:
            if self._sdk is None:
                import httpx2
                from mistralai.client import Mistral

                # Our own httpx2 client so the harness's abort can break a blocked read, and
                # retry_config=None so only the core retries.
                http = httpx2.Client(transport=abortable_transport(), follow_redirects=True)
                timeout = self.config.timeout
                self._sdk = Mistral(
                    api_key=self.config.api_key,
                    server_url=_server_url(self.config.base_url),
                    client=http,
                    retry_config=None,
                    timeout_ms=round(timeout * 1000) if timeout is not None else None,
                    debug_logger=_SdkLog(self.config.api_key),
                )
                self._http = http
            return self._sdk

    def close(self) -> None:
        """Close the HTTP client (the SDK leaves a client it was given open)."""
        with self._lock:
            http, self._http, self._sdk = self._http, None, None
        if http is not None:
            http.close()

    # -- options -----------------------------------------------------------------------------

    def check_options(self, options: Mapping[str, Any]) -> None:
        """Reject options ``chat.stream`` has no parameter for, before any thread starts."""
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

    # -- one request -------------------------------------------------------------------------

    def stream_request(self, request: ProviderRequest, context: RequestContext) -> Iterator[Part]:
        """Send one ``chat.stream`` call and yield its parts in response order."""
        client = self._client()
        kwargs = request_kwargs(
            model=request.model,
            system_prompt=request.system_prompt,
            messages=request.messages,
            tools=request.tools,
            options=request.options,
        )
        reader = ChunkReader()
        with watch_reads(context):
            yield from self._read(client, kwargs, reader)
        if reader.finish_reason is None:
            # The SDK ends quietly on EOF, even one that cut the response short.
            raise ProviderError(
                ErrorInfo(
                    message="connection problem: the Mistral stream ended before the response"
                    " was complete (no finish_reason)",
                    retryable=True,
                )
            )
        if reader.finish_reason == "error" and not reader.delivered:
            # Nothing reached the caller: treat it as a server error, which may be retried.
            # With content already delivered, "error" is kept as the finish reason instead.
            raise ProviderError(
                ErrorInfo(
                    message="Mistral ended the response with finish_reason 'error' before"
                    " sending anything (a failure on Mistral's side)",
                    retryable=True,
                )
            )
        yield from reader.end()

    def _read(self, client: Mistral, kwargs: dict[str, Any], reader: ChunkReader) -> Iterator[Part]:
        from mistralai.client.errors import SDKError

        try:
            stream = client.chat.stream(**kwargs)
        except SDKError as exc:
            # A server that ignored "stream": true (some proxies do) answers 200 with the
            # whole completion as JSON; the SDK calls that unexpected, but it is an answer.
            yield from reader.message(_whole_completion(exc))
            return
        # Closed here, on the worker thread, however the generator ends.
        with stream:
            # The events are read raw: the SDK's typed CompletionEvent costs about a millisecond
            # per chunk, the reader works on plain dicts, and the SDK has still sent the request
            # and raised any HTTP error. Its rules are kept: "[DONE]" ends the stream, and every
            # other event's data must be a JSON object. Transport errors surface as httpx2's,
            # as they did from the SDK's own iteration.
            for event in iter_events(_lines(stream.response)):
                data = event.data
                if data == "[DONE]":
                    break
                try:
                    chunk = json.loads(data)
                except ValueError as exc:
                    raise malformed(f"an event that is not JSON ({exc})") from None
                if not isinstance(chunk, dict):
                    raise malformed(
                        f"an event that is a JSON {type(chunk).__name__}, not an object"
                    )
                yield from reader.chunk(chunk)

    # -- errors ------------------------------------------------------------------------------

    def describe_error(self, exc: BaseException) -> ErrorInfo:
        """Map the SDK's and httpx2's exceptions to a message, status and retry decision."""
        import httpx2
        import pydantic
        from mistralai.client import errors

        if isinstance(exc, ProviderError):
            # Malformed-response messages quote what the server sent.
            return attrs.evolve(exc.info, message=self._redact(exc.info.message))
        if isinstance(exc, errors.ResponseValidationError) and exc.status_code < 300:
            cause = str(exc.cause or exc).splitlines()
            return ErrorInfo(
                message="Mistral sent an event the SDK could not read (malformed response): "
                + self._redact(" ".join(cause[:3]))[:400],
            )
        if isinstance(exc, errors.MistralError):
            if exc.status_code < 400:
                return ErrorInfo(
                    message=f"Mistral answered HTTP {exc.status_code} with Content-Type "
                    f"{exc.headers.get('content-type', 'none')!r} instead of an event stream; "
                    "check base_url",
                    status_code=exc.status_code,
                )
            return ErrorInfo.from_status(
                exc.status_code,
                self._redact(body_detail(exc.body)),
                key_variable=_KEY_VARIABLE,
                model=self.config.model,
                retry_after=parse_retry_after(exc.headers),
            )
        if isinstance(exc, errors.NoResponseError):
            return ErrorInfo(message="connection problem: no response from Mistral", retryable=True)
        if isinstance(exc, httpx2.TimeoutException):
            return ErrorInfo(
                message=f"connection problem: Mistral sent nothing in time ({type(exc).__name__})",
                retryable=True,
            )
        if isinstance(exc, (httpx2.NetworkError, httpx2.RemoteProtocolError)):
            return ErrorInfo(
                message=f"connection problem: {type(exc).__name__}: {self._redact(str(exc))}",
                retryable=True,
            )
        if isinstance(exc, pydantic.ValidationError):
            return ErrorInfo(
                message="the Mistral SDK could not build the request (check the options and"
                f" messages): {self._redact(str(exc).splitlines()[0] if str(exc) else '')}"
            )
        return super().describe_error(exc)

    def _redact(self, text: str) -> str:
        key = self.config.api_key
        return text.replace(key, "***") if key else text


class _SdkLog:
    """The SDK's debug logger: its lines go to ``logging`` with the API key blanked out.

    Without one, the SDK reads ``MISTRAL_DEBUG`` and then calls ``logging.basicConfig`` and
    logs every request's headers itself.
    """

    def __init__(self, api_key: str | None) -> None:
        self._key = api_key

    def debug(self, msg: str, *args: Any, **kwargs: Any) -> None:
        if not log.isEnabledFor(logging.DEBUG):
            return
        text = msg % args if args else msg
        if self._key:
            text = text.replace(self._key, "***")
        log.debug("mistralai: %s", text)


def _whole_completion(exc: SDKError) -> dict[str, Any]:
    """The completion in a 200 JSON answer to a streaming request; re-raises ``exc`` if none."""
    from mistralai.client.models import ChatCompletionResponse

    content_type = exc.headers.get("content-type", "")
    if exc.status_code != 200 or "json" not in content_type:
        raise exc
    try:
        # Validated by the SDK's model (a one-off, unlike stream chunks) so that only what the
        # SDK accepts as a completion counts as one; the reader then takes the plain JSON.
        ChatCompletionResponse.model_validate_json(exc.body)
        completion = json.loads(exc.body)
    except ValueError:
        raise exc from None
    if not isinstance(completion, dict):
        raise exc
    return completion


def _lines(response: httpx2.Response) -> Iterator[str]:
    """The body's lines, without the UTF-8 byte-order mark the SDK also drops before them."""
    lines = response.iter_lines()
    for first in lines:
        yield first.removeprefix("\ufeff")
        break
    yield from lines


def _server_url(base_url: str | None) -> str | None:
    if not base_url:
        return None
    url = base_url.rstrip("/")
    return url[: -len("/v1")] if url.endswith("/v1") else url


def _stream_parameters() -> frozenset[str]:
    names = MistralDriver._option_names
    if names is None:
        from mistralai.client.chat import Chat

        signature = inspect.signature(Chat.stream)
        names = frozenset(
            name
            for name, parameter in signature.parameters.items()
            if parameter.kind is inspect.Parameter.KEYWORD_ONLY
        )
        MistralDriver._option_names = names
    return names
