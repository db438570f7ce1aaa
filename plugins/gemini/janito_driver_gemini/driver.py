"""The Gemini driver: google-genai's streamed ``generateContent`` behind janito-core's seam.

The only module of the package that imports the SDK. The client is built on first use with the
SDK's retries off (no ``retry_options``: the core retries), automatic function calling and
automatic continuation off (the core runs the tool loop, and no second request may be sent
behind the harness's back), and an ``httpx2.Client`` on ``abortable_transport()`` so a cancel
from another thread breaks a read that is blocked on a silent server, before or after the
response headers.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping
from typing import Any

import httpx2
import pydantic
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from janito_core.abort import abortable_transport, watch_reads
from janito_core.driver import LLMDriver, ProviderRequest, RequestContext
from janito_core.errors import InvalidRequestError
from janito_core.parts import Part
from janito_core.retry import ErrorInfo
from janito_driver_gemini.convert import build_contents, build_tools, config_fields
from janito_driver_gemini.errors import describe_api_error, error_fields
from janito_driver_gemini.response import ResponseReader

__all__ = ["DEFAULT_API_VERSION", "DEFAULT_TIMEOUT", "GeminiDriver"]

DEFAULT_API_VERSION = "v1beta"
# Seconds without a byte from the server before a read fails (the SDK's default is never).
DEFAULT_TIMEOUT = 600.0

# Google's status words for in-stream errors that carry no HTTP code.
_RETRYABLE_STATUS_WORDS = {"UNAVAILABLE", "RESOURCE_EXHAUSTED", "INTERNAL", "DEADLINE_EXCEEDED"}


class GeminiDriver(LLMDriver):
    """Google Gemini through the ``google-genai`` SDK (Gemini Developer API).

    Extra config keyword: ``api_version`` (default ``"v1beta"``). The key comes from
    ``api_key=``, else ``GEMINI_API_KEY``, else ``GOOGLE_API_KEY``.
    """

    name = "gemini"
    default_model = "gemini-2.5-flash"
    api_key_env = ("GEMINI_API_KEY", "GOOGLE_API_KEY")

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
        self._lock = threading.Lock()
        self._client: genai.Client | None = None
        self._http: httpx2.Client | None = None

    # -- the seam ----------------------------------------------------------------------------

    def stream_request(self, request: ProviderRequest, context: RequestContext) -> Iterator[Part]:
        """Stream one ``streamGenerateContent`` call as neutral parts, in response order."""
        contents, system = build_contents(request.messages, request.system_prompt)
        sdk_contents = [types.Content.model_validate(c) for c in contents]
        config = self._request_config(request, system)
        client = self._get_client()
        reader = ResponseReader(request.request_id)
        # The SDK sends the request lazily, at the first next(): the whole iteration stays
        # inside watch_reads so an abort reaches the socket at every stage.
        with watch_reads(context):
            chunks = client.models.generate_content_stream(
                model=request.model, contents=sdk_contents, config=config
            )
            try:
                for chunk in chunks:
                    data = chunk.model_dump(
                        mode="json", by_alias=True, exclude_none=True, exclude={"sdk_http_response"}
                    )
                    yield from reader.feed(data)
                yield from reader.finish()
            finally:
                # Closing the SDK's generator here, on the worker thread, closes the response.
                close = getattr(chunks, "close", None)
                if close is not None:
                    close()

    def check_options(self, options: Mapping[str, Any]) -> None:
        """Reject options Gemini's ``GenerateContentConfig`` cannot take, before any thread."""
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
        """Map google-genai and httpx2 exceptions to what the harness does next."""
        if isinstance(exc, genai_errors.APIError):
            return self._describe_api_error(exc)
        if isinstance(exc, genai_errors.UnknownApiResponseError):
            return ErrorInfo(
                message="Gemini sent a response that could not be read as JSON "
                "(a malformed stream); not retried",
                retryable=False,
            )
        if isinstance(exc, httpx2.TimeoutException):
            timeout = self.config.timeout or DEFAULT_TIMEOUT
            what = "connecting to" if isinstance(exc, httpx2.ConnectTimeout) else "waiting for"
            return ErrorInfo(
                message=f"timed out after {timeout:g} s {what} Gemini ({type(exc).__name__})",
                retryable=True,
            )
        if isinstance(exc, httpx2.TransportError):
            return ErrorInfo(
                message=f"connection problem talking to Gemini: {type(exc).__name__}: {exc}",
                retryable=True,
            )
        if isinstance(exc, pydantic.ValidationError):
            return ErrorInfo(
                message=f"the Gemini request or response did not fit the SDK's types: {exc}",
                retryable=False,
            )
        return super().describe_error(exc)

    def close(self) -> None:
        """Close the SDK client and the HTTP client it was given."""
        with self._lock:
            client, http = self._client, self._http
            self._client = self._http = None
        if client is not None:
            client.close()
        if http is not None:
            http.close()

    # -- helpers -----------------------------------------------------------------------------

    def _get_client(self) -> genai.Client:
        with self._lock:
            if self._client is None:
                timeout = self.config.timeout or DEFAULT_TIMEOUT
                http = httpx2.Client(
                    transport=abortable_transport(),
                    event_hooks={"request": [_drop_server_timeout]},
                )
                options = types.HttpOptions(
                    base_url=self.config.base_url,
                    api_version=self.api_version,
                    timeout=int(timeout * 1000),  # milliseconds, a per-read limit
                    httpx_client=http,
                )
                self._client = genai.Client(
                    api_key=self.config.api_key, vertexai=False, http_options=options
                )
                self._http = http
            return self._client

    def _request_config(
        self, request: ProviderRequest, system: str | None
    ) -> types.GenerateContentConfig:
        fields = config_fields(request.options)
        tools: list[Any] = [types.Tool.model_validate(t) for t in build_tools(request.tools)]
        fields["automatic_function_calling"] = types.AutomaticFunctionCallingConfig(disable=True)
        if "automatic_continuation" in types.GenerateContentConfig.model_fields:
            fields["automatic_continuation"] = False
        return types.GenerateContentConfig(system_instruction=system, tools=tools or None, **fields)

    def _describe_api_error(self, exc: genai_errors.APIError) -> ErrorInfo:
        headers = getattr(exc.response, "headers", None)
        header_map = dict(headers.items()) if isinstance(headers, Mapping) else None
        if isinstance(exc.code, int) and exc.code >= 400:
            return describe_api_error(
                exc.code,
                exc.details,
                header_map,
                key_variable=self._key_variable,
                model=self.config.model,
                api_key=self.config.api_key,
            )
        fields = error_fields(exc.details)
        status = str(fields.get("status") or exc.status or "")
        message = str(fields.get("message") or exc.message or "unknown error")
        key = self.config.api_key
        if key:
            message = message.replace(key, "***")
        return ErrorInfo(
            message=f"Gemini reported an error: {status + ': ' if status else ''}{message}",
            retryable=status in _RETRYABLE_STATUS_WORDS,
        )


def _drop_server_timeout(request: httpx2.Request) -> None:
    """Keep ``timeout`` a per-read limit, as in every other driver.

    The SDK turns its timeout into ``X-Server-Timeout``, which Google treats as the deadline of
    the whole request: a short read timeout would then cut long answers on the server side.
    """
    request.headers.pop("x-server-timeout", None)
