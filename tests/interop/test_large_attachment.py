"""A 20 MB attachment on every driver that takes images: a cancel while the request body is
still uploading ends the generation and closes the connection promptly.

The server reads the request head and the first megabyte of its body, then stops reading, so
the client blocks writing the rest (the socket buffers are full) exactly as on a slow uplink.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time

import pytest
from interop_drivers import DRIVERS

from janito_core import Attachment, GenerationError, events
from janito_core.attachments import matches_media_type
from janito_core.testing import closing_drivers
from janito_core.testing.memory import DiscardingServer, peak_bytes, resident_bytes, restart_peak
from janito_core.testing.scenario import WireAdapter

SIZE = 20 * 1024 * 1024
PROMPTLY = 2.0
BIG = Attachment.from_bytes(b"\x89PNG\r\n\x1a\n" + bytes(SIZE - 8), filename="big.png")


class StalledUpload:
    """Accepts one connection, reads 1 MB of it, then reads nothing until told to drain."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.started = threading.Event()
        self.drain = threading.Event()
        self.closed_after: float | None = None
        self.drain_at = 0.0
        self.thread = threading.Thread(target=self._serve, name="stalled-upload", daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.listener.settimeout(10)
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return
        with conn:
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
            received = 0
            while received < 1024 * 1024:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                received += len(chunk)
            self.started.set()
            self.drain.wait(10)
            self.drain_at = time.monotonic()
            conn.settimeout(PROMPTLY * 3)
            try:
                while conn.recv(1 << 20):
                    pass
            except (TimeoutError, OSError) as exc:
                if isinstance(exc, TimeoutError):
                    return  # never closed: closed_after stays None
            self.closed_after = time.monotonic() - self.drain_at

    def close(self) -> None:
        self.drain.set()
        self.listener.close()
        self.thread.join(10)


TAKERS = [n for n, e in DRIVERS.items() if e.target]


def _image_taker(name: str) -> WireAdapter:
    """The adapter of driver ``name``; skips the test when the driver is missing or takes no
    images."""
    reason = DRIVERS[name].available()
    if reason:
        pytest.skip(reason)
    adapter = DRIVERS[name].adapter()
    with closing_drivers(lambda **c: adapter.make_driver("http://127.0.0.1:9", **c)) as make:
        if not matches_media_type("image/png", make().accepts):
            pytest.skip(f"the {name} driver takes no images")
    return adapter


@pytest.mark.parametrize("name", TAKERS)
def test_a_cancel_during_a_large_upload_closes_the_connection(name: str) -> None:
    adapter = _image_taker(name)
    server = StalledUpload()
    try:
        with closing_drivers(
            lambda **c: adapter.make_driver(server.url, max_retries=0, **c)
        ) as make:
            driver = make()
            stream = driver.stream_generate("What is it?", attachments=[BIG])
            assert server.started.wait(20), "the upload never started"
            cancelled_at = time.monotonic()
            stream.cancel()
            seen = list(stream)
            assert stream.join(PROMPTLY), "the generation did not end"
            took = time.monotonic() - cancelled_at
            server.drain.set()
            server.thread.join(PROMPTLY * 4)
        assert took < PROMPTLY, f"the generation took {took:.2f}s to end after the cancel"
        assert isinstance(seen[-1], events.GenerationFinished)
        assert seen[-1].status == "cancelled"
        assert server.closed_after is not None, "the client never closed the connection"
        assert server.closed_after < PROMPTLY
    finally:
        server.close()


@pytest.mark.parametrize("name", TAKERS)
def test_sending_a_large_attachment_holds_no_copy_of_it(name: str) -> None:
    # The SDK alone holds the file's base64 text, the body's JSON text and its bytes at once
    # (5.3x the file with the OpenAI SDK); the drivers splice the base64 in as they send.
    adapter = _image_taker(name)
    warm = Attachment.from_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    with (
        DiscardingServer() as server,
        closing_drivers(lambda **c: adapter.make_driver(server.url, max_retries=0, **c)) as make,
    ):
        driver = make()
        # The first request loads the SDK and builds the client: not part of the figure.
        with contextlib.suppress(GenerationError):
            driver.generate("What is it?", attachments=[warm])
        if not restart_peak():
            pytest.skip("the kernel's peak RSS cannot be restarted here")
        before = resident_bytes()
        with contextlib.suppress(GenerationError):
            driver.generate("What is it?", attachments=[BIG])
        grew = peak_bytes() - before
    # One copy of the file would be 20 MB (its base64, 27 MB); a few MB is what a process
    # allocates anyway while it sends a request.
    assert grew < SIZE // 2, f"sending {SIZE >> 20} MB held {grew / 2**20:.1f} MB more"
