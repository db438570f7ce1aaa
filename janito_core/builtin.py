"""The plugin built into janito-core: it registers ``echo`` through the same hook as any plugin."""

from __future__ import annotations

from janito_core.hookspecs import DriverRegistrar, hookimpl


@hookimpl
def register_drivers(register: DriverRegistrar) -> None:
    """Register ``echo`` (imported only when asked for, like every driver)."""
    register("echo", "janito_core.echo:EchoDriver", description="offline echo, for trying things")
