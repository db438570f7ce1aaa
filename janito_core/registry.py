"""Finding drivers: plugins from the ``janito.plugins`` entry points, loaded one by one.

A plugin that fails to import or to register is recorded, never raised, so the others still
load. ``JANITO_DISABLE_PLUGINS`` (comma-separated entry-point or distribution names) skips
plugins. Drivers are registered by ``"module:Class"`` and imported only when asked for; a
preset (``register(..., preset={...})``) names a configuration of such a class.
"""

from __future__ import annotations

import importlib
import logging
import os
import threading
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from janito_core.entrypoints import PluginEntryPoint, find_entry_points
from janito_core.errors import DriverNotFoundError, PluginLoadError

if TYPE_CHECKING:
    import pluggy

    from janito_core.driver import LLMDriver
    from janito_core.events import Event

__all__ = ["DriverInfo", "Registry", "get_driver", "list_drivers", "reload_plugins"]

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "janito.plugins"
DISABLE_VARIABLE = "JANITO_DISABLE_PLUGINS"
CORE_DISTRIBUTION = "janito-core"
FIRST_PARTY = {
    "openai": "janito-driver-openai",
    "gemini": "janito-driver-gemini",
    "mistral": "janito-driver-mistral",
    "anthropic": "janito-driver-anthropic",
    # Presets of the OpenAI driver.
    **dict.fromkeys(
        ("deepseek", "groq", "openrouter", "together", "xai", "ollama", "vllm", "azure-openai"),
        "janito-driver-openai",
    ),
}
_BUILTIN_PLUGINS = ("janito_core.builtin",)
# The keys of a preset that replace class attributes of the target; any other key is a default
# for the constructor's keyword of that name.
PRESET_ATTRIBUTES = frozenset(
    {"default_model", "api_key_env", "requires_api_key", "price_provider"}
)


# NamedTuples, not attrs classes: listing drivers must start fast, and attrs costs ~50 ms to import.
class DriverInfo(NamedTuple):
    """An installed driver (or a plugin that failed): where it comes from and whether it works."""

    name: str
    distribution: str
    version: str
    status: Literal["ok", "error"]
    target: str | None = None
    description: str = ""
    error: str | None = None
    exception: BaseException | None = None
    #: For a preset, its settings (read-only); None for a driver class registered as itself.
    preset: Mapping[str, Any] | None = None

    @property
    def ok(self) -> bool:
        """True when the driver can be asked for."""
        return self.status == "ok"


class Registry:
    """The drivers of the installed plugins; built on first use, thread-safe."""

    def __init__(self, entry_points: Iterable[Any] | None = None) -> None:
        """``entry_points`` replaces discovery (``PluginEntryPoint``s or importlib's)."""
        self._entry_points = entry_points
        self._lock = threading.Lock()
        self._drivers: dict[str, DriverInfo] | None = None
        self._failures: list[DriverInfo] = []
        self._classes: dict[str, type[LLMDriver]] = {}
        self._observer: Callable[[Event], object] | None = None
        self._manager: pluggy.PluginManager | None = None

    def _load(self) -> dict[str, DriverInfo]:
        with self._lock:
            if self._drivers is None:
                found = _discover(self._entry_points)
                self._drivers, self._failures, self._observer, self._manager = found
            return self._drivers

    def observer(self) -> Callable[[Event], object] | None:
        """One callable that calls the plugins' ``observe_event`` hooks, or None if none has one.

        The call goes through pluggy's own hook calling, so ``tryfirst``, ``trylast`` and
        ``wrapper=True`` implementations behave as pluggy documents; each plain implementation
        is guarded, so one plugin that raises never keeps the others from seeing the event.
        """
        self._load()
        return self._observer

    @property
    def plugin_manager(self) -> pluggy.PluginManager:
        """The pluggy ``PluginManager`` holding the loaded plugins, for introspection."""
        self._load()
        assert self._manager is not None
        return self._manager

    def observers(self) -> list[Callable[[Event], object]]:
        """``[observer()]``, or ``[]``: the plugins' observers as a list."""
        observer = self.observer()
        return [] if observer is None else [observer]

    def infos(self) -> list[DriverInfo]:
        """Every driver, then every plugin that failed, sorted by name."""
        drivers = self._load()
        return sorted([*drivers.values(), *self._failures], key=lambda i: (i.name, i.distribution))

    def names(self) -> list[str]:
        """The names of the drivers that loaded."""
        return sorted(n for n, info in self._load().items() if info.ok)

    def driver_class(self, name: str) -> type[LLMDriver]:
        """Import and return the class registered as ``name``."""
        drivers = self._load()
        info = drivers.get(name)
        if info is None:
            failed = next((f for f in self._failures if f.name == name), None)
            if failed is not None:
                raise PluginLoadError(
                    f"The plugin providing {name!r} ({failed.distribution}) failed to load: "
                    f"{failed.error}"
                ) from failed.exception
            install = FIRST_PARTY.get(name)
            hint = f"pip install {install}" if install else None
            failures = [f"{f.name} ({f.distribution})" for f in self._failures]
            raise DriverNotFoundError(name, self.names(), hint, failures)
        cached = self._classes.get(name)
        if cached is not None:
            return cached
        assert info.target is not None
        cls = _import_target(info)
        if info.preset is not None:
            cls = _preset_class(cls, info.name, info.preset)
        self._classes[name] = cls
        return cls

    def create(self, name: str, **config: Any) -> LLMDriver:
        """Build driver ``name`` with ``config``."""
        return self.driver_class(name)(**config)


