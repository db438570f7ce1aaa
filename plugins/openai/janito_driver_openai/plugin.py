"""Registers the ``openai`` driver with janito-core (imports no SDK)."""

from __future__ import annotations

from janito_core.hookspecs import DriverRegistrar, hookimpl


@hookimpl
def register_drivers(register: DriverRegistrar) -> None:
    """Register ``openai``."""
    register(
        "openai",
        "janito_driver_openai.driver:OpenAIDriver",
        description="OpenAI Chat Completions or Responses API, and OpenAI-compatible servers",
    )
