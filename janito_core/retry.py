"""What a failed provider call means: retry or not, after how long, and what to tell the user."""

from __future__ import annotations

import random
import time
from collections.abc import Mapping

import attrs

RETRYABLE_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 529})


@attrs.frozen(kw_only=True)
class ErrorInfo:
    """A driver's reading of a failure: a message for the user and whether to retry."""

    message: str
    status_code: int | None = None
    retryable: bool = False
    retry_after: float | None = None

    @classmethod
    def from_status(
        cls,
        status_code: int,
        detail: str = "",
        *,
        key_variable: str | None = None,
        model: str | None = None,
        retry_after: float | None = None,
    ) -> ErrorInfo:
        """The usual meaning of an HTTP status, with what the user can do about it."""
        detail = detail.strip()
        hint = {
            400: "the provider rejected the request; check the options and messages sent",
            401: "the API key was refused"
            + (f"; check {key_variable} or pass api_key=" if key_variable else ""),
            403: "the API key may not use this model or feature"
            + (f"; check {key_variable}" if key_variable else ""),
            404: f"the model {model!r} or the endpoint was not found; check the model name"
            " and base_url",
            408: "the provider timed out",
            422: "the provider could not validate the request; check the options and messages",
            429: "rate limited or out of quota",
        }.get(status_code)
        if hint is None and status_code >= 500:
            hint = "the provider had a server error"
        text = f"HTTP {status_code}"
        if hint:
            text += f": {hint}"
        if detail:
            text += f" ({detail})"
        return cls(
            message=text,
            status_code=status_code,
            retryable=status_code in RETRYABLE_STATUS,
            retry_after=retry_after,
        )


class ProviderError(Exception):
    """Raised by a driver to report a failure it has already described."""

    def __init__(self, info: ErrorInfo) -> None:
        super().__init__(info.message)
        self.info = info


def parse_retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``retry-after`` (seconds or an HTTP date)."""
    if not headers:
        return None
    lowered = {k.lower(): v for k, v in headers.items()}
    millis = lowered.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000.0)
        except ValueError:
            pass
    value = lowered.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    import email.utils  # only for the rare HTTP-date form; the package is slow to import

    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def backoff_delay(attempt: int, base: float, cap: float) -> float:
    """Exponential back-off with jitter for retry number ``attempt`` (1-based)."""
    delay: float = min(cap, base * (2 ** (attempt - 1)))
    return delay * random.uniform(0.75, 1.0)
