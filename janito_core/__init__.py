"""janito-core: one stream of events for every LLM provider, with exact cancellation.

Light to import: provider SDKs load only when their driver is asked for.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

# A library must not print through logging's last-resort handler; applications configure logging.
logging.getLogger(__name__).addHandler(logging.NullHandler())

__version__ = "0.2.0"

__all__ = [
    "AsyncEventStream",
    "Attachment",
    "AuthenticationError",
    "BadRequestError",
    "ContentFilterError",
    "ContextLengthError",
    "DriverConfigError",
    "DriverInfo",
    "DriverNotFoundError",
    "EventStream",
    "GenerationError",
    "GenerationResult",
    "InvalidRequestError",
    "JanitoError",
    "LLMDriver",
    "Message",
    "ModelNotFoundError",
    "OutputError",
    "PluginLoadError",
    "ProviderOverloadedError",
    "RateLimitError",
    "Tool",
    "ToolCall",
    "Usage",
    "events",
    "get_driver",
    "hookimpl",
    "list_drivers",
]

# name -> module that defines it; loaded on first access so `import janito_core` stays cheap.
_EXPORTS = {
    "AsyncEventStream": "janito_core.aio",
    "Attachment": "janito_core.attachments",
    "OutputError": "janito_core.errors",
    "AuthenticationError": "janito_core.errors",
    "BadRequestError": "janito_core.errors",
    "ContentFilterError": "janito_core.errors",
    "ContextLengthError": "janito_core.errors",
    "ModelNotFoundError": "janito_core.errors",
    "ProviderOverloadedError": "janito_core.errors",
    "RateLimitError": "janito_core.errors",
    "DriverConfigError": "janito_core.errors",
    "DriverNotFoundError": "janito_core.errors",
    "GenerationError": "janito_core.errors",
    "InvalidRequestError": "janito_core.errors",
    "JanitoError": "janito_core.errors",
    "PluginLoadError": "janito_core.errors",
    "LLMDriver": "janito_core.driver",
    "EventStream": "janito_core.streams",
    "GenerationResult": "janito_core.result",
    "Message": "janito_core.messages",
    "ToolCall": "janito_core.messages",
    "Tool": "janito_core.tools",
    "Usage": "janito_core.usage",
    "DriverInfo": "janito_core.registry",
    "get_driver": "janito_core.registry",
    "list_drivers": "janito_core.registry",
    "hookimpl": "janito_core.hookspecs",
}

if TYPE_CHECKING:
    from janito_core import events
    from janito_core.aio import AsyncEventStream
    from janito_core.attachments import Attachment
    from janito_core.driver import LLMDriver
    from janito_core.errors import (
        AuthenticationError,
        BadRequestError,
        ContentFilterError,
        ContextLengthError,
        DriverConfigError,
        DriverNotFoundError,
        GenerationError,
        InvalidRequestError,
        JanitoError,
        ModelNotFoundError,
        OutputError,
        PluginLoadError,
        ProviderOverloadedError,
        RateLimitError,
    )
    from janito_core.hookspecs import hookimpl
    from janito_core.messages import Message, ToolCall
    from janito_core.registry import DriverInfo, get_driver, list_drivers
    from janito_core.result import GenerationResult
    from janito_core.streams import EventStream
    from janito_core.tools import Tool
    from janito_core.usage import Usage


def __getattr__(name: str) -> Any:
    import importlib

    if name == "events":
        return importlib.import_module("janito_core.events")
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'janito_core' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
