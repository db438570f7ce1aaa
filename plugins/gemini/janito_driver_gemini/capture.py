"""Taking a streamed response's body away from google-genai, so the driver reads the bytes.

google-genai has no raw-stream option: it turns every SSE event into a pydantic object, which
costs far more than the event. But it sends through the ``httpx2.AsyncClient`` it is given
(``HttpOptions(httpx_async_client=...)``), so the driver gives it one whose transport is
``CaptureTransport``. The SDK still builds the request, sends it, and raises its ``APIError``
for an error status (those responses pass through untouched). A 200 response is kept in the
``Capture`` of the call that sent it, and the SDK is handed the same headers with an empty
body: its stream ends at once and the driver reads the real body itself.

Which call a request belongs to travels in a context variable the driver sets around the SDK
call that sends (``capture.sending()``). The SDK awaits the send in the caller's task, and a
task it might start copies the context, so concurrent calls on one client never mix. The
transport forwards to ``Capture.client``, the driver's ``httpx2.AsyncClient`` for the running
event loop, which holds the connections.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import Any

import httpx2

__all__ = ["Capture", "CaptureTransport"]

_current: contextvars.ContextVar[Capture | None] = contextvars.ContextVar(
    "janito_gemini_capture", default=None
)
# Headers that describe the real body, not the empty one the SDK gets.
_BODY_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})


class Capture:
    """One provider call's link to its HTTP response.

    ``response`` is the response the transport saw (None until one came), for the driver to
    close; ``raw`` is the same response when its body was kept from the SDK, for the driver to
    read. With ``take=False`` the SDK reads every body as usual.
    """

    def __init__(self, client: httpx2.AsyncClient, timeout: httpx2.Timeout, *, take: bool) -> None:
        self.client = client
        self.timeout = timeout
        self.take = take
        self.response: httpx2.Response | None = None
        self.raw: httpx2.Response | None = None

    @contextlib.contextmanager
    def sending(self) -> Iterator[None]:
        """While inside, requests the SDK sends on this task belong to this call.

        Keep it around awaits only, never around a ``yield``: the variable would leak to
        the consumer of the driver's generator.
        """
        token = _current.set(self)
        try:
            yield
        finally:
            _current.reset(token)

    async def aclose(self) -> None:
        """Close the response, if any: the server sees the connection go if it was not read."""
        if self.response is not None:
            await self.response.aclose()


class CaptureTransport(httpx2.AsyncBaseTransport):
    """The SDK's transport: sends through the current call's client and keeps 200 bodies."""

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        capture = _current.get()
        if capture is None:
            raise RuntimeError("the Gemini driver's HTTP client was used outside one of its calls")
        # The per-read limit is the driver's; the SDK is given none, so that it does not
        # send X-Server-Timeout, which Google enforces as a deadline for the whole answer.
        request.extensions["timeout"] = capture.timeout.as_dict()
        request.headers.pop("x-server-timeout", None)
        response = await capture.client.send(request, stream=True)
        if capture.response is not None:
            # A second request in one call (the SDK continuing on its own): not ours to keep.
            return response
        capture.response = response
        if not capture.take or response.status_code != 200:
            return response
        capture.raw = response
        headers: list[tuple[str, Any]] = [
            (name, value)
            for name, value in response.headers.multi_items()
            if name.lower() not in _BODY_HEADERS
        ]
        return httpx2.Response(200, headers=headers, stream=httpx2.ByteStream(b""), request=request)
