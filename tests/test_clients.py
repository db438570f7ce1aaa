"""ClientHolder: one client per loop, and a close() that ends requests in flight."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import threading
import time
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from janito_core.clients import ClientHolder, take_close_abort
from janito_core.retry import ProviderError
from janito_core.testing.server import Reply, Send, Stall, WireServer

CLOSED = "the test driver was closed"
CLOSED_IN_FLIGHT = "the test driver was closed while a request was in flight"


class LoopThread:
    """An event loop run by a thread of its own, shut down as asyncio.run shuts one down."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, name="test-loop", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_forever()
        finally:
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()

    def submit(self, coro: Coroutine[Any, Any, Any]) -> concurrent.futures.Future[Any]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        assert not self.thread.is_alive()


class Recorder:
    """A factory and a closer for real httpx2 clients that remember what they did."""

    def __init__(self) -> None:
        self.made: list[httpx2.AsyncClient] = []
        self.made_on: list[int] = []
        self.closed: list[httpx2.AsyncClient] = []
        self.closed_on: list[int] = []

    def factory(self) -> httpx2.AsyncClient:
        client = httpx2.AsyncClient(timeout=30, trust_env=False)
        self.made.append(client)
        self.made_on.append(threading.get_ident())
        return client

    async def closer(self, client: httpx2.AsyncClient) -> None:
        await client.aclose()
        self.closed.append(client)
        self.closed_on.append(threading.get_ident())

    def holder(self) -> ClientHolder[httpx2.AsyncClient]:
        return ClientHolder(self.factory, self.closer, name="test")


def _open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


@pytest.fixture
def no_leaked_fds() -> Iterator[None]:
    """Fail the test if it leaves a file descriptor open (Linux only)."""
    if not Path("/proc/self/fd").is_dir():
        pytest.skip("needs /proc/self/fd to count open descriptors")
    before = _open_fds()
    yield
    deadline = time.monotonic() + 2
    while _open_fds() - before and time.monotonic() < deadline:
        time.sleep(0.01)  # a socket closed by another thread may take a moment to be released
    assert not _open_fds() - before


@pytest.fixture
def loop_thread() -> Iterator[LoopThread]:
    runner = LoopThread()
    yield runner
    runner.stop()


async def _get(holder: ClientHolder[httpx2.AsyncClient], url: str) -> str:
    async with holder.use() as client:
        response = await client.get(url)
        return response.text


async def _stream(holder: ClientHolder[httpx2.AsyncClient], url: str, got: threading.Event) -> None:
    async with holder.use() as client, client.stream("GET", url) as response:
        async for _ in response.aiter_bytes():
            got.set()


SILENT = Reply(headers_delay=60)  # accepts the request, then says nothing


@pytest.mark.usefixtures("no_leaked_threads", "no_leaked_fds")
@pytest.mark.parametrize("when", ["before the headers", "mid-body"])
def test_close_ends_a_request_in_flight_with_a_clear_error(
    loop_thread: LoopThread, when: str
) -> None:
    recorder = Recorder()
    holder = recorder.holder()
    got = threading.Event()
    with WireServer() as server:
        if when == "before the headers":
            server.enqueue(SILENT)
            future = loop_thread.submit(_get(holder, server.url + "/v1"))
        else:
            server.enqueue(Reply(steps=[Send("data: 1\n\n"), Stall()]))
            future = loop_thread.submit(_stream(holder, server.url + "/v1", got))
            assert got.wait(5)
        (record,) = server.wait_for_requests(1)

        started = time.monotonic()
        holder.close()
        assert time.monotonic() - started < 1.0

        with pytest.raises(ProviderError) as info:
            future.result(timeout=2)
        assert time.monotonic() - started < 1.5
        assert str(info.value) == CLOSED_IN_FLIGHT
        assert info.value.info.retryable is False
        # The server saw the client go, well before its 60 s of silence.
        assert record.wait_closed(5)
        assert record.outcome == "client_disconnected"

    assert recorder.closed == recorder.made and len(recorder.made) == 1
    assert recorder.closed_on == [loop_thread.thread.ident]
    assert recorder.made[0].is_closed
    with pytest.raises(ProviderError) as later:
        loop_thread.submit(_get(holder, "http://127.0.0.1:9/never")).result(timeout=2)
    assert str(later.value) == CLOSED
    assert len(recorder.made) == 1  # no client was built for the refused request


