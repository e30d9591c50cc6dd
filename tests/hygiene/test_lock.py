"""Reproducible builds: uv.lock is current with pyproject.toml, and every installed set comes from it, hashed.

CI runs these (`make test`): a pull request that changes a dependency without `make lock` fails here.
Offline: `uv lock --check --offline` and `uv export --frozen` read only pyproject.toml and uv.lock.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from devtools.sam import lambda_build, lock_export

REPO = Path(__file__).resolve().parents[2]
UV = Path(sys.executable).parent / "uv"
DEV_EXPORT = ["export", "--frozen", "--no-emit-project", "--extra", "dev", "--format", "requirements-txt"]
STALE_HINT = "uv.lock is stale: run `make lock` and commit uv.lock and requirements/*.txt"


def _uv(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    assert UV.is_file(), f"{UV} missing: uv is a dev dependency (make deps)"
    return subprocess.run(
        [str(UV), *args, "--offline", "--no-progress"], cwd=cwd, capture_output=True, text=True, timeout=60
    )


def _locked_lines(text: str) -> list[str]:
    """A requirements file without its comment lines (uv's header names the output path)."""
    return [line for line in text.splitlines() if not line.lstrip().startswith("#")]


def _pins(text: str) -> dict[str, str]:
    lines = [line.split(" ", 1)[0] for line in _locked_lines(text) if "==" in line]
    return {canonicalize_name(line.split("==")[0]): line.split("==")[1] for line in lines}


def test_lock_is_current_with_pyproject() -> None:
    # Given the repository's pyproject.toml and uv.lock; When uv checks the lock without the network
    done = _uv("lock", "--check")
    # Then the lock satisfies every dependency as declared
    assert done.returncode == 0, f"{STALE_HINT}\n{done.stderr}"


def test_stale_lock_fails_the_check(tmp_path: Path) -> None:
    # Given a copy of the project whose pyproject.toml drops a runtime dependency the lock still holds
    pyproject = (REPO / "pyproject.toml").read_text()
    assert '    "defusedxml==0.7.1",\n' in pyproject
    (tmp_path / "pyproject.toml").write_text(pyproject.replace('    "defusedxml==0.7.1",\n', ""))
    shutil.copy(REPO / "uv.lock", tmp_path / "uv.lock")
    # When the same check runs there, with an empty package cache as on a new machine: uv's wording then
    # depends on what its cache remembers ("needs to be updated" with metadata cached, "No solution found"
    # without), so the test asserts what the check guarantees, not one wording
    done = _uv("lock", "--check", "--cache-dir", str(tmp_path / "empty-cache"), cwd=tmp_path)
    # Then it refuses the lock, says why, and leaves the lock as it was
    assert done.returncode != 0
    assert done.stderr.strip()
    assert (tmp_path / "uv.lock").read_bytes() == (REPO / "uv.lock").read_bytes()


def test_lock_covers_the_machines_and_lambdas_python() -> None:
    # Given the lock; Then it was resolved for every Python the project supports: 3.11 (here) and 3.13 (Lambda)
    lock = tomllib.loads((REPO / "uv.lock").read_text())
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert lock["requires-python"] == project["requires-python"] == ">=3.11"


def test_dev_requirements_are_the_locked_export() -> None:
    # Given what `make deps` installs (requirements/dev.txt)
    installed = (REPO / "requirements" / "dev.txt").read_text()
    # When uv exports the lock again; Then the file is that export, every package pinned and hashed
    done = _uv(*DEV_EXPORT)
    assert done.returncode == 0, done.stderr
    assert _locked_lines(installed) == _locked_lines(done.stdout), STALE_HINT
    assert all(line.startswith("    --hash=sha256:") for line in _locked_lines(installed) if "==" not in line)


@pytest.mark.parametrize("name", lock_export.SETS)
def test_function_requirements_are_the_locked_closure(name: str) -> None:
    # Given a function set's top-level list (requirements/<set>.in) and the lock
    expected = lock_export.render(name, lock_export.load_lock())
    # Then requirements/<set>.txt is its closure from the lock for Lambda's python3.13, hashed
    assert (REPO / "requirements" / f"{name}.txt").read_text() == expected, STALE_HINT
    # And it pins the very versions the dev venv tests
    dev = _pins((REPO / "requirements" / "dev.txt").read_text())
    for package, version in _pins(expected).items():
        assert dev.get(package) == version, f"{name}.txt: {package}=={version} but dev.txt has {dev.get(package)}"


def test_lambda_build_installs_only_hashed_files() -> None:
    # Given the pip command of a function's build; Then pip refuses any file or package not in the lock
    command = lambda_build.pip_command(Path("requirements/worker.txt"), Path("/out"), "arm64")
    assert "--require-hashes" in command


def test_light_functions_lock_nothing_heavy() -> None:
    # Given the locked closure of the light functions (outbound receiver, Event Relay)
    light = set(_pins((REPO / "requirements" / "receiver.txt").read_text()))
    # Then no SDK, no Stripe or Salesforce client and no aiohttp comes in transitively either
    assert not light & {"boto3", "botocore", "stripe", "simple-salesforce", "zeep", "aiohttp"}


def _package(wheels: list[str]) -> lock_export.LockedPackage:
    return lock_export.LockedPackage(
        name=canonicalize_name("native"),
        version="1.0",
        dependencies=[],
        optional={},
        wheels=[(w, "sha256:0") for w in wheels],
    )


def test_package_without_an_arm64_wheel_is_refused() -> None:
    # Given a locked package with a cp313 wheel for x86_64 only
    package = _package(["native-1.0-cp313-cp313-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"])
    # Then the export refuses it: an arm64 build could not install the lock
    with pytest.raises(lock_export.LockError, match=r"no wheel in uv\.lock for python3\.13 on aarch64"):
        lock_export.lambda_hashes(package)


def test_wheels_lambda_cannot_use_are_not_hashed() -> None:
    # Given a package with wheels for other Pythons and platforms beside Lambda's
    package = _package(
        [
            "native-1.0-cp311-cp311-manylinux_2_17_x86_64.whl",
            "native-1.0-cp313-cp313-win_amd64.whl",
            "native-1.0-cp313-cp313-manylinux_2_34_x86_64.whl",
            "native-1.0-cp312-abi3-manylinux_2_28_x86_64.whl",
            "native-1.0-cp313-cp313-musllinux_1_2_aarch64.whl",
            "native-1.0-py3-none-any.whl",
        ]
    )
    package.wheels = [(filename, f"sha256:{i}") for i, (filename, _) in enumerate(package.wheels)]
    # Then only the abi3 manylinux_2_28 and the pure wheel are kept (glibc ≤ 2.28, as lambda_build asks pip)
    assert lock_export.lambda_hashes(package) == ["sha256:3", "sha256:5"]


def test_markers_are_evaluated_for_lambda_not_this_machine() -> None:
    # Given a lock where a dependency only applies before Python 3.13 and another only on Windows
    packages = {
        canonicalize_name("top"): [
            lock_export.LockedPackage(
                canonicalize_name("top"),
                "1.0",
                [
                    lock_export._dependency({"name": "backport", "marker": "python_full_version < '3.13'"}),
                    lock_export._dependency({"name": "colorama", "marker": "sys_platform == 'win32'"}),
                    lock_export._dependency({"name": "needed"}),
                ],
                {},
                [],
            )
        ],
        canonicalize_name("needed"): [lock_export.LockedPackage(canonicalize_name("needed"), "2.0", [], {}, [])],
    }
    # When the closure is taken for Lambda; Then neither conditional dependency is in it
    found = lock_export.closure(packages, [Requirement("top==1.0")], "x86_64")
    assert {name: version for name, (version, _) in found.items()} == {"top": "1.0", "needed": "2.0"}


def test_checkov_lock_pins_what_checkov_in_asks() -> None:
    # Given the IaC scanner's top-level pin and its hashed lock (`make lock`)
    wanted = lock_export.read_in(REPO / "requirements" / "checkov.in")
    locked = _pins((REPO / "requirements" / "checkov.txt").read_text())
    # Then the lock holds that version, and every package in it is hashed
    for requirement in wanted:
        assert requirement.specifier.contains(locked[canonicalize_name(requirement.name)]), STALE_HINT
    lines = _locked_lines((REPO / "requirements" / "checkov.txt").read_text())
    assert all(line.startswith("    --hash=sha256:") for line in lines if "==" not in line)
