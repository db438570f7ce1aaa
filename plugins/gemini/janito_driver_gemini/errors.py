"""What a Google API error means: the core's reading of its HTTP status, plus what only Google's
error body says.

Google puts the retry hint of a 429 in the body (``details`` holding a
``google.rpc.RetryInfo`` with ``retryDelay: "12s"``); a ``Retry-After`` header may come too.
Both are honoured: the longer wins. A bad key is a 400 with reason ``API_KEY_INVALID``, not a
401, so it is recognised from the body. An error sent inside a 200 stream may carry only its
status word (``RESOURCE_EXHAUSTED``), which stands for the HTTP status Google pairs with it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import attrs

from janito_core.errors import AuthenticationError
from janito_core.retry import ErrorInfo, parse_retry_after

__all__ = ["describe_api_error", "describe_stream_error", "retry_delay"]

_RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"
_ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"
# A Duration in proto3 JSON: seconds with an "s", e.g. "12s" or "0.5s".
_DURATION = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)s\s*$")
_BAD_KEY_REASONS = {"API_KEY_INVALID", "API_KEY_NOT_FOUND", "API_KEY_EXPIRED"}
# The HTTP status of each status word (google.rpc.Code), for errors that carry no usable code.
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


def describe_api_error(
    code: int, body: Any, headers: Mapping[str, str] | None, *, key_variable: str, model: str
) -> ErrorInfo:
    """An ``ErrorInfo`` for the error status ``code`` with Google's error ``body`` (parsed
    JSON: ``{"error": {...}}``, or the error object itself)."""
    error = _error_object(body)
    detail = _detail(error)
    reasons = {d.get("reason") for d in _details(error) if d.get("@type") == _ERROR_INFO}
    if code in (400, 401, 403) and (
        reasons & _BAD_KEY_REASONS or "api key not valid" in detail.lower()
    ):
        return ErrorInfo(
            message=f"HTTP {code}: the API key was refused; check {key_variable} "
            f"or pass api_key= ({detail})",
            status_code=code,
            kind=AuthenticationError,
        )
    delays = [d for d in (parse_retry_after(headers), retry_delay(body)) if d is not None]
    return ErrorInfo.from_status(
        code, detail, key_variable=key_variable, model=model, retry_after=max(delays, default=None)
    )


def describe_stream_error(body: Any, *, key_variable: str, model: str) -> ErrorInfo:
    """An ``ErrorInfo`` for an ``{"error": ...}`` object sent inside the stream.

    Its ``code``, else its status word, is read as the HTTP status it stands for.
    """
    error = _error_object(body)
    code = error.get("code")
    if not isinstance(code, int) or isinstance(code, bool) or code < 400:
        code = _STATUS_WORD_CODES.get(str(error.get("status")))
    prefix = "Gemini reported an error in the stream: "
    if code is None:
        return ErrorInfo(message=prefix + (_detail(error) or "no details given"))
    info = describe_api_error(code, body, None, key_variable=key_variable, model=model)
    return attrs.evolve(info, message=prefix + info.message)


def retry_delay(body: Any) -> float | None:
    """Seconds from a ``google.rpc.RetryInfo`` in the error body, if there is one."""
    for detail in _details(_error_object(body)):
        delay = detail.get("retryDelay")
        if detail.get("@type") == _RETRY_INFO and isinstance(delay, str):
            match = _DURATION.match(delay)
            if match:
                return float(match.group(1))
    return None


def _error_object(body: Any) -> Mapping[str, Any]:
    """The ``error`` object of a Google error body (or the body itself when it is bare)."""
    if not isinstance(body, Mapping):
        return {}
    inner = body.get("error")
    return inner if isinstance(inner, Mapping) else body


def _detail(error: Mapping[str, Any]) -> str:
    """``STATUS: message``, as much of it as the error has."""
    return ": ".join(str(error[k]) for k in ("status", "message") if error.get(k))


def _details(error: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    details = error.get("details")
    return [d for d in details if isinstance(d, Mapping)] if isinstance(details, list) else []
