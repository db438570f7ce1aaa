"""The exceptions janito-core raises.

JanitoError
 ├── DriverNotFoundError          no driver registered under that name
 ├── PluginLoadError              a plugin failed to import or register (original as __cause__)
 ├── DriverConfigError            a driver cannot be built: missing key, bad option
 ├── InvalidRequestError          a call was malformed (no prompt, bad tool schema); a ValueError
 └── GenerationError              a generation ended with status "error" (raised by generate())
      ├── AuthenticationError     the key was refused (HTTP 401/403)
      ├── RateLimitError          rate limited or out of quota (HTTP 429); carries retry_after
      ├── BadRequestError         the provider rejected the request (HTTP 400/413/422)
      │    └── ContextLengthError the conversation does not fit the model's context window
      ├── ModelNotFoundError      the model or the endpoint does not exist (HTTP 404)
      ├── ProviderOverloadedError the provider failed or is overloaded (HTTP 5xx, 529)
      ├── ContentFilterError      the provider blocked the prompt or the answer
      └── OutputError             the answer does not parse into the requested output_schema

A ``GenerationError`` that is none of the subclasses is one no kind fits: a dropped connection,
a timeout, a malformed stream.
"""

from __future__ import annotations

__all__ = [
    "AuthenticationError",
    "BadRequestError",
    "ContentFilterError",
    "ContextLengthError",
    "DriverConfigError",
    "DriverNotFoundError",
    "GenerationError",
    "InvalidRequestError",
    "JanitoError",
    "ModelNotFoundError",
    "OutputError",
    "PluginLoadError",
    "ProviderOverloadedError",
    "RateLimitError",
]


class JanitoError(Exception):
    """Base class of every error janito-core raises."""


class DriverNotFoundError(JanitoError, LookupError):
    """No driver is registered under the requested name."""

    def __init__(
        self,
        name: str,
        available: list[str],
        install_hint: str | None = None,
        failed: list[str] | None = None,
    ) -> None:
        self.name = name
        self.available = available
        self.install_hint = install_hint
        self.failed = failed or []
        names = ", ".join(sorted(available)) or "none"
        message = f"No driver named {name!r}. Installed drivers: {names}."
        if install_hint:
            message += f" Install it with: {install_hint}"
        if self.failed:
            # Its plugin may be one of these, registered under another entry-point name.
            message += (
                f" Plugins that failed to load (one may provide it): {', '.join(self.failed)};"
                " see `janito-drivers list`."
            )
        super().__init__(message)


class PluginLoadError(JanitoError):
    """A plugin failed to import or to register; the original exception is ``__cause__``."""


class DriverConfigError(JanitoError, ValueError):
    """A driver cannot be configured as asked, e.g. its API key is missing."""


class InvalidRequestError(JanitoError, ValueError):
    """A generation was requested with arguments that cannot work."""


class GenerationError(JanitoError):
    """A generation ended with an error; raised by the blocking ``generate()``.

    ``status_code`` is the provider's HTTP status when there was one; ``retryable`` says
    whether the same request may succeed later (the harness already retried it if so).
    """

    def __init__(
        self, message: str, *, status_code: int | None = None, retryable: bool = False
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.retryable = retryable


class AuthenticationError(GenerationError):
    """The provider refused the API key, or the key may not use this model (401/403)."""


class RateLimitError(GenerationError):
    """Rate limited or out of quota (429).

    ``retry_after`` is the wait in seconds the provider asked for, or None when it named none.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = 429,
        retryable: bool = True,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status_code=status_code, retryable=retryable)
        self.retry_after = retry_after


class BadRequestError(GenerationError):
    """The provider rejected the request as sent (400/413/422); sending it again will not help.

    Not to be confused with ``InvalidRequestError``, raised at the call before any request.
    """


class ContextLengthError(BadRequestError):
    """The provider said the conversation does not fit the model's context window."""


class ModelNotFoundError(GenerationError):
    """The provider does not know the model, or the endpoint does not exist (404)."""


class ProviderOverloadedError(GenerationError):
    """The provider had a server error or is overloaded (5xx, 529)."""


class ContentFilterError(GenerationError):
    """The provider's safety system blocked the prompt or the answer."""


class OutputError(GenerationError):
    """The final answer is not valid for the ``output_schema`` asked for.

    ``text`` is the answer exactly as the model wrote it; ``reason`` says what failed (not JSON,
    or which field broke the schema).
    """

    def __init__(self, reason: str, *, text: str) -> None:
        shown = text if len(text) <= 200 else text[:200] + "..."
        super().__init__(
            f"the answer does not match the output schema: {reason} (answer: {shown!r})"
        )
        self.reason = reason
        self.text = text
