"""``janito_core.sse``: server-sent events from lines, by the HTML standard's rules."""

from __future__ import annotations

from janito_core.sse import ServerSentEvent, iter_events


def test_events_comments_multiline_data_and_the_optional_space() -> None:
    lines = [
        ": keep-alive",
        "event: response.created",
        'data: {"a": 1}',
        "",
        "data:no-space",
        "data:  two spaces",
        "id: 7",
        "retry: 100",
        "",
        "id: only an id: not dispatched",
        "",
        "data: [DONE]",
    ]
    assert list(iter_events(lines)) == [
        ServerSentEvent("response.created", '{"a": 1}'),
        ServerSentEvent(None, "no-space\n two spaces"),
        ServerSentEvent(None, "[DONE]"),
    ]


def test_event_name_does_not_leak_into_the_next_event() -> None:
    lines = ["event: a", "data: 1", "", "data: 2", ""]
    assert [e.event for e in iter_events(lines)] == ["a", None]
