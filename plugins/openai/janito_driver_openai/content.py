"""A user turn's text and attachments as OpenAI content parts, for each API, and what each takes.

Chat Completions (the SDK's ``ChatCompletionContentPartParam``): ``text``; ``image_url`` with a
data URL or the image's URL; ``input_audio`` with the base64 data and its format (``wav`` or
``mp3``, the only two the API takes; no URL form); ``file`` with ``filename`` and ``file_data``
(a data URL) for a PDF, the only document type Chat takes. OpenAI does not fetch a PDF URL on
Chat; compatible servers that do (OpenRouter) get it in ``file_data``.

Responses (``ResponseInputContentParam``): ``input_text``; ``input_image`` with ``image_url``;
``input_file`` with ``filename`` + ``file_data`` (a data URL) or ``file_url``. Its input content
has no audio part (``ResponseInputAudioParam`` exists in the SDK but is not among a message's
content types): audio is refused on that API.

A turn without attachments keeps its plain-string form on both APIs.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable
from typing import Any

from janito_core.attachments import Attachment
from janito_core.messages import Message
from janito_core.upload import inline

__all__ = [
    "CHAT_ACCEPTS",
    "CHAT_ACCEPTS_URLS",
    "RESPONSES_ACCEPTS",
    "RESPONSES_ACCEPTS_URLS",
    "chat_content",
    "responses_content",
    "unsendable",
]

#: The image formats OpenAI's vision guide lists (GIF: not animated).
IMAGES = frozenset({"image/png", "image/jpeg", "image/webp", "image/gif"})
#: ``input_audio.format`` for each audio type Chat takes.
AUDIO_FORMATS = {"audio/wav": "wav", "audio/mpeg": "mp3"}
#: The documents ``input_file`` takes on the Responses API (OpenAI's file-inputs guide: PDF,
#: text and code, rich documents, presentations, spreadsheets); Chat takes PDFs only.
DOCUMENTS = frozenset(
    {
        "application/pdf",
        "text/plain",
        "text/markdown",
        "text/csv",
        "text/html",
        "text/xml",
        "application/xml",
        "application/json",
        "application/rtf",
        "application/msword",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.oasis.opendocument.text",
        "application/vnd.ms-powerpoint",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/vnd.ms-excel",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
)

CHAT_ACCEPTS = IMAGES | frozenset(AUDIO_FORMATS) | {"application/pdf"}
CHAT_ACCEPTS_URLS = IMAGES
RESPONSES_ACCEPTS = IMAGES | DOCUMENTS
RESPONSES_ACCEPTS_URLS = IMAGES | DOCUMENTS

#: The ``filename`` of a file sent without a name (OpenAI wants one with ``file_data``).
_UNNAMED = "document"


def unsendable(attachment: Attachment, api: str) -> str | None:
    """Why ``api``'s content parts cannot carry ``attachment`` whatever a server takes, or None.

    ``accepts`` says what a server takes; this is what the wire form can hold at all, so a
    preset or a caller's ``accepts`` cannot ask for what would go out malformed."""
    if attachment.kind == "video":
        return "neither OpenAI API has a content part for video"
    if attachment.kind != "audio":
        return None
    if api == "responses":
        return "the Responses API's input has no audio part (api='chat' takes wav and mp3)"
    if attachment.media_type not in AUDIO_FORMATS:
        return "Chat's input_audio takes wav and mp3 only"
    if attachment.url is not None:
        return "Chat's input_audio takes the audio's bytes, not a URL"
    return None


def _content(
    message: Message, text_type: str, file_part: Callable[[Attachment], dict[str, Any]]
) -> str | list[dict[str, Any]]:
    """A user turn's ``content``: its text alone, or its parts in order (empty text left out)."""
    if not message.attachments:
        return message.content
    return [
        {"type": text_type, "text": part} if isinstance(part, str) else file_part(part)
        for part in message.parts
        if part != ""
    ]


def chat_content(message: Message) -> str | list[dict[str, Any]]:
    """A user turn's ``content`` for Chat Completions."""
    return _content(message, "text", _chat_part)


def _data_url(attachment: Attachment) -> str:
    # A large file's base64 is spliced into the body as it is sent (janito_core.upload).
    return attachment.url if attachment.url is not None else inline(attachment, "data_url")


def _chat_part(attachment: Attachment) -> dict[str, Any]:
    if attachment.kind == "image":
        return {"type": "image_url", "image_url": {"url": _data_url(attachment)}}
    if attachment.kind == "audio":
        # Only wav and mp3 bytes get here (``unsendable``).
        return {
            "type": "input_audio",
            "input_audio": {
                "data": inline(attachment),
                "format": AUDIO_FORMATS[attachment.media_type],
            },
        }
    return {
        "type": "file",
        "file": {"filename": _filename(attachment), "file_data": _data_url(attachment)},
    }


def responses_content(message: Message) -> str | list[dict[str, Any]]:
    """A user turn's ``content`` for the Responses API."""
    return _content(message, "input_text", _responses_part)


def _responses_part(attachment: Attachment) -> dict[str, Any]:
    if attachment.kind == "image":
        # The API reference marks detail required ("auto" is its default), and compatible
        # servers that validate against it refuse the part without one.
        return {"type": "input_image", "image_url": _data_url(attachment), "detail": "auto"}
    if attachment.url is not None:
        return {"type": "input_file", "file_url": attachment.url}
    return {
        "type": "input_file",
        "filename": _filename(attachment),
        "file_data": _data_url(attachment),
    }


def _filename(attachment: Attachment) -> str:
    if attachment.filename:
        return attachment.filename
    # A name with the right extension: the API tells the file's type from it.
    return _UNNAMED + (mimetypes.guess_extension(attachment.media_type, strict=False) or "")
