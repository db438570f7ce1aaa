"""The exceptions janito-core raises.

JanitoError
 ├── DriverNotFoundError   no driver registered under that name
 ├── PluginLoadError       a plugin failed to import or register (original as __cause__)
 ├── DriverConfigError     a driver cannot be built: missing key, bad option
 ├── InvalidRequestError   a call was malformed (no prompt, bad tool schema); also a ValueError
 └── GenerationError       a generation ended with status "error" (raised by ``generate()``)
"""

from __future__ import annotations


class JanitoError(Exception):
    """Base class of every error janito-core raises."""


class DriverNotFoundError(JanitoError, LookupError):
    """No driver is registered under the requested name."""

    def __init__(self, name: str, available: list[str], install_hint: str | None = None) -> None:
        self.name = name
        self.available = available
        self.install_hint = install_hint
        names = ", ".join(sorted(available)) or "none"
        message = f"No driver named {name!r}. Installed drivers: {names}."
        if install_hint:
            message += f" Install it with: {install_hint}"
        super().__init__(message)


class PluginLoadError(JanitoError):
    """A plugin failed to import or to register; the original exception is ``__cause__``."""


class DriverConfigError(JanitoError, ValueError):
    """A driver cannot be configured as asked, e.g. its API key is missing."""


class InvalidRequestError(JanitoError, ValueError):
    """A generation was requested with arguments that cannot work."""


class GenerationError(JanitoError):
    """A generation ended with an error; raised by the blocking ``generate()``."""

    def __init__(
        self, message: str, *, status_code: int | None = None, retryable: bool = False
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.retryable = retryable
