"""The standard tests of broken streams: cuts, timeouts, missing end markers, odd bytes."""

from __future__ import annotations

import time

import pytest

from janito_core import events as ev
from janito_core.testing.conformance.base import ConformanceBase, DriverFactory
from janito_core.testing.conformance.bounds import DEADLINE, PROMPTLY, READ_TIMEOUT, SPLIT_GAP
from janito_core.testing.conformance.capabilities import END_MARKER, MALFORMED_EVENT
from janito_core.testing.conformance.generation import Generation
from janito_core.testing.quirks import (
    body_bytes,
    close_delimited,
    cut_at_end,
    emptied,
    hang_up,
    late_headers,
    split_inside,
    with_bom,
    with_charset,
)
from janito_core.testing.scenario import Cut, Garbage, Scenario, Silence, Text
from janito_core.testing.server import WireServer


class StreamTests(ConformanceBase):
    """A stream cut, stalled, unterminated or oddly encoded ends the way its content allows."""

    def test_cut_after_content(self, server: WireServer, driver: DriverFactory) -> None:
        self.serve(server, Scenario(steps=(Text("Hello"), Text(", wor"), Cut())))
        generation = self.generate(driver())
        assert generation.text == "Hello, wor"
        assert not generation.of(ev.RequestRetry), "retried after content was delivered"
        assert len(server.requests) == 1
        generation.one(ev.RequestError)
        assert generation.finished.status == "error"

    def test_malformed_event(self, server: WireServer, driver: DriverFactory) -> None:
        self.require(MALFORMED_EVENT)
        self.serve(server, Scenario(steps=(Garbage(),)))
        generation = self.generate(driver())
        generation.one(ev.RequestError)
        assert not generation.of(ev.RequestRetry), "a malformed response was retried"
        assert len(server.requests) == 1
        assert generation.finished.status == "error"

    def test_read_timeout(self, server: WireServer, driver: DriverFactory) -> None:
        self.serve(server, Scenario(steps=(Silence(),)))
        started = time.monotonic()
        generation = self.generate(driver(timeout=0.5, max_retries=0))
        assert generation.ended_at - started < 0.5 + 2 * PROMPTLY, "the timeout was not applied"
        error = generation.one(ev.RequestError)
        assert "time" in error.error.lower(), f"the error does not say it timed out: {error.error}"
        assert generation.finished.status == "error"
        (request,) = server.requests
        assert request.wait_closed(PROMPTLY), "the connection stayed open after the timeout"

    @pytest.mark.parametrize("how", ["hang_up", "reset_before_headers", "cut_after_headers"])
    def test_drop_before_content_is_retried(
        self, server: WireServer, driver: DriverFactory, how: str
    ) -> None:
        if how == "cut_after_headers":
            self.serve(server, Scenario(steps=(Cut(),)))
        else:
            server.enqueue(hang_up(reset=how == "reset_before_headers"))
        self.serve(server, Scenario(steps=(Text("Hello"),)))
        generation = self.generate(driver())
        retries = generation.of(ev.RequestRetry)
        assert len(retries) == 1, (
            f"a connection dropped before any content must be retried once: {generation.kinds}"
        )
        assert retries[0].attempt == 1
        assert len(server.requests) == 2
        assert generation.text == "Hello"
        assert generation.finished.status == "completed"

    def test_read_timeout_before_content_is_retried(
        self, server: WireServer, driver: DriverFactory
    ) -> None:
        late = late_headers(self.adapter.reply(Scenario(steps=(Text("Too late."),))), DEADLINE)
        server.enqueue(late)
        self.serve(server, Scenario(steps=(Text("Hello"),)))
        generation = self.generate(driver(timeout=READ_TIMEOUT))
        retries = generation.of(ev.RequestRetry)
        assert len(retries) == 1, f"a read timeout must be retried: {generation.kinds}"
        assert "time" in retries[0].error.lower(), (
            f"the retry does not say it timed out: {retries[0].error}"
        )
        first, _ = server.requests
        assert first.wait_closed(PROMPTLY), "the timed-out connection stayed open"
        assert first.outcome == "client_disconnected", first
        assert generation.text == "Hello"
        assert generation.finished.status == "completed"

    # -- responses that end without their end marker -----------------------------------------

    @pytest.mark.parametrize("framing", ["chunked", "close"])
    def test_end_without_marker_after_content(
        self, server: WireServer, driver: DriverFactory, framing: str
    ) -> None:
        self.require(END_MARKER)
        reply = self.adapter.reply(Scenario(steps=(Text("Hello"), Text(", wor")), end=False))
        server.enqueue(close_delimited(reply) if framing == "close" else reply)
        generation = self.generate(driver())
        assert generation.finished.status == "error", (
            "a response that ended without its end marker was taken as complete (or the "
            f"adapter ignores Scenario(end=False)): {generation.kinds}"
        )
        generation.one(ev.RequestError)
        assert generation.text == "Hello, wor"
        assert not generation.of(ev.RequestRetry), "retried after content was delivered"
        assert len(server.requests) == 1

    @pytest.mark.parametrize(
        "body", ["no_marker", "empty", "empty_close_delimited", "empty_content_length"]
    )
    def test_end_without_marker_before_content(
        self, server: WireServer, driver: DriverFactory, body: str
    ) -> None:
        self.require(END_MARKER)
        reply = self.adapter.reply(Scenario(end=False))
        if body.startswith("empty"):
            reply = emptied(reply, length=body == "empty_content_length")
        if body == "empty_close_delimited":
            reply = close_delimited(reply)
        server.enqueue(reply, reply)
        generation = self.generate(driver(max_retries=1))
        assert generation.finished.status == "error", (
            f"a response with no end marker and no content was taken as complete: "
            f"{generation.kinds}"
        )
        assert len(generation.of(ev.RequestRetry)) == 1, (
            f"nothing had reached the consumer, so it should have been retried: {generation.kinds}"
        )
        assert len(server.requests) == 2
        assert generation.one(ev.RequestError).retryable
        assert generation.text == ""

    def test_cut_after_end_marker_keeps_the_answer(
        self, server: WireServer, driver: DriverFactory
    ) -> None:
        self.require(END_MARKER)
        server.enqueue(cut_at_end(self.adapter.reply(Scenario(steps=(Text("Hello"),)))))
        generation = self.generate(driver())
        assert generation.finished.status == "completed", (
            f"a connection cut after the end marker spoilt a complete answer: {generation.kinds}"
        )
        assert generation.text == "Hello"
        assert not generation.of(ev.RequestRetry)

    # -- what the bytes say ------------------------------------------------------------------

    def test_raw_line_separators_and_split_characters(
        self, server: WireServer, driver: DriverFactory
    ) -> None:
        # Raw in JSON strings, which vLLM and llama.cpp send: a reader that splits lines the
        # way str.splitlines() does breaks the event in two.
        pieces = ("one\u2028two", " three\u2029four", " five\u0085six", " 😀", " 日本語")
        reply = self.adapter.reply(Scenario(steps=tuple(Text(p) for p in pieces)))
        written = body_bytes(reply)
        for char in ("\u2028", "\u2029", "\u0085", "😀", "日"):
            assert char.encode() in written, (
                f"the adapter escaped {char!r}; providers write it raw: build JSON with "
                "json.dumps(..., ensure_ascii=False) (janito_core.testing.server.sse does)"
            )
        server.enqueue(split_inside(split_inside(reply, "😀", gap=SPLIT_GAP), "日", gap=SPLIT_GAP))
        generation = self.generate(driver())
        _assert_text(generation, "".join(pieces))
        assert generation.finished.status == "completed"

    def test_charset_in_content_type_is_ignored(
        self, server: WireServer, driver: DriverFactory
    ) -> None:
        # SSE and JSON are UTF-8 whatever the header says; decoding by it gives mojibake.
        pieces = ("Grüße", ", café", " 日本 😀")
        reply = self.adapter.reply(Scenario(steps=tuple(Text(p) for p in pieces)))
        server.enqueue(with_charset(reply, "iso-8859-1"))
        generation = self.generate(driver())
        _assert_text(generation, "".join(pieces))
        assert generation.finished.status == "completed"

    def test_leading_byte_order_mark(self, server: WireServer, driver: DriverFactory) -> None:
        pieces = ("Hello", ", wörld")
        server.enqueue(with_bom(self.adapter.reply(Scenario(steps=tuple(Text(p) for p in pieces)))))
        generation = self.generate(driver())
        _assert_text(generation, "".join(pieces))
        assert generation.finished.status == "completed"


def _assert_text(generation: Generation, expected: str) -> None:
    """The generation's text is exactly ``expected``, said with what came instead."""
    assert generation.text == expected, (
        f"the text differs: {generation.text!r} instead of {expected!r}; events "
        f"{generation.kinds}, errors {[e.error for e in generation.of(ev.RequestError)]}"
    )
