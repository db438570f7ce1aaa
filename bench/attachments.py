"""What a large attachment costs in memory: peak RSS while each driver sends a 20 MB image.

``uv run python -m bench.attachments [--mb 20]``

Each measurement runs in a fresh process: import the driver and send a tiny request (the SDK
loaded, the client built), read the file into an ``Attachment`` (``from_path``), note the
resident set and start the kernel's peak count again (``/proc/self/clear_refs``), send one
request to a sink server (another process, which reads the whole body and answers 400), then
read the process's peak RSS (``VmHWM``). The figure is the peak above the resident set with
the attachment already held, as a multiple of the file's size. The OpenAI SDK sending the same
image with a hand-built data URL is the reference: what any caller of that SDK pays.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

DRIVERS = {
    "openai (chat)": ("openai", {}),
    "openai (responses)": ("openai", {"api": "responses"}),
    "gemini": ("gemini", {}),
    "mistral": ("mistral", {}),
    "anthropic": ("anthropic", {}),
}
REFERENCE = "AsyncOpenAI, data URL by hand"


def _rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _reset_peak() -> None:
    """Start the peak (VmHWM) again from the current resident set (Linux 4.0 and later)."""
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")


def _peak() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _child(which: str, url: str, path: str) -> dict[str, float]:
    import asyncio

    from janito_core import Attachment, GenerationError, get_driver

    if which == REFERENCE:
        import base64

        import openai

        client = openai.AsyncOpenAI(api_key="sk-bench", base_url=url + "/v1", max_retries=0)

        async def send(data: bytes) -> None:
            url_text = "data:image/png;base64," + base64.b64encode(data).decode()
            content = [
                {"type": "text", "text": "What is it?"},
                {"type": "image_url", "image_url": {"url": url_text}},
            ]
            with contextlib.suppress(openai.APIError):
                await client.chat.completions.create(
                    model="gpt-4o-mini", messages=[{"role": "user", "content": content}]
                )

        async def both() -> int:
            await send(bytes(64))  # the client's first request, as for the drivers
            data = Path(path).read_bytes()
            nonlocal before
            _reset_peak()
            before = _rss()
            await send(data)
            return len(data)

        before = 0
        size = asyncio.run(both())
        return {"before": before, "peak": _peak(), "size": size}
    name, config = DRIVERS[which]
    base_url = url + "/v1" if name in ("openai", "mistral") else url
    driver = get_driver(name, api_key="sk-bench", base_url=base_url, max_retries=0, **config)
    small = Attachment.from_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    # A first request loads the SDK and builds the client: not part of the figure.
    with contextlib.suppress(GenerationError):
        driver.generate("What is it?", attachments=[small])
    picture = Attachment.from_path(path)
    _reset_peak()
    before = _rss()
    with contextlib.suppress(GenerationError):
        driver.generate("What is it?", attachments=[picture])
    driver.close()
    return {"before": before, "peak": _peak(), "size": picture.size or 0}


class Sink:
    """A server that reads each request's whole body and answers 400: another thread here, but
    the parent process is not the one measured."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        with conn:
            buffer = b""
            while b"\r\n\r\n" not in buffer:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                buffer += chunk
            head, _, rest = buffer.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                key, _, value = line.partition(b":")
                if key.strip().lower() == b"content-length":
                    length = int(value.strip())
            left = length - len(rest)
            while left > 0:
                chunk = conn.recv(1 << 20)
                if not chunk:
                    return
                left -= len(chunk)
            body = json.dumps({"error": {"message": "sink", "type": "invalid_request_error"}})
            conn.sendall(
                b"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                + body.encode()
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=20)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.child, args.url, args.path)))
        return
    sink = Sink()
    size = args.mb * 1024 * 1024
    with tempfile.NamedTemporaryFile(suffix=".png", delete=False) as file:
        file.write(b"\x89PNG\r\n\x1a\n" + os.urandom(size - 8))
    try:
        print(f"{args.mb} MB image, peak RSS above the process holding it (x file size)")
        for which in [REFERENCE, *DRIVERS]:
            out = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "bench.attachments",
                    "--child",
                    which,
                    "--url",
                    sink.url,
                    "--path",
                    file.name,
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            if out.returncode != 0:
                print(f"{which:28} failed: {out.stderr.strip().splitlines()[-1:]}")
                continue
            got = json.loads(out.stdout)
            extra = got["peak"] - got["before"]
            print(
                f"{which:28} {got['before'] / 2**20:6.1f} MB -> {got['peak'] / 2**20:6.1f} MB:"
                f" +{extra / 2**20:6.1f} MB, {extra / got['size']:.2f}x the file"
            )
    finally:
        os.unlink(file.name)


if __name__ == "__main__":
    main()
