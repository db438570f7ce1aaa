"""The distributions' metadata says what is true: one version, the Pythons CI runs, the licence.

Read from the pyproject.toml files of the repository (fast; no build). CI builds the
distributions, checks them with twine and installs the wheels in fresh environments.
"""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

if sys.version_info >= (3, 11):
    import tomllib
else:  # pytest depends on tomli below 3.11
    import tomli as tomllib

import janito_core

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(
    not (ROOT / "plugins").is_dir(), reason="needs the repository: the core sdist has no plugins/"
)

CORE = "janito-core"
FIRST_PARTY_DIRS = ("plugins/*", "docs/examples/*")
TEST_ONLY_DIRS = ("tests/fixtures/plugins/*",)
PRIVATE = "Private :: Do Not Upload"
PYTHON_CLASSIFIER = re.compile(r"^Programming Language :: Python :: (3\.\d+)$")


def load(path: Path) -> dict[str, Any]:
    with path.open("rb") as f:
        return tomllib.load(f)


def dirs(patterns: tuple[str, ...]) -> list[Path]:
    return sorted(p.parent for pattern in patterns for p in ROOT.glob(f"{pattern}/pyproject.toml"))


def ci_pythons() -> tuple[str, str]:
    """The oldest and newest Pythons .ci/run tests on."""
    text = (ROOT / ".ci" / "run").read_text()
    oldest = re.search(r"^OLDEST=(3\.\d+)$", text, re.MULTILINE)
    newest = re.search(r"^NEWEST=(3\.\d+)$", text, re.MULTILINE)
    assert oldest and newest, ".ci/run names no OLDEST= / NEWEST= Python"
    return oldest.group(1), newest.group(1)


def minor(version: str) -> int:
    return int(version.split(".")[1])


def floor(requires_python: str) -> str:
    """The X.Y of a ``>=X.Y`` requires-python (the only form these distributions use)."""
    match = re.fullmatch(r">=\s*(3\.\d+)", requires_python)
    assert match, f"requires-python should be a plain >=3.X floor, not {requires_python!r}"
    return match.group(1)


def line_bounds(version: str) -> SpecifierSet:
    """``>=X.Y,<X.(Y+1)``: the release line of ``version`` (the versioning policy)."""
    v = Version(version)
    return SpecifierSet(f">={v.major}.{v.minor},<{v.major}.{v.minor + 1}")


ALL = [ROOT, *dirs(FIRST_PARTY_DIRS), *dirs(TEST_ONLY_DIRS)]
IDS = [str(d.relative_to(ROOT)) or "." for d in ALL]
PROJECTS = {d: load(d / "pyproject.toml")["project"] for d in ALL}
DRIVERS = dirs(FIRST_PARTY_DIRS)


def test_the_distributions_are_the_ones_expected() -> None:
    names = {PROJECTS[d]["name"] for d in ALL}
    assert {
        CORE,
        "janito-driver-openai",
        "janito-driver-gemini",
        "janito-driver-mistral",
        "janito-driver-anthropic",
        "janito-otel",
        "janito-driver-example",
        "janito-driver-testthirdparty",
        "janito-driver-broken",
    } <= names


@pytest.mark.parametrize("where", ALL, ids=IDS)
def test_mit_licence_file_and_expression(where: Path) -> None:
    project = PROJECTS[where]
    assert (where / "LICENSE").read_text() == (ROOT / "LICENSE").read_text()
    assert "MIT License" in (ROOT / "LICENSE").read_text()
    assert project["license"] == "MIT"
    assert project["license-files"] == ["LICENSE"]
    # PEP 639: the expression replaces the licence classifiers; PyPI refuses both at once.
    assert not [c for c in project["classifiers"] if c.startswith("License ::")]


@pytest.mark.parametrize("where", ALL, ids=IDS)
def test_python_classifiers_are_exactly_the_pythons_claimed_and_tested(where: Path) -> None:
    project = PROJECTS[where]
    oldest, newest = ci_pythons()
    lowest = floor(project["requires-python"])
    assert minor(lowest) >= minor(oldest)
    claimed = {m.group(1) for c in project["classifiers"] if (m := PYTHON_CLASSIFIER.match(c))}
    expected = {f"3.{m}" for m in range(minor(lowest), minor(newest) + 1)}
    assert claimed == expected
    assert "Programming Language :: Python :: 3 :: Only" in project["classifiers"]


