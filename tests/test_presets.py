"""Presets: ``register(name, target, preset={...})`` makes ``name`` a named configuration of an
existing driver class (here the built-in echo driver), without a class of its own."""

from __future__ import annotations

import sys
import types
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from janito_core import hookimpl
from janito_core.echo import EchoDriver
from janito_core.entrypoints import PluginEntryPoint
from janito_core.errors import DriverConfigError
from janito_core.hookspecs import DriverRegistrar
from janito_core.registry import Registry

PLUGIN = "janito_test_preset_plugin"
ECHO = "janito_core.echo:EchoDriver"


def registry_of(
    registrations: Callable[[DriverRegistrar], None], monkeypatch: pytest.MonkeyPatch
) -> Registry:
    """A registry whose one plugin (distribution ``janito-driver-presets``) calls
    ``registrations(register)``."""
    module = types.ModuleType(PLUGIN)

    @hookimpl
    def register_drivers(register: DriverRegistrar) -> None:
        registrations(register)

    module.register_drivers = register_drivers  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, PLUGIN, module)
    return Registry([PluginEntryPoint("presets", PLUGIN, "janito-driver-presets", "1.2.3")])


def test_a_preset_builds_its_target_with_its_name_and_defaults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PARROT_KEY", raising=False)
    preset: Mapping[str, Any] = {
        "default_model": "parrot-2",
        "api_key_env": ("PARROT_KEY", "PARROT_TOKEN"),
        "requires_api_key": True,
        "price_provider": "parrot-prices",
        "base_url": "http://parrot.invalid/v1",
    }
    registry = registry_of(
        lambda register: register("parrot", ECHO, description="an echo", preset=preset),
        monkeypatch,
    )
    (info,) = [i for i in registry.infos() if i.name == "parrot"]
    assert (info.distribution, info.version, info.ok) == ("janito-driver-presets", "1.2.3", True)
    assert info.target == ECHO and info.preset is not None
    assert info.preset["api_key_env"] == ("PARROT_KEY", "PARROT_TOKEN")

    with pytest.raises(
        DriverConfigError, match="The parrot driver needs an API key: set PARROT_KEY"
    ):
        registry.create("parrot")
    monkeypatch.setenv("PARROT_KEY", "k-123")
    driver = registry.create("parrot")
    assert isinstance(driver, EchoDriver)
    assert driver.name == "parrot" and EchoDriver.name == "echo"
    assert type(driver).price_provider == "parrot-prices"
    assert driver.config.model == "parrot-2" and driver.config.api_key == "k-123"
    assert driver.config.base_url == "http://parrot.invalid/v1"
    assert type(driver).__name__ == "EchoDriver"
    # The constructor's defaults give way to what the caller passes.
    other = registry.create("parrot", base_url="http://elsewhere.invalid", model="parrot-3")
    assert (other.config.base_url, other.config.model) == ("http://elsewhere.invalid", "parrot-3")
    # One class per preset, made once.
    assert type(other) is type(driver) is registry.driver_class("parrot")
    events = [type(e).__name__ for e in driver.stream_generate("hi").result().events]
    assert events[0] == "GenerationStarted"
    assert driver.generate("hi").text


def test_registering_without_a_preset_still_works(monkeypatch: pytest.MonkeyPatch) -> None:
    registry = registry_of(lambda register: register("echo2", ECHO, description="x"), monkeypatch)
    (info,) = [i for i in registry.infos() if i.name == "echo2"]
    assert info.preset is None
    assert registry.driver_class("echo2") is EchoDriver


@pytest.mark.parametrize(
    ("preset", "message"),
    [
        (["base_url"], "mapping"),
        ({"api_key_env": [""]}, "api_key_env"),
        ({"api_key_env": 3}, "api_key_env"),
        ({"default_model": 3}, "default_model"),
        ({"requires_api_key": "no"}, "requires_api_key"),
        ({"price_provider": 1}, "price_provider"),
    ],
)
def test_a_bad_preset_fails_its_plugin_only(
    preset: Any, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = registry_of(lambda register: register("bad", ECHO, preset=preset), monkeypatch)
    (failure,) = [i for i in registry.infos() if i.distribution == "janito-driver-presets"]
    assert failure.status == "error" and message in (failure.error or "")
    assert "echo" in registry.names()


def test_a_single_variable_name_is_taken_as_a_tuple(monkeypatch: pytest.MonkeyPatch) -> None:
    registry = registry_of(
        lambda register: register("one", ECHO, preset={"api_key_env": "ONE_KEY"}), monkeypatch
    )
    assert registry.driver_class("one").api_key_env == ("ONE_KEY",)
