"""HTTP errors through the SDK, once per API: messages, status codes, retries, Retry-After."""

from __future__ import annotations

import socket
from collections.abc import Callable

from janito_driver_openai.driver import OpenAIDriver
from openai_wire import ChatWireAdapter, error_reply

from janito_core import events as ev
from janito_core.harness import EventStream
from janito_core.testing import events_of, finished_event, text_of
from janito_core.testing.scenario import HttpError, Scenario, Text
from janito_core.testing.server import WireServer

Run = Callable[[EventStream], list[ev.Event]]
Make = Callable[..., OpenAIDriver]


def test_401_names_the_key_variable_and_never_the_key(
    server: WireServer, adapter: ChatWireAdapter, make_driver: Make, run: Run
) -> None:
    message = f"Incorrect API key provided: {adapter.api_key}."  # a server that echoes it
    server.enqueue(adapter.reply(Scenario(error=HttpError(status=401, message=message))))
    events = run(make_driver(api=adapter.api).stream_generate("Hi"))
    (error,) = events_of(events, ev.RequestError)
    assert error.status_code == 401
    assert "OPENAI_API_KEY" in error.error
    assert "invalid_api_key" in error.error
    assert adapter.api_key not in error.error
    assert error.retryable is False
    assert len(server.requests) == 1
    assert finished_event(events).status == "error"


def test_404_names_the_model(
    server: WireServer, adapter: ChatWireAdapter, make_driver: Make, run: Run
) -> None:
    message = "The model `gpt-nope` does not exist or you do not have access to it."
    server.enqueue(adapter.reply(Scenario(error=HttpError(status=404, message=message))))
    events = run(make_driver(api=adapter.api, model="gpt-nope").stream_generate("Hi"))
    (error,) = events_of(events, ev.RequestError)
    assert error.status_code == 404
    assert "'gpt-nope'" in error.error and "base_url" in error.error
    assert error.retryable is False


def test_429_is_retried_after_retry_after(server: WireServer, make_driver: Make, run: Run) -> None:
    adapter = ChatWireAdapter()
    limited = Scenario(error=HttpError(status=429, message="Rate limit reached", retry_after=0.1))
    server.enqueue(adapter.reply(limited), adapter.reply(Scenario(steps=(Text("ok"),))))
    events = run(make_driver().stream_generate("Hi"))
    (retry,) = events_of(events, ev.RequestRetry)
    assert retry.status_code == 429
    assert retry.delay == 0.1
    assert "Rate limit reached" in retry.error
    assert text_of(events) == "ok"
    first, second = server.requests
    assert second.t_start - first.t_start >= 0.1
    # The SDK's own retries are off: every retry is the harness's, announced above.
    assert first.headers["x-stainless-retry-count"] == second.headers["x-stainless-retry-count"]


def test_retry_after_ms_is_honoured(server: WireServer, make_driver: Make, run: Run) -> None:
    server.enqueue(
        error_reply(429, "slow down", headers={"retry-after-ms": "150"}),
        ChatWireAdapter().reply(Scenario(steps=(Text("ok"),))),
    )
    events = run(make_driver().stream_generate("Hi"))
    assert events_of(events, ev.RequestRetry)[0].delay == 0.15


def test_5xx_is_retried_until_the_budget_ends(
    server: WireServer, adapter: ChatWireAdapter, make_driver: Make, run: Run
) -> None:
    for _ in range(3):
        server.enqueue(adapter.reply(Scenario(error=HttpError(status=503, message="overloaded"))))
    events = run(make_driver(api=adapter.api, max_retries=2).stream_generate("Hi"))
    assert len(events_of(events, ev.RequestRetry)) == 2
    (error,) = events_of(events, ev.RequestError)
    assert error.status_code == 503 and error.retryable is True
    assert "server error" in error.error and "overloaded" in error.error
    assert len(server.requests) == 3


def test_x_should_retry_false_is_respected(server: WireServer, make_driver: Make, run: Run) -> None:
    server.enqueue(error_reply(500, "do not", headers={"x-should-retry": "false"}))
    events = run(make_driver().stream_generate("Hi"))
    (error,) = events_of(events, ev.RequestError)
    assert error.status_code == 500 and error.retryable is False
    assert len(server.requests) == 1


def test_400_is_not_retried(
    server: WireServer, adapter: ChatWireAdapter, make_driver: Make, run: Run
) -> None:
    server.enqueue(adapter.reply(Scenario(error=HttpError(status=400, message="bad field"))))
    events = run(make_driver(api=adapter.api).stream_generate("Hi"))
    (error,) = events_of(events, ev.RequestError)
    assert error.status_code == 400 and "bad field" in error.error
    assert error.retryable is False


def test_unreachable_server_is_a_retryable_connection_error(make_driver: Make, run: Run) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    driver = OpenAIDriver(api_key="sk-test", base_url=f"http://127.0.0.1:{port}/v1", max_retries=0)
    try:
        events = run(driver.stream_generate("Hi"))
    finally:
        driver.close()
    (error,) = events_of(events, ev.RequestError)
    assert error.retryable is True
    assert f"127.0.0.1:{port}" in error.error and "could not connect" in error.error


def test_a_key_in_base_url_stays_out_of_repr_and_errors(make_driver: Make, run: Run) -> None:
    # Gateways that take the key in the URL: the server is unreachable, so the error names it.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    key = "sk-gateway-secret-0123"
    url = f"http://127.0.0.1:{port}/v1/{key}?api_key={key}"
    driver = OpenAIDriver(api_key=key, base_url=url, max_retries=0)
    try:
        assert key not in repr(driver)
        events = run(driver.stream_generate("Hi"))
    finally:
        driver.close()
    (error,) = events_of(events, ev.RequestError)
    assert f"127.0.0.1:{port}" in error.error and key not in error.error