def _import_target(info: DriverInfo) -> type[LLMDriver]:
    from janito_core.driver import LLMDriver

    assert info.target is not None
    module_name, _, attribute = info.target.partition(":")
    try:
        module = importlib.import_module(module_name)
        cls = getattr(module, attribute)
    except Exception as exc:
        raise PluginLoadError(
            f"Driver {info.name!r} from {info.distribution} could not be imported "
            f"({info.target}): {type(exc).__name__}: {exc}"
        ) from exc
    if not (isinstance(cls, type) and issubclass(cls, LLMDriver)):
        raise PluginLoadError(f"{info.target} (driver {info.name!r}) is not an LLMDriver subclass")
    return cls


def _preset_class(base: type[LLMDriver], name: str, preset: Mapping[str, Any]) -> type[LLMDriver]:
    """A subclass of ``base`` named ``name``, with ``preset``'s attributes and defaults."""
    attributes: dict[str, Any] = {k: v for k, v in preset.items() if k in PRESET_ATTRIBUTES}
    defaults = MappingProxyType({k: v for k, v in preset.items() if k not in PRESET_ATTRIBUTES})

    def __init__(self: LLMDriver, **config: Any) -> None:
        for key, value in defaults.items():
            if config.get(key) is None:
                config[key] = value
        base.__init__(self, **config)

    namespace = {
        **attributes,
        "name": name,
        "preset_defaults": defaults,
        "__init__": __init__,
        "__module__": base.__module__,
        "__qualname__": base.__qualname__,
        "__doc__": f"The {name!r} preset of {base.__qualname__}.",
    }
    # Named as its base: reprs and tracebacks show the class that does the work.
    return type(base.__name__, (base,), namespace)


def _check_preset(preset: object) -> Mapping[str, Any]:
    """``preset`` validated and frozen (read at registration: a mistake fails that plugin)."""
    if not isinstance(preset, Mapping) or not all(isinstance(k, str) for k in preset):
        raise ValueError(f"a preset must be a mapping with str keys, got {preset!r}")
    checked = dict(preset)
    variables = checked.get("api_key_env", ())
    if isinstance(variables, str):
        variables = (variables,)
    if not isinstance(variables, (tuple, list)) or not all(
        isinstance(v, str) and v for v in variables
    ):
        raise ValueError(f"a preset's api_key_env must be variable names, got {variables!r}")
    if "api_key_env" in checked:
        checked["api_key_env"] = tuple(variables)
    for key, kind in (("default_model", str), ("requires_api_key", bool)):
        if key in checked and not isinstance(checked[key], kind):
            raise ValueError(f"a preset's {key} must be a {kind.__name__}, got {checked[key]!r}")
    price = checked.get("price_provider")
    if price is not None and not isinstance(price, str):
        raise ValueError(f"a preset's price_provider must be a str or None, got {price!r}")
    return MappingProxyType(checked)


def _disabled() -> set[str]:
    raw = os.environ.get(DISABLE_VARIABLE, "")
    return {item.strip().lower() for item in raw.split(",") if item.strip()}


