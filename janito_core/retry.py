"""What a failed provider call means: retry or not, after how long, and what to tell the user."""

from __future__ import annotations

import math
import random
import time
from collections.abc import Mapping

import attrs

from janito_core.errors import (
    AuthenticationError,
    BadRequestError,
    ContextLengthError,
    DriverConfigError,
    GenerationError,
    ModelNotFoundError,
    ProviderOverloadedError,
    RateLimitError,
)

RETRYABLE_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 529})

# What providers write when the conversation does not fit the context window, lower-cased:
# OpenAI's error code and its Chat wording (also vLLM, Groq, OpenRouter), OpenAI Responses,
# Gemini, Mistral ("... too large for model with 131072 maximum context length"), llama.cpp's
# error type and wording, and Anthropic's two wordings.
_CONTEXT_LENGTH_PHRASES = (
    "context_length_exceeded",
    "maximum context length",
    "exceeds the context window",
    "exceeds the maximum number of tokens",
    "too large for model",
    "exceed_context_size_error",
    "exceeds the available context size",
    "prompt is too long",
    "exceed context limit",
)
# Statuses whose meaning a context-length wording cannot change: the key, the model, the rate.
_NOT_CONTEXT_LENGTH = frozenset({401, 403, 404, 408, 429})


@attrs.frozen(kw_only=True)
class ErrorInfo:
    """A driver's reading of a failure: a message for the user and whether to retry.

    ``kind`` is the ``GenerationError`` subclass the failure is raised as; None lets
    ``to_error()`` decide from ``status_code`` (see ``error_kind``).
    """

    message: str
    status_code: int | None = None
    retryable: bool = False
    retry_after: float | None = None
    kind: type[GenerationError] | None = None

    def to_error(self) -> GenerationError:
        """The typed exception ``generate()`` raises for this failure."""
        kind = self.kind or error_kind(self.status_code)
        if issubclass(kind, RateLimitError):
            return kind(
                self.message,
                status_code=self.status_code,
                retryable=self.retryable,
                retry_after=self.retry_after,
            )
        return kind(self.message, status_code=self.status_code, retryable=self.retryable)

    @classmethod
    def from_response(
        cls,
        status_code: int,
        detail: str,
        headers: Mapping[str, str] | None,
        *,
        key_variable: str | None = None,
        model: str | None = None,
    ) -> ErrorInfo:
        """``from_status`` for an HTTP error response: its ``Retry-After`` honoured, and its
        ``x-should-retry`` (the provider's own verdict, sent by OpenAI and Anthropic) winning
        over the status's."""
        info = cls.from_status(
            status_code,
            detail,
            key_variable=key_variable,
            model=model,
            retry_after=parse_retry_after(headers),
        )
        lowered = {k.lower(): v for k, v in (headers or {}).items()}
        verdict = lowered.get("x-should-retry", "").lower()
        if verdict in ("true", "false"):
            info = attrs.evolve(info, retryable=verdict == "true")
        return info

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
        """The usual meaning of an HTTP status, with what the user can do about it.

        A ``detail`` in which the provider says the context window is exceeded makes a
        ``ContextLengthError`` that is not retried, whatever the status (llama.cpp sends 500).
        """
        detail = detail.strip()
        if status_code not in _NOT_CONTEXT_LENGTH and looks_like_context_length(detail):
            text = (
                f"HTTP {status_code}: the conversation is longer than the model's context window;"
                " shorten it or use a model with a larger one"
            )
            return cls(
                message=f"{text} ({detail})",
                status_code=status_code,
                retryable=False,
                kind=ContextLengthError,
            )
        hint = {
            400: "the provider rejected the request; check the options and messages sent",
            401: "the API key was refused"
            + (f"; check {key_variable} or pass api_key=" if key_variable else ""),
            403: "the API key may not use this model or feature"
            + (f"; check {key_variable}" if key_variable else ""),
            404: f"the model {model!r} or the endpoint was not found; check the model name"
            " and base_url",
            408: "the provider timed out",
            413: "the request is larger than the provider accepts",
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


def error_kind(status_code: int | None) -> type[GenerationError]:
    """The ``GenerationError`` subclass an HTTP status means; the base class for the rest."""
    if status_code in (401, 403):
        return AuthenticationError
    if status_code == 429:
        return RateLimitError
    if status_code in (400, 413, 422):
        return BadRequestError
    if status_code == 404:
        return ModelNotFoundError
    if status_code is not None and 500 <= status_code <= 599:
        return ProviderOverloadedError
    return GenerationError


def looks_like_context_length(detail: str) -> bool:
    """True when an error text says the conversation does not fit the model's context."""
    lowered = detail.lower()
    return any(phrase in lowered for phrase in _CONTEXT_LENGTH_PHRASES)


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


def check_retry_config(retry_base_delay: object, max_retry_delay: object, timeout: object) -> None:
    """Raise ``DriverConfigError`` unless both delays are finite numbers >= 0 and ``timeout``
    is None or a finite number > 0.

    Checked at construction because each bad value fails late and quietly: a NaN base delay
    makes one 503 wait the whole cap, a string fails inside the retry loop, an infinite or NaN
    timeout turns the read timeout off.
    """
    for name, value in (
        ("retry_base_delay", retry_base_delay),
        ("max_retry_delay", max_retry_delay),
    ):
        seconds = _finite_seconds(value)
        if seconds is None or seconds < 0:
            raise DriverConfigError(
                f"{name} must be a finite number of seconds >= 0, got {value!r}"
            )
    if timeout is not None:
        seconds = _finite_seconds(timeout)
        if seconds is None or seconds <= 0:
            raise DriverConfigError(
                f"timeout must be a finite number of seconds > 0, or None; got {timeout!r}"
            )


def _finite_seconds(value: object) -> float | None:
    import numbers  # only when a driver is built, not when janito_core is imported

    # bool is an int, but True seconds is a slip, not a delay; a str is not converted.
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        return None
    try:
        seconds = float(value)
    except (OverflowError, ValueError):
        return None
    return seconds if math.isfinite(seconds) else None
