"""``OpenAIDriver``: OpenAI's Chat Completions (default) or Responses API, streamed, through the
official ``openai`` SDK's async client; also any OpenAI-compatible server reached through
``base_url``.

The only module of the package that imports the SDK. The SDK builds and sends the request and
raises its HTTP errors; the response body is read raw (``janito_core.sse``), since the SDK's
typed object per chunk costs far more than the chunk itself.
"""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import AsyncIterator, Collection, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import httpx2
import openai

from janito_core.attachments import Attachment
from janito_core.chat_completions import ChatCompletionsReader, error_detail, json_event
from janito_core.clients import ClientHolder, http_client
from janito_core.driver import LLMDriver, ProviderRequest, RequestContext
from janito_core.errors import DriverConfigError, InvalidRequestError
from janito_core.parts import Part
from janito_core.redact import redact_url
from janito_core.retry import ErrorInfo, ProviderError
from janito_core.sse import aiter_sse, drain
from janito_core.transport import describe_transport_error
from janito_driver_openai.content import (
    CHAT_ACCEPTS,
    CHAT_ACCEPTS_URLS,
    RESPONSES_ACCEPTS,
    RESPONSES_ACCEPTS_URLS,
    unsendable,
)
from janito_driver_openai.convert import RESERVED_OPTIONS, chat_arguments, responses_arguments
from janito_driver_openai.structured import MODES, check_format_options, check_schema

if TYPE_CHECKING:
    from janito_driver_openai.responses import ResponsesReader

__all__ = ["OpenAIDriver"]

APIS = ("chat", "responses")
KEY_VARIABLE = "OPENAI_API_KEY"
#: What ``quirks=`` may name (the presets set them; see the README's presets table):
#: ``reasoning_content``: an assistant turn that called tools carries its reasoning back as
#: ``reasoning_content`` (DeepSeek answers 400 when it is missing).
QUIRKS = frozenset({"reasoning_content"})
NO_KEY = "no-key"
#: Where an ``azure_api_version`` driver finds its endpoint when ``base_url`` is not given.
AZURE_ENDPOINT_VARIABLE = "AZURE_OPENAI_ENDPOINT"
# After [DONE], how long the rest of the body (normally just the end of the chunked framing)
# may take to arrive: read to its end, the connection goes back to the pool for the next round.