@pytest.mark.usefixtures("no_leaked_threads", "no_leaked_fds")
def test_two_loops_get_two_clients_each_closed_on_its_own_loop(
    loop_thread: LoopThread,
) -> None:
    recorder = Recorder()
    holder = recorder.holder()
    with WireServer() as server:
        server.set_default(Reply(body="ok"))
        assert loop_thread.submit(_get(holder, server.url)).result(timeout=5) == "ok"
        assert loop_thread.submit(_get(holder, server.url)).result(timeout=5) == "ok"

        async def twice() -> list[str]:
            return [await _get(holder, server.url), await _get(holder, server.url)]

        assert asyncio.run(twice()) == ["ok", "ok"]
        assert len(recorder.made) == 2  # one per loop, each reused by its loop
        assert recorder.made_on == [loop_thread.thread.ident, threading.get_ident()]
        # asyncio.run shut its loop down, and its client with it, on that loop.
        assert recorder.closed == [recorder.made[1]]
        assert recorder.closed_on == [threading.get_ident()]

        holder.close()
        assert recorder.closed == [recorder.made[1], recorder.made[0]]
        assert recorder.closed_on[1] == loop_thread.thread.ident
        assert all(client.is_closed for client in recorder.made)


@pytest.mark.usefixtures("no_leaked_threads", "no_leaked_fds")
def test_each_asyncio_run_gets_a_client_and_closes_it() -> None:
    recorder = Recorder()
    holder = recorder.holder()
    with WireServer() as server:
        server.set_default(Reply(body="ok"))
        for n in (1, 2):
            assert asyncio.run(_get(holder, server.url)) == "ok"
            assert len(recorder.made) == n
            assert recorder.closed == recorder.made
    holder.close()
    assert recorder.closed == recorder.made


@pytest.mark.usefixtures("no_leaked_threads", "no_leaked_fds")
def test_close_returns_within_a_second_when_a_loop_is_blocked(loop_thread: LoopThread) -> None:
    recorder = Recorder()
    holder = recorder.holder()
    inside, release = threading.Event(), threading.Event()

    async def blocked_then_waiting() -> None:
        async with holder.use():
            inside.set()
            release.wait(10)  # blocks the whole loop, as a careless callback would
            await asyncio.sleep(30)

    future = loop_thread.submit(blocked_then_waiting())
    assert inside.wait(5)
    started = time.monotonic()
    holder.close()
    took = time.monotonic() - started
    assert 0.9 <= took < 1.5  # waited its second for the blocked loop, then gave up
    assert not recorder.closed
    release.set()
    # Once the loop runs again, the close it was sent goes through.
    with pytest.raises(ProviderError, match=CLOSED_IN_FLIGHT):
        future.result(timeout=5)
    deadline = time.monotonic() + 5
    while not recorder.closed and time.monotonic() < deadline:
        time.sleep(0.01)
    assert recorder.closed == recorder.made


@pytest.mark.usefixtures("no_leaked_threads", "no_leaked_fds")
def test_close_called_on_the_loop_itself_does_not_cancel_its_caller() -> None:
    recorder = Recorder()
    holder = recorder.holder()

    async def main() -> None:
        with WireServer() as server:
            server.enqueue(SILENT)
            request = asyncio.create_task(_get(holder, server.url))
            await asyncio.to_thread(server.wait_for_requests, 1)
            holder.close()  # synchronous, from a task of the request's own loop
            assert holder.closed
            with pytest.raises(ProviderError, match=CLOSED_IN_FLIGHT):
                await asyncio.wait_for(request, 2)
            # The client is closed by a task close() started on this loop.
            for _ in range(100):
                if recorder.closed:
                    break
                await asyncio.sleep(0.01)
            assert recorder.closed == recorder.made
            await asyncio.sleep(0)  # the caller was not cancelled: it can still await

    asyncio.run(main())


