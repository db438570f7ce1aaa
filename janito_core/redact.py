"""Keeping API keys out of texts, reprs and the HTTP library's logs.

``redact`` and ``redact_url`` mask the secrets they are given. ``register_secret`` adds a key
to a process-wide register that a ``logging.Filter`` reads: httpx2 logs each request's full URL
at INFO, and gateways that take the key in the URL would otherwise have it written to the
application's logs.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections import Counter
from collections.abc import Iterable
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit, urlunsplit

__all__ = [
    "MASK",
    "SecretFilter",
    "redact",
    "redact_url",
    "register_secret",
    "registered_secrets",
    "unregister_secret",
]

MASK = "***"

# The loggers the filter is installed on. A logger's filters see only records logged on that
# logger itself, not those propagated from its children, so each child is named.
LOGGERS = (
    "httpx2",
    "httpcore2",
    "httpcore2.connection",
    "httpcore2.http11",
    "httpcore2.http2",
    "httpcore2.proxy",
    "httpcore2.socks",
)

# Shorter strings are not keys and would mask innocent text all over a log line.
MIN_SECRET_LENGTH = 4

# Query parameters that carry a credential whatever the key is (Gemini's ``key``, Azure's SAS
# ``sig``, gateways' ``api_key``/``token``), compared without case, "-" or "_".
_CREDENTIAL_PARAMS = frozenset(
    {"key", "apikey", "accesstoken", "token", "authtoken", "sig", "signature", "secret", "password"}
)


def redact(text: str, *secrets: str | None) -> str:
    """``text`` with each secret, and its URL-encoded forms, replaced by ``***``.

    None and empty secrets are skipped, so ``redact(text, config.api_key)`` is safe without a
    key. Longer secrets are masked first, so a key that contains another is masked whole.
    """
    for secret in _forms(secrets):
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def redact_url(url: str | None, *secrets: str | None) -> str | None:
    """``url`` fit for a repr or an error text: the secrets, a password in it, and the values
    of query parameters named like credentials (``key``, ``api_key``, ``token``, ``sig``...)
    are masked.
    """
    if url is None:
        return None
    url = redact(url, *secrets)
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unbalanced "[" in the host; masked as far as it goes
        return url
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        if ":" in userinfo:
            netloc = f"{userinfo.partition(':')[0]}:{MASK}@{host}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(_is_credential(name) for name, _ in pairs):
            query = urlencode(
                [(n, MASK if _is_credential(n) else v) for n, v in pairs], safe="*", quote_via=quote
            )
    if (netloc, query) == (parts.netloc, parts.query):
        return url
    return urlunsplit(parts._replace(netloc=netloc, query=query))


# -- the process-wide register -------------------------------------------------------------
#
# Strings cannot be weakly referenced, so the register cannot forget a key by itself when the
# driver holding it goes away. It counts registrations instead: each register_secret() is
# undone by one unregister_secret(), or by the owner's finalizer when an owner is given (a
# driver passes itself). The register then holds exactly the keys of live drivers, and two
# drivers sharing a key keep it masked until both are gone.

_lock = threading.Lock()
_counts: Counter[str] = Counter()
# Read without the lock by the filter: replaced whole, never changed in place.
_snapshot: tuple[str, ...] = ()
_installed = False


def register_secret(secret: str | None, *, owner: object | None = None) -> None:
    """Mask ``secret`` in the records of the ``httpx2`` and ``httpcore2`` loggers.

    With ``owner`` (weakly referenceable, e.g. the driver), the registration ends when the
    owner is garbage-collected; without, it lasts until ``unregister_secret(secret)``. Secrets
    shorter than ``MIN_SECRET_LENGTH`` characters are ignored. The first call installs a
    ``SecretFilter`` on those loggers, which changes neither their levels nor their handlers.
    """
    if not secret or len(secret) < MIN_SECRET_LENGTH:
        return
    if owner is not None:
        # Made first: an owner that cannot be weakly referenced fails before any counting.
        finalizer = weakref.finalize(owner, unregister_secret, secret)
        finalizer.atexit = False  # nothing to undo at exit
    global _installed
    with _lock:
        _counts[secret] += 1
        _publish()
        if not _installed:
            _installed = True
            log_filter = SecretFilter()
            for name in LOGGERS:
                logging.getLogger(name).addFilter(log_filter)


def unregister_secret(secret: str | None) -> None:
    """Undo one ``register_secret(secret)``; the secret is forgotten at its last one."""
    if not secret:
        return
    with _lock:
        if _counts.get(secret, 0) <= 0:
            return
        _counts[secret] -= 1
        if _counts[secret] == 0:
            del _counts[secret]
        _publish()


def registered_secrets() -> frozenset[str]:
    """The secrets registered now."""
    return frozenset(_snapshot)


def _publish() -> None:
    global _snapshot
    _snapshot = tuple(_forms(_counts))


class SecretFilter(logging.Filter):
    """Rewrites a record whose text holds a registered secret, with the secret masked.

    The record is formatted once (``getMessage()``) and its arguments dropped, so handlers
    see the masked text; records without a secret are left as they were.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = _snapshot
        if not secrets:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is logging's to report, not ours
            return True
        masked = message
        for secret in secrets:
            if secret in masked:
                masked = masked.replace(secret, MASK)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def _forms(secrets: Iterable[str | None]) -> list[str]:
    """Each secret as written and URL-encoded (as a request URL carries it), longest first."""
    forms: set[str] = set()
    for secret in secrets:
        if secret:
            forms.update((secret, quote(secret, safe=""), quote_plus(secret, safe="")))
    return sorted(forms, key=len, reverse=True)


def _is_credential(name: str) -> bool:
    return name.lower().replace("-", "").replace("_", "") in _CREDENTIAL_PARAMS
