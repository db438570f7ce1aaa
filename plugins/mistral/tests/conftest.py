"""Fixtures for the Mistral driver tests: the kit's loopback ``server`` and ``run`` (consume a
generation, check the event order and the threads), drivers pointed at the server."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

# The wire adapter sits next to the tests; its module name is unique across the workspace.
sys.path.insert(0, str(Path(__file__).parent))

from janito_driver_mistral.driver import MistralDriver
from mistral_wire import MistralWireAdapter

from janito_core.background import shared_loop
from janito_core.testing import closing_drivers
from janito_core.testing.fixtures import run, server  # noqa: F401
from janito_core.testing.helpers import LOOP_THREAD_PREFIX
from janito_core.testing.server import WireServer


@pytest.fixture(scope="session", autouse=True)
def _shared_loop_executor() -> Iterator[None]:
    """Give the shared loop a default executor whose threads are named as the loop's own.

    ``mistralai``'s async calls run the SDK's request hooks through ``asyncio.to_thread``, so
    requests on the shared ``janito-loop`` loop start threads of that loop's default executor
    (``asyncio_0``, then more when a hop is submitted before the last one's worker is idle
    again, up to the pool's size); they live as long as the loop, as the loop's own thread
    does. Named ``janito-loop-executor-*``, the kit counts them with the loop's thread instead
    of as a leak of whichever test started them; any other thread left behind still fails a
    test. (Until ``janito_core.background`` names its executor so itself.)
    """
    loop = shared_loop()
    executor = ThreadPoolExecutor(thread_name_prefix=f"{LOOP_THREAD_PREFIX}-executor")
    loop.call_soon_threadsafe(loop.set_default_executor, executor)
    asyncio.run_coroutine_threadsafe(asyncio.sleep(0), loop).result(10.0)
    yield
    executor.shutdown(wait=False)


@pytest.fixture
def adapter() -> MistralWireAdapter:
    return MistralWireAdapter()


@pytest.fixture
def make_driver(
    server: WireServer,  # noqa: F811
    adapter: MistralWireAdapter,
) -> Iterator[Callable[..., MistralDriver]]:
    """Build drivers talking to ``server``; all are closed at teardown."""

    def build(**config: Any) -> MistralDriver:
        config.setdefault("retry_base_delay", 0.01)
        return adapter.make_driver(config.pop("base_url", server.url), **config)

    with closing_drivers(build) as make:
        yield make
