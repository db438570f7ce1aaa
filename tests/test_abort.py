"""``janito_core.abort``: breaking a read blocked on a silent server, from another thread."""

from __future__ import annotations

import threading

import httpx2
import pytest

from janito_core.abort import abortable_transport, watch_reads
from janito_core.driver import RequestContext
from janito_core.testing.server import Reply, Send, Stall, WireServer

pytestmark = pytest.mark.usefixtures("no_leaked_threads")


def blocked_read(url: str, context: RequestContext, errors: list[BaseException]) -> None:
    with httpx2.Client(transport=abortable_transport(), timeout=60) as client:
        try:
            with watch_reads(context), client.stream("GET", url) as response:
                for _ in response.iter_bytes():
                    pass
        except BaseException as exc:
            errors.append(exc)


@pytest.mark.parametrize(
    "reply",
    [
        Reply(steps=[Send("data: 1\n\n"), Stall()]),  # silent mid-stream
        Reply(headers_delay=60, body="late"),  # silent before the headers
    ],
    ids=["mid-stream", "before-headers"],
)
def test_abort_wakes_the_reader_and_the_server_sees_the_disconnect(reply: Reply) -> None:
    with WireServer() as server:
        server.enqueue(reply)
        context = RequestContext()
        errors: list[BaseException] = []
        worker = threading.Thread(target=blocked_read, args=(server.url, context, errors))
        worker.start()
        (record,) = server.wait_for_requests(1, timeout=10)
        context.abort()
        worker.join(10)
        assert not worker.is_alive()
        assert errors, "the read should have failed"
        assert record.wait_closed(10)
        assert record.outcome == "client_disconnected"


def test_abort_before_the_read_fails_the_read_at_once() -> None:
    with WireServer() as server:
        server.enqueue(Reply(body="hello"))
        context = RequestContext()
        context.abort()
        errors: list[BaseException] = []
        blocked_read(server.url, context, errors)
        assert errors and server.requests == []


def test_reads_outside_a_watch_are_untouched() -> None:
    with WireServer() as server, httpx2.Client(transport=abortable_transport()) as client:
        server.enqueue(Reply(body="hello"), Reply(body="again"))
        assert client.get(server.url).text == "hello"
        context = RequestContext()
        with watch_reads(context):
            assert client.get(server.url).text == "again"
        context.abort()  # after the watch: nothing left to break
