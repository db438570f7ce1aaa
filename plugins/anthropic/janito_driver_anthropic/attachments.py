"""Attachments as Anthropic content blocks: images, PDFs and plain-text documents.

Pure data: nothing here imports the SDK. The Messages API takes, in a user turn:

- an image (JPEG, PNG, GIF, WebP): ``{"type": "image", "source": {"type": "base64",
  "media_type": ..., "data": <base64>}}``, or ``"source": {"type": "url", "url": ...}``;
- a PDF: ``{"type": "document", "source": {"type": "base64", "media_type": "application/pdf",
  "data": <base64>}}``, or ``"source": {"type": "url", "url": ...}``;
- a plain-text document: ``{"type": "document", "source": {"type": "text", "media_type":
  "text/plain", "data": <the text itself>}}`` (no URL form: the API fetches PDFs and images only).

Audio, video and other documents have no block, and a URL the API would not fetch (``gs://``)
none either: they are refused at the call.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from janito_core.attachments import Attachment
from janito_core.upload import inline

__all__ = ["ACCEPTS", "ACCEPTS_URLS", "attachment_block", "attachment_problem"]

IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
PDF = "application/pdf"
PLAIN_TEXT = "text/plain"
#: What a user turn may attach (bytes).
ACCEPTS = IMAGE_TYPES | {PDF, PLAIN_TEXT}
#: What Anthropic fetches itself from a URL.
ACCEPTS_URLS = IMAGE_TYPES | {PDF}
_URL_SCHEMES = ("http", "https")


def attachment_problem(attachment: Attachment) -> str | None:
    """Why Anthropic cannot take ``attachment`` beyond its media type, or None.

    Run after the media type checks (``accepts`` / ``accepts_urls``).
    """
    if attachment.url is not None:
        scheme = urlsplit(attachment.url).scheme
        if scheme not in _URL_SCHEMES:
            return (
                f"cannot send a {scheme}:// URL: Anthropic fetches http and https URLs only; "
                "download it and attach it with Attachment.from_path or from_bytes"
            )
        return None
    if attachment.media_type == PLAIN_TEXT:
        try:
            (attachment.data or b"").decode("utf-8")
        except UnicodeDecodeError:
            # The text source carries a JSON string, not bytes: the text must be decodable.
            name = f" {attachment.filename!r}" if attachment.filename else ""
            return f"cannot send the text/plain attachment{name}: it is not UTF-8 text"
    return None


def attachment_block(attachment: Attachment) -> dict[str, Any]:
    """The content block carrying ``attachment`` (checked at the call already)."""
    kind = "image" if attachment.media_type in IMAGE_TYPES else "document"
    source: dict[str, Any]
    if attachment.url is not None:
        source = {"type": "url", "url": attachment.url}
    elif attachment.media_type == PLAIN_TEXT:
        text = (attachment.data or b"").decode("utf-8")
        source = {"type": "text", "media_type": PLAIN_TEXT, "data": text}
    else:
        # A large file's base64 is spliced into the body as it is sent (janito_core.upload),
        # never held whole next to the SDK's JSON of the body.
        source = {
            "type": "base64",
            "media_type": attachment.media_type,
            "data": inline(attachment),
        }
    return {"type": kind, "source": source}
