"""The registry, with real installed distributions (workspace members of the dev environment):
``janito-driver-testthirdparty`` works, ``janito-driver-broken`` fails in two ways."""

from __future__ import annotations

import subprocess
import sys

import pytest

from janito_core import (
    DriverConfigError,
    DriverNotFoundError,
    LLMDriver,
    PluginLoadError,
    get_driver,
    list_drivers,
)
from janito_core.registry import Registry

pytestmark = pytest.mark.usefixtures("fresh_registry")


def by_name() -> dict[str, object]:
    return {info.name: info for info in list_drivers()}


def test_installed_plugins_are_listed_with_distribution_and_version() -> None:
    infos = by_name()
    echo = infos["echo"]
    assert (echo.distribution, echo.status) == ("janito-core", "ok")  # type: ignore[attr-defined]
    third = infos["testthirdparty"]
    assert (third.distribution, third.version, third.status) == (  # type: ignore[attr-defined]
        "janito-driver-testthirdparty",
        "0.3.1",
        "ok",
    )
    # The Gemini driver needs Python >= 3.11 (its SDK does), so it is not installed on 3.10.
    gemini = ("gemini",) if sys.version_info >= (3, 11) else ()
    for first_party in ("openai", "mistral", *gemini):
        assert infos[first_party].ok  # type: ignore[attr-defined]


def test_broken_plugins_are_reported_and_do_not_stop_the_others() -> None:
    infos = by_name()
    broken = infos["broken"]
    assert broken.status == "error"  # type: ignore[attr-defined]
    assert "ModuleNotFoundError" in broken.error  # type: ignore[attr-defined]
    assert isinstance(broken.exception, ModuleNotFoundError)  # type: ignore[attr-defined]
    bad = infos["brokenregister"]
    assert "cannot register today" in bad.error  # type: ignore[attr-defined]
    driver = get_driver("testthirdparty", api_key="k")
    assert "".join(driver.generate("make some noise").text.split()) == "MAKESOMENOISE"


def test_asking_for_a_broken_plugin_raises_plugin_load_error_with_cause() -> None:
    with pytest.raises(PluginLoadError, match="failed to load") as info:
        get_driver("broken")
    assert isinstance(info.value.__cause__, ModuleNotFoundError)


def test_unknown_driver_lists_what_exists() -> None:
    with pytest.raises(DriverNotFoundError, match=r"Installed drivers: .*echo") as info:
        get_driver("nonesuch")
    assert info.value.install_hint is None


def test_first_party_driver_not_installed_names_the_pip_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("JANITO_DISABLE_PLUGINS", "janito-driver-openai")
    from janito_core import registry

    registry.reload_plugins()
    with pytest.raises(DriverNotFoundError, match="pip install janito-driver-openai"):
        get_driver("openai")


def test_disable_by_entry_point_or_distribution_name(monkeypatch: pytest.MonkeyPatch) -> None:
    from janito_core import registry

    monkeypatch.setenv("JANITO_DISABLE_PLUGINS", " broken , janito-driver-testthirdparty")
    registry.reload_plugins()
    names = by_name()
    assert "broken" not in names and "testthirdparty" not in names
    assert "brokenregister" in names and "echo" in names


def test_missing_key_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TESTTHIRDPARTY_API_KEY", raising=False)
    with pytest.raises(DriverConfigError, match="TESTTHIRDPARTY_API_KEY"):
        get_driver("testthirdparty")
    monkeypatch.setenv("TESTTHIRDPARTY_API_KEY", "from-env")
    assert get_driver("testthirdparty").config.api_key == "from-env"


def test_lookup_imports_only_that_drivers_module() -> None:
    code = (
        "import sys\n"
        "from janito_core import get_driver\n"
        "get_driver('testthirdparty', api_key='k')\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('janito_driver_'))\n"
        "print(','.join(loaded))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = out.stdout.strip().split(",")
    assert "janito_driver_testthirdparty.driver" in loaded
    assert not [m for m in loaded if m.endswith(".driver") and "testthirdparty" not in m]


def test_a_target_that_is_not_a_driver_is_refused() -> None:
    from importlib.metadata import EntryPoint

    registry = Registry(entry_points=[])
    assert registry.names() == ["echo"]
    assert issubclass(registry.driver_class("echo"), LLMDriver)
    fake = EntryPoint(name="x", value="janito_core.nonexistent_module", group="janito.plugins")
    registry = Registry(entry_points=[fake])
    (failure,) = [i for i in registry.infos() if i.name == "x"]
    assert failure.status == "error" and "ModuleNotFoundError" in (failure.error or "")


def test_a_missing_driver_names_the_plugins_that_failed(fresh_registry: None) -> None:
    # The dev environment installs janito-driver-broken, whose entry points (broken,
    # brokenregister) fail: a driver they meant to provide under another name must get a hint.
    with pytest.raises(DriverNotFoundError, match=r"failed to load.*janito-driver-broken") as info:
        get_driver("nosuchdriver")
    assert "janito-drivers list" in str(info.value)
    assert info.value.failed