class OpenAIDriver(LLMDriver):
    """Streams from OpenAI or a compatible server.

    Beyond the standard configuration (``model``, ``api_key``, ``base_url``, ``timeout``,
    ``max_retries``), ``api="responses"`` selects the Responses API instead of Chat
    Completions. Other call options go to the provider as they are (``max_tokens`` is renamed
    where the endpoint wants another name; names the SDK does not know travel in the body).

    What a compatible server takes differs from OpenAI: ``accepts`` / ``accepts_urls`` (media
    types or ``"image/*"`` patterns) replace the API's own sets, and
    ``structured_output="json_object"`` serves a server without json_schema (the presets set
    these; see the README).
    """

    name: ClassVar[str] = "openai"
    default_model: ClassVar[str] = "gpt-4o-mini"
    api_key_env: ClassVar[tuple[str, ...]] = (KEY_VARIABLE,)
    # Chat's, the default API; each instance holds those of its API (or its preset's).
    accepts: ClassVar[frozenset[str]] = CHAT_ACCEPTS
    accepts_urls: ClassVar[frozenset[str]] = CHAT_ACCEPTS_URLS

    def __init__(
        self,
        *,
        api: str = "chat",
        quirks: Collection[str] = (),
        azure_api_version: str | None = None,
        accepts: Collection[str] | None = None,
        accepts_urls: Collection[str] | None = None,
        structured_output: str = "json_schema",
        **config: Any,
    ) -> None:
        if api not in APIS:
            raise DriverConfigError(f"api must be one of {', '.join(APIS)}; got {api!r}")
        if structured_output not in MODES:
            raise DriverConfigError(
                f"structured_output must be one of {', '.join(MODES)}; got {structured_output!r}"
            )
        media = _media_types("accepts", accepts)
        media_urls = _media_types("accepts_urls", accepts_urls)
        if isinstance(quirks, str) or not set(quirks) <= QUIRKS:
            raise DriverConfigError(
                f"quirks must be a collection of {', '.join(sorted(QUIRKS))}; got {quirks!r}"
            )
        if azure_api_version is not None:
            # Azure: the endpoint is the resource's, the deployment is the model, the key goes
            # in an api-key header (the SDK's AzureOpenAI client does all three).
            if not isinstance(azure_api_version, str) or not azure_api_version:
                raise DriverConfigError(
                    f"azure_api_version must be a non-empty str, got {azure_api_version!r}"
                )
            if config.get("base_url") is None:
                config["base_url"] = os.environ.get(AZURE_ENDPOINT_VARIABLE) or None
            if config["base_url"] is None:
                raise DriverConfigError(
                    f"The {self.name} driver needs the Azure resource's endpoint: set "
                    f"{AZURE_ENDPOINT_VARIABLE} or pass base_url=..."
                )
        super().__init__(**config)
        if not self.config.model:
            # A preset with no model of its own (vllm serves whatever it was started with).
            raise DriverConfigError(f"The {self.name} driver needs a model: pass model=...")
        self.api = api
        self.quirks = frozenset(quirks)
        self.structured_output = structured_output
        default, default_urls = (
            (RESPONSES_ACCEPTS, RESPONSES_ACCEPTS_URLS)
            if api == "responses"
            else (CHAT_ACCEPTS, CHAT_ACCEPTS_URLS)
        )
        # What this instance takes depends on its API and preset, so it is the instance's
        # (mypy reads the base's ClassVar as class-only).
        self.accepts = default if media is None else media  # type: ignore[misc]
        self.accepts_urls = default_urls if media_urls is None else media_urls  # type: ignore[misc]
        self.azure_api_version = azure_api_version
        self._key_variable = self.api_key_env[0] if self.api_key_env else None
        self._clients = ClientHolder(self._new_client, _close_client, name=self.name)

    def __repr__(self) -> str:
        base_url = redact_url(self.config.base_url, self.config.api_key)
        return (
            f"{type(self).__name__}(model={self.config.model!r}, "
            f"base_url={base_url!r}, api={self.api!r})"
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

    def check_attachment(self, attachment: Attachment) -> None:
        """Refuse, at the call, what the server does not take (``accepts``, ``accepts_urls``)
        or what this API's content parts cannot carry at all (audio on Responses, ...)."""
        problem = unsendable(attachment, self.api)
        if problem is not None:
            raise InvalidRequestError(
                f"the {self.name} driver cannot send {attachment.media_type}: {problem}"
            )
        super().check_attachment(attachment)

    def check_output_schema(self, schema: Mapping[str, Any]) -> None:
        """Refuse a schema without an object at the top."""
        check_schema(schema, driver=self.name)

    def check_request(self, request: ProviderRequest) -> None:
        """Refuse ``output_schema`` next to an output format option (the driver's or the
        call's): one of them would be silently dropped."""
        if request.output_schema is not None:
            check_format_options(request.options, driver=self.name)

    async def astream_request(
        self, request: ProviderRequest, context: RequestContext
    ) -> AsyncIterator[Part]:
        """Send one streaming request and yield its parts in response order."""
        where = self._where()
        reader: ChatCompletionsReader | ResponsesReader
        async with self._clients.use() as client:
            if self.api == "responses":
                # Imported here, as only this API needs it (the reader and the SDK's resource).
                from janito_driver_openai.responses import ResponsesReader

                reader = ResponsesReader(
                    provider=where,
                    model=request.model,
                    key_variable=self._key_variable,
                    provider_key=self.name,
                )
                arguments = responses_arguments(
                    request,
                    accepted=_accepted("responses"),
                    provider_key=self.name,
                    structured_output=self.structured_output,
                )
                stream = await client.responses.create(**arguments)
            else:
                reader = ChatCompletionsReader(
                    provider=where, model=request.model, key_variable=self._key_variable
                )
                arguments = chat_arguments(
                    request,
                    accepted=_accepted("chat"),
                    openai_endpoint=client.base_url.host == "api.openai.com",
                    reasoning_content="reasoning_content" in self.quirks,
                    structured_output=self.structured_output,
                )
                stream = await client.chat.completions.create(**arguments)
            # Closed however the generator ends, a cancel included: the server sees it go.
            async with stream:
                response: httpx2.Response = stream.response
                media = _media_type(response)
                if media == "application/json" or media.endswith("+json"):
                    # A server that ignored "stream": one whole JSON document.
                    for part in reader.whole(_json_object(await response.aread(), where)):
                        yield part
                    return
                seen = False
                events = aiter_sse(response.aiter_bytes())
                async for event in events:
                    seen = True
                    for part in reader.data(event.data):
                        yield part
                    if reader.done:
                        break
                if not seen and media != "text/event-stream":
                    # e.g. a proxy's HTML page with status 200: not an empty answer.
                    raise ProviderError(
                        ErrorInfo(
                            message=f"{where} answered with {media or 'no content type'}, "
                            "not an event stream; check base_url"
                        )
                    )
                for part in reader.end():
                    yield part
                if reader.done:
                    await drain(events)

    def describe_error(self, exc: BaseException) -> ErrorInfo:
        """What an SDK or transport exception means: HTTP status, retryability, Retry-After."""
        if isinstance(exc, openai.APIStatusError):
            return ErrorInfo.from_response(
                exc.status_code,
                error_detail(exc.body) or exc.message,
                exc.response.headers,
                key_variable=self._key_variable,
                model=self.config.model,
            )
        transport = describe_transport_error(exc, where=self._where(), timeout=self.config.timeout)
        if transport is not None:
            return transport
        if isinstance(exc, openai.APIConnectionError):  # APITimeoutError too; no cause found
            return ErrorInfo(message=f"could not talk to {self._where()}: {exc}", retryable=True)
        return super().describe_error(exc)

    def close(self) -> None:
        """Close the HTTP client, ending requests in flight; the driver is unusable afterwards."""
        self._clients.close()

    # -- the client ------------------------------------------------------------------------

    def _new_client(self) -> openai.AsyncOpenAI:
        timeout = (
            httpx2.Timeout(self.config.timeout)
            if self.config.timeout is not None
            else openai.DEFAULT_TIMEOUT
        )
        client = http_client(
            limits=openai.DEFAULT_CONNECTION_LIMITS, timeout=timeout, follow_redirects=True
        )
        if self.azure_api_version is not None:
            assert self.config.base_url is not None  # required in __init__
            return openai.AsyncAzureOpenAI(
                api_key=self.config.api_key,
                azure_endpoint=self.config.base_url,
                api_version=self.azure_api_version,
                timeout=timeout,
                max_retries=0,
                http_client=client,
            )
        return openai.AsyncOpenAI(
            # A keyless server (ollama, vllm) still gets a placeholder: without one the SDK
            # would take OPENAI_API_KEY and send OpenAI's key to that server, or refuse to start.
            api_key=self.config.api_key or NO_KEY,
            base_url=self.config.base_url,
            timeout=timeout,
            max_retries=0,  # the core retries, announcing each retry
            http_client=client,
        )

    def _where(self) -> str:
        url = redact_url(self.config.base_url, self.config.api_key)
        if not url:
            return "OpenAI"
        # A preset names its provider: "deepseek at https://api.deepseek.com".
        return f"the server at {url}" if self.name == "openai" else f"{self.name} at {url}"


def _media_types(keyword: str, value: Collection[str] | None) -> frozenset[str] | None:
    if value is None:
        return None
    if isinstance(value, str) or not all(isinstance(v, str) and "/" in v for v in value):
        raise DriverConfigError(
            f"{keyword} must be a collection of media types or patterns like 'image/*'; "
            f"got {value!r}"
        )
    return frozenset(value)


@functools.cache
def _accepted(api: str) -> frozenset[str]:
    """The keyword names the SDK's ``create`` takes for ``api``."""
    if api == "responses":
        from openai.resources.responses import AsyncResponses

        create: Any = AsyncResponses.create
    else:
        from openai.resources.chat.completions import AsyncCompletions

        create = AsyncCompletions.create
    return frozenset(inspect.signature(create).parameters) - {"self"}


async def _close_client(client: openai.AsyncOpenAI) -> None:
    await client.close()  # closes the httpx2 client it was given too


def _media_type(response: httpx2.Response) -> str:
    return response.headers.get("content-type", "").split(";")[0].strip().lower()


def _json_object(body: bytes, where: str) -> Mapping[str, Any]:
    return json_event(body.decode("utf-8", "replace"), provider=where)
