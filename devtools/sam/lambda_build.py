"""Build one Lambda function's package for ``sam build`` (``Metadata: BuildMethod: makefile``), without Docker.

``sam build`` runs ``make build-<LogicalId>`` with ``ARTIFACTS_DIR`` set to the function's build folder; the
Makefile calls this script, which

1. copies only ``functions/`` and ``shared/`` (no tests, no devtools, no caches) into the folder,
2. installs the function's requirements file with pip *for the Lambda platform* (manylinux wheels for the
   function's architecture, CPython 3.13, binary wheels only), so neither Docker nor a 3.13 interpreter is
   needed,
3. drops files the functions never read (pycountry's 22 MB of gettext catalogs, pip's ``bin/`` scripts),
4. precompiles bytecode when a CPython 3.13 is at hand: Lambda's ``/var/task`` is read-only, so without
   ``.pyc`` files every cold start compiles every imported module again (measured: the worker's imports take
   0.9 s instead of 0.3 s). Hash-checked ``.pyc`` files don't depend on the zip's timestamps.

The architecture comes from ``--architecture`` / ``LAMBDA_ARCHITECTURE`` when given, else from the build
graph SAM writes before it builds (``.aws-sam/build.toml``: the resolved ``Architectures`` of each function,
i.e. the ``Architecture`` template parameter), else the template's default, x86_64.

Standard library only: it runs under whatever ``python3`` (3.11+) calls ``sam build``.
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path

LAMBDA_PYTHON = "3.13"  # the template's Runtime (python3.13); tests/hygiene/test_lambda_build.py checks it
ARCHITECTURES = {"x86_64": "x86_64", "arm64": "aarch64"}  # Lambda architecture -> manylinux machine
DEFAULT_ARCHITECTURE = "arm64"
SOURCE_PACKAGES = ("functions", "shared")
IGNORED_SOURCES = ("__pycache__", "*.pyc", "*.pyo", ".mypy_cache", ".pytest_cache", ".ruff_cache", "tests")
# Installed but never read at run time; relative to the package folder.
PRUNED = ("bin", "pycountry/locales", "pycountry/tests")
LAMBDA_TASK_ROOT = "/var/task"  # where Lambda unpacks the package; used as the path in compiled code


class BuildError(Exception):
    """The package can't be built; the message says why."""


def platform_tags(architecture: str) -> list[str]:
    """pip ``--platform`` values for a Lambda architecture (python3.13 runs on Amazon Linux 2023, glibc 2.34)."""
    try:
        machine = ARCHITECTURES[architecture]
    except KeyError:
        raise BuildError(f"unknown Lambda architecture {architecture!r} (x86_64 or arm64)") from None
    return [f"manylinux2014_{machine}", f"manylinux_2_28_{machine}"]


def architecture_from_build_graph(build_toml: Path, logical_id: str) -> str | None:
    """The architecture SAM resolved for ``logical_id``, read from its build graph file, if it is there."""
    if not build_toml.is_file():
        return None
    try:
        graph = tomllib.loads(build_toml.read_text())
    except (OSError, tomllib.TOMLDecodeError):
        return None
    for definition in graph.get("function_build_definitions", {}).values():
        if logical_id in definition.get("functions", ()):
            architecture = definition.get("architecture")
            return str(architecture) if architecture else None
    return None


def resolve_architecture(
    logical_id: str | None, artifacts_dir: Path, explicit: str | None, log: list[str] | None = None
) -> str:
    """``explicit`` if given, else what SAM resolved for the function, else the template default."""
    from_graph = None
    if logical_id:
        # SAM gives <build dir>/<LogicalId> as ARTIFACTS_DIR and keeps build.toml beside the build dir.
        from_graph = architecture_from_build_graph(artifacts_dir.parent.parent / "build.toml", logical_id)
    if explicit:
        if from_graph and from_graph != explicit and log is not None:
            log.append(f"warning: building {logical_id} for {explicit}, but SAM's build graph says {from_graph}")
        return explicit
    if from_graph:
        return from_graph
    if log is not None:
        log.append(f"warning: architecture of {logical_id or 'the package'} unknown; using {DEFAULT_ARCHITECTURE}")
    return DEFAULT_ARCHITECTURE


def copy_sources(source_dir: Path, artifacts_dir: Path) -> None:
    """Copy the application packages (only ``functions/`` and ``shared/``) without caches or tests."""
    for package in SOURCE_PACKAGES:
        source = source_dir / package
        if not (source / "__init__.py").is_file():
            raise BuildError(f"{source} is not a Python package: run the build from the repository root")
        shutil.copytree(source, artifacts_dir / package, ignore=shutil.ignore_patterns(*IGNORED_SOURCES))


