"""``ExampleDriver``: a janito driver for the made-up "example wire", over ``http.client``.

The wire, in full:

- ``POST {base_url}/v1/generate`` with ``Authorization: Bearer <key>`` and a JSON body
  ``{"model", "system", "messages", "tools", "options"}``, plus ``"response_schema"`` (a JSON
  Schema of an object) when the answer must be JSON of that shape.
- A message's ``content`` is its text; a user turn with images makes it a list, in order, of
  ``{"type": "text", "text"}`` and ``{"type": "image", "media_type", "data"}`` (base64).
- ``200``: newline-delimited JSON, one object a line, in response order:
  ``{"type": "text", "text"}``, ``{"type": "reasoning", "text"}``,
  ``{"type": "tool_call", "id", "name", "arguments"}`` (arguments: JSON text),
  ``{"type": "usage", "input_tokens", "output_tokens", "total_tokens"}``,
  ``{"type": "error", "message", "retryable"}`` and, last, ``{"type": "end", "reason"}``.
  A body that stops before its ``end`` line was cut short.
- Anything else: the HTTP status with ``{"error": "<message>"}``, and ``Retry-After`` on 429/503.
"""

from __future__ import annotations

import errno
import http.client
import json
import logging
import select
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar
from urllib.parse import urlsplit

from janito_core import Attachment, LLMDriver, Message
from janito_core.abort import shutdown_socket
from janito_core.driver import ProviderRequest, RequestContext
from janito_core.parts import FinishPart, Part, ReasoningPart, TextPart, ToolCallPart, UsagePart
from janito_core.retry import ErrorInfo, ProviderError, parse_retry_after
from janito_core.structured import require_object
from janito_core.usage import Usage

__all__ = ["ExampleDriver"]

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "http://localhost:8080"
KEY_VARIABLE = "EXAMPLE_API_KEY"
_MAX_LINE = 1 << 20
_MAX_ERROR_BODY = 1 << 16
# How often a connect in progress looks at whether the request was aborted.
_CONNECT_POLL = 0.02
_IN_PROGRESS = (errno.EINPROGRESS, errno.EALREADY, errno.EWOULDBLOCK)


