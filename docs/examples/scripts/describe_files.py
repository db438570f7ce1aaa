"""Send files with a question: ``python describe_files.py photo.jpg report.pdf``.

The driver is ``$JANITO_DRIVER`` (default: the offline ``echo`` driver, which names what it got).
A file the driver cannot take is refused before any request, with the reason.
"""

from __future__ import annotations

import os
import sys

from janito_core import Attachment, InvalidRequestError, events, get_driver


def main(paths: list[str]) -> int:
    driver = get_driver(os.environ.get("JANITO_DRIVER", "echo"))
    try:
        files = [Attachment.from_path(p) for p in paths]  # type from the name, checked by bytes
        stream = driver.stream_generate("What is in these files?", attachments=files)
    except InvalidRequestError as exc:
        print(f"cannot send: {exc}", file=sys.stderr)
        return 2
    with stream:
        for event in stream:
            if isinstance(event, events.ContentPartFound):
                print(event.content_part, end="", flush=True)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
