"""What an OpenAI (or compatible) error body says, read without the SDK.

The driver maps the SDK's exception classes (``driver.describe_error``); the pieces here read
the error bodies those exceptions and the streams carry.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from janito_core.retry import RETRYABLE_STATUS, ErrorInfo

__all__ = ["error_detail", "redact", "stream_error_info"]

KEY_VARIABLE = "OPENAI_API_KEY"

# Error codes and types that name a passing condition, on OpenAI and on compatible servers.
_TRANSIENT = frozenset(
    {
        "server_error",
        "internal_error",
        "internal_server_error",
        "rate_limit_exceeded",
        "rate_limit_error",
        "overloaded",
        "overloaded_error",
        "service_unavailable",
        "timeout",
    }
)
_MAX_DETAIL = 500


def error_detail(body: object) -> str:
    """The human part of an error body: its message, with the code when there is one."""
    if isinstance(body, Mapping):
        nested = body.get("error")
        if isinstance(nested, Mapping):
            return error_detail(nested)
        message = next(
            (
                body[k]
                for k in ("message", "detail", "error", "msg")
                if isinstance(body.get(k), str) and body[k].strip()
            ),
            "",
        )
        code = body.get("code")
        if isinstance(code, str) and code and code not in message:
            message = f"{message} [{code}]" if message else code
        return _clip(message)
    if isinstance(body, (bytes, bytearray)):
        body = bytes(body).decode("utf-8", "replace")
    if isinstance(body, str):
        return _clip(body.strip())
    return ""


def stream_error_info(error: object, *, model: str | None = None) -> ErrorInfo:
    """An error the server reported inside a stream (Chat ``{"error": ...}``, Responses
    ``error`` and ``response.failed`` events). Not retryable unless it says otherwise."""
    body: Mapping[str, Any] = error if isinstance(error, Mapping) else {}
    detail = error_detail(error) or "no details given"
    status = next(
        (
            body[k]
            for k in ("status", "status_code", "code")
            if isinstance(body.get(k), int) and 100 <= body[k] <= 599
        ),
        None,
    )
    if status is not None:
        info = ErrorInfo.from_status(status, detail, key_variable=KEY_VARIABLE, model=model)
        return ErrorInfo(
            message=f"the stream reported an error: {info.message}",
            status_code=status,
            retryable=_said_retryable(body, default=status in RETRYABLE_STATUS),
        )
    labels = {str(body.get(k, "")).lower() for k in ("code", "type")}
    return ErrorInfo(
        message=f"the provider reported an error in the stream: {detail}",
        retryable=_said_retryable(body, default=bool(labels & _TRANSIENT)),
    )


def _said_retryable(body: Mapping[str, Any], *, default: bool) -> bool:
    flag = body.get("retryable")
    return flag if isinstance(flag, bool) else default


def redact(text: str, secret: str | None) -> str:
    """``text`` with ``secret`` masked (servers sometimes echo what they were sent)."""
    if secret and secret in text:
        return text.replace(secret, "***")
    return text


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 3] + "..."
