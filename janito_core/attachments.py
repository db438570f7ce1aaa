"""``Attachment``: an image, document or audio clip a user turn sends along with its text.

An attachment holds its bytes (read once, at construction) or a URL the provider fetches. Its
media type comes from what the caller said or the file name, and is then checked against the
first bytes of the data: a PNG named ``photo.jpg`` is sent as ``image/png``. The bytes never show
in a ``repr``, an event or a log line; the ``repr`` gives the type, the size and the name.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import unquote, urlsplit

import attrs

from janito_core.errors import InvalidRequestError

__all__ = ["Attachment", "matches_media_type", "sniff_media_type"]

#: Names ``mimetypes`` does not know everywhere (its table comes partly from the system).
_EXTRA_TYPES = {
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".webp": "image/webp",
    ".heic": "image/heic",
    ".heif": "image/heif",
    ".avif": "image/avif",
    ".flac": "audio/flac",
    ".m4a": "audio/mp4",
    ".aac": "audio/aac",
    ".opus": "audio/ogg",
    ".oga": "audio/ogg",
    ".ogg": "audio/ogg",
    ".mp3": "audio/mpeg",
    ".wav": "audio/wav",
    ".weba": "audio/webm",
    ".csv": "text/csv",
    ".json": "application/json",
    ".pdf": "application/pdf",
}

#: Spellings providers do not take, and the one they do.
_ALIASES = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "audio/x-wav": "audio/wav",
    "audio/wave": "audio/wav",
    "audio/vnd.wave": "audio/wav",
    "audio/mp3": "audio/mpeg",
    "audio/x-flac": "audio/flac",
    "audio/x-m4a": "audio/mp4",
    "application/x-pdf": "application/pdf",
}

_MEDIA_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")
_URL_SCHEMES = ("http", "https", "gs")
#: How many leading bytes ``sniff_media_type`` looks at.
SNIFF_BYTES = 16


def sniff_media_type(head: bytes) -> str | None:
    """The media type the first bytes of a file show, for the formats providers take; or None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return "audio/aiff"
    if head.startswith(b"fLaC"):
        return "audio/flac"
    if head.startswith(b"OggS"):
        return "audio/ogg"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE6 == 0xE2):
        # An ID3 tag, or an MPEG audio frame header (sync bits, layer III).
        return "audio/mpeg"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"heic", b"heix", b"hevc", b"heim", b"heis"):
            return "image/heic"
        if brand in (b"mif1", b"msf1"):
            return "image/heif"
        if brand in (b"avif", b"avis"):
            return "image/avif"
        if brand in (b"M4A ", b"M4B "):
            return "audio/mp4"
        return "video/mp4"
    if head.startswith(b"\x1aE\xdf\xa3"):
        return "video/webm"
    return None


def matches_media_type(media_type: str, patterns: Iterable[str]) -> bool:
    """Whether ``media_type`` is one of ``patterns`` (``"image/png"``, ``"image/*"``, ``"*/*"``)."""
    major = media_type.split("/", 1)[0]
    for pattern in patterns:
        if pattern in (media_type, "*/*", "*") or pattern == f"{major}/*":
            return True
    return False


def _guess(name: str) -> str | None:
    suffix = os.path.splitext(name)[1].lower()
    if suffix in _EXTRA_TYPES:
        return _EXTRA_TYPES[suffix]
    import mimetypes  # here: it reads the system's type tables, which only names need

    guessed, _ = mimetypes.guess_type(name, strict=False)
    return _normalise(guessed) if guessed else None


def _normalise(media_type: str) -> str:
    cleaned = media_type.split(";", 1)[0].strip().lower()
    return _ALIASES.get(cleaned, cleaned)


def _checked_type(media_type: str) -> str:
    if not isinstance(media_type, str):
        raise InvalidRequestError(
            f"media_type must be a str like 'image/png'; got {type(media_type).__name__}"
        )
    normal = _normalise(media_type)
    if not _MEDIA_TYPE.match(normal):
        raise InvalidRequestError(f"{media_type!r} is not a media type (like 'image/png')")
    return normal


def _settle(data: bytes, stated: str | None, what: str) -> str:
    """The media type of ``data``: what its bytes show, else what was stated for it."""
    sniffed = sniff_media_type(data[:SNIFF_BYTES])
    if sniffed is not None:
        return sniffed
    if stated is None:
        raise InvalidRequestError(
            f"cannot tell the media type of {what}: pass media_type='...' (e.g. 'image/png')"
        )
    if stated.split("/", 1)[0] in ("image", "audio", "video") or stated == "application/pdf":
        # Every such type a provider takes has a signature we know; its absence means the data
        # is not what the name or caller says (a text file named .png, a truncated download).
        raise InvalidRequestError(f"{what} does not hold {stated} data (its first bytes are not)")
    return stated


def _url_name(url: str) -> str | None:
    path = unquote(urlsplit(url).path)
    name = path.rsplit("/", 1)[-1]
    return name or None


