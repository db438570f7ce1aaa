"""The shared background loop: one thread, clean at interpreter exit, a new one after fork()."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading

import pytest

from janito_core.background import THREAD_NAME
from janito_core.parts import TextPart
from janito_core.testing import ScriptedDriver, Stall


def test_many_generations_share_one_loop_thread() -> None:
    streams = [ScriptedDriver([[TextPart("a"), Stall()]]).stream_generate("hi") for _ in range(20)]
    for stream in streams:
        next(stream), next(stream), next(stream)  # started, request, "a": all running now
    loops = [t for t in threading.enumerate() if t.name == THREAD_NAME]
    assert len(loops) == 1
    for stream in streams:
        stream.close()
        assert stream.join(5)


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_interpreter_exit_cancels_running_generations_and_exits_cleanly() -> None:
    done = _run(
        """
        import atexit

        seen = []
        # Registered before janito_core is imported, so it runs after the shared loop was
        # stopped (atexit is last in, first out): by then the generation nobody finished has
        # been closed as cancelled.
        atexit.register(lambda: print(type(seen[-1]).__name__, seen[-1].status))

        from janito_core import events as ev
        from janito_core.parts import TextPart
        from janito_core.testing import ScriptedDriver, Stall

        stream = ScriptedDriver([[TextPart("a"), Stall()]]).stream_generate(
            "hi", observers=[seen.append]
        )
        for event in stream:
            if isinstance(event, ev.ContentPartFound):
                break
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "GenerationFinished cancelled"
    assert "Traceback" not in done.stderr


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork() is POSIX only")
def test_a_forked_child_gets_a_loop_of_its_own() -> None:
    done = _run(
        """
        import os, threading, warnings
        warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads: intended here
        from janito_core.parts import TextPart
        from janito_core.testing import ScriptedDriver

        assert ScriptedDriver([[TextPart("parent")]]).generate("hi").text == "parent"
        pid = os.fork()
        if pid == 0:
            result = ScriptedDriver([[TextPart("child")]]).generate("hi")
            loops = [t for t in threading.enumerate() if t.name == "janito-loop"]
            os._exit(0 if result.text == "child" and len(loops) == 1 else 1)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0, status
        assert ScriptedDriver([[TextPart("again")]]).generate("hi").text == "again"
        print("ok")
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
