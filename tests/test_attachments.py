"""Attachment: construction, media types told from names and bytes, refusals, repr."""

from __future__ import annotations

import base64
import os
import sys
from pathlib import Path

import pytest

from janito_core import Attachment, InvalidRequestError
from janito_core.attachments import matches_media_type, sniff_media_type
from janito_core.testing import media


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (media.png(), "image/png"),
        (media.jpeg(), "image/jpeg"),
        (b"GIF89a" + b"\x00" * 10, "image/gif"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
        (media.pdf(), "application/pdf"),
        (media.wav(), "audio/wav"),
        (b"ID3\x04\x00\x00\x00\x00\x00\x00", "audio/mpeg"),
        (b"\xff\xfb\x90\x00", "audio/mpeg"),
        (b"fLaC\x00\x00\x00\x22", "audio/flac"),
        (b"OggS\x00\x02", "audio/ogg"),
        (b"\x00\x00\x00\x20ftypM4A \x00\x00", "audio/mp4"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00", "image/heic"),
        (b"\x00\x00\x00\x18ftypisom\x00\x00", "video/mp4"),
        (b"hello, world", None),
    ],
)
def test_sniff_tells_formats_by_their_first_bytes(data: bytes, expected: str | None) -> None:
    assert sniff_media_type(data[:16]) == expected


def test_from_path_reads_the_file_and_names_it(tmp_path: Path) -> None:
    path = tmp_path / "cat.png"
    path.write_bytes(media.png(3))
    attachment = Attachment.from_path(path)
    assert (attachment.media_type, attachment.data, attachment.url) == (
        "image/png",
        media.png(3),
        None,
    )
    assert attachment.filename == "cat.png"
    assert attachment.kind == "image" and attachment.size == len(media.png(3))


def test_the_bytes_win_over_the_name(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    path.write_bytes(media.png())
    assert Attachment.from_path(path).media_type == "image/png"


def test_a_text_document_is_typed_by_its_name(tmp_path: Path) -> None:
    path = tmp_path / "notes.md"
    path.write_text("# Notes\n")
    attachment = Attachment.from_path(path)
    assert attachment.media_type == "text/markdown" and attachment.kind == "document"


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("missing.png", None, "no such file"),
        ("empty.png", b"", "the file is empty"),
        ("mystery.xyz123", b"\x01\x02\x03", "cannot tell the media type"),
        ("fake.png", b"just text", "does not hold image/png data"),
        ("fake.pdf", b"just text", "does not hold application/pdf data"),
    ],
)
def test_from_path_refuses_what_it_cannot_send(
    tmp_path: Path, name: str, content: bytes | None, match: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InvalidRequestError, match=match):
        Attachment.from_path(path)


def test_from_path_refuses_a_directory(tmp_path: Path) -> None:
    with pytest.raises(InvalidRequestError, match="is a directory"):
        Attachment.from_path(tmp_path)


@pytest.mark.skipif(
    sys.platform == "win32" or os.geteuid() == 0, reason="root reads any file; needs POSIX modes"
)
def test_from_path_refuses_an_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "secret.png"
    path.write_bytes(media.png())
    path.chmod(0)
    with pytest.raises(InvalidRequestError, match="permission denied"):
        Attachment.from_path(path)


def test_from_path_says_why_another_read_fails(tmp_path: Path) -> None:
    # Any user hits this one, root included: a path through a file.
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(InvalidRequestError, match="Not a directory"):
        Attachment.from_path(tmp_path / "notes.txt" / "cat.png")


def test_from_bytes_takes_the_type_given_or_shown() -> None:
    assert Attachment.from_bytes(media.pdf()).media_type == "application/pdf"
    assert Attachment.from_bytes(b"a,b\n1,2\n", "text/csv").media_type == "text/csv"
    assert Attachment.from_bytes(media.png(), "image/jpg").media_type == "image/png"
    assert Attachment.from_bytes(b"{}", "Application/JSON; charset=utf-8").media_type == (
        "application/json"
    )
    with pytest.raises(InvalidRequestError, match="pass media_type"):
        Attachment.from_bytes(b"\x00\x01\x02")
    with pytest.raises(InvalidRequestError, match="not a media type"):
        Attachment.from_bytes(b"x", "png")
    with pytest.raises(InvalidRequestError, match="takes bytes"):
        Attachment.from_bytes("text", "text/plain")  # type: ignore[arg-type]
    with pytest.raises(InvalidRequestError, match="empty"):
        Attachment.from_bytes(b"", "text/plain")


def test_from_url_keeps_the_url_and_guesses_the_type() -> None:
    attachment = Attachment.from_url("https://example.com/files/report.pdf?sig=secret")
    assert (attachment.media_type, attachment.data, attachment.filename) == (
        "application/pdf",
        None,
        "report.pdf",
    )
    assert attachment.data_url() == "https://example.com/files/report.pdf?sig=secret"
    assert Attachment.from_url("gs://bucket/a.wav").media_type == "audio/wav"
    given = Attachment.from_url("https://example.com/render", media_type="image/webp")
    assert given.media_type == "image/webp"
    with pytest.raises(InvalidRequestError, match="pass media_type"):
        Attachment.from_url("https://example.com/render")
    with pytest.raises(InvalidRequestError, match="http, https or gs"):
        Attachment.from_url("file:///etc/passwd")


def test_a_data_url_becomes_bytes() -> None:
    url = "data:image/png;base64," + base64.b64encode(media.png()).decode()
    attachment = Attachment.from_url(url)
    assert attachment.data == media.png() and attachment.url is None
    with pytest.raises(InvalidRequestError, match="base64"):
        Attachment.from_url("data:text/plain,hello")


def test_encodings_for_drivers() -> None:
    attachment = Attachment.from_bytes(media.png())
    assert base64.b64decode(attachment.base64()) == media.png()
    for size in (1, 2, 3, 4, 100):
        sized = Attachment.from_bytes(b"%PDF-" + bytes(size))
        assert sized.base64_size == len(sized.base64())
    assert Attachment.from_url("https://example.com/a.png").base64_size is None
    assert attachment.data_url() == "data:image/png;base64," + attachment.base64()


def test_the_repr_shows_type_size_and_name_never_the_bytes_or_a_query(tmp_path: Path) -> None:
    path = tmp_path / "cat.png"
    path.write_bytes(media.png())
    shown = repr(Attachment.from_path(path))
    assert (
        shown == f"Attachment(media_type='image/png', size={len(media.png())}, filename='cat.png')"
    )
    signed = repr(Attachment.from_url("https://example.com/a.png?X-Amz-Signature=abc123"))
    assert "abc123" not in signed and "example.com/a.png?..." in signed


def test_equal_by_content() -> None:
    assert Attachment.from_bytes(media.png(1)) == Attachment.from_bytes(media.png(1))
    assert Attachment.from_bytes(media.png(1)) != Attachment.from_bytes(media.png(2))
    assert len({Attachment.from_bytes(media.png(1)), Attachment.from_bytes(media.png(1))}) == 1


def test_an_attachment_holds_data_or_a_url() -> None:
    with pytest.raises(InvalidRequestError):
        Attachment(media_type="image/png")


@pytest.mark.parametrize(
    ("media_type", "patterns", "expected"),
    [
        ("image/png", {"image/png"}, True),
        ("image/png", {"image/*"}, True),
        ("image/png", {"*/*"}, True),
        ("image/png", {"image/jpeg", "audio/*"}, False),
        ("application/pdf", set(), False),
    ],
)
def test_matches_media_type(media_type: str, patterns: set[str], expected: bool) -> None:
    assert matches_media_type(media_type, patterns) is expected