class ExampleDriver(LLMDriver):
    """Talks the example wire; needs ``EXAMPLE_API_KEY`` (or ``api_key=``) and a ``base_url``."""

    name = "example"
    default_model = "example-1"
    api_key_env = (KEY_VARIABLE,)
    # What a user turn may attach: the harness refuses anything else at the call, naming the
    # driver and the type. The example server takes images as bytes and fetches no URLs, so
    # ``accepts_urls`` stays empty and an image URL is refused too.
    accepts: ClassVar[frozenset[str]] = frozenset(
        {"image/png", "image/jpeg", "image/gif", "image/webp"}
    )

    def __init__(self, **config: Any) -> None:
        super().__init__(**config)
        self._lock = threading.Lock()
        self._closed = False
        self._in_flight: set[RequestContext] = set()

    def close(self) -> None:
        """Abort the requests in flight, then refuse new ones with a clear error."""
        with self._lock:
            self._closed = True
            in_flight, self._in_flight = self._in_flight, set()
        for context in in_flight:
            context.abort()

    def check_output_schema(self, schema: Mapping[str, Any]) -> None:
        """The example server constrains answers to object schemas only; refuse the rest now."""
        require_object(schema, driver=self.name)

    def stream_request(self, request: ProviderRequest, context: RequestContext) -> Iterator[Part]:
        with self._lock:
            if self._closed:
                raise ProviderError(ErrorInfo(message="the example driver was closed"))
            self._in_flight.add(context)
        try:
            yield from self._stream(request, context)
        except Exception:
            if self._closed:
                raise ProviderError(
                    ErrorInfo(message="the example driver was closed while a request was in flight")
                ) from None
            raise
        finally:
            with self._lock:
                self._in_flight.discard(context)

    def _stream(self, request: ProviderRequest, context: RequestContext) -> Iterator[Part]:
        url = urlsplit(self.config.base_url or DEFAULT_BASE_URL)
        if url.scheme == "https":
            # The abortable connect below is for plain HTTP; TLS keeps http.client's own.
            connection: http.client.HTTPConnection = http.client.HTTPSConnection(
                url.hostname or "localhost", url.port, timeout=self.config.timeout
            )
        else:
            connection = http.client.HTTPConnection(
                url.hostname or "localhost", url.port, timeout=self.config.timeout
            )

        def abort() -> None:
            # Runs on the cancelling thread: shutting the socket down wakes the worker's blocked
            # read; closing it here could hand its descriptor to someone else mid-read.
            sock = connection.sock
            if sock is not None:
                shutdown_socket(sock)

        context.on_abort(abort)
        try:
            if url.scheme == "https":
                connection.connect()
            else:
                connection.sock = _connect(
                    (url.hostname or "localhost", url.port or 80), self.config.timeout, context
                )
            if context.aborted:
                # The abort ran before the socket existed, so it had nothing to shut down.
                raise ConnectionAbortedError("the request was cancelled")
            connection.request(
                "POST",
                url.path.rstrip("/") + "/v1/generate",
                body=json.dumps(_request_body(request)).encode(),
                headers={
                    "Authorization": f"Bearer {self.config.api_key}",
                    "Content-Type": "application/json",
                    "Accept": "application/x-ndjson",
                },
            )
            response = connection.getresponse()
            if response.status != 200:
                raise ProviderError(self._http_error(response, request.model))
            yield from _parts(response)
        finally:
            connection.close()  # on the worker thread, which owns the socket

    def _http_error(self, response: http.client.HTTPResponse, model: str) -> ErrorInfo:
        body = response.read(_MAX_ERROR_BODY)
        try:
            detail = str(json.loads(body)["error"])
        except (ValueError, KeyError, TypeError):
            detail = body.decode("utf-8", "replace")[:200]
        return ErrorInfo.from_status(
            response.status,
            detail,
            key_variable=KEY_VARIABLE,
            model=model,
            retry_after=parse_retry_after(dict(response.getheaders())),
        )

    def describe_error(self, exc: BaseException) -> ErrorInfo:
        """What a failed request means; connection trouble is retryable, bad responses not."""
        where = self.config.base_url or DEFAULT_BASE_URL
        if isinstance(exc, ProviderError):
            return exc.info
        if isinstance(exc, TimeoutError):
            return ErrorInfo(
                message=f"{where} sent nothing for {self.config.timeout}s (read timed out); "
                "try again or raise timeout=",
                retryable=True,
            )
        if isinstance(exc, ConnectionRefusedError):
            return ErrorInfo(
                message=f"nothing answers at {where} (connection refused); check base_url",
                retryable=True,
            )
        if isinstance(exc, (ConnectionError, http.client.IncompleteRead)):
            return ErrorInfo(
                message=f"the connection to {where} dropped ({type(exc).__name__}); try again",
                retryable=True,
            )
        if isinstance(exc, http.client.HTTPException):
            return ErrorInfo(
                message=f"{where} sent a malformed HTTP response ({type(exc).__name__}: {exc})"
            )
        if isinstance(exc, OSError):
            return ErrorInfo(message=f"cannot reach {where}: {exc}", retryable=True)
        return super().describe_error(exc)


