"""Build hook for the core sdist: its pyproject.toml without the uv workspace tables.

The root pyproject.toml is also the uv workspace root: its ``[tool.uv.workspace]`` and
``[tool.uv.sources]`` point at the plugins' folders, which the sdist does not contain. Left in,
they make ``uv pip install`` of an unpacked sdist fail (a source naming a workspace member or a
missing path), so the sdist gets a copy of the file without those tables; the ``[project]``
table, and so the metadata, is the same.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

# A table header at the start of a line: [name] or [[name]], with an optional comment.
_HEADER = re.compile(r'^\[\[?\s*([A-Za-z0-9_.\-"]+)\s*\]\]?\s*(#.*)?$')
_WORKSPACE_ONLY = ("tool.uv.workspace", "tool.uv.sources")


def strip_workspace_tables(text: str) -> str:
    """``text`` (a pyproject.toml) without the uv workspace tables and the comments just above."""
    kept: list[str] = []
    dropping = False
    for line in text.splitlines(keepends=True):
        header = _HEADER.match(line)
        if header:
            name = header.group(1).replace('"', "")
            dropping = name in _WORKSPACE_ONLY or name.startswith(
                tuple(table + "." for table in _WORKSPACE_ONLY)
            )
            if dropping:
                # The comment block right above a dropped table explains that table.
                while kept and kept[-1].startswith("#"):
                    kept.pop()
        if not dropping:
            kept.append(line)
    return "".join(kept).rstrip("\n") + "\n"


class CustomBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    """Puts the stripped pyproject.toml in the sdist instead of the workspace one."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "sdist":
            return
        original = os.path.join(self.root, "pyproject.toml")
        with open(original, encoding="utf-8") as f:
            text = f.read()
        stripped = strip_workspace_tables(text)
        if sys.version_info >= (3, 11):  # a check, where the standard library can parse TOML
            import tomllib

            before, after = tomllib.loads(text), tomllib.loads(stripped)
            left = after.get("tool", {}).get("uv", {}).keys() & {"workspace", "sources"}
            if left or before["project"] != after["project"]:
                raise RuntimeError(f"stripping the uv tables went wrong: {sorted(left)} left")
        self._tmp = tempfile.mkdtemp(prefix="janito-sdist-")
        copy = os.path.join(self._tmp, "pyproject.toml")
        with open(copy, "w", encoding="utf-8") as f:
            f.write(stripped)
        build_data["force_include"].pop(original, None)
        build_data["force_include"][copy] = "pyproject.toml"

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        tmp = getattr(self, "_tmp", None)
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