def test_core_claims_the_oldest_python_ci_runs() -> None:
    assert floor(PROJECTS[ROOT]["requires-python"]) == ci_pythons()[0]


def test_the_lock_resolves_for_every_python_core_claims() -> None:
    lock = (ROOT / "uv.lock").read_text()
    match = re.search(r'^requires-python = "(.*)"$', lock, re.MULTILINE)
    assert match and match.group(1) == PROJECTS[ROOT]["requires-python"]


@pytest.mark.parametrize("where", ALL, ids=IDS)
def test_alpha_typed_and_private_classifiers(where: Path) -> None:
    project = PROJECTS[where]
    classifiers = project["classifiers"]
    assert "Development Status :: 3 - Alpha" in classifiers
    packages = load(where / "pyproject.toml")["tool"]["hatch"]["build"]["targets"]["wheel"]
    typed = all((where / package / "py.typed").is_file() for package in packages["packages"])
    assert ("Typing :: Typed" in classifiers) == typed
    # The test plugins and the example are never uploaded (the example's README links into docs/).
    private = where in dirs(TEST_ONLY_DIRS) or where.parent == ROOT / "docs" / "examples"
    assert (PRIVATE in classifiers) == private
    if not private:
        assert project["urls"]
        assert all(url.startswith("https://github.com/") for url in project["urls"].values())


def test_core_version_has_one_source() -> None:
    pyproject = load(ROOT / "pyproject.toml")
    assert "version" not in pyproject["project"]
    assert pyproject["project"]["dynamic"] == ["version"]
    assert pyproject["tool"]["hatch"]["version"]["path"] == "janito_core/__init__.py"
    # The installed metadata follows __version__ (uv rebuilds core when __init__.py changes).
    assert importlib.metadata.version(CORE) == janito_core.__version__


def test_importing_core_does_not_read_metadata() -> None:
    code = "import sys, janito_core; print('importlib.metadata' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("where", DRIVERS, ids=[str(d.relative_to(ROOT)) for d in DRIVERS])
def test_first_party_versions_and_core_bounds_follow_core(where: Path) -> None:
    project = PROJECTS[where]
    assert project["version"] == janito_core.__version__
    (core,) = [Requirement(d) for d in project["dependencies"] if Requirement(d).name == CORE]
    assert core.specifier == line_bounds(janito_core.__version__)


def test_core_extras_are_bounded_and_gemini_marked() -> None:
    by_name = {PROJECTS[d]["name"]: PROJECTS[d] for d in ALL}
    core_floor = floor(PROJECTS[ROOT]["requires-python"])
    extras = dict(PROJECTS[ROOT]["optional-dependencies"])
    assert set(extras) == {
        "openai",
        "gemini",
        "mistral",
        "anthropic",
        "all",
        "prices",
        "jsonschema",
    }
    # The schema checker for output_schema dicts: a third-party package, bounded below.
    (checker,) = map(Requirement, extras.pop("jsonschema"))
    assert checker.name == "jsonschema" and checker.specifier and checker.marker is None
    # The price table is a third-party package, not a driver: bounded below, and only where it
    # installs (it needs Python 3.11).
    (prices,) = map(Requirement, extras.pop("prices"))
    assert prices.name == "genai-prices" and prices.specifier
    assert str(prices.marker) == 'python_version >= "3.11"'
    in_all = {Requirement(r).name for r in extras["all"]}
    for name, requirements in extras.items():
        for requirement in map(Requirement, requirements):
            assert requirement.name in by_name, f"[{name}] names {requirement.name}"
            assert requirement.specifier == line_bounds(janito_core.__version__)
            # A driver that needs a newer Python than core is skipped there, not a failed install.
            needed = floor(by_name[requirement.name]["requires-python"])
            if needed == core_floor:
                assert requirement.marker is None
            else:
                assert str(requirement.marker) == f'python_version >= "{needed}"'
            if name != "all":
                assert requirement.name in in_all


@pytest.mark.parametrize("where", ALL[1:], ids=IDS[1:])
def test_no_workspace_tables_outside_the_root(where: Path) -> None:
    # They would ship in the distribution's sdist and break installing it unpacked with uv.
    assert "uv" not in load(where / "pyproject.toml").get("tool", {})
