from __future__ import annotations

import textwrap
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from janito_core.testing.helpers import (
    LOOP_THREAD_PREFIX,
    client_threads,
    is_process_thread,
    new_threads,
)

pytest_plugins = ["pytester"]


@contextmanager
def running(name: str) -> Iterator[threading.Thread]:
    """A thread named ``name`` that lives until the block ends."""
    release = threading.Event()
    thread = threading.Thread(target=release.wait, name=name, daemon=True)
    thread.start()
    try:
        yield thread
    finally:
        release.set()
        thread.join()


def test_the_shared_loop_thread_is_not_a_leak() -> None:
    before = threading.enumerate()
    with running(LOOP_THREAD_PREFIX) as loop, running("janito-worker") as worker:
        assert is_process_thread(loop) and not is_process_thread(worker)
        assert new_threads(before) == ["janito-worker"]
        assert loop not in client_threads()
        assert worker in client_threads()
    assert new_threads(before) == []


def test_new_threads_gives_a_thread_on_its_way_out_its_grace() -> None:
    before = threading.enumerate()
    leaving = threading.Event()

    def finish_soon() -> None:
        leaving.wait()

    thread = threading.Thread(target=finish_soon, name="finishing")
    thread.start()
    timer = threading.Timer(0.05, leaving.set)
    timer.start()
    try:
        assert new_threads(before, grace=5.0) == []
    finally:
        leaving.set()
        timer.join()
        thread.join()


def test_the_fixtures_ignore_the_loop_thread_only(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_threads=textwrap.dedent(
            """
            import threading

            import pytest

            pytest_plugins = ["janito_core.testing.fixtures"]
            release = threading.Event()


            def start(name):
                threading.Thread(target=release.wait, name=name, daemon=True).start()


            @pytest.mark.usefixtures("no_leaked_threads")
            def test_loop():
                start("janito-loop")


            @pytest.mark.usefixtures("server")
            def test_loop_with_server():
                start("janito-loop-2")


            @pytest.mark.usefixtures("no_leaked_threads")
            def test_worker():
                start("left-behind")


            def test_release():
                release.set()
            """
        )
    )
    # The 2 s grace of no_leaked_threads is spent once, on the thread that really leaks.
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4, errors=1)
    result.stdout.fnmatch_lines(["*threads left behind: ?'left-behind'?*"])


def test_shared_loop_tasks_names_a_task_left_pending() -> None:
    import asyncio

    from janito_core.background import shared_loop
    from janito_core.testing.helpers import shared_loop_tasks

    loop = shared_loop()
    started = threading.Event()

    async def forever() -> None:
        started.set()
        await asyncio.sleep(3600)

    future = asyncio.run_coroutine_threadsafe(forever(), loop)
    assert started.wait(5)
    try:
        assert len(shared_loop_tasks()) == 1
    finally:
        future.cancel()
    assert shared_loop_tasks(grace=2.0) == []
