"""The Gemini driver: google-genai's streamed ``generateContent`` behind janito-core's async seam.

The only module of the package that imports the SDK, through its async client
(``client.aio``). The SDK builds and sends the request and raises its errors for an error
status, with its retries off (no ``retry_options``: the core retries), automatic function
calling and automatic continuation off (the core runs the tool loop, and no second request
may be sent behind the harness's back). The body of a streamed answer is read raw
(``capture.py``): the driver parses the events itself, which costs a fraction of the SDK's
typed objects. Should a google-genai release stop handing the response to the driver's
transport, the driver reads the SDK's objects instead and says so once in the log.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import threading
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from typing import Any, ClassVar

import httpx2
import pydantic
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from janito_core.attachments import Attachment
from janito_core.chat_completions import json_event, malformed
from janito_core.clients import ClientHolder, http_client
from janito_core.driver import LLMDriver, ProviderRequest, RequestContext
from janito_core.errors import BadRequestError, InvalidRequestError
from janito_core.parts import Part
from janito_core.retry import ErrorInfo, ProviderError
from janito_core.sse import aiter_sse, drain
from janito_driver_gemini.capture import Capture, CaptureTransport
from janito_driver_gemini.convert import build_contents, build_tools, config_fields
from janito_driver_gemini.errors import describe_api_error
from janito_driver_gemini.media import (
    ACCEPTS,
    ACCEPTS_URLS,
    MAX_INLINE_BYTES,
    check_inline_size,
    check_url,
    inline_bytes,
)
from janito_driver_gemini.response import PROVIDER, ResponseReader
from janito_driver_gemini.schema import gemini_schema
from janito_driver_gemini.thinking import thinking_config

__all__ = ["DEFAULT_API_VERSION", "DEFAULT_TIMEOUT", "GeminiDriver"]

DEFAULT_API_VERSION = "v1beta"
# Seconds without a byte from the server before a read fails (the SDK's default is never).
DEFAULT_TIMEOUT = 600.0

log = logging.getLogger(__name__)


class GeminiDriver(LLMDriver):
    """Google Gemini through the ``google-genai`` SDK (Gemini Developer API).

    Extra config keyword: ``api_version`` (default ``"v1beta"``). The key comes from
    ``api_key=``, else ``GEMINI_API_KEY``, else ``GOOGLE_API_KEY``.
    """

    name: ClassVar[str] = "gemini"
    default_model: ClassVar[str] = "gemini-2.5-flash"
    api_key_env: ClassVar[tuple[str, ...]] = ("GEMINI_API_KEY", "GOOGLE_API_KEY")
    price_provider: ClassVar[str | None] = "google"  # the price table's name for Gemini's API
    #: Read the response body raw (fast) rather than through the SDK's objects. False is the
    #: fallback the driver takes by itself when a google-genai release defeats the raw path.
    read_raw: ClassVar[bool] = True
    accepts: ClassVar[frozenset[str]] = ACCEPTS
    accepts_urls: ClassVar[frozenset[str]] = ACCEPTS_URLS
    #: The most base64 text of inline attachments one request may carry (``media.py``).
    max_inline_bytes: ClassVar[int] = MAX_INLINE_BYTES

    def __init__(
        self, *, api_key: str | None = None, api_version: str | None = None, **config: Any
    ) -> None:
        super().__init__(api_key=api_key, **config)
        self.api_version = api_version or DEFAULT_API_VERSION
        # The variable the key came from, for the hint when Google refuses it.
        self._key_variable = next(
            (v for v in self.api_key_env if api_key is None and os.environ.get(v)),
            self.api_key_env[0],
        )
        self._timeout = httpx2.Timeout(self.config.timeout or DEFAULT_TIMEOUT)
        self._lock = threading.Lock()
        self._sdk: genai.Client | None = None
        self._clients = ClientHolder(
            http_client,
            httpx2.AsyncClient.aclose,
            name=self.name,
        )
        self._warned_fallback = False

    # -- the seam ----------------------------------------------------------------------------

    async def astream_request(
        self, request: ProviderRequest, context: RequestContext
    ) -> AsyncIterator[Part]:
        """Stream one ``streamGenerateContent`` call as neutral parts, in response order."""
        contents, system = build_contents(request.messages, request.system_prompt)
        sdk_contents = [types.Content.model_validate(c) for c in contents]
        config = self._request_config(request, system)
        sdk = self._client()
        reader = ResponseReader(
            request.request_id, model=request.model, key_variable=self._key_variable
        )
        async with self._clients.use() as http:
            capture = Capture(http, self._timeout, take=self.read_raw)
            sdk_chunks: AsyncIterator[types.GenerateContentResponse] | None = None
            try:
                first: types.GenerateContentResponse | None = None
                try:
                    with capture.sending():
                        sdk_chunks = await sdk.aio.models.generate_content_stream(
                            model=request.model, contents=sdk_contents, config=config
                        )
                        first = await anext(sdk_chunks, None)  # sends the request
                except Exception:
                    # Once the body is ours, whatever the SDK made of the empty one is moot.
                    if capture.raw is None:
                        raise
                if capture.raw is not None:
                    chunks = _raw_chunks(capture.raw)
                else:
                    self._note_fallback()
                    chunks = _sdk_chunks(first, sdk_chunks)
                async with contextlib.aclosing(chunks):
                    async for chunk in chunks:
                        for part in reader.feed(chunk):
                            yield part
                        if reader.finished:
                            break
                    for part in reader.finish():
                        yield part
                    await drain(chunks)
            finally:
                # The SDK nests generators that its aclose() does not reach: closing the
                # response itself is what makes the server see the connection go.
                if sdk_chunks is not None:
                    await sdk_chunks.aclose()  # type: ignore[attr-defined]
                await capture.aclose()

    def check_options(self, options: Mapping[str, Any]) -> None:
        """Reject options Gemini's ``GenerateContentConfig`` cannot take, before any request."""
        fields = config_fields(options)
        try:
            types.GenerateContentConfig(**fields)
        except pydantic.ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(x) for x in e['loc']) or 'options'}: {e['msg']}"
                for e in exc.errors()
            )
            raise InvalidRequestError(
                f"Invalid option(s) for the gemini driver: {problems}"
            ) from None

    def check_attachment(self, attachment: Attachment) -> None:
        """Refuse what Gemini does not take: other media types, ``gs://`` URIs (Vertex AI's),
        and a file too large to go inline on its own."""
        super().check_attachment(attachment)
        if attachment.url is not None:
            check_url(attachment, self.name)
        else:
            check_inline_size(attachment.base64_size or 0, self.name, self.max_inline_bytes)

    def check_request(self, request: ProviderRequest) -> None:
        """Refuse, at the call, inline data past Gemini's request limit (the whole history's)
        and output options that clash with ``output_schema``."""
        check_inline_size(
            inline_bytes(a for m in request.messages for a in m.attachments),
            self.name,
            self.max_inline_bytes,
        )
        if request.output_schema is not None:
            _check_output_options(config_fields(request.options))

    def check_output_schema(self, schema: Mapping[str, Any]) -> None:
        """Refuse a schema Gemini's ``responseJsonSchema`` cannot take (see ``schema.py``)."""
        gemini_schema(schema)

    def describe_error(self, exc: BaseException) -> ErrorInfo:
        """Map google-genai's exceptions; transport failures are the core's to describe."""
        if isinstance(exc, InvalidRequestError):  # the driver's own, before the request
            return ErrorInfo(message=str(exc), kind=BadRequestError)
        if isinstance(exc, genai_errors.APIError):
            return describe_api_error(
                exc.code,
                exc.details,
                getattr(exc.response, "headers", None),
                key_variable=self._key_variable,
                model=self.config.model,
            )
        if isinstance(exc, genai_errors.UnknownApiResponseError):
            return malformed(PROVIDER, "an event that is not JSON").info
        if isinstance(exc, pydantic.ValidationError):
            return ErrorInfo(
                message=f"the Gemini request or response did not fit the SDK's types: {exc}"
            )
        return super().describe_error(exc)

    def close(self) -> None:
        """Close the HTTP clients; the driver cannot send requests afterwards."""
        self._clients.close()

    # -- helpers -----------------------------------------------------------------------------

    def _client(self) -> genai.Client:
        """The SDK client, made on first use; it sends through ``CaptureTransport``."""
        with self._lock:
            if self._sdk is None:
                options = types.HttpOptions(
                    base_url=self.config.base_url,
                    api_version=self.api_version,
                    # Both clients given, so the SDK makes neither (each loads certificates);
                    # the sync one is never used.
                    # trust_env off: proxies are the business of the clients that connect.
                    httpx_client=httpx2.Client(transport=_Refuse(), trust_env=False),
                    httpx_async_client=httpx2.AsyncClient(
                        transport=CaptureTransport(), trust_env=False
                    ),
                )
                self._sdk = genai.Client(
                    api_key=self.config.api_key, vertexai=False, http_options=options
                )
            return self._sdk

    def _request_config(
        self, request: ProviderRequest, system: str | None
    ) -> types.GenerateContentConfig:
        fields = config_fields(request.options)
        thinking = thinking_config(request.reasoning, request.model, request.options)
        if thinking is not None:
            fields["thinking_config"] = types.ThinkingConfig(**thinking)
        tools: list[Any] = [types.Tool.model_validate(t) for t in build_tools(request.tools)]
        if request.output_schema is not None and tools and not json_with_tools(request.model):
            # Gemini 2.x and older answer 400 to function calling with application/json: the
            # schema goes into the instruction instead, and the harness checks the answer.
            system = schema_instruction(system, request.output_schema)
        elif request.output_schema is not None:
            fields.update(_output_fields(request.output_schema))
        fields["automatic_function_calling"] = types.AutomaticFunctionCallingConfig(disable=True)
        if "automatic_continuation" in types.GenerateContentConfig.model_fields:
            fields["automatic_continuation"] = False
        return types.GenerateContentConfig(system_instruction=system, tools=tools or None, **fields)

    def _note_fallback(self) -> None:
        if self.read_raw and not self._warned_fallback:
            self._warned_fallback = True
            log.warning(
                "google-genai %s did not hand the response to the Gemini driver's transport; "
                "reading the SDK's objects instead, which is slower",
                genai.__version__,
            )


