"""The example plugin: registers the ``example`` driver without importing it."""

from __future__ import annotations

from janito_core import hookimpl
from janito_core.hookspecs import DriverRegistrar


@hookimpl
def register_drivers(register: DriverRegistrar) -> None:
    """Register ``example``; its module is imported only when someone asks for the driver."""
    register(
        "example",
        "janito_driver_example.driver:ExampleDriver",
        description="the example wire format of the plugin author's guide",
    )
