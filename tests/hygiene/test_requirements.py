"""The per-function top-level sets (requirements/*.in, locked into *.txt) can't drift from pyproject.toml's pins."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[2]
REQUIREMENTS = REPO / "requirements"
# Heavy at import time (FACTS: stripe ~150 ms, simple-salesforce ~220 ms) or never wanted (aiohttp: +100 ms
# to stripe's import when installed). The light functions must answer Salesforce / EventBridge fast.
HEAVY = {"stripe", "simple-salesforce"}
NEVER = {"aiohttp"}


def _project_dependencies() -> dict[str, Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    requirements = [Requirement(line) for line in project["dependencies"]]
    return {canonicalize_name(r.name): r for r in requirements}


def _requirements(name: str) -> dict[str, Requirement]:
    lines = (REQUIREMENTS / name).read_text().splitlines()
    requirements = [Requirement(line.strip()) for line in lines if line.strip() and not line.lstrip().startswith("#")]
    by_name = {canonicalize_name(r.name): r for r in requirements}
    assert len(by_name) == len(requirements), f"{name} names a package twice"
    return by_name


@pytest.mark.parametrize("name", ["receiver.in", "worker.in", "lambda-runtime.in"])
def test_every_pin_equals_pyproject(name: str) -> None:
    # Given pyproject's runtime dependencies and a function's requirement list
    project = _project_dependencies()
    for package, requirement in _requirements(name).items():
        # Then each package is a runtime dependency with the very same pin, exact (==), and its extras a subset
        assert package in project, f"{name}: {package} is not a runtime dependency in pyproject.toml"
        assert requirement.specifier == project[package].specifier, f"{name}: {requirement} ≠ {project[package]}"
        assert [spec.operator for spec in requirement.specifier] == ["=="], f"{name}: pin {requirement} exactly"
        assert requirement.extras <= project[package].extras, f"{name}: {requirement} has extras pyproject lacks"
        assert requirement.marker == project[package].marker


def test_pyproject_runtime_dependencies_are_all_pinned_exactly() -> None:
    # Given pyproject's runtime dependencies; Then each is pinned with == (reproducible Lambda packages)
    for requirement in _project_dependencies().values():
        assert [spec.operator for spec in requirement.specifier] == ["=="], str(requirement)


def test_worker_ships_the_full_runtime_set() -> None:
    # Given the worker's list; Then it is exactly pyproject's runtime dependencies, extras included
    worker = _requirements("worker.in")
    project = _project_dependencies()
    assert sorted(worker) == sorted(project)
    assert {name: str(r) for name, r in worker.items()} == {name: str(r) for name, r in project.items()}


def test_light_set_has_no_heavy_clients_and_nothing_ships_aiohttp() -> None:
    # Given the light functions' list (receiver, platform events)
    light = set(_requirements("receiver.in"))
    # Then neither stripe nor simple-salesforce is in it, and no list names aiohttp
    assert not light & HEAVY
    for name in ("receiver.in", "worker.in"):
        assert not set(_requirements(name)) & NEVER
    # And it has what the receiver's imports need: Powertools, pydantic, defusedxml
    assert {"aws-lambda-powertools", "pydantic", "defusedxml"} <= light