_OLD_FAMILIES = re.compile(r"^(?:models/)?gemini-(?:1|2)(?:\.|-)", re.IGNORECASE)


def json_with_tools(model: str) -> bool:
    """Whether ``model`` takes function calling together with ``application/json`` output:
    Gemini 3 does; Gemini 1.x and 2.x answer 400 ("Function calling with a response mime type:
    'application/json' is unsupported"). Unknown names are taken to be newer models."""
    return _OLD_FAMILIES.match(model) is None


def schema_instruction(system: str | None, schema: Mapping[str, Any]) -> str:
    """``system`` followed by the instruction to answer with JSON that follows ``schema``."""
    rule = (
        "When you give your final answer, answer with JSON only (no prose, no code fence) that "
        "follows this JSON Schema: " + json.dumps(schema, ensure_ascii=False, sort_keys=True)
    )
    return f"{system}\n\n{rule}" if system else rule


def _check_output_options(fields: Mapping[str, Any]) -> None:
    """Refuse config options that set what ``output_schema`` sets (``check_request``)."""
    for name in ("response_schema", "response_json_schema"):
        if fields.get(name) is not None:
            raise InvalidRequestError(
                f"Option {name!r} and output_schema= both set Gemini's response schema; give one"
            )
    mime = fields.get("response_mime_type")
    if mime is not None and mime != "application/json":
        raise InvalidRequestError(
            f"Option response_mime_type={mime!r} does not go with output_schema= "
            "(which asks for application/json)"
        )


