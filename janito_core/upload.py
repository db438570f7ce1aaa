"""Large attachments reach the wire in pieces, never as one encoded copy of the whole file.

An SDK serialises a request body whole: the base64 text of a 20 MB image (27 MB), the JSON text
of the body holding it (27 MB more) and that text's bytes (27 MB more) all exist at once. So a
driver puts a short token where the base64 goes (``inline``), the SDK serialises a body of a few
kilobytes, and a request hook of the driver's ``httpx2`` client (``splice_request``) replaces
each token on the way out with the attachment's base64, encoded a megabyte at a time as the
socket takes it. Content-Length stays exact. Attachments under ``INLINE_AT`` bytes are encoded
at once: for them the copies cost nothing and the body stays readable.

This module imports ``httpx2`` (drivers have it; core does not need it otherwise).
"""

from __future__ import annotations

import base64
import re
import uuid
import weakref
from collections.abc import AsyncIterator
from typing import Literal

import httpx2

from janito_core.attachments import Attachment

__all__ = ["INLINE_AT", "inline", "inline_bytes", "splice_request"]

#: Attachments of at least this many bytes are spliced in on the way out.
INLINE_AT = 1 << 20
#: Raw bytes encoded per piece: 768 KiB, one MiB of base64.
_PIECE = 3 << 18

# Letters and digits only, a multiple of four long: valid base64 that decodes to bytes and
# encodes back to itself, so an SDK that base64-encodes bytes itself (google-genai) can carry it.
_TOKEN = re.compile(rb"JaNiToInLiNe([0-9a-f]{32})([BU])000")
_FORMS = {"base64": "B", "data_url": "U"}
_waiting: weakref.WeakValueDictionary[str, Attachment] = weakref.WeakValueDictionary()


def inline(attachment: Attachment, form: Literal["base64", "data_url"] = "base64") -> str:
    """The attachment's base64 (or ``data:`` URL) for a request body, or a token standing for
    it when it is large; the driver's client must run ``splice_request`` as a request hook."""
    if attachment.data is None:
        raise ValueError("a URL attachment has no data to inline")
    if len(attachment.data) < INLINE_AT:
        return attachment.base64() if form == "base64" else attachment.data_url()
    key = uuid.uuid4().hex
    _waiting[key] = attachment
    return f"JaNiToInLiNe{key}{_FORMS[form]}000"


def inline_bytes(attachment: Attachment) -> bytes:
    """``inline`` for an SDK that takes the raw bytes and base64-encodes them itself."""
    if attachment.data is None:
        raise ValueError("a URL attachment has no data to inline")
    if len(attachment.data) < INLINE_AT:
        return attachment.data
    return base64.b64decode(inline(attachment))


class _Spliced(httpx2.AsyncByteStream):
    """The body's bytes, with each token's attachment encoded piece by piece."""

    def __init__(self, pieces: list[bytes | Attachment]) -> None:
        self._pieces = pieces

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece in self._pieces:
            if isinstance(piece, bytes):
                yield piece
                continue
            data = memoryview(piece.data or b"")
            for start in range(0, len(data), _PIECE):
                yield base64.b64encode(data[start : start + _PIECE])


async def splice_request(request: httpx2.Request) -> None:
    """An ``httpx2`` request hook: put each inlined attachment where its token is."""
    try:
        body = request.content
    except httpx2.RequestNotRead:
        return  # a streamed body of the SDK's own: no tokens in it
    if b"JaNiToInLiNe" not in body:
        return
    pieces: list[bytes | Attachment] = []
    size = 0
    end = 0
    for match in _TOKEN.finditer(body):
        attachment = _waiting.pop(match.group(1).decode(), None)
        if attachment is None or attachment.data is None:
            continue  # not ours, or already sent: leave the text as it is
        head = body[end : match.start()]
        if match.group(2) == b"U":
            head += f"data:{attachment.media_type};base64,".encode()
        pieces += [head, attachment]
        size += len(head) + (attachment.base64_size or 0)
        end = match.end()
    if not pieces:
        return
    pieces.append(body[end:])
    size += len(body) - end
    request.stream = _Spliced(pieces)
    request.headers["Content-Length"] = str(size)
