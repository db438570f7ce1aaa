"""The guard that keeps a subclass of the suite from silently redefining a standard test."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

_F = TypeVar("_F", bound=Callable[..., Any])

_OVERRIDE_MARK = "__conformance_override__"


def conformance_override(reason: str) -> Callable[[_F], _F]:
    """Mark a subclass's redefinition of a standard test as deliberate, saying why.

    Without it, redefining (or setting to None) a ``test_*`` of ``DriverConformanceTests``
    raises ``TypeError`` when the subclass is created. Prefer ``WireAdapter.unsupported`` when
    the provider simply lacks a capability: the test is then skipped with the reason shown.
    """
    if not isinstance(reason, str) or not reason.strip():
        raise TypeError('conformance_override needs a reason: @conformance_override("why")')

    def mark(test: _F) -> _F:
        setattr(test, _OVERRIDE_MARK, reason)
        return test

    return mark


def standard_tests(suite: type) -> frozenset[str]:
    """The ``test_*`` names that the classes ``suite`` is made of define.

    Raises ``TypeError`` if two of them define the same name: one test would silently hide the
    other.
    """
    owners: dict[str, str] = {}
    for klass in suite.__mro__:
        for name in vars(klass):
            if not name.startswith("test_"):
                continue
            if name in owners:
                raise TypeError(
                    f"{name} is defined by both {owners[name]} and {klass.__qualname__}"
                )
            owners[name] = klass.__qualname__
    return frozenset(owners)


def check_overrides(cls: type, standard: frozenset[str]) -> None:
    """Raise ``TypeError`` if ``cls`` redefines one of the ``standard`` tests unmarked."""
    for name, value in vars(cls).items():
        if name not in standard:
            continue
        target = getattr(value, "__func__", value)  # see through staticmethod/classmethod
        if not getattr(target, _OVERRIDE_MARK, None):
            raise TypeError(
                f"{cls.__qualname__}.{name} replaces a standard conformance test; a driver "
                "that cannot pass it declares the capability in adapter.unsupported, or "
                'marks the override with @conformance_override("reason")'
            )
