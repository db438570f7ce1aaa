"""What a conformance test sees of one generation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import attrs

from janito_core import events as ev
from janito_core.testing.helpers import events_of, finished_event, kinds_of, text_of

_E = TypeVar("_E", bound=ev.Event)


@attrs.frozen(kw_only=True)
class Generation:
    """The events a consumer received from one generation, and when iteration ended.

    ``ended_at`` is ``time.monotonic()`` just after the last event, so a test can measure how
    promptly a cancel took effect.
    """

    events: tuple[ev.Event, ...]
    ended_at: float

    def of(self, kind: type[_E]) -> list[_E]:
        """The events of type ``kind`` (subclasses included), in order."""
        return events_of(self.events, kind)

    def one(self, kind: type[_E]) -> _E:
        """The single event of type ``kind``; fails the test if there are none or several."""
        found = self.of(kind)
        assert len(found) == 1, f"expected one {kind.__name__}, got {len(found)}: {self.kinds}"
        return found[0]

    @property
    def kinds(self) -> list[str]:
        """The event type names, in order: handy in assertion messages."""
        return kinds_of(self.events)

    @property
    def text(self) -> str:
        """Every ``content_part``, concatenated."""
        return text_of(self.events)

    @property
    def finished(self) -> ev.GenerationFinished:
        """The closing ``GenerationFinished`` (the stream is validated before tests see it)."""
        return finished_event(self.events)

    def request(self, number: int) -> list[ev.Event]:
        """The events of the ``number``-th request (0-based), RequestStarted to its end."""
        started = self.of(ev.RequestStarted)
        assert number < len(started), f"only {len(started)} request(s): {self.kinds}"
        request_id = started[number].request_id
        return [
            e for e in self.events if isinstance(e, ev.RequestEvent) and e.request_id == request_id
        ]


def runs(events: Sequence[ev.Event]) -> list[str]:
    """Event type names, consecutive repeats collapsed: text may come in any number of parts."""
    kinds: list[str] = []
    for event in events:
        name = type(event).__name__
        if not kinds or kinds[-1] != name:
            kinds.append(name)
    return kinds
