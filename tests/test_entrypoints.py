"""Entry points read from installed metadata without importlib.metadata, checked against it."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

from janito_core.entrypoints import PluginEntryPoint, find_entry_points


def test_same_entry_points_as_importlib_metadata() -> None:
    ours = {
        (e.name, e.value, e.distribution, e.version) for e in find_entry_points("janito.plugins")
    }
    theirs = {
        (e.name, e.value, e.dist.name, e.dist.version)  # type: ignore[union-attr]
        for e in metadata.entry_points(group="janito.plugins")
    }
    assert ours == theirs
    assert ("testthirdparty", "janito_driver_testthirdparty.plugin") in {
        (name, value) for name, value, _, _ in ours
    }


def write_dist(root: Path, dirname: str, metadata_text: str, entry_points: str) -> None:
    meta = root / dirname
    meta.mkdir(parents=True)
    (meta / "METADATA").write_text(metadata_text)
    (meta / "entry_points.txt").write_text(entry_points)


def test_first_copy_on_the_path_wins_and_headers_give_name_and_version(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    write_dist(
        first,
        "acme_plugin-2.0.dist-info",
        "Metadata-Version: 2.1\nName: Acme-Plugin\nVersion: 2.0\n\nName: not a header\n",
        "[console_scripts]\nx = y:z\n\n[janito.plugins]\n# a comment\nacme = acme.plugin\n",
    )
    write_dist(
        second,
        "acme_plugin-1.0.dist-info",
        "Name: acme-plugin\nVersion: 1.0\n",
        "[janito.plugins]\nacme = old.plugin\n",
    )
    found = find_entry_points("janito.plugins", path=[str(first), str(second), "/nonexistent"])
    assert found == [PluginEntryPoint("acme", "acme.plugin", "Acme-Plugin", "2.0")]


def test_load_imports_module_and_attribute() -> None:
    point = PluginEntryPoint("x", "janito_core.registry:Registry", "janito-core", "0")
    from janito_core.registry import Registry

    assert point.load() is Registry
