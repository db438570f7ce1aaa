"""Attachments move between drivers: a turn with an image and a PDF on one driver, its history
sent to another, and the target's request must carry both, whole and in place.

For every (source, target) pair of drivers that take images, over loopback with the real SDKs.
Provider-only data the source kept (signatures, item ids) must not get in the way.
"""

from __future__ import annotations

import itertools

import pytest
from interop_drivers import DRIVERS

from janito_core import Attachment, InvalidRequestError, Message
from janito_core.attachments import matches_media_type
from janito_core.testing import closing_drivers, media
from janito_core.testing.conformance.attachments import assert_turn
from janito_core.testing.scenario import Scenario, Text
from janito_core.testing.server import WireServer

PICTURE = Attachment.from_bytes(media.png(5), filename="chart.png")
DOCUMENT = Attachment.from_bytes(media.pdf("Q3"), filename="q3.pdf")
TARGETS = [name for name, endpoint in DRIVERS.items() if endpoint.target]


def _available(*names: str) -> None:
    for name in names:
        reason = DRIVERS[name].available()
        if reason:
            pytest.skip(reason)


def _first_turn(source: str, server: WireServer) -> tuple[Message, ...]:
    adapter = DRIVERS[source].adapter()
    server.enqueue(adapter.reply(Scenario(steps=(Text("A rising line."),))))
    with closing_drivers(lambda **c: adapter.make_driver(server.url, **c)) as make:
        driver = make()
        if not matches_media_type("image/png", driver.accepts):
            pytest.skip(f"the {source} driver takes no images")
        parts: list[str | Attachment] = ["What does", PICTURE, "show?"]
        if matches_media_type("application/pdf", driver.accepts):
            parts += ["And this report:", DOCUMENT]
        result = driver.generate(messages=[Message.user(*parts)])
    assert result.history[0].parts == tuple(parts)
    return result.history


@pytest.mark.parametrize(
    ("source", "target"),
    [pytest.param(s, t, id=f"{s}->{t}") for s, t in itertools.product(TARGETS, TARGETS)],
)
def test_attachments_move_between_drivers(source: str, target: str, server: WireServer) -> None:
    _available(source, target)
    history = _first_turn(source, server)
    adapter = DRIVERS[target].adapter()
    server.enqueue(adapter.reply(Scenario(steps=(Text("Up 12%."),))))
    messages = [*history, Message.user("By how much?")]
    with closing_drivers(lambda **c: adapter.make_driver(server.url, **c)) as make:
        driver = make()
        try:
            result = driver.generate(messages=messages)
        except InvalidRequestError as exc:
            # A target that does not take a type of the history says so at the call, naming it.
            refused = [a.media_type for a in history[0].attachments]
            refused = [t for t in refused if not matches_media_type(t, driver.accepts)]
            assert refused, f"refused what it accepts: {exc}"
            assert refused[0] in str(exc)
            assert not server.requests[1:], "a request went out for a refused history"
            return
    assert result.text == "Up 12%."
    turns = adapter.user_turns(server.requests[-1])
    assert len(turns) == 2, turns
    assert_turn(turns[0], history[0].parts)
    assert_turn(turns[1], ["By how much?"])
