"""What a Mistral user turn carries besides text, and the content chunk each becomes.

Read from Mistral's API reference and the ``mistralai`` SDK's chunk models:

- Images (PNG, JPEG, WEBP, single-frame GIF): ``{"type": "image_url", "image_url": URL}``, a
  ``data:`` URL for bytes. The SDK also takes ``{"url": ...}``; the plain string is the form
  Mistral's docs show.
- PDFs: ``{"type": "document_url", "document_url": URL}``. The chat docs show http(s) and signed
  URLs; the same chunk takes a ``data:application/pdf;base64,...`` URL in Mistral's OCR docs, and
  the chat endpoint takes it too (it runs the document through OCR), so bytes go that way.
- Audio (WAV, MP3), Voxtral models only: ``{"type": "input_audio", "input_audio": ...}``, the bare
  base64 of the file or its URL. No media type travels: Mistral reads the format from the bytes.

Mistral fetches http(s) URLs of every kind itself; another scheme (``gs://``) is refused.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from janito_core.attachments import Attachment
from janito_core.errors import InvalidRequestError
from janito_core.upload import inline

__all__ = ["ACCEPTS", "AUDIO_TYPES", "check", "content_chunk"]

IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/webp", "image/gif"})
DOCUMENT_TYPES = frozenset({"application/pdf"})
#: The formats Mistral's audio docs use; it names no list of its own.
AUDIO_TYPES = frozenset({"audio/wav", "audio/mpeg"})
ACCEPTS = IMAGE_TYPES | DOCUMENT_TYPES | AUDIO_TYPES


def takes_audio(model: str) -> bool:
    """Whether ``model`` is a Voxtral model, the only ones Mistral gives audio to."""
    return "voxtral" in model.lower()


def check(attachment: Attachment, model: str) -> None:
    """Refuse what ``accepts`` lets through but Mistral still cannot take for ``model``."""
    who = "the mistral driver"
    if attachment.media_type in AUDIO_TYPES and not takes_audio(model):
        raise InvalidRequestError(
            f"{who} cannot send {attachment.media_type} to {model!r}: only Voxtral models "
            "(voxtral-small-latest, voxtral-mini-latest) take audio"
        )
    if attachment.url is not None and urlsplit(attachment.url).scheme not in ("http", "https"):
        raise InvalidRequestError(
            f"{who} cannot send {attachment.media_type} by a "
            f"{urlsplit(attachment.url).scheme}: URL (Mistral fetches only http and https "
            "URLs): download it and attach it with Attachment.from_path or from_bytes"
        )


def content_chunk(attachment: Attachment) -> dict[str, Any]:
    """The content chunk carrying ``attachment`` (one ``check`` let through)."""
    if attachment.media_type in AUDIO_TYPES:
        audio = attachment.url if attachment.url is not None else inline(attachment)
        return {"type": "input_audio", "input_audio": audio}
    # A large file's base64 is spliced into the body as it is sent (janito_core.upload).
    where = attachment.url if attachment.url is not None else inline(attachment, "data_url")
    if attachment.media_type in DOCUMENT_TYPES:
        return {"type": "document_url", "document_url": where}
    return {"type": "image_url", "image_url": where}
