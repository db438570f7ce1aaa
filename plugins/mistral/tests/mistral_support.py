"""Small helpers the Mistral driver tests share."""

from __future__ import annotations

import threading
from typing import Any

from janito_core import events as ev

SERVER_THREAD_PREFIX = "janito-wire-server"


def client_threads() -> int:
    """Threads alive now, leaving out the loopback server's own."""
    return sum(1 for t in threading.enumerate() if not t.name.startswith(SERVER_THREAD_PREFIX))


def of_type(events: list[ev.Event], kind: type[Any]) -> list[Any]:
    """The events of one type, in order."""
    return [e for e in events if isinstance(e, kind)]


def text_of(events: list[ev.Event]) -> str:
    """The concatenated answer text."""
    return "".join(e.content_part for e in of_type(events, ev.ContentPartFound))
