"""The hooks a janito plugin may implement, each documented where it is declared.

A plugin is a module named by an entry point in the ``janito.plugins`` group; it implements these
with the ``janito_core.hookimpl`` marker. The built-in ``echo`` driver is registered the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import pluggy

if TYPE_CHECKING:
    from janito_core.events import Event

PROJECT = "janito"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


class DriverRegistrar(Protocol):
    """What ``register_drivers`` receives: call it once per driver."""

    def __call__(self, name: str, target: str, *, description: str = "") -> None:
        """Register driver ``name`` implemented by ``target`` (``"package.module:Class"``).

        The target is imported only when the driver is asked for, so registering never
        imports a provider SDK.
        """


@hookspec
def register_drivers(register: DriverRegistrar) -> None:
    """Register the drivers this plugin provides by calling ``register(name, "module:Class")``.

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