def pip_command(requirements: Path, target: Path, architecture: str) -> list[str]:
    """pip installing ``requirements`` into ``target`` for Lambda's platform, whatever this machine is."""
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    command += ["--no-warn-conflicts", "--no-compile", "--target", str(target), "--requirement", str(requirements)]
    # The file is the function's whole closure from uv.lock with every usable wheel's hash (lock_export.py):
    # pip refuses a package or a file that isn't in it, so the package holds exactly what CI tested.
    command += ["--require-hashes"]
    command += ["--implementation", "cp", "--python-version", LAMBDA_PYTHON, "--only-binary=:all:"]
    for tag in platform_tags(architecture):
        command += ["--platform", tag]
    return command


def prune(target: Path) -> None:
    """Remove what pip installed that the functions never read."""
    for relative in PRUNED:
        path = target / relative
        if path.is_dir():
            shutil.rmtree(path)
    for cache in target.rglob("__pycache__"):
        shutil.rmtree(cache, ignore_errors=True)


def _python_version(executable: str) -> str | None:
    try:
        done = subprocess.run(
            [executable, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def find_lambda_python(environ: Mapping[str, str] | None = None) -> str | None:
    """A CPython of the Lambda runtime's version: ``$LAMBDA_PYTHON_BIN``, ``python3.13`` on PATH, or pyenv's."""
    env = os.environ if environ is None else environ
    candidates = [env.get("LAMBDA_PYTHON_BIN", ""), shutil.which(f"python{LAMBDA_PYTHON}") or ""]
    pyenv_root = env.get("PYENV_ROOT") or str(Path.home() / ".pyenv")
    candidates += sorted(glob.glob(f"{pyenv_root}/versions/{LAMBDA_PYTHON}*/bin/python{LAMBDA_PYTHON}"), reverse=True)
    for candidate in candidates:
        if candidate and _python_version(candidate) == LAMBDA_PYTHON:
            return candidate
    return None


def compile_command(python: str, target: Path) -> list[str]:
    """compileall for the package, with code paths as Lambda will see them (``/var/task/...``)."""
    return [
        python,
        "-m",
        "compileall",
        "-q",
        "-j",
        "0",
        "--invalidation-mode",
        "unchecked-hash",
        "-s",
        str(target),
        "-p",
        LAMBDA_TASK_ROOT,
        str(target),
    ]


def _run(command: Sequence[str]) -> None:
    done = subprocess.run(list(command), check=False)
    if done.returncode != 0:
        raise BuildError(f"command failed with exit code {done.returncode}: {' '.join(command)}")


def build(
    artifacts_dir: Path,
    requirements: Path,
    *,
    logical_id: str | None,
    architecture: str | None,
    with_sources: bool,
    source_dir: Path,
) -> list[str]:
    """Build the package into ``artifacts_dir``; returns the notes to print."""
    notes: list[str] = []
    if not requirements.is_file():
        raise BuildError(f"requirements file {requirements} not found")
    artifacts_dir.mkdir(parents=True, exist_ok=True)
    if any(artifacts_dir.iterdir()):
        raise BuildError(f"{artifacts_dir} is not empty; sam build gives every function an empty folder")
    resolved = resolve_architecture(logical_id, artifacts_dir, architecture, notes)
    if with_sources:
        copy_sources(source_dir, artifacts_dir)
    _run(pip_command(requirements, artifacts_dir, resolved))
    prune(artifacts_dir)
    python = find_lambda_python()
    if python:
        _run(compile_command(python, artifacts_dir))
    else:
        notes.append(
            f"note: no CPython {LAMBDA_PYTHON} found (set LAMBDA_PYTHON_BIN); the package ships without bytecode, "
            "so each cold start compiles the imported modules (about 0.6 s more for the worker)"
        )
    notes.insert(0, f"built {logical_id or artifacts_dir} for {resolved} from {requirements}")
    return notes


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``lambda_build.py --requirements FILE [--function ID] [--artifacts-dir DIR]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requirements", type=Path, required=True, help="the function's requirements file")
    parser.add_argument("--function", help="the function's logical id (to find its architecture in SAM's graph)")
    parser.add_argument(
        "--artifacts-dir",
        type=Path,
        default=os.environ.get("ARTIFACTS_DIR") or None,
        help="the output folder (default: $ARTIFACTS_DIR, set by sam build)",
    )
    parser.add_argument(
        "--architecture",
        choices=sorted(ARCHITECTURES),
        default=os.environ.get("LAMBDA_ARCHITECTURE") or None,
        help="x86_64 or arm64 (default: $LAMBDA_ARCHITECTURE, else SAM's build graph, else x86_64)",
    )
    parser.add_argument(
        "--packages-only", action="store_true", help="install the requirements only, without functions/ and shared/"
    )
    args = parser.parse_args(argv)
    if args.artifacts_dir is None:
        parser.error("no --artifacts-dir and no ARTIFACTS_DIR: run this through `sam build` or `make sam-build`")
    try:
        notes = build(
            args.artifacts_dir.resolve(),
            args.requirements,
            logical_id=args.function,
            architecture=args.architecture,
            with_sources=not args.packages_only,
            source_dir=Path.cwd(),
        )
    except BuildError as exc:
        print(f"lambda_build: {exc}", file=sys.stderr)
        return 1
    for note in notes:
        print(note, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
