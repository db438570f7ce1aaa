from __future__ import annotations

import socket
from urllib.parse import urlsplit

import pytest

from janito_core.testing.backlog import FullBacklog

pytestmark = pytest.mark.skipif(
    not FullBacklog.available(), reason="FullBacklog needs Linux's /proc/net/tcp"
)


def _address(port: FullBacklog) -> tuple[str, int]:
    parts = urlsplit(port.url)
    assert parts.hostname is not None and parts.port is not None
    return parts.hostname, parts.port


def test_a_connect_stays_pending_until_the_client_gives_up() -> None:
    with FullBacklog() as port:
        assert port.connecting() == 0
        client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        client.setblocking(False)
        with client:
            assert client.connect_ex(_address(port)) != 0  # EINPROGRESS: not connected yet
            assert port.wait_connecting(2.0)
            assert port.connecting() == 1
        assert port.wait_none_connecting(2.0)


def test_a_blocking_connect_times_out() -> None:
    with FullBacklog() as port, pytest.raises(TimeoutError):
        socket.create_connection(_address(port), timeout=0.2)


def test_waits_report_a_timeout() -> None:
    with FullBacklog() as port:
        assert not port.wait_connecting(0.02)


def test_the_url_needs_a_started_port() -> None:
    port = FullBacklog()
    with pytest.raises(RuntimeError, match="not been started"):
        _ = port.url
    port.close()  # closing what never started is harmless