def _safe_url(url: str) -> str:
    """``url`` without its query and fragment (signed URLs carry credentials there)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    suffix = "?..." if parts.query else ""
    return f"{parts.scheme}://{host}{parts.path}{suffix}"


@attrs.frozen(kw_only=True, repr=False)
class Attachment:
    """An image, document or audio clip for a user turn: its bytes or a URL, and its media type.

    Build one with ``from_path``, ``from_url`` or ``from_bytes``; each raises
    ``InvalidRequestError`` for a missing, empty or unreadable file or a type it cannot tell.
    """

    media_type: str
    data: bytes | None = None
    url: str | None = None
    filename: str | None = None

    def __attrs_post_init__(self) -> None:
        if (self.data is None) == (self.url is None):
            raise InvalidRequestError("an Attachment holds either data or a url")

    # -- construction ----------------------------------------------------------------------

    @classmethod
    def from_path(cls, path: str | os.PathLike[str], media_type: str | None = None) -> Attachment:
        """The file at ``path``, read once now; its type from the name, checked by its bytes."""
        file = Path(path)
        shown = os.fspath(path)
        try:
            data = file.read_bytes()
        except FileNotFoundError:
            raise InvalidRequestError(f"cannot attach {shown!r}: no such file") from None
        except IsADirectoryError:
            raise InvalidRequestError(f"cannot attach {shown!r}: it is a directory") from None
        except PermissionError:
            raise InvalidRequestError(f"cannot attach {shown!r}: permission denied") from None
        except OSError as exc:
            if file.is_dir():
                raise InvalidRequestError(f"cannot attach {shown!r}: it is a directory") from None
            raise InvalidRequestError(
                f"cannot attach {shown!r}: {exc.strerror or type(exc).__name__}"
            ) from None
        if not data:
            raise InvalidRequestError(f"cannot attach {shown!r}: the file is empty")
        stated = _checked_type(media_type) if media_type is not None else _guess(file.name)
        settled = _settle(data, stated, repr(shown))
        return cls(media_type=settled, data=data, filename=file.name)

    @classmethod
    def from_bytes(
        cls, data: bytes, media_type: str | None = None, *, filename: str | None = None
    ) -> Attachment:
        """``data`` as an attachment; its first bytes decide the type where they show one."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise InvalidRequestError(
                f"Attachment.from_bytes takes bytes; got {type(data).__name__}"
            )
        data = bytes(data)
        if not data:
            raise InvalidRequestError("cannot attach empty data")
        stated = _checked_type(media_type) if media_type is not None else None
        if stated is None and filename:
            stated = _guess(filename)
        what = repr(filename) if filename else "the data"
        return cls(media_type=_settle(data, stated, what), data=data, filename=filename)

    @classmethod
    def from_url(cls, url: str, media_type: str | None = None) -> Attachment:
        """A file the provider fetches from ``url`` (http, https or gs); a ``data:`` URL is
        decoded into bytes. The type comes from ``media_type`` or the URL's file name."""
        if not isinstance(url, str):
            raise InvalidRequestError(f"url must be a str; got {type(url).__name__}")
        if url.startswith("data:"):
            return cls._from_data_url(url, media_type)
        parts = urlsplit(url)
        if parts.scheme not in _URL_SCHEMES or not parts.netloc:
            raise InvalidRequestError(
                f"cannot attach {_safe_url(url)!r}: a URL must be http, https or gs "
                "(use Attachment.from_path for a local file)"
            )
        name = _url_name(url)
        stated = _checked_type(media_type) if media_type is not None else None
        if stated is None and name:
            stated = _guess(name)
        if stated is None:
            raise InvalidRequestError(
                f"cannot tell the media type of {_safe_url(url)!r} from its name: "
                "pass media_type='...'"
            )
        return cls(media_type=stated, url=url, filename=name)

    @classmethod
    def _from_data_url(cls, url: str, media_type: str | None) -> Attachment:
        header, sep, payload = url[5:].partition(",")
        if not sep or not header.endswith(";base64"):
            raise InvalidRequestError(
                "a data: URL attachment must be base64 (data:TYPE;base64,...)"
            )
        try:
            data = base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidRequestError("the data: URL does not hold valid base64") from None
        return cls.from_bytes(data, media_type or header[: -len(";base64")] or None)

    # -- what drivers use --------------------------------------------------------------------

    @property
    def kind(self) -> str:
        """``"image"``, ``"audio"``, ``"video"`` or ``"document"`` (PDF, text and the rest)."""
        major = self.media_type.split("/", 1)[0]
        return major if major in ("image", "audio", "video") else "document"

    @property
    def size(self) -> int | None:
        """The number of bytes held; None for a URL."""
        return None if self.data is None else len(self.data)

    @property
    def base64_size(self) -> int | None:
        """How long the data is as base64 text (without encoding it); None for a URL."""
        return None if self.data is None else 4 * ((len(self.data) + 2) // 3)

    def base64(self) -> str:
        """The data as base64 text (computed on each call; not kept). Raises for a URL."""
        if self.data is None:
            raise ValueError("a URL attachment holds no data to encode")
        return base64.b64encode(self.data).decode("ascii")

    def data_url(self) -> str:
        """``data:<media type>;base64,...`` for the data, or the URL itself for a URL."""
        if self.url is not None:
            return self.url
        return f"data:{self.media_type};base64,{self.base64()}"

    def __repr__(self) -> str:
        where = (
            f"url={_safe_url(self.url)!r}"
            if self.url is not None
            else f"size={len(self.data or b'')}"
        )
        name = f", filename={self.filename!r}" if self.filename else ""
        return f"Attachment(media_type={self.media_type!r}, {where}{name})"
