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

import asyncio
import contextlib
import logging
import os
import threading
from collections.abc import AsyncIterator, Mapping
from typing import Any, ClassVar

import httpx2
import pydantic
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from janito_core.clients import ClientHolder, tls_context
from janito_core.driver import LLMDriver, ProviderRequest, RequestContext
from janito_core.errors import InvalidRequestError
from janito_core.parts import Part
from janito_core.retry import ErrorInfo, ProviderError
from janito_driver_gemini.capture import Capture, CaptureTransport
from janito_driver_gemini.convert import build_contents, build_tools, config_fields
from janito_driver_gemini.errors import describe_api_error
from janito_driver_gemini.response import MALFORMED, ResponseReader, chunks

__all__ = ["DEFAULT_API_VERSION", "DEFAULT_TIMEOUT", "GeminiDriver"]

DEFAULT_API_VERSION = "v1beta"
# Seconds without a byte from the server before a read fails (the SDK's default is never).
DEFAULT_TIMEOUT = 600.0
# How long the end of the body may take to come after the last chunk: reading it lets the
# connection go back to the pool for the next request of the tool loop, but the answer is
# whole already, so a server that stalls or cuts the connection there costs nothing more.
_TAIL_SECONDS = 0.5

log = logging.getLogger(__name__)


class GeminiDriver(LLMDriver):
    """Google Gemini through the ``google-genai`` SDK (Gemini Developer API).

    Extra config keyword: ``api_version`` (default ``"v1beta"``). The key comes from
    ``api_key=``, else ``GEMINI_API_KEY``, else ``GOOGLE_API_KEY``.
    """

    name: ClassVar[str] = "gemini"
    default_model: ClassVar[str] = "gemini-2.5-flash"
    api_key_env: ClassVar[tuple[str, ...]] = ("GEMINI_API_KEY", "GOOGLE_API_KEY")
    #: Read the response body raw (fast) rather than through the SDK's objects. False is the
    #: fallback the driver takes by itself when a google-genai release defeats the raw path.
    read_raw: ClassVar[bool] = True

    def __init__(
        self, *, api_key: str | None = None, api_version: str | None = None, **config: Any
    ) -> None:
        from_env = (
            next((v for v in self.api_key_env if os.environ.get(v)), None)
            if api_key is None
            else None
        )
        super().__init__(api_key=api_key, **config)
        self.api_version = api_version or DEFAULT_API_VERSION
        self._key_variable = from_env or self.api_key_env[0]
        self._timeout = httpx2.Timeout(self.config.timeout or DEFAULT_TIMEOUT)
        self._lock = threading.Lock()
        self._sdk: genai.Client | None = None
        self._clients = ClientHolder(
            lambda: httpx2.AsyncClient(verify=tls_context()), _aclose, name=self.name
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
        reader = ResponseReader(request.request_id)
        async with self._clients.use() as http:
            capture = Capture(http, self._timeout, take=self.read_raw)
            sdk_chunks: AsyncIterator[types.GenerateContentResponse] | None = None
            parts: AsyncIterator[Part] | None = None
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
                    if not capture.taken:
                        raise
                if capture.taken and capture.response is not None:
                    parts = self._raw_parts(capture.response, reader)
                else:
                    self._note_fallback()
                    parts = self._sdk_parts(first, sdk_chunks, reader)
                async for part in parts:
                    yield part
            finally:
                if parts is not None:
                    await parts.aclose()  # type: ignore[attr-defined]
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

    def describe_error(self, exc: BaseException) -> ErrorInfo:
        """Map google-genai's exceptions; transport failures are the core's to describe."""
        if isinstance(exc, genai_errors.APIError):
            headers = getattr(exc.response, "headers", None)
            body = exc.details or {"error": {"status": exc.status, "message": exc.message}}
            return self._describe_body(exc.code, body, headers)
        if isinstance(exc, genai_errors.UnknownApiResponseError):
            return ErrorInfo(message=MALFORMED)
        if isinstance(exc, pydantic.ValidationError):
            return ErrorInfo(
                message=f"the Gemini request or response did not fit the SDK's types: {exc}"
            )
        return super().describe_error(exc)

    def close(self) -> None:
        """Close the HTTP clients; the driver cannot send requests afterwards."""
        self._clients.close()

    # -- helpers -----------------------------------------------------------------------------

    async def _raw_parts(
        self, response: httpx2.Response, reader: ResponseReader
    ) -> AsyncIterator[Part]:
        """The parts of a body the SDK left to the driver, read as bytes."""
        media = response.headers.get("content-type", "").split(";")[0].strip().lower()
        body = chunks(response.aiter_bytes(), media)
        try:
            async for data in body:
                for part in self._read(reader, data):
                    yield part
                if reader.finished:
                    break
            for part in reader.finish():
                yield part
            # What is left of the body, briefly, so the connection goes back to the pool for
            # the tool loop's next request. The answer is whole: a server that stalls or cuts
            # the connection now costs nothing more.
            with contextlib.suppress(Exception):
                async with asyncio.timeout(_TAIL_SECONDS):
                    async for _ in body:
                        pass
        finally:
            await body.aclose()  # type: ignore[attr-defined]

    async def _sdk_parts(
        self,
        first: types.GenerateContentResponse | None,
        sdk_chunks: AsyncIterator[types.GenerateContentResponse] | None,
        reader: ResponseReader,
    ) -> AsyncIterator[Part]:
        """The parts of the SDK's own objects: the fallback, slower path."""
        chunk = first
        while chunk is not None:
            for part in self._read(reader, _as_dict(chunk)):
                yield part
            if reader.finished or sdk_chunks is None:
                break
            chunk = await anext(sdk_chunks, None)
        for part in reader.finish():
            yield part

    def _read(self, reader: ResponseReader, data: Any) -> list[Part]:
        """The parts of one chunk; an ``{"error": ...}`` object in the stream is raised."""
        if type(data) is dict and "error" in data and "candidates" not in data:
            error = data["error"]
            code = error.get("code") if isinstance(error, dict) else None
            raise ProviderError(self._describe_body(code, data, None))
        return reader.feed(data)

    def _describe_body(self, code: object, body: Any, headers: Any) -> ErrorInfo:
        header_map = dict(headers.items()) if isinstance(headers, Mapping) else None
        return describe_api_error(
            code,
            body,
            header_map,
            key_variable=self._key_variable,
            model=self.config.model,
            api_key=self.config.api_key,
        )

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
        tools: list[Any] = [types.Tool.model_validate(t) for t in build_tools(request.tools)]
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


def _as_dict(chunk: types.GenerateContentResponse) -> Any:
    return chunk.model_dump(
        mode="json", by_alias=True, exclude_none=True, exclude={"sdk_http_response"}
    )


async def _aclose(client: httpx2.AsyncClient) -> None:
    await client.aclose()


class _Refuse(httpx2.BaseTransport):
    """The SDK's synchronous transport, which the driver never uses."""

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        raise RuntimeError("the Gemini driver sends through the SDK's async client only")
