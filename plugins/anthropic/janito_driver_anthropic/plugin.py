"""Registers the ``anthropic`` driver with janito-core (imports no SDK)."""

from __future__ import annotations

from janito_core.hookspecs import DriverRegistrar, hookimpl


@hookimpl
def register_drivers(register: DriverRegistrar) -> None:
    """Register ``anthropic``."""
    register("anthropic", "janito_driver_anthropic.driver:AnthropicDriver", description="anthropic")
