"""``OpenAIDriver``: OpenAI's Chat Completions (default) or Responses API, streamed, through the
official ``openai`` SDK; also any OpenAI-compatible server reached through ``base_url``.

The only module of the package that imports the SDK.
"""

from __future__ import annotations

import functools
import inspect
import json
import threading
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar, cast

import attrs
import httpx2
import openai
from openai.resources.chat.completions import Completions
from openai.resources.responses import Responses

from janito_core.abort import abortable_transport, watch_reads
from janito_core.driver import LLMDriver, ProviderRequest, RequestContext
from janito_core.errors import DriverConfigError, InvalidRequestError
from janito_core.parts import Part
from janito_core.retry import ErrorInfo, ProviderError, parse_retry_after
from janito_core.sse import iter_events
from janito_driver_openai.chat import ChatReader
from janito_driver_openai.convert import RESERVED_OPTIONS, chat_arguments, responses_arguments
from janito_driver_openai.errors import KEY_VARIABLE, error_detail, redact, stream_error_info
from janito_driver_openai.responses import ResponsesReader

__all__ = ["OpenAIDriver"]

APIS = ("chat", "responses")


class OpenAIDriver(LLMDriver):
    """Streams from OpenAI or a compatible server.

    Beyond the standard configuration (``model``, ``api_key``, ``base_url``, ``timeout``,
    ``max_retries``), ``api="responses"`` selects the Responses API instead of Chat
    Completions. Other call options go to the provider as they are (``max_tokens`` is renamed
    where the endpoint wants another name; names the SDK does not know travel in the body).
    """

    name: ClassVar[str] = "openai"
    default_model: ClassVar[str] = "gpt-4o-mini"
    api_key_env: ClassVar[tuple[str, ...]] = (KEY_VARIABLE,)

    def __init__(self, *, api: str = "chat", **config: Any) -> None:
        if api not in APIS:
            raise DriverConfigError(f"api must be one of {', '.join(APIS)}; got {api!r}")
        super().__init__(**config)
        self.api = api
        self._client: openai.OpenAI | None = None
        self._client_lock = threading.Lock()
        self._closed = False

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(model={self.config.model!r}, "
            f"base_url={self.config.base_url!r}, api={self.api!r})"
        )

    # -- the seam --------------------------------------------------------------------------

    def check_options(self, options: Mapping[str, Any]) -> None:
        """Reject options that would override what the driver sets from the request."""
        clash = sorted(RESERVED_OPTIONS & set(options))
        if clash:
            raise InvalidRequestError(
                f"option(s) {', '.join(clash)} cannot be passed to the openai driver: they come "
                "from the call itself (prompt/messages, system_prompt, tools) or, for api, "
                "from the driver's configuration"
            )

    def stream_request(self, request: ProviderRequest, context: RequestContext) -> Iterator[Part]:
        """Send one streaming request and yield its parts in response order."""
        client = self._openai_client()
        reader: ChatReader | ResponsesReader
        # Everything that can block on the network, from connecting to the last read, happens
        # inside watch_reads: the harness's abort then shuts down the socket being read.
        with watch_reads(context):
            if self.api == "responses":
                reader = ResponsesReader(model=request.model)
                arguments = responses_arguments(request, accepted=_accepted("responses"))
                stream = cast("openai.Stream[Any]", client.responses.create(**arguments))
            else:
                reader = ChatReader(model=request.model)
                arguments = chat_arguments(
                    request,
                    accepted=_accepted("chat"),
                    openai_endpoint=client.base_url.host == "api.openai.com",
                )
                stream = cast("openai.Stream[Any]", client.chat.completions.create(**arguments))
            # Closed here, on the worker thread, however the generator ends.
            with stream:
                if _is_whole_json(stream.response):
                    yield from reader.whole(_read_json(stream.response))
                    return
                seen = False
                # The events are read raw: the SDK's typed chunk objects cost ~180 µs each, the
                # readers work on plain dicts, and the SDK still sends the request and raises
                # its errors. Its rules are kept: [DONE] ends the stream, data must be JSON.
                for sse in iter_events(_lines(stream.response)):
                    if sse.data.startswith("[DONE]"):
                        break
                    seen = True
                    yield from reader.feed(json.loads(sse.data))
                media = _media_type(stream.response)
                if not seen and media != "text/event-stream":
                    # e.g. a proxy's HTML page with status 200: not an empty answer.
                    raise ProviderError(
                        ErrorInfo(
                            message=f"{self._where()} answered with {media or 'no content type'}"
                            ", not an event stream; check base_url"
                        )
                    )
                yield from reader.end()

    def describe_error(self, exc: BaseException) -> ErrorInfo:
        """What an SDK exception means: HTTP status, retryability, Retry-After, a clear text."""
        key = self.config.api_key
        if isinstance(exc, openai.APIStatusError):
            headers = exc.response.headers
            detail = error_detail(exc.body) or exc.message
            info = ErrorInfo.from_status(
                exc.status_code,
                redact(detail, key),
                key_variable=KEY_VARIABLE,
                model=self.config.model,
                retry_after=parse_retry_after(headers),
            )
            # OpenAI's own verdict on retrying, where it gives one.
            should_retry = headers.get("x-should-retry", "").lower()
            if should_retry in ("true", "false"):
                info = attrs.evolve(info, retryable=should_retry == "true")
            return info
        if isinstance(exc, openai.APITimeoutError):
            limit = f" within {self.config.timeout:g} s" if self.config.timeout else ""
            return ErrorInfo(
                message=f"{self._where()} sent nothing{limit}: the request timed out",
                retryable=True,
            )
        if isinstance(exc, openai.APIConnectionError):
            cause = exc.__cause__ or exc.__context__
            reason = f": {cause}" if cause is not None and str(cause) else ""
            return ErrorInfo(
                message=redact(
                    f"could not reach {self._where()}, or the connection dropped{reason}", key
                ),
                retryable=True,
            )
        if isinstance(exc, openai.APIError):
            # An {"error": ...} object inside the stream.
            body = exc.body if exc.body is not None else {"message": exc.message}
            info = stream_error_info(body, model=self.config.model)
            return attrs.evolve(info, message=redact(info.message, key))
        if isinstance(exc, json.JSONDecodeError):
            return ErrorInfo(
                message=(
                    f"{self._where()} sent a malformed stream event (not JSON: {exc.msg}); "
                    "the server or a proxy in between is not speaking the OpenAI protocol"
                ),
                retryable=False,
            )
        if isinstance(exc, openai.OpenAIError):
            return ErrorInfo(message=redact(f"{type(exc).__name__}: {exc}", key))
        return super().describe_error(exc)

    def close(self) -> None:
        """Close the HTTP client; the driver cannot send requests afterwards."""
        with self._client_lock:
            self._closed = True
            client, self._client = self._client, None
        if client is not None:
            client.close()

    # -- the client ------------------------------------------------------------------------

    def _openai_client(self) -> openai.OpenAI:
        with self._client_lock:
            if self._closed:
                raise ProviderError(ErrorInfo(message="the openai driver was closed"))
            if self._client is None:
                timeout = (
                    httpx2.Timeout(self.config.timeout)
                    if self.config.timeout is not None
                    else openai.DEFAULT_TIMEOUT
                )
                http_client = httpx2.Client(
                    transport=abortable_transport(limits=openai.DEFAULT_CONNECTION_LIMITS),
                    timeout=timeout,
                    follow_redirects=True,
                )
                self._client = openai.OpenAI(
                    api_key=self.config.api_key,
                    base_url=self.config.base_url,
                    timeout=timeout,
                    max_retries=0,  # the harness retries, announcing each retry
                    http_client=http_client,
                )
            return self._client

    def _where(self) -> str:
        client = self._client
        if client is not None:
            return f"the server at {client.base_url}"
        return f"the server at {self.config.base_url}" if self.config.base_url else "OpenAI"


@functools.cache
def _accepted(api: str) -> frozenset[str]:
    """The keyword names the SDK's ``create`` takes for ``api``."""
    create = Responses.create if api == "responses" else Completions.create
    return frozenset(inspect.signature(create).parameters) - {"self"}


def _lines(response: httpx2.Response) -> Iterator[str]:
    """The body's lines, with transport failures raised as the SDK raises them mid-stream."""
    try:
        yield from response.iter_lines()
    except httpx2.TimeoutException as exc:
        raise openai.APITimeoutError(request=response.request) from exc
    except httpx2.TransportError as exc:
        raise openai.APIConnectionError(request=response.request) from exc


def _media_type(response: httpx2.Response) -> str:
    return response.headers.get("content-type", "").split(";")[0].strip().lower()


def _is_whole_json(response: httpx2.Response) -> bool:
    """True when a server answered a streaming request with one JSON document."""
    media = _media_type(response)
    return media == "application/json" or media.endswith("+json")


def _read_json(response: httpx2.Response) -> Mapping[str, Any]:
    value = json.loads(response.read())
    if not isinstance(value, Mapping):
        raise ProviderError(
            ErrorInfo(message=f"the server answered with a JSON {type(value).__name__}")
        )
    return value
