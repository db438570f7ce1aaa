"""The example plugin: registers the ``example`` driver without importing it, and two presets
(named configurations of a driver class that already exists: no class of their own)."""

from __future__ import annotations

from importlib.util import find_spec

from janito_core import hookimpl
from janito_core.hookspecs import DriverRegistrar


@hookimpl
def register_drivers(register: DriverRegistrar) -> None:
    """Register ``example`` and its presets; their modules are imported only when someone asks
    for one of them."""
    register(
        "example",
        "janito_driver_example.driver:ExampleDriver",
        description="the example wire format of the plugin author's guide",
    )
    # A preset of our own driver: an example-wire server on this machine, needing no key.
    register(
        "example-local",
        "janito_driver_example.driver:ExampleDriver",
        description="an example-wire server on localhost:8765, no key",
        preset={
            "base_url": "http://localhost:8765",
            "requires_api_key": False,
            "default_model": "example-small",
        },
    )
    # A preset of another distribution's driver: an OpenAI-compatible service, registered only
    # where janito-driver-openai is installed (find_spec looks, it does not import).
    if find_spec("janito_driver_openai") is not None:
        register(
            "example-gateway",
            "janito_driver_openai.driver:OpenAIDriver",
            description="a made-up OpenAI-compatible gateway (a preset of the openai driver)",
            preset={
                "base_url": "https://gateway.example.invalid/v1",
                "api_key_env": ("EXAMPLE_GATEWAY_KEY",),
                "default_model": "gateway-large",
            },
        )
