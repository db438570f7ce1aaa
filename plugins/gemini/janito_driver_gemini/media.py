"""Attachments → Gemini's content parts: what it takes, in which form, and how much inline.

From Google's Gemini API guides (image, audio, video and document understanding; file input
methods): images PNG, JPEG, WebP, HEIC, HEIF; audio WAV, MP3, AIFF, AAC, OGG Vorbis, FLAC; video
MP4, MPEG, MOV, AVI, FLV, MPG, WebM, WMV, 3GPP; documents PDF (read with vision) and text
(plain, Markdown, HTML, XML, CSV: read as text). Bytes go inline as ``inlineData`` (base64, up
to 100 MB of it in one request); a URL goes as ``fileData``: the Gemini API fetches public or
signed ``https``/``http`` URLs itself, and takes its Files API's URIs and YouTube links the same
way. A ``gs://`` URI is Vertex AI's: the Developer API needs the object registered with the
Files API first, so the driver refuses one.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from janito_core import upload
from janito_core.attachments import Attachment
from janito_core.errors import InvalidRequestError

__all__ = [
    "ACCEPTS",
    "ACCEPTS_URLS",
    "MAX_INLINE_BYTES",
    "attachment_part",
    "check_inline_size",
    "check_url",
    "inline_bytes",
    "wire_media_type",
]

ACCEPTS = frozenset(
    {
        "image/png",
        "image/jpeg",
        "image/webp",
        "image/heic",
        "image/heif",
        "application/pdf",
        "text/plain",
        "text/markdown",
        "text/html",
        "text/xml",
        "text/csv",
        "audio/wav",
        "audio/mpeg",
        "audio/aiff",
        "audio/aac",
        "audio/ogg",
        "audio/flac",
        "video/mp4",
        "video/mpeg",
        "video/mpg",
        "video/mov",
        "video/quicktime",
        "video/avi",
        "video/x-msvideo",
        "video/x-flv",
        "video/webm",
        "video/wmv",
        "video/x-ms-wmv",
        "video/3gpp",
    }
)
#: Gemini fetches a URL of any type it takes.
ACCEPTS_URLS = ACCEPTS
#: The most base64 text of inline data one request may carry (Google's limit is "100 MB" of
#: base64-encoded inline data; read here as MiB, so the driver never refuses what Google takes).
MAX_INLINE_BYTES = 100 * 1024 * 1024

#: The spellings Google's guides give where the usual name differs (``audio/mpeg`` is what
#: ``Attachment`` calls an MP3; Google lists ``audio/mp3``).
_WIRE_TYPES = {
    "audio/mpeg": "audio/mp3",
    "video/quicktime": "video/mov",
    "video/x-msvideo": "video/avi",
    "video/x-ms-wmv": "video/wmv",
}
_URL_SCHEMES = ("https://", "http://")


def wire_media_type(media_type: str) -> str:
    """The ``mimeType`` Gemini is sent for ``media_type``."""
    return _WIRE_TYPES.get(media_type, media_type)


def check_url(attachment: Attachment, driver: str) -> None:
    """Refuse a URL Gemini's Developer API does not fetch (a ``gs://`` URI)."""
    url = attachment.url or ""
    if not url.lower().startswith(_URL_SCHEMES):
        scheme = url.split(":", 1)[0]
        raise InvalidRequestError(
            f"the {driver} driver cannot send a {scheme}:// URL: the Gemini Developer API "
            "fetches http(s) URLs only; register a Cloud Storage object with the Files API and "
            "attach the file's URI, or attach the bytes"
        )


def attachment_part(attachment: Attachment) -> dict[str, Any]:
    """The content part for ``attachment``: ``inlineData`` for bytes, ``fileData`` for a URL.

    The bytes stay bytes here (the SDK writes them as base64 when it builds the body); a large
    file's bytes are a token the driver's client replaces with the file's base64 as it sends
    (``janito_core.upload``), so the body never holds it whole.
    """
    media_type = wire_media_type(attachment.media_type)
    if attachment.url is not None:
        return {"fileData": {"mimeType": media_type, "fileUri": attachment.url}}
    return {"inlineData": {"mimeType": media_type, "data": upload.inline_bytes(attachment)}}


def inline_bytes(attachments: Iterable[Attachment]) -> int:
    """How much base64 text the inline attachments among ``attachments`` make."""
    return sum(a.base64_size or 0 for a in attachments)


def check_inline_size(total: int, driver: str, limit: int = MAX_INLINE_BYTES) -> None:
    """Refuse ``total`` bytes of base64 inline data past ``limit``, saying what to do instead."""
    if total > limit:
        raise InvalidRequestError(
            f"the {driver} driver cannot send {total / 2**20:.1f} MiB of inline attachments "
            f"(as base64) in one request; Gemini takes at most {limit / 2**20:g} MiB. "
            "Upload large files with the Gemini Files API (google-genai: client.files.upload) "
            "and attach the file's URI with Attachment.from_url(uri, media_type=...)"
        )
