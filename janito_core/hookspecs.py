"""The hooks a janito plugin may implement, each documented where it is declared.

A plugin is a module named by an entry point in the ``janito.plugins`` group; it implements these
with the ``janito_core.hookimpl`` marker. The built-in ``echo`` driver is registered the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

import pluggy

if TYPE_CHECKING:
    from janito_core.events import Event

PROJECT = "janito"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


class DriverRegistrar(Protocol):
    """What ``register_drivers`` receives: call it once per driver."""

    def __call__(
        self,
        name: str,
        target: str,
        *,
        description: str = "",
        preset: Mapping[str, Any] | None = None,
    ) -> None:
        """Register driver ``name`` implemented by ``target`` (``"package.module:Class"``).

        The target is imported only when the driver is asked for, so registering never
        imports a provider SDK.

        ``preset`` makes ``name`` a named configuration of an existing driver class (e.g.
        ``deepseek`` of the OpenAI driver) instead of a class of its own. Its keys:

        - ``default_model``, ``api_key_env`` (a tuple of variable names), ``requires_api_key``
          and ``price_provider`` replace those class attributes of ``target``;
        - any other key (``base_url``, or one of the target's own keywords such as the OpenAI
          driver's ``quirks``) is a default for the constructor, used when the caller passes
          nothing (or None) for it.

        The driver built is a subclass of ``target`` whose ``name`` is ``name``, so events,
        errors and a missing key speak of the preset. Values must be plain data: the preset is
        read when the registry loads, before any driver module is imported.
        """


@hookspec
def register_drivers(register: DriverRegistrar) -> None:
    """Register the drivers this plugin provides by calling ``register(name, "module:Class")``
    (with ``preset={...}`` for a named configuration of a driver class, see ``DriverRegistrar``).

    Called once per plugin when the registry loads. Must not import provider SDKs.
    """


@hookspec
def observe_event(event: Event) -> None:
    """See every event of every generation, in order, as it is emitted.

    Called on the generation's event loop thread (the shared ``janito-loop`` for
    ``stream_generate``, the caller's loop for ``astream_generate``) as each event is committed:
    return quickly and do not block, or every generation on that loop waits. Called through
    pluggy, so ``tryfirst``/``trylast``/``wrapper=True`` work; an implementation that raises is
    logged and the others still see the event.
    """