@pytest.mark.usefixtures("no_leaked_threads", "no_leaked_fds")
def test_aclose_inside_a_use_block_spares_its_caller_and_closes_the_others(
    loop_thread: LoopThread,
) -> None:
    recorder = Recorder()
    holder = recorder.holder()

    async def main(server: WireServer) -> None:
        other = loop_thread.submit(_get(holder, server.url))
        await asyncio.to_thread(server.wait_for_requests, 1)
        async with holder.use() as client:
            await holder.aclose()
            assert client.is_closed
        with pytest.raises(ProviderError, match=CLOSED_IN_FLIGHT):
            await asyncio.wrap_future(other)

    with WireServer() as server:
        server.enqueue(SILENT)
        asyncio.run(main(server))
    assert len(recorder.made) == 2
    assert {id(c) for c in recorder.closed} == {id(c) for c in recorder.made}
    assert set(recorder.closed_on) == {threading.get_ident(), loop_thread.thread.ident}


@pytest.mark.usefixtures("no_leaked_threads", "no_leaked_fds")
def test_a_cancel_from_elsewhere_stays_a_cancel() -> None:
    recorder = Recorder()
    holder = recorder.holder()

    async def main() -> None:
        with WireServer() as server:
            server.enqueue(SILENT)
            request = asyncio.create_task(_get(holder, server.url))
            await asyncio.to_thread(server.wait_for_requests, 1)
            request.cancel()
            with pytest.raises(asyncio.CancelledError):
                await request
            assert take_close_abort(request) is None
            server.enqueue(Reply(body="still usable"))
            assert await _get(holder, server.url) == "still usable"

    asyncio.run(main())
    assert recorder.closed == recorder.made


@pytest.mark.usefixtures("no_leaked_threads", "no_leaked_fds")
def test_a_close_cancel_landing_outside_use_is_reported_by_take_close_abort() -> None:
    recorder = Recorder()
    holder = recorder.holder()
    reports: list[str] = []

    async def driver(url: str) -> Any:
        async with holder.use() as client, client.stream("GET", url) as response:
            async for chunk in response.aiter_bytes():
                yield chunk

    async def harness(url: str, ready: asyncio.Event) -> None:
        parts = driver(url)
        await parts.__anext__()
        try:
            ready.set()
            await asyncio.sleep(30)  # e.g. waiting for a slow consumer, outside use()
        except asyncio.CancelledError:
            task = asyncio.current_task()
            assert task is not None
            info = take_close_abort(task)
            if info is None:
                raise
            if hasattr(task, "uncancel"):
                task.uncancel()
            reports.append(info.message)
        finally:
            await parts.aclose()  # GeneratorExit through use(): not turned into an error

    async def main() -> None:
        with WireServer() as server:
            server.enqueue(Reply(steps=[Send("data: 1\n\n"), Stall()]))
            ready = asyncio.Event()
            task = asyncio.create_task(harness(server.url, ready))
            await ready.wait()
            holder.close()
            await asyncio.wait_for(task, 2)
            (record,) = server.requests
            assert await asyncio.to_thread(record.wait_closed, 5)
            assert record.outcome == "client_disconnected"

    asyncio.run(main())
    assert reports == [CLOSED_IN_FLIGHT]


def test_use_after_close_raises_without_building_a_client() -> None:
    recorder = Recorder()
    holder = recorder.holder()
    holder.close()
    holder.close()  # twice is fine
    with pytest.raises(ProviderError, match=f"^{CLOSED}$"):
        asyncio.run(_get(holder, "http://127.0.0.1:9/"))
    assert recorder.made == []
    assert "closed" in repr(holder)
