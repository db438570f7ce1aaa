"""redact, redact_url, and the register that keeps keys out of httpx2's logs."""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterator
from urllib.parse import quote

import httpx2
import pytest

from janito_core import redact as redact_module
from janito_core.redact import (
    SecretFilter,
    redact,
    redact_url,
    register_secret,
    registered_secrets,
    unregister_secret,
)
from janito_core.testing.server import Reply, WireServer

KEY = "sk-SENTINEL-log-42"


@pytest.fixture
def key() -> Iterator[str]:
    """KEY, registered for the test and unregistered after it."""
    register_secret(KEY)
    yield KEY
    unregister_secret(KEY)
    assert KEY not in registered_secrets()


def test_redact_masks_each_secret_and_skips_missing_ones() -> None:
    text = f"key {KEY} and again {KEY}; other k-2222"
    assert redact(text, KEY) == "key *** and again ***; other k-2222"
    assert redact(text, KEY, "k-2222") == "key *** and again ***; other ***"
    assert redact(text, None, "") == text
    assert redact(text) == text


def test_redact_masks_a_key_containing_another_whole() -> None:
    assert redact("abc-123-xyz", "123", "abc-123-xyz") == "***"


def test_redact_masks_the_url_encoded_form() -> None:
    key = "AbC/+=dEf 1"
    assert key not in redact(f"GET /v1?key={quote(key, safe='')}", key)
    assert redact(f"GET /v1?key={quote(key, safe='')}", key) == "GET /v1?key=***"
    assert redact("key=AbC%2F%2B%3DdEf+1", key) == "key=***"


def test_redact_url() -> None:
    assert redact_url(None, KEY) is None
    assert redact_url("http://localhost:8000/v1") == "http://localhost:8000/v1"
    assert redact_url(f"https://gw.example/{KEY}/v1", KEY) == "https://gw.example/***/v1"
    # Credential-named parameters and passwords are masked without knowing the key.
    masked = redact_url("https://gw.example/v1?api-version=2024&key=abc123&Api_Key=zz")
    assert masked == "https://gw.example/v1?api-version=2024&key=***&Api_Key=***"
    assert redact_url("https://x/v1?sig=s1&token=t2") == "https://x/v1?sig=***&token=***"
    assert redact_url("https://me:hunter22@gw.example/v1") == "https://me:***@gw.example/v1"
    assert redact_url("https://me@gw.example/v1") == "https://me@gw.example/v1"


def test_the_register_counts_registrations() -> None:
    secret = "sk-counted-secret"
    register_secret(secret)
    register_secret(secret)
    unregister_secret(secret)
    assert secret in registered_secrets()
    unregister_secret(secret)
    assert secret not in registered_secrets()
    unregister_secret(secret)  # one too many: ignored
    assert secret not in registered_secrets()


def test_a_registration_with_an_owner_ends_with_the_owner() -> None:
    class Driver:
        pass

    secret = "sk-owned-secret"
    owner = Driver()
    register_secret(secret, owner=owner)
    assert secret in registered_secrets()
    del owner
    gc.collect()
    assert secret not in registered_secrets()


def test_an_owner_that_cannot_be_weakly_referenced_is_refused_before_counting() -> None:
    with pytest.raises(TypeError):
        register_secret("sk-never-counted", owner=42)
    assert "sk-never-counted" not in registered_secrets()


def test_short_secrets_are_not_registered() -> None:
    register_secret("abc")
    register_secret(None)
    register_secret("")
    assert not {"abc", ""} & registered_secrets()


def test_the_filter_is_installed_once_on_each_logger(key: str) -> None:
    register_secret("sk-second-secret")
    try:
        for name in redact_module.LOGGERS:
            filters = logging.getLogger(name).filters
            assert sum(isinstance(f, SecretFilter) for f in filters) == 1, name
        assert logging.getLogger("httpx2").level == logging.NOTSET  # levels untouched
    finally:
        unregister_secret("sk-second-secret")


def test_records_without_a_secret_are_left_alone(key: str) -> None:
    record = logging.LogRecord("httpx2", logging.INFO, __file__, 1, "%s %d", ("a", 1), None)
    assert SecretFilter().filter(record)
    assert (record.msg, record.args) == ("%s %d", ("a", 1))
    record = logging.LogRecord("httpx2", logging.INFO, __file__, 1, "url %s", (key,), None)
    assert SecretFilter().filter(record)
    assert record.getMessage() == "url ***"


@pytest.mark.usefixtures("no_leaked_threads")
def test_httpx2_logs_do_not_show_a_key_in_the_url(
    key: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="httpx2")
    caplog.set_level(logging.DEBUG, logger="httpcore2")
    with WireServer() as server, httpx2.Client(trust_env=False) as client:
        # The server echoes the key in a header too: httpcore2 logs response headers.
        server.set_default(Reply(body="ok", headers={"x-echo": key}))
        url = f"{server.url}/v1/models:generate?key={key}&alt=sse"
        assert client.get(url).text == "ok"
        (request,) = server.requests
        assert request.query["key"] == key  # the key did go on the wire

    messages = [record.getMessage() for record in caplog.records]
    assert any(m.startswith("HTTP Request: GET") and "key=***" in m for m in messages)
    assert any("receive_response_headers" in m for m in messages)  # httpcore2 was heard
    assert not [m for m in messages if key in m]
    assert key not in caplog.text