def _connect(
    address: tuple[str, int], timeout: float | None, context: RequestContext
) -> socket.socket:
    """Connect like ``socket.create_connection``, but give up as soon as the request is aborted.

    A blocking ``connect()`` cannot be woken from another thread (shutting an unconnected socket
    down does nothing), so the connect runs non-blocking and looks at the abort every 20 ms.
    """
    family, kind, proto, _, target = socket.getaddrinfo(*address, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setblocking(False)
        deadline = None if timeout is None else time.monotonic() + timeout
        error = sock.connect_ex(target)
        while error in _IN_PROGRESS:
            if context.aborted:
                raise ConnectionAbortedError("the request was cancelled while connecting")
            wait = _CONNECT_POLL
            if deadline is not None:
                wait = min(wait, deadline - time.monotonic())
                if wait <= 0:
                    raise TimeoutError(f"connecting to {address[0]}:{address[1]} timed out")
            _, writable, _ = select.select([], [sock], [], wait)
            if writable:
                error = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if error:
            raise OSError(error, f"cannot connect to {address[0]}:{address[1]}")
        sock.settimeout(timeout)
        return sock
    except BaseException:
        sock.close()
        raise


def _parts(response: http.client.HTTPResponse) -> Iterator[Part]:
    """The response's lines as parts, until the ``end`` line."""
    while True:
        line = response.readline(_MAX_LINE)
        if not line:
            raise ConnectionResetError("the response ended before its end line")
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except ValueError:
            raise ProviderError(_malformed(line)) from None
        if not isinstance(event, dict):
            raise ProviderError(_malformed(line))
        kind = event.get("type")
        if kind == "text" and event.get("text"):
            yield TextPart(str(event["text"]))
        elif kind == "reasoning" and event.get("text"):
            yield ReasoningPart(str(event["text"]))
        elif kind == "tool_call":
            if not isinstance(event.get("name"), str):
                raise ProviderError(_malformed(line))
            yield ToolCallPart(
                id=event.get("id"), name=event["name"], arguments=event.get("arguments", "")
            )
        elif kind == "usage":
            yield UsagePart(_usage(event))
        elif kind == "error":
            message = f"the server failed mid-answer: {event.get('message', 'no message')}"
            raise ProviderError(ErrorInfo(message=message, retryable=bool(event.get("retryable"))))
        elif kind == "end":
            yield FinishPart(event.get("reason"))
            return
        else:
            # Newer servers may send line types this driver does not know; they carry nothing
            # it needs.
            log.debug("ignoring an example-wire line of type %r", kind)


def _malformed(line: bytes) -> ErrorInfo:
    return ErrorInfo(
        message=f"the server sent a line that is not an example-wire event: {line[:100]!r}; "
        "check that base_url points at an example-wire server"
    )


def _usage(event: dict[str, Any]) -> Usage:
    input_tokens = int(event.get("input_tokens", 0))
    output_tokens = int(event.get("output_tokens", 0))
    return Usage(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        total_tokens=int(event.get("total_tokens", input_tokens + output_tokens)),
    )


def _request_body(request: ProviderRequest) -> dict[str, Any]:
    body = {
        "model": request.model,
        "system": request.system_prompt,
        "messages": [_message(m) for m in request.messages],
        "tools": [
            {"name": t.name, "description": t.description, "parameters": dict(t.parameters)}
            for t in request.tools
        ],
        "options": dict(request.options),
    }
    if request.output_schema is not None:
        # Sent on every request of a generation, tool rounds included; the harness parses the
        # final answer into ``result.output``.
        body["response_schema"] = dict(request.output_schema)
    return body


def _message(message: Message) -> dict[str, Any]:
    content: str | list[dict[str, Any]] = message.content
    if message.attachments:
        # Every part in order; a text-only turn keeps its plain string.
        content = [_part(p) for p in message.parts]
    wire: dict[str, Any] = {"role": message.role, "content": content}
    if message.tool_calls:
        wire["tool_calls"] = [
            {
                "id": call.id,
                "name": call.name,
                # The model's own text when there is one, so the history stays faithful.
                "arguments": call.raw_arguments
                if call.raw_arguments is not None
                else json.dumps(dict(call.arguments)),
            }
            for call in message.tool_calls
        ]
    if message.role == "tool":
        wire.update(tool_call_id=message.tool_call_id, name=message.name, is_error=message.is_error)
    return wire


def _part(part: str | Attachment) -> dict[str, Any]:
    if isinstance(part, str):
        return {"type": "text", "text": part}
    # Only images get here: ``accepts`` let nothing else through, and no URL.
    return {"type": "image", "media_type": part.media_type, "data": part.base64()}