def _discover(
    entry_points: Iterable[Any] | None,
) -> tuple[
    dict[str, DriverInfo],
    list[DriverInfo],
    Callable[[Event], object] | None,
    pluggy.PluginManager,
]:
    import pluggy

    from janito_core import hookspecs

    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    owners: dict[object, PluginEntryPoint] = {}
    failures: list[DriverInfo] = []
    disabled = _disabled()

    def fail(plugin: PluginEntryPoint, stage: str, exc: BaseException) -> None:
        log.debug("plugin %s failed to %s", plugin.name, stage, exc_info=exc)
        failures.append(
            DriverInfo(
                name=plugin.name,
                distribution=plugin.distribution,
                version=plugin.version,
                status="error",
                error=f"failed to {stage}: {type(exc).__name__}: {exc}",
                exception=exc,
            )
        )

    from janito_core import __version__ as core_version

    for module_name in _BUILTIN_PLUGINS:
        module = importlib.import_module(module_name)
        manager.register(module, name=module_name)
        owners[module] = PluginEntryPoint(module_name, module_name, CORE_DISTRIBUTION, core_version)

    found = (
        [_as_plugin_entry_point(e) for e in entry_points]
        if entry_points is not None
        else find_entry_points(ENTRY_POINT_GROUP)
    )
    for entry_point in found:
        plugin = entry_point
        if {plugin.name.lower(), plugin.distribution.lower()} & disabled:
            log.debug("plugin %s disabled by %s", plugin.name, DISABLE_VARIABLE)
            continue
        try:
            module = entry_point.load()
        except Exception as exc:
            fail(plugin, "import", exc)
            continue
        try:
            manager.register(module, name=f"{plugin.distribution}:{plugin.name}")
        except Exception as exc:
            fail(plugin, "register", exc)
            continue
        owners[module] = plugin

    drivers: dict[str, DriverInfo] = {}
    for impl in manager.hook.register_drivers.get_hookimpls():
        plugin = owners[impl.plugin]
        registrar = _Registrar(plugin)
        try:
            impl.function(register=registrar)
        except Exception as exc:
            fail(plugin, "register its drivers", exc)
            continue
        for info in registrar.added:
            if info.name in drivers:
                owner = drivers[info.name].distribution
                taken = ValueError(f"driver name {info.name!r} is already taken by {owner}")
                fail(plugin, "register its drivers", taken)
                continue
            drivers[info.name] = info
    hook = manager.hook.observe_event
    impls = hook.get_hookimpls()
    if not impls:
        return drivers, failures, None, manager
    for impl in impls:
        if not (impl.wrapper or impl.hookwrapper):
            # HookImpl.function is typed Final, but pluggy reads it at each call: swapping it
            # is how a guard goes around one plugin's implementation and no other.
            setattr(impl, "function", _guarded(impl.function, owners[impl.plugin].name))  # noqa: B010

    def observe(event: Event) -> None:
        hook(event=event)

    return drivers, failures, observe, manager


def _guarded(function: Callable[..., object], plugin: str) -> Callable[..., object]:
    """``function``, with what it raises logged instead of stopping the other plugins."""
    failed = False

    def guard(*args: object, **kwargs: object) -> object:
        nonlocal failed
        try:
            return function(*args, **kwargs)
        except Exception:
            # Logged in full once per plugin, then quietly: an observer that fails for every
            # event must not flood the log.
            level = logging.DEBUG if failed else logging.ERROR
            log.log(level, "observe_event of plugin %s failed", plugin, exc_info=True)
            failed = True
            return None

    return guard


class _Registrar:
    """The ``register`` callable one plugin's hook receives."""

    def __init__(self, plugin: PluginEntryPoint) -> None:
        self.plugin = plugin
        self.added: list[DriverInfo] = []

    def __call__(
        self,
        name: str,
        target: str,
        *,
        description: str = "",
        preset: Mapping[str, Any] | None = None,
    ) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError(f"driver name must be a non-empty str, got {name!r}")
        if not isinstance(target, str) or ":" not in target:
            raise ValueError(f"driver target must be 'module:Class', got {target!r}")
        checked = None if preset is None else _check_preset(preset)
        self.added.append(
            DriverInfo(
                name=name,
                distribution=self.plugin.distribution,
                version=self.plugin.version,
                status="ok",
                target=target,
                description=description,
                preset=checked,
            )
        )


def _as_plugin_entry_point(entry_point: Any) -> PluginEntryPoint:
    if isinstance(entry_point, PluginEntryPoint):
        return entry_point
    dist = getattr(entry_point, "dist", None)  # an importlib.metadata.EntryPoint
    return PluginEntryPoint(
        entry_point.name,
        entry_point.value,
        dist.name if dist is not None else "unknown",
        dist.version if dist is not None else "unknown",
    )


_default: Registry | None = None
_default_lock = threading.Lock()


def default_registry() -> Registry:
    """The process-wide registry, built on first use."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Registry()
        return _default


def reload_plugins() -> None:
    """Forget the loaded plugins; the next lookup discovers them again (reads the environment)."""
    global _default
    with _default_lock:
        _default = None


def get_driver(name: str, **config: Any) -> LLMDriver:
    """Look up driver ``name`` and build it with ``config`` (``model``, ``api_key``, ...)."""
    return default_registry().create(name, **config)


def list_drivers() -> list[DriverInfo]:
    """Every installed driver with its distribution, version and status. Imports no SDK."""
    return default_registry().infos()
