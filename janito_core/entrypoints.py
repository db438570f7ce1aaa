"""Reading installed entry points without ``importlib.metadata``.

On Python 3.11 ``import importlib.metadata`` alone costs ~90 ms (it pulls in the ``email``
package), which would be most of ``janito-drivers list``. Entry points are small text files, so
this reads ``*.dist-info`` / ``*.egg-info`` directories on ``sys.path`` directly, in ``sys.path``
order and first-found-wins per distribution, as ``importlib.metadata`` does. When a path entry is
something else (a zip archive), it falls back to ``importlib.metadata`` for correctness.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from typing import Any, NamedTuple

__all__ = ["PluginEntryPoint", "find_entry_points"]

_NORMALISE = re.compile(r"[-_.]+")


class PluginEntryPoint(NamedTuple):
    """One entry point of a group, with the distribution that declares it."""

    name: str
    value: str
    distribution: str
    version: str

    def load(self) -> Any:
        """Import the module (and attribute, if any) the entry point names."""
        module_name, _, attribute = self.value.partition(":")
        target: Any = importlib.import_module(module_name.strip())
        for part in attribute.split("[")[0].strip().split("."):
            if part:
                target = getattr(target, part)
        return target


def find_entry_points(group: str, path: list[str] | None = None) -> list[PluginEntryPoint]:
    """Entry points of ``group`` in the distributions installed on ``path`` (``sys.path``)."""
    entries = sys.path if path is None else path
    found: list[PluginEntryPoint] = []
    seen: set[str] = set()
    for entry in entries:
        directory = entry or "."
        if os.path.isfile(directory):
            return _from_importlib(group)
        try:
            names = sorted(os.listdir(directory))
        except OSError:
            continue
        for name in names:
            if not name.endswith((".dist-info", ".egg-info")):
                continue
            # The directory name starts with the (normalised) distribution name: enough to let
            # the first copy on the path win without reading every METADATA file.
            key = _NORMALISE.sub("-", name.rsplit(".", 1)[0].split("-")[0]).lower()
            if key in seen:
                continue
            seen.add(key)
            meta_dir = os.path.join(directory, name)
            points = _read_group(os.path.join(meta_dir, "entry_points.txt"), group)
            if points:
                distribution, version = _name_and_version(meta_dir, name)
                found += [PluginEntryPoint(n, v, distribution, version) for n, v in points]
    return found


def _read_group(filename: str, group: str) -> list[tuple[str, str]]:
    try:
        with open(filename, encoding="utf-8") as handle:
            text = handle.read()
    except OSError:
        return []
    points: list[tuple[str, str]] = []
    section = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
            continue
        if section == group and "=" in line:
            name, _, value = line.partition("=")
            points.append((name.strip(), value.strip()))
    return points


def _name_and_version(meta_dir: str, dirname: str) -> tuple[str, str]:
    """Name and Version from the metadata headers; the directory name if they are missing."""
    stem = dirname.rsplit(".", 1)[0]
    fallback_name, _, fallback_version = stem.partition("-")
    name, version = fallback_name, fallback_version.split("-")[0] or "unknown"
    for filename in ("METADATA", "PKG-INFO"):
        try:
            with open(os.path.join(meta_dir, filename), encoding="utf-8") as handle:
                for line in handle:
                    if not line.strip():
                        break  # the headers end at the first blank line
                    key, _, value = line.partition(":")
                    if key == "Name":
                        name = value.strip()
                    elif key == "Version":
                        version = value.strip()
        except OSError:
            continue
        break
    return name, version


def _from_importlib(group: str) -> list[PluginEntryPoint]:
    from importlib import metadata

    return [
        PluginEntryPoint(
            ep.name,
            ep.value,
            ep.dist.name if ep.dist is not None else "unknown",
            ep.dist.version if ep.dist is not None else "unknown",
        )
        for ep in metadata.entry_points(group=group)
    ]
