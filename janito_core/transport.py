"""What a failure below HTTP means (timeouts, refused and dropped connections), and base URLs
that cannot work.

Drivers call ``describe_transport_error`` from ``describe_error`` for what their SDK did not
answer with a status. It reads ``httpx2`` exceptions without importing ``httpx2``: a driver
that never imported it cannot have raised one.
"""

from __future__ import annotations

import sys
from typing import Any
from urllib.parse import urlsplit

from janito_core.errors import DriverConfigError
from janito_core.redact import redact_url
from janito_core.retry import ErrorInfo

__all__ = ["check_base_url", "describe_transport_error"]

_MAX_REASON = 300
_MAX_CHAIN = 16


def describe_transport_error(
    exc: BaseException, *, where: str, timeout: float | None
) -> ErrorInfo | None:
    """What a transport failure means, or None when ``exc`` is not one.

    The chain of causes is searched (``__cause__``, else ``__context__``, as a traceback
    shows it), since SDKs wrap the transport's exception in their own (openai's
    ``APIConnectionError`` and ``APITimeoutError``). ``where`` names the server in the message
    (``"OpenAI"``, ``"the server at http://..."``); ``timeout`` is the configured limit in
    seconds. Timeouts, refused connections and connections dropped mid-response are
    retryable; a TLS certificate or protocol mismatch is not. The message is not redacted.
    """
    chain = _chain(exc)
    ssl: Any = sys.modules.get("ssl")
    if ssl is not None:
        # A certificate failure arrives wrapped in a connect error, which alone would be
        # retried; retrying cannot fix a certificate, so the inner cause decides.
        for i, link in enumerate(chain):
            if isinstance(link, ssl.SSLCertVerificationError):
                return ErrorInfo(
                    message=f"the TLS certificate of {where} was not accepted"
                    f" ({_reason(chain[i:])}); check base_url and the certificate store",
                    retryable=False,
                )
    httpx2: Any = sys.modules.get("httpx2")
    for i, link in enumerate(chain):
        reading = None
        if httpx2 is not None and isinstance(link, httpx2.TransportError):
            reading = _read_httpx2(link, httpx2, where, timeout)
        elif isinstance(link, OSError):
            reading = _read_os_error(link, ssl, where, timeout)
        if reading is not None:
            text, retryable, hint = reading
            return ErrorInfo(message=f"{text} ({_reason(chain[i:])}){hint}", retryable=retryable)
    return None


def check_base_url(url: str | None, *, secret: str | None = None) -> str | None:
    """``url`` itself when it is None or an http(s) URL with a host; else ``DriverConfigError``.

    Caught at construction because such a URL fails only at the first request, looking like
    a connection problem and retried as one (``localhost:8000`` parses as scheme
    ``localhost``). ``secret`` is masked in the error's text, for gateways whose base URL
    carries the key.
    """
    if url is None:
        return None
    if not isinstance(url, str):
        raise DriverConfigError(f"base_url must be a str, got {type(url).__name__}")
    shown = redact_url(url, secret)
    if not url or any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        raise DriverConfigError(f"base_url must be a URL without spaces, got {shown!r}")
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise DriverConfigError(
            f"base_url must start with http:// or https:// and name a host,"
            f" e.g. 'http://localhost:8000/v1'; got {shown!r}"
        )
    try:
        host, _ = parts.hostname, parts.port  # .port raises ValueError for a bad port
    except ValueError as exc:
        raise DriverConfigError(f"base_url has an invalid port: {shown!r}") from exc
    if not host:
        raise DriverConfigError(f"base_url names no host: {shown!r}")
    return url


# (what happened, retryable, what to check)
_Reading = tuple[str, bool, str]


def _read_httpx2(exc: BaseException, x: Any, where: str, timeout: float | None) -> _Reading | None:
    after = f" after {timeout:g} s" if timeout else ""
    if isinstance(exc, x.ConnectTimeout):
        return f"timed out{after} connecting to {where}", True, ""
    if isinstance(exc, x.ReadTimeout):
        return f"timed out{after} waiting for {where} to send data", True, ""
    if isinstance(exc, x.WriteTimeout):
        return f"timed out{after} sending the request to {where}", True, ""
    if isinstance(exc, x.PoolTimeout):
        text = f"timed out{after} waiting for a free connection to {where}"
        return text, True, "; every pooled connection was busy"
    if isinstance(exc, x.TimeoutException):
        return f"timed out{after} talking to {where}", True, ""
    if isinstance(exc, (x.ConnectError, x.ProxyError)):
        return f"could not connect to {where}", True, ""
    if isinstance(exc, (x.NetworkError, x.RemoteProtocolError)):
        # ReadError, WriteError, CloseError, and a body cut short (incomplete chunked read).
        return f"the connection to {where} dropped", True, ""
    return None  # LocalProtocolError, UnsupportedProtocol: not the network's doing


def _read_os_error(exc: OSError, ssl: Any, where: str, timeout: float | None) -> _Reading | None:
    if ssl is not None and isinstance(exc, ssl.SSLError):
        if isinstance(exc, (ssl.SSLEOFError, ssl.SSLZeroReturnError)):
            return f"the connection to {where} dropped", True, ""
        # e.g. WRONG_VERSION_NUMBER: https:// to a plain HTTP port. Not a passing condition.
        return f"the TLS connection to {where} failed", False, "; check base_url"
    if isinstance(exc, ConnectionRefusedError):
        return f"could not connect to {where}", True, ""
    if isinstance(exc, ConnectionError):
        return f"the connection to {where} dropped", True, ""
    if isinstance(exc, TimeoutError):
        after = f" after {timeout:g} s" if timeout else ""
        return f"timed out{after} talking to {where}", True, ""
    socket: Any = sys.modules.get("socket")
    if socket is not None and isinstance(exc, socket.gaierror):
        return f"could not connect to {where}", True, "; check the host name in base_url"
    return None


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and its causes in the order a traceback prints them, outermost first."""
    chain: list[BaseException] = []
    link: BaseException | None = exc
    while link is not None and len(chain) < _MAX_CHAIN and not any(link is c for c in chain):
        chain.append(link)
        if link.__cause__ is not None:
            link = link.__cause__
        elif link.__suppress_context__:
            link = None
        else:
            link = link.__context__
    return chain


def _reason(chain: list[BaseException]) -> str:
    """The first non-empty text down the chain, else the exception's type name."""
    for link in chain:
        text = " ".join(str(link).split())
        if text:
            if len(text) > _MAX_REASON:
                text = text[: _MAX_REASON - 3] + "..."
            return text
    return type(chain[0]).__name__
