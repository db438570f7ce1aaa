"""Registers the ``mistral`` driver with janito-core (imports no SDK)."""

from __future__ import annotations

from janito_core.hookspecs import DriverRegistrar, hookimpl


@hookimpl
def register_drivers(register: DriverRegistrar) -> None:
    """Register ``mistral``."""
    register("mistral", "janito_driver_mistral.driver:MistralDriver", description="mistral")