def _output_fields(schema: Mapping[str, Any]) -> dict[str, Any]:
    """The config fields asking for JSON that follows ``schema``.

    Sent on every request of a generation, tool rounds included (Gemini 3 answers with function
    calls or with JSON of the schema); with tools, Gemini 2.x gets ``schema_instruction``
    instead. Clashing options were refused at the call (``_check_output_options``).
    """
    return {"response_mime_type": "application/json", "response_json_schema": gemini_schema(schema)}


async def _raw_chunks(response: httpx2.Response) -> AsyncGenerator[dict[str, Any], None]:
    """The chunks of a body the SDK left to the driver, read from its bytes."""
    media = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if media == "application/json" or media.endswith("+json"):
        for chunk in _document_chunks(await response.aread()):
            yield chunk
        return
    seen = False
    async for event in aiter_sse(response.aiter_bytes()):
        seen = True
        yield json_event(event.data, provider=PROVIDER)
    if not seen and media not in ("text/event-stream", ""):
        # e.g. a proxy's HTML page with status 200: not an empty answer.
        raise ProviderError(
            ErrorInfo(message=f"Gemini answered with {media}, not an event stream; check base_url")
        )


def _document_chunks(body: bytes) -> list[dict[str, Any]]:
    """The chunks of a body that is one JSON document: a chunk, or an array of them (as Gemini
    answers without ``alt=sse``)."""
    try:
        document = json.loads(body)
    except ValueError:  # JSONDecodeError, and UnicodeDecodeError
        raise malformed(PROVIDER, "a JSON answer that is not JSON") from None
    chunks = document if isinstance(document, list) else [document]
    if not all(isinstance(chunk, dict) for chunk in chunks):
        raise malformed(PROVIDER, "a JSON answer that is neither a chunk nor an array of chunks")
    return chunks


async def _sdk_chunks(
    first: types.GenerateContentResponse | None,
    rest: AsyncIterator[types.GenerateContentResponse] | None,
) -> AsyncGenerator[dict[str, Any], None]:
    """The chunks as the SDK's objects give them: the fallback, slower path."""
    chunk = first
    while chunk is not None:
        yield chunk.model_dump(
            mode="json", by_alias=True, exclude_none=True, exclude={"sdk_http_response"}
        )
        chunk = await anext(rest, None) if rest is not None else None


class _Refuse(httpx2.BaseTransport):
    """The SDK's synchronous transport, which the driver never uses."""

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        raise RuntimeError("the Gemini driver sends through the SDK's async client only")
