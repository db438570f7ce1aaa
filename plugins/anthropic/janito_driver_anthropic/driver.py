"""``AnthropicDriver``: janito-core's driver for Anthropic's Messages API, streamed, through the
official ``anthropic`` SDK's async client.

The SDK builds and sends the request (``messages.create(..., stream=True)``) and raises its HTTP
errors; the event stream is read raw (``janito_core.sse``) by ``AnthropicReader``, since the
SDK's typed event per chunk costs far more than the chunk itself. The SDK is imported lazily
(here, and in ``output`` for its schema transform: first request, first output schema or first
error to describe), so registering and constructing the driver stay cheap.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import attrs

from janito_core.attachments import Attachment
from janito_core.chat_completions import error_detail, json_event
from janito_core.clients import ClientHolder, http_client
from janito_core.driver import LLMDriver, ProviderRequest, RequestContext
from janito_core.errors import InvalidRequestError
from janito_core.parts import Part
from janito_core.redact import redact_url
from janito_core.retry import ErrorInfo, ProviderError
from janito_core.sse import aiter_sse, drain
from janito_core.transport import describe_transport_error
from janito_driver_anthropic.attachments import ACCEPTS, ACCEPTS_URLS, attachment_problem
from janito_driver_anthropic.convert import RESERVED_OPTIONS, check_cache, request_kwargs
from janito_driver_anthropic.output import apply_output, wire_schema
from janito_driver_anthropic.reasoning import apply_reasoning
from janito_driver_anthropic.stream import AnthropicReader

if TYPE_CHECKING:
    import anthropic
    import httpx2

__all__ = ["AnthropicDriver"]

KEY_VARIABLE = "ANTHROPIC_API_KEY"


class AnthropicDriver(LLMDriver):
    """Streams messages from Anthropic (``POST {base_url}/v1/messages``).

    Beyond the standard configuration, ``cache=`` names the prompt-cache points marked on every
    request (``"system"``, ``"tools"``, ``"messages"``; a call option ``cache`` replaces it for
    one call). Options go to ``messages.create`` as they are (``max_tokens`` defaults to 4096;
    names the SDK does not know travel in the body). ``reasoning=`` becomes ``thinking``; a
    ``thinking`` option passed by hand wins.
    """

    name: ClassVar[str] = "anthropic"
    default_model: ClassVar[str] = "claude-haiku-4-5"
    api_key_env: ClassVar[tuple[str, ...]] = (KEY_VARIABLE,)
    accepts: ClassVar[frozenset[str]] = ACCEPTS
    accepts_urls: ClassVar[frozenset[str]] = ACCEPTS_URLS

    def __init__(self, *, cache: object = None, **config: Any) -> None:
        self.cache = check_cache(cache)
        super().__init__(**config)
        self._clients: ClientHolder[anthropic.AsyncAnthropic] = ClientHolder(
            self._new_client, _close_client, name=self.name
        )

    # -- the seam ----------------------------------------------------------------------------

    def check_options(self, options: Mapping[str, Any]) -> None:
        """Reject options the driver sets from the request itself, and bad cache points."""
        clash = sorted(RESERVED_OPTIONS & set(options))
        if clash:
            raise InvalidRequestError(
                f"option(s) {', '.join(clash)} cannot be passed to the anthropic driver: they "
                "come from the call itself (prompt/messages, system_prompt, tools)"
            )
        if "cache" in options:
            check_cache(options["cache"])

    def check_attachment(self, attachment: Attachment) -> None:
        """Refuse what Anthropic has no block for, and URLs it would not fetch or text not UTF-8."""
        super().check_attachment(attachment)
        problem = attachment_problem(attachment)
        if problem is not None:
            raise InvalidRequestError(f"the {self.name} driver {problem}")

    def check_output_schema(self, schema: Mapping[str, Any]) -> None:
        """Refuse a schema Anthropic's structured outputs cannot take (see ``output``)."""
        wire_schema(schema)

    async def astream_request(
        self, request: ProviderRequest, context: RequestContext
    ) -> AsyncIterator[Part]:
        """Send one streaming ``messages.create`` and yield its parts in response order."""
        options = dict(request.options)
        cache = check_cache(options.pop("cache")) if "cache" in options else self.cache
        kwargs = request_kwargs(
            model=request.model,
            system_prompt=request.system_prompt,
            messages=request.messages,
            tools=request.tools,
            options=options,
            cache=cache,
        )
        apply_reasoning(kwargs, request.reasoning)
        apply_output(kwargs, request.output_schema)
        accepted = _accepted()
        extra = {k: kwargs.pop(k) for k in list(kwargs) if k not in accepted}
        if extra:
            kwargs["extra_body"] = {**extra, **kwargs.get("extra_body", {})}
        where = self._where()
        reader = AnthropicReader(provider=where, model=request.model, key_variable=KEY_VARIABLE)
        async with self._clients.use() as client:
            stream = await client.messages.create(**kwargs, stream=True)
            # Closed however the generator ends, a cancel included: the server sees it go. The
            # SDK's own iteration is never started; its response is read here.
            async with stream:
                response: httpx2.Response = stream.response
                media = _media_type(response)
                if media == "application/json" or media.endswith("+json"):
                    # A server that ignored "stream": one whole message.
                    body = json_event(
                        (await response.aread()).decode("utf-8", "replace"), provider=where
                    )
                    for part in reader.whole(body):
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
                    raise ProviderError(
                        ErrorInfo(
                            message=f"{where} answered with {media or 'no content type'}, "
                            "not an event stream; check base_url"
                        )
                    )
                if reader.done:
                    await drain(events)

    def describe_error(self, exc: BaseException) -> ErrorInfo:
        """What an SDK or transport exception means: HTTP status, retryability, Retry-After."""
        import anthropic

        if isinstance(exc, ProviderError):
            return exc.info
        if isinstance(exc, anthropic.APIStatusError):
            info = ErrorInfo.from_response(
                exc.status_code,
                error_detail(exc.body) or exc.message,
                exc.response.headers,
                key_variable=KEY_VARIABLE,
                model=self.config.model,
            )
            if exc.status_code == 529:
                info = attrs.evolve(
                    info,
                    message=info.message.replace(
                        "the provider had a server error", "Anthropic is overloaded"
                    ),
                )
            return info
        transport = describe_transport_error(exc, where=self._where(), timeout=self.config.timeout)
        if transport is not None:
            return transport
        if isinstance(exc, anthropic.APIConnectionError):
            return ErrorInfo(message=f"could not talk to {self._where()}: {exc}", retryable=True)
        return super().describe_error(exc)

    def close(self) -> None:
        """End the requests in flight and close the HTTP client; later requests are refused."""
        self._clients.close()

    # -- the client --------------------------------------------------------------------------

    def _new_client(self) -> anthropic.AsyncAnthropic:
        import anthropic
        import httpx2

        timeout = (
            httpx2.Timeout(self.config.timeout)
            if self.config.timeout is not None
            else anthropic.DEFAULT_TIMEOUT
        )
        client = http_client(
            limits=anthropic.DEFAULT_CONNECTION_LIMITS, timeout=timeout, follow_redirects=True
        )
        return anthropic.AsyncAnthropic(
            api_key=self.config.api_key,
            base_url=self.config.base_url,
            timeout=timeout,
            max_retries=0,  # the core retries, announcing each retry
            http_client=client,
        )

    def _where(self) -> str:
        url = redact_url(self.config.base_url, self.config.api_key)
        return f"the server at {url}" if url else "Anthropic"


@functools.cache
def _accepted() -> frozenset[str]:
    """The keyword names the SDK's ``messages.create`` takes."""
    from anthropic.resources.messages import AsyncMessages

    return frozenset(inspect.signature(AsyncMessages.create).parameters) - {"self"}


async def _close_client(client: anthropic.AsyncAnthropic) -> None:
    await client.close()  # closes the httpx2 client it was given too


def _media_type(response: httpx2.Response) -> str:
    return response.headers.get("content-type", "").split(";")[0].strip().lower()
