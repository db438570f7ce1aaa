"""The plugin's presets: ``example-local`` (of its own driver) and ``example-gateway`` (of the
openai driver), built by name through the registry and talking to a loopback server."""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib.util import find_spec

import pytest
from janito_driver_example.driver import ExampleDriver
from wire import ExampleWireAdapter

from janito_core import events as ev
from janito_core import get_driver, list_drivers
from janito_core.errors import DriverConfigError
from janito_core.harness import EventStream
from janito_core.testing import text_of
from janito_core.testing.fixtures import run, server  # noqa: F401
from janito_core.testing.scenario import Scenario, Text
from janito_core.testing.server import Reply, Send, WireServer

Run = Callable[[EventStream], list[ev.Event]]
needs_openai = pytest.mark.skipif(
    find_spec("janito_driver_openai") is None, reason="janito-driver-openai is not installed"
)


def test_the_presets_are_listed_with_the_plugin_s_distribution() -> None:
    infos = {i.name: i for i in list_drivers()}
    assert infos["example-local"].distribution == "janito-driver-example"
    assert infos["example-local"].preset is not None
    if find_spec("janito_driver_openai") is not None:
        assert infos["example-gateway"].distribution == "janito-driver-example"


def test_example_local_is_the_example_driver_with_other_defaults(
    server: WireServer,  # noqa: F811
    run: Run,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("EXAMPLE_API_KEY", raising=False)
    driver = get_driver("example-local")  # no key needed
    try:
        assert isinstance(driver, ExampleDriver)
        assert (driver.name, driver.config.model) == ("example-local", "example-small")
        assert driver.config.base_url == "http://localhost:8765"
    finally:
        driver.close()
    server.enqueue(ExampleWireAdapter().reply(Scenario(steps=(Text("hi there"),))))
    driver = get_driver("example-local", base_url=server.url)
    try:
        events = run(driver.stream_generate("Q"))
    finally:
        driver.close()
    assert text_of(events) == "hi there"
    (request,) = server.requests
    assert request.path == "/v1/generate" and request.json["model"] == "example-small"


@needs_openai
def test_example_gateway_is_the_openai_driver_under_its_own_name(
    server: WireServer,  # noqa: F811
    run: Run,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("EXAMPLE_GATEWAY_KEY", raising=False)
    with pytest.raises(DriverConfigError, match=r"example-gateway driver .* EXAMPLE_GATEWAY_KEY"):
        get_driver("example-gateway")
    monkeypatch.setenv("EXAMPLE_GATEWAY_KEY", "gw-key")
    chunk = {
        "id": "c",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "gateway-large",
        "choices": [{"index": 0, "delta": {"content": "ok"}, "finish_reason": "stop"}],
    }
    server.enqueue(
        Reply(
            headers={"content-type": "text/event-stream"},
            steps=[Send(f"data: {json.dumps(chunk)}\n\n"), Send("data: [DONE]\n\n")],
        )
    )
    driver = get_driver("example-gateway", base_url=f"{server.url}/v1")
    try:
        assert driver.name == "example-gateway"
        events = run(driver.stream_generate("Q"))
    finally:
        driver.close()
    assert text_of(events) == "ok"
    (request,) = server.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer gw-key"
    assert request.json["model"] == "gateway-large"
