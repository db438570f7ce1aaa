"""Registers the ``gemini`` driver with janito-core (imports no SDK)."""

from __future__ import annotations

from janito_core.hookspecs import DriverRegistrar, hookimpl


@hookimpl
def register_drivers(register: DriverRegistrar) -> None:
    """Register ``gemini``."""
    register("gemini", "janito_driver_gemini.driver:GeminiDriver", description="gemini")
