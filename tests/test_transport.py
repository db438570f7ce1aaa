"""describe_transport_error on failures real clients raise, and check_base_url."""

from __future__ import annotations

import asyncio
import socket
import ssl
import subprocess
import sys
from collections.abc import Iterator

import httpx2
import pytest

from janito_core.errors import DriverConfigError
from janito_core.retry import ErrorInfo
from janito_core.testing.server import Drop, Reply, Send, Stall, WireServer
from janito_core.transport import check_base_url, describe_transport_error

WHERE = "the server at http://127.0.0.1"


@pytest.fixture
def server() -> Iterator[WireServer]:
    with WireServer() as wire:
        yield wire


def _describe(exc: BaseException, timeout: float | None = 0.25) -> ErrorInfo | None:
    return describe_transport_error(exc, where=WHERE, timeout=timeout)


def _failure(server: WireServer, reply: Reply, **client: object) -> BaseException:
    """What a real httpx2 client raises reading ``reply`` to the end."""
    server.enqueue(reply)

    async def fetch() -> BaseException:
        async with httpx2.AsyncClient(trust_env=False, **client) as http:  # type: ignore[arg-type]
            try:
                async with http.stream("GET", server.url) as response:
                    async for _ in response.aiter_bytes():
                        pass
            except Exception as exc:
                return exc
        raise AssertionError("the request did not fail")

    return asyncio.run(fetch())


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # nothing listens there any more: connecting is refused


def test_a_read_timeout_is_retryable_and_names_the_server_and_the_limit(
    server: WireServer,
) -> None:
    exc = _failure(server, Reply(headers_delay=30), timeout=0.25)
    assert isinstance(exc, httpx2.ReadTimeout)
    info = _describe(exc)
    assert info is not None and info.retryable
    assert info.message.startswith(f"timed out after 0.25 s waiting for {WHERE} to send data")


def test_a_stall_mid_body_is_a_read_timeout_too(server: WireServer) -> None:
    exc = _failure(server, Reply(steps=[Send("data: 1\n\n"), Stall()]), timeout=0.25)
    info = _describe(exc)
    assert info is not None and info.retryable and "waiting for" in info.message


def test_a_pool_timeout_says_every_connection_was_busy(server: WireServer) -> None:
    server.enqueue(Reply(headers_delay=30))

    async def fetch() -> BaseException:
        limits = httpx2.Limits(max_connections=1)
        timeout = httpx2.Timeout(5, pool=0.2)
        async with httpx2.AsyncClient(trust_env=False, limits=limits, timeout=timeout) as http:
            hog = asyncio.create_task(http.get(server.url))
            await asyncio.to_thread(server.wait_for_requests, 1)
            try:
                await http.get(server.url)
            except Exception as exc:
                return exc
            finally:
                hog.cancel()
                await asyncio.gather(hog, return_exceptions=True)
        raise AssertionError("the request did not fail")

    exc = asyncio.run(fetch())
    assert isinstance(exc, httpx2.PoolTimeout)
    info = _describe(exc, timeout=0.2)
    assert info is not None and info.retryable
    assert "a free connection" in info.message and "busy" in info.message


def test_a_refused_connection_is_retryable() -> None:
    url = f"http://127.0.0.1:{_closed_port()}"

    async def fetch() -> BaseException:
        async with httpx2.AsyncClient(trust_env=False) as http:
            try:
                await http.get(url)
            except Exception as exc:
                return exc
        raise AssertionError("the request did not fail")

    exc = asyncio.run(fetch())
    assert isinstance(exc, httpx2.ConnectError)
    info = _describe(exc)
    assert info is not None and info.retryable
    assert info.message.startswith(f"could not connect to {WHERE} (")


@pytest.mark.parametrize("reset", [False, True], ids=["fin", "rst"])
def test_a_body_cut_short_is_a_dropped_connection(server: WireServer, reset: bool) -> None:
    exc = _failure(server, Reply(steps=[Send("data: 1\n\n"), Drop(reset=reset)]))
    assert isinstance(exc, (httpx2.RemoteProtocolError, httpx2.ReadError))
    info = _describe(exc)
    assert info is not None and info.retryable
    assert info.message.startswith(f"the connection to {WHERE} dropped (")


def test_the_openai_sdk_s_wrappers_are_seen_through(server: WireServer) -> None:
    openai = pytest.importorskip("openai")
    server.enqueue(Reply(headers_delay=30))

    async def ask(base_url: str) -> BaseException:
        client = openai.AsyncOpenAI(
            api_key="sk-test", base_url=base_url, max_retries=0, timeout=0.25
        )
        try:
            await client.chat.completions.create(model="m", messages=[])
        except Exception as exc:
            return exc
        finally:
            await client.close()
        raise AssertionError("the request did not fail")

    timed_out = asyncio.run(ask(server.url + "/v1"))
    assert isinstance(timed_out, openai.APITimeoutError)
    info = _describe(timed_out)
    assert info is not None and info.retryable and "waiting for" in info.message

    refused = asyncio.run(ask(f"http://127.0.0.1:{_closed_port()}/v1"))
    assert isinstance(refused, openai.APIConnectionError)
    info = _describe(refused)
    assert info is not None and info.retryable and "could not connect" in info.message


