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
import subprocess
import sys
import tempfile
from pathlib import Path

from janito_core.testing.memory import (
    DiscardingServer,
    peak_bytes,
    resident_bytes,
    restart_peak,
)

DRIVERS = {
    "openai (chat)": ("openai", {}),
    "openai (responses)": ("openai", {"api": "responses"}),
    "gemini": ("gemini", {}),
    "mistral": ("mistral", {}),
    "anthropic": ("anthropic", {}),
}
REFERENCE = "AsyncOpenAI, data URL by hand"


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
            restart_peak()
            before = resident_bytes()
            await send(data)
            return len(data)

        before = 0
        size = asyncio.run(both())
        return {"before": before, "peak": peak_bytes(), "size": size}
    name, config = DRIVERS[which]
    base_url = url + "/v1" if name in ("openai", "mistral") else url
    driver = get_driver(name, api_key="sk-bench", base_url=base_url, max_retries=0, **config)
    small = Attachment.from_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    # A first request loads the SDK and builds the client: not part of the figure.
    with contextlib.suppress(GenerationError):
        driver.generate("What is it?", attachments=[small])
    picture = Attachment.from_path(path)
    restart_peak()
    before = resident_bytes()
    with contextlib.suppress(GenerationError):
        driver.generate("What is it?", attachments=[picture])
    driver.close()
    return {"before": before, "peak": peak_bytes(), "size": picture.size or 0}


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
    sink = DiscardingServer()
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
        sink.close()
        os.unlink(file.name)


if __name__ == "__main__":
    main()
