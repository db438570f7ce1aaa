"""The typed errors, what ErrorInfo makes of a failure, and the retry knobs' checks."""

from __future__ import annotations

import inspect

import pytest

from janito_core import errors
from janito_core.errors import (
    AuthenticationError,
    BadRequestError,
    ContentFilterError,
    ContextLengthError,
    DriverConfigError,
    GenerationError,
    JanitoError,
    ModelNotFoundError,
    ProviderOverloadedError,
    RateLimitError,
)
from janito_core.retry import ErrorInfo, check_retry_config, error_kind, looks_like_context_length


def test_the_hierarchy_drawing_names_every_error() -> None:
    classes = [
        obj
        for _, obj in inspect.getmembers(errors, inspect.isclass)
        if issubclass(obj, JanitoError) and obj.__module__ == errors.__name__
    ]
    assert len(classes) >= 13
    doc = errors.__doc__ or ""
    for cls in classes:
        assert cls.__name__ in doc, f"{cls.__name__} is missing from the drawing in errors.py"
        assert cls.__name__ in errors.__all__


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (401, AuthenticationError),
        (403, AuthenticationError),
        (429, RateLimitError),
        (400, BadRequestError),
        (413, BadRequestError),
        (422, BadRequestError),
        (404, ModelNotFoundError),
        (500, ProviderOverloadedError),
        (502, ProviderOverloadedError),
        (503, ProviderOverloadedError),
        (529, ProviderOverloadedError),
        (408, GenerationError),
        (409, GenerationError),
        (None, GenerationError),
    ],
)
def test_to_error_picks_the_kind_from_the_status(
    status: int | None, kind: type[GenerationError]
) -> None:
    info = (
        ErrorInfo.from_status(status, "details here", retry_after=2.5)
        if status is not None
        else ErrorInfo(message="the connection dropped", retryable=True)
    )
    error = info.to_error()
    assert type(error) is kind
    assert error_kind(status) is kind
    assert isinstance(error, GenerationError) and isinstance(error, JanitoError)
    assert str(error) == info.message
    assert error.status_code == status
    assert error.retryable is info.retryable
    if kind is RateLimitError:
        assert isinstance(error, RateLimitError)
        assert error.retry_after == 2.5
        assert error.retryable is True


def test_an_explicit_kind_wins_over_the_status() -> None:
    error = ErrorInfo(message="the answer was blocked", status_code=400, kind=ContentFilterError)
    assert type(error.to_error()) is ContentFilterError
    limited = ErrorInfo(message="slow down", kind=RateLimitError, retry_after=3.0).to_error()
    assert isinstance(limited, RateLimitError) and limited.retry_after == 3.0
    assert limited.status_code is None


def test_rate_limit_error_defaults() -> None:
    error = RateLimitError("slow down")
    assert (error.status_code, error.retryable, error.retry_after) == (429, True, None)


# What providers answer when the conversation is too long (public error reports).
CONTEXT_LENGTH_ANSWERS = [
    (
        400,
        "This model's maximum context length is 8192 tokens. However, your messages resulted"
        " in 8227 tokens. Please reduce the length of the messages. [context_length_exceeded]",
    ),
    (
        400,
        "Your input exceeds the context window of this model. Please adjust your input and"
        " try again.",
    ),
    (
        400,
        "The input token count (1054016) exceeds the maximum number of tokens allowed (1048576).",
    ),
    (
        400,
        "Prompt contains 152960 tokens and 0 draft tokens, too large for model with 131072"
        " maximum context length",
    ),
    (
        500,
        "the request exceeds the available context size. try increasing the context size or"
        " enable context shift",
    ),
    (400, "prompt is too long: 219898 tokens > 200000 maximum"),
]


@pytest.mark.parametrize(("status", "detail"), CONTEXT_LENGTH_ANSWERS)
def test_context_length_wording_makes_a_context_length_error(status: int, detail: str) -> None:
    assert looks_like_context_length(detail)
    info = ErrorInfo.from_status(status, detail)
    assert info.kind is ContextLengthError
    assert info.retryable is False  # the same conversation will not fit any better later
    assert detail in info.message and "context window" in info.message
    error = info.to_error()
    assert isinstance(error, ContextLengthError) and isinstance(error, BadRequestError)
    assert error.status_code == status


@pytest.mark.parametrize(
    "detail",
    [
        "",
        "Invalid API key provided",
        "max_tokens is too large: 6000. This model supports at most 4096 completion tokens,"
        " whereas you provided 6000.",
        "Unsupported parameter: 'temperature'",
    ],
)
def test_other_wording_is_not_context_length(detail: str) -> None:
    assert not looks_like_context_length(detail)
    assert ErrorInfo.from_status(400, detail).to_error().__class__ is BadRequestError


def test_context_length_wording_does_not_override_a_rate_limit_or_a_bad_key() -> None:
    detail = "tokens per minute exceeded: maximum context length of your tier"
    assert type(ErrorInfo.from_status(429, detail).to_error()) is RateLimitError
    assert type(ErrorInfo.from_status(401, detail).to_error()) is AuthenticationError


def test_from_status_keeps_its_messages() -> None:
    info = ErrorInfo.from_status(401, "bad key", key_variable="OPENAI_API_KEY")
    assert info.message == (
        "HTTP 401: the API key was refused; check OPENAI_API_KEY or pass api_key= (bad key)"
    )
    assert info.kind is None and info.retryable is False
    assert ErrorInfo.from_status(503).retryable is True


@pytest.mark.parametrize(
    ("base", "cap", "timeout"),
    [(0.5, 60.0, None), (0, 0, 0.001), (1, 30, 600), (0.0, 1e9, 30.5)],
)
def test_sane_retry_config_passes(base: float, cap: float, timeout: float | None) -> None:
    check_retry_config(base, cap, timeout)


BAD_DELAYS = [float("nan"), float("inf"), -0.1, "0.5", True, None, 10**400, [1]]


@pytest.mark.parametrize("value", BAD_DELAYS)
def test_bad_retry_base_delay_is_refused(value: object) -> None:
    with pytest.raises(DriverConfigError, match="retry_base_delay"):
        check_retry_config(value, 60.0, None)


@pytest.mark.parametrize("value", BAD_DELAYS)
def test_bad_max_retry_delay_is_refused(value: object) -> None:
    with pytest.raises(DriverConfigError, match="max_retry_delay"):
        check_retry_config(0.5, value, None)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), 0, -1, "10", True, 10**400])
def test_bad_timeout_is_refused(value: object) -> None:
    with pytest.raises(DriverConfigError, match="timeout"):
        check_retry_config(0.5, 60.0, value)


def test_from_response_honours_retry_after_and_the_provider_s_verdict() -> None:
    from janito_core.retry import ErrorInfo

    info = ErrorInfo.from_response(429, "slow down", {"retry-after": "3"}, model="m")
    assert info.retryable and info.retry_after == 3.0
    # The provider says a 429 must not be retried (say, a quota that will not come back).
    info = ErrorInfo.from_response(429, "quota", {"x-should-retry": "false"})
    assert not info.retryable
    # And that a 400 may be (whatever the header's case, as HTTP allows).
    assert ErrorInfo.from_response(400, "x", {"X-Should-Retry": "true"}).retryable
    assert ErrorInfo.from_response(500, "boom", None).retryable