def test_a_refused_certificate_is_not_retried() -> None:
    # As httpx2 raises it: its ConnectError caused by httpcore2's, caused by ssl's.
    cert = ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] self-signed")
    try:
        try:
            raise cert
        except ssl.SSLError as inner:
            raise httpx2.ConnectError(str(inner)) from inner
    except httpx2.ConnectError as exc:
        info = _describe(exc)
    assert info is not None and not info.retryable
    assert "TLS certificate" in info.message and "CERTIFICATE_VERIFY_FAILED" in info.message


@pytest.mark.parametrize(
    ("exc", "start", "retryable"),
    [
        (ConnectionRefusedError(111, "Connection refused"), "could not connect to", True),
        (ConnectionResetError(104, "Connection reset by peer"), "the connection to", True),
        (BrokenPipeError(32, "Broken pipe"), "the connection to", True),
        (TimeoutError("timed out"), "timed out after 0.25 s talking to", True),
        (ssl.SSLEOFError(8, "EOF occurred in violation of protocol"), "the connection to", True),
        (ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version"), "the TLS connection", False),
        (socket.gaierror(-2, "Name or service not known"), "could not connect to", True),
        (httpx2.ConnectTimeout("timed out"), "timed out after 0.25 s connecting to", True),
        (httpx2.WriteTimeout("timed out"), "timed out after 0.25 s sending", True),
        (httpx2.WriteError("broken"), "the connection to", True),
    ],
)
def test_plain_transport_exceptions(exc: BaseException, start: str, retryable: bool) -> None:
    info = _describe(exc)
    assert info is not None
    assert info.message.startswith(start), info.message
    assert WHERE in info.message
    assert info.retryable is retryable


@pytest.mark.parametrize(
    "exc",
    [
        ValueError("not JSON"),
        KeyError("choices"),
        httpx2.UnsupportedProtocol("Request URL has an unsupported protocol 'ftp://'."),
        httpx2.LocalProtocolError("Illegal header value"),
        FileNotFoundError(2, "No such file"),
    ],
)
def test_other_failures_are_not_described(exc: BaseException) -> None:
    assert _describe(exc) is None


def test_the_chain_is_followed_as_a_traceback_shows_it() -> None:
    drop = httpx2.RemoteProtocolError("peer closed connection (incomplete chunked read)")
    try:
        try:
            raise drop
        except httpx2.RemoteProtocolError:
            raise RuntimeError("") from None  # the context is hidden on purpose
    except RuntimeError as hidden:
        assert _describe(hidden) is None
    try:
        try:
            raise drop
        except httpx2.RemoteProtocolError:
            raise RuntimeError("stream failed")  # noqa: B904 - an implicit context
    except RuntimeError as implicit:
        info = _describe(implicit)
    assert info is not None and info.retryable
    # The reason is the transport's own text, found down the chain.
    assert "incomplete chunked read" in info.message


def test_no_timeout_configured_names_no_limit() -> None:
    info = _describe(httpx2.ReadTimeout(""), timeout=None)
    assert info is not None
    assert info.message == f"timed out waiting for {WHERE} to send data (ReadTimeout)"


def test_httpx2_is_not_imported_to_describe_an_error() -> None:
    code = (
        "import sys\n"
        "from janito_core.transport import describe_transport_error as d\n"
        "info = d(ConnectionRefusedError(111, 'refused'), where='x', timeout=1.0)\n"
        "assert info is not None and info.retryable, info\n"
        "assert d(ValueError('v'), where='x', timeout=1.0) is None\n"
        "assert 'httpx2' not in sys.modules and 'httpcore2' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


@pytest.mark.parametrize(
    "url",
    [
        None,
        "http://localhost:8000/v1",
        "https://api.openai.com/v1",
        "HTTPS://generativelanguage.googleapis.com",
        "http://[::1]:8080/v1",
        "http://user:pw@gateway.example/v1?key=abc",
    ],
)
def test_usable_base_urls_pass_unchanged(url: str | None) -> None:
    assert check_base_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "localhost:8000",
        "localhost:8000/v1",
        "ftp://example.com",
        "file:///etc/passwd",
        "http://",
        "http:///v1",
        "https://host:notaport/v1",
        " http://localhost:8000",
        "http://local host",
        "",
        "api.openai.com/v1",
    ],
)
def test_unusable_base_urls_are_refused(url: str) -> None:
    with pytest.raises(DriverConfigError, match="base_url"):
        check_base_url(url)


def test_a_base_url_that_is_not_a_str_is_refused() -> None:
    with pytest.raises(DriverConfigError, match="must be a str"):
        check_base_url(8000)  # type: ignore[arg-type]


def test_a_refused_base_url_does_not_show_the_key() -> None:
    key = "sk-SENTINEL-in-the-path-42"
    with pytest.raises(DriverConfigError) as info:
        check_base_url(f"gateway.example/{key}/v1?api_key=other-secret", secret=key)
    assert key not in str(info.value) and "other-secret" not in str(info.value)
    assert "***" in str(info.value)
