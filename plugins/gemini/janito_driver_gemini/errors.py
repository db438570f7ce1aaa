"""What a Google API error means for the harness: message, status, kind, retry and when.

Google puts the retry hint of a 429 in the error body (``details`` holding a
``google.rpc.RetryInfo`` with ``retryDelay: "12s"``); a ``Retry-After`` header may come too.
Both are honoured: the longer wins. A bad key is a 400 with reason ``API_KEY_INVALID``, not a
401, so it is recognised from the body.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from janito_core.errors import AuthenticationError
from janito_core.retry import RETRYABLE_STATUS, ErrorInfo, error_kind, parse_retry_after

__all__ = ["describe_api_error", "error_fields", "retry_delay"]

_RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"
_ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"
_DURATION = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)s\s*$")
_BAD_KEY_REASONS = {"API_KEY_INVALID", "API_KEY_NOT_FOUND", "API_KEY_EXPIRED"}
# The HTTP status Google pairs with each status word, for errors that carry no usable code.
_STATUS_WORD_CODES = {
    "INVALID_ARGUMENT": 400,
    "FAILED_PRECONDITION": 400,
    "OUT_OF_RANGE": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "NOT_FOUND": 404,
    "ABORTED": 409,
    "RESOURCE_EXHAUSTED": 429,
    "INTERNAL": 500,
    "UNAVAILABLE": 503,
    "DEADLINE_EXCEEDED": 504,
}


def error_fields(body: Any) -> Mapping[str, Any]:
    """The ``error`` object of a Google error body (or the body itself when it is bare)."""
    if isinstance(body, list) and len(body) == 1:
        body = body[0]
    if not isinstance(body, Mapping):
        return {}
    inner = body.get("error")
    return inner if isinstance(inner, Mapping) else body


def _details(body: Any) -> list[Mapping[str, Any]]:
    details = error_fields(body).get("details")
    if not isinstance(details, list):
        return []
    return [d for d in details if isinstance(d, Mapping)]


def retry_delay(body: Any) -> float | None:
    """Seconds from a ``google.rpc.RetryInfo`` in the error body, if there is one."""
    for detail in _details(body):
        if detail.get("@type") != _RETRY_INFO:
            continue
        delay = detail.get("retryDelay")
        if isinstance(delay, str):
            match = _DURATION.match(delay)
            if match:
                return float(match.group(1))
        elif isinstance(delay, Mapping):  # a Duration written as an object
            seconds = delay.get("seconds", 0)
            nanos = delay.get("nanos", 0)
            if isinstance(seconds, (int, float, str)) and isinstance(nanos, (int, float)):
                try:
                    return float(seconds) + float(nanos) / 1e9
                except ValueError:
                    return None
    return None


def _bad_key(body: Any, message: str) -> bool:
    for detail in _details(body):
        if detail.get("@type") == _ERROR_INFO and detail.get("reason") in _BAD_KEY_REASONS:
            return True
    return "api key not valid" in message.lower()


def describe_api_error(
    code: object,
    body: Any,
    headers: Mapping[str, str] | None,
    *,
    key_variable: str,
    model: str,
    api_key: str | None,
) -> ErrorInfo:
    """An ``ErrorInfo`` for an HTTP error, or an ``{"error": ...}`` object inside the stream.

    ``code`` is the HTTP status (or the error object's ``code``); without a usable one the
    error's status word decides whether to retry.
    """
    fields = error_fields(body)
    status = fields.get("status")
    message = fields.get("message")
    message = message if isinstance(message, str) else ""
    detail = ": ".join(str(x) for x in (status, message) if x)
    if api_key:
        detail = detail.replace(api_key, "***")
    if not isinstance(code, int) or isinstance(code, bool) or code < 400:
        like = _STATUS_WORD_CODES.get(str(status))
        return ErrorInfo(
            message=f"Gemini reported an error: {detail or 'unknown error'}",
            retryable=like in RETRYABLE_STATUS,
            kind=error_kind(like),
        )
    delays = [d for d in (parse_retry_after(headers), retry_delay(body)) if d is not None]
    retry_after = max(delays) if delays else None
    if code in (400, 401, 403) and _bad_key(body, message):
        return ErrorInfo(
            message=f"HTTP {code}: the API key was refused; check {key_variable} "
            f"or pass api_key= ({detail})",
            status_code=code,
            kind=AuthenticationError,
        )
    return ErrorInfo.from_status(
        code, detail, key_variable=key_variable, model=model, retry_after=retry_after
    )
