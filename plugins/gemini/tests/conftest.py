"""Fixtures for the Gemini driver tests: the kit's loopback ``server``, a driver pointed at it,
and a helper that runs a generation to its end, checks the event order and waits for its thread.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

if sys.version_info < (3, 11):  # google-genai 3.x, and so this driver, need Python >= 3.11
    pytest.skip("the Gemini driver needs Python >= 3.11", allow_module_level=True)

# The wire adapter sits next to the tests; its module name is unique across the workspace.
sys.path.insert(0, str(Path(__file__).parent))

from gemini_wire import GeminiWireAdapter
from janito_driver_gemini.driver import GeminiDriver

from janito_core import events as ev
from janito_core.testing import closing_drivers, finish
from janito_core.testing.fixtures import server  # noqa: F401
from janito_core.testing.server import WireServer

RunFn = Callable[..., list[ev.Event]]


@pytest.fixture
def adapter() -> GeminiWireAdapter:
    return GeminiWireAdapter()


@pytest.fixture
def make_driver(
    server: WireServer,  # noqa: F811
    adapter: GeminiWireAdapter,
) -> Iterator[Callable[..., GeminiDriver]]:
    """Builds drivers on the test server (5 s read timeout, fast retries); closes them after."""

    def build(**config: Any) -> GeminiDriver:
        config.setdefault("timeout", 5.0)
        config.setdefault("retry_base_delay", 0.01)
        return adapter.make_driver(server.url, **config)

    with closing_drivers(build) as make:
        yield make


@pytest.fixture
def driver(make_driver: Callable[..., GeminiDriver]) -> GeminiDriver:
    return make_driver()


class SdkPathDriver(GeminiDriver):
    """The driver on its fallback path: the SDK reads the body and the driver its objects."""

    read_raw = False


@pytest.fixture(params=["raw", "sdk"])
def either_driver(
    request: pytest.FixtureRequest,
    server: WireServer,  # noqa: F811
    adapter: GeminiWireAdapter,
) -> Iterator[GeminiDriver]:
    """The driver on each of its two paths: reading the body raw, and the SDK fallback."""
    kind = GeminiDriver if request.param == "raw" else SdkPathDriver
    driver = kind(
        api_key=adapter.api_key,
        base_url=server.url,
        model=adapter.model,
        timeout=5.0,
        retry_base_delay=0.01,
    )
    try:
        yield driver
    finally:
        driver.close()


@pytest.fixture
def run(driver: GeminiDriver) -> RunFn:
    """Run one generation on the default driver to its end and return its events."""

    def run_(prompt: str | None = "hi", **kwargs: Any) -> list[ev.Event]:
        return finish(driver.stream_generate(prompt, **kwargs))

    return run_
