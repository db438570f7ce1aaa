"""Server-sent events, parsed from an HTTP response's lines, for drivers that read raw streams.

Building an SDK's typed object for every streamed chunk costs far more than the chunk itself
(about 180 µs against ~5 µs for ``json.loads`` with the OpenAI SDK); a driver that already turns
plain dicts into parts can read the events here instead and keep the SDK for everything else.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import NamedTuple

__all__ = ["ServerSentEvent", "iter_events"]


class ServerSentEvent(NamedTuple):
    """One dispatched event: its ``event:`` name (or None) and its joined ``data:`` lines."""

    event: str | None
    data: str


def iter_events(lines: Iterable[str]) -> Iterator[ServerSentEvent]:
    """The events of an SSE stream given line by line (line endings already removed).

    Follows the HTML standard's rules: a blank line dispatches, ``:`` starts a comment, one space
    after the colon is dropped, several ``data:`` lines join with newlines, and an event with no
    data is not dispatched. ``id:`` and ``retry:`` are ignored: no driver reconnects on its own.
    """
    data: list[str] = []
    event: str | None = None
    for line in lines:
        if not line:
            if data:
                yield ServerSentEvent(event, "\n".join(data))
            data, event = [], None
            continue
        if line[0] == ":":
            continue
        field, _, value = line.partition(":")
        if value[:1] == " ":
            value = value[1:]
        if field == "data":
            data.append(value)
        elif field == "event":
            event = value
    if data:
        yield ServerSentEvent(event, "\n".join(data))
