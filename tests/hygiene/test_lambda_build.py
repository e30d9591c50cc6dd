"""How `sam build` packages the functions: template metadata, Makefile targets, devtools/sam/lambda_build.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from devtools.sam import lambda_build
from devtools.sam.template_tables import load_template
from tests.build.lambda_env import makefile_requirements

REPO = Path(__file__).resolve().parents[2]
LIGHT_SET = "requirements/receiver.txt"
# Functions that must answer fast (Salesforce waits for the receiver's Ack): built from the light set.
LIGHT_HANDLERS = {"functions.outbound_message.app.lambda_handler", "functions.platform_event.app.lambda_handler"}


def _functions() -> dict[str, dict]:
    template = load_template(REPO / "template.yaml")
    return {k: v for k, v in template["Resources"].items() if v["Type"] == "AWS::Serverless::Function"}


@pytest.mark.parametrize("logical_id", sorted(_functions()))
def test_every_function_is_built_by_the_makefile_with_its_requirements(logical_id: str) -> None:
    # Given a function of the template
    function = _functions()[logical_id]
    # Then SAM builds it with the Makefile (no Docker, no python3.13), from the repository root
    assert function.get("Metadata", {}).get("BuildMethod") == "makefile", f"{logical_id}: add Metadata BuildMethod"
    assert function["Properties"]["CodeUri"] == "."
    # And the Makefile has its build target, installing one of the lists in requirements/
    requirements = makefile_requirements(REPO, logical_id)
    assert requirements, f"no `build-{logical_id}` target (with --requirements) in the Makefile"
    assert requirements.startswith("requirements/") and (REPO / requirements).is_file()
    # And the functions that must answer fast get the light set (tests/build proves they import without more)
    if function["Properties"]["Handler"] in LIGHT_HANDLERS:
        assert requirements == LIGHT_SET


def test_packages_are_built_for_the_templates_runtime() -> None:
    # Given the template's runtime; Then the build installs wheels for that very Python version
    template = load_template(REPO / "template.yaml")
    assert template["Globals"]["Function"]["Runtime"] == f"python{lambda_build.LAMBDA_PYTHON}"
    command = lambda_build.pip_command(Path("requirements/worker.txt"), Path("/out"), "x86_64")
    assert command[command.index("--python-version") + 1] == lambda_build.LAMBDA_PYTHON
    assert {"--only-binary=:all:", "--no-compile"} <= set(command)
    assert command[command.index("--implementation") + 1] == "cp"


@pytest.mark.parametrize(("architecture", "machine"), [("x86_64", "x86_64"), ("arm64", "aarch64")])
def test_wheels_match_the_lambda_architecture(architecture: str, machine: str) -> None:
    # Given a Lambda architecture; Then pip is asked for manylinux wheels of that machine only
    command = lambda_build.pip_command(Path("r.txt"), Path("/out"), architecture)
    platforms = [command[i + 1] for i, arg in enumerate(command) if arg == "--platform"]
    assert platforms and all(p.endswith(f"_{machine}") for p in platforms)
    assert f"manylinux2014_{machine}" in platforms


def test_unknown_architecture_is_refused() -> None:
    with pytest.raises(lambda_build.BuildError, match="unknown Lambda architecture"):
        lambda_build.platform_tags("sparc")


BUILD_TOML = """
[function_build_definitions.aaa]
codeuri = "."
runtime = "python3.13"
architecture = "arm64"
functions = ["SyncWorkerFunction"]

[function_build_definitions.bbb]
codeuri = "."
architecture = "x86_64"
functions = ["OutboundMessageFunction"]
"""


def test_architecture_comes_from_sams_build_graph(tmp_path: Path) -> None:
    # Given SAM's build graph beside the build dir, and a function's artifacts dir inside that build dir
    (tmp_path / "build.toml").write_text(BUILD_TOML)
    artifacts = tmp_path / "build" / "SyncWorkerFunction"
    # Then the function's resolved architecture is used, unless one is given explicitly
    assert lambda_build.resolve_architecture("SyncWorkerFunction", artifacts, None) == "arm64"
    assert lambda_build.resolve_architecture("OutboundMessageFunction", artifacts, None) == "x86_64"
    notes: list[str] = []
    assert lambda_build.resolve_architecture("SyncWorkerFunction", artifacts, "x86_64", notes) == "x86_64"
    assert "build graph says arm64" in notes[0]


def test_architecture_defaults_to_the_templates_default(tmp_path: Path) -> None:
    # Given no build graph (and an unknown function); Then arm64, the Architecture parameter's default
    notes: list[str] = []
    assert lambda_build.resolve_architecture("Nope", tmp_path / "build" / "Nope", None, notes) == "arm64"
    assert notes
    template = load_template(REPO / "template.yaml")
    assert template["Parameters"]["Architecture"]["Default"] == lambda_build.DEFAULT_ARCHITECTURE


def test_only_application_code_is_copied(tmp_path: Path) -> None:
    # Given a source tree with caches, compiled files and tests beside the code
    source = tmp_path / "src"
    for package in ("functions/receiver", "shared/mapping/presets"):
        (source / package).mkdir(parents=True)
    for file in ("functions/__init__.py", "functions/receiver/app.py", "shared/__init__.py", "shared/x.json"):
        (source / file).write_text("")
    (source / "shared/mapping/presets/default.json").write_text("{}")
    (source / "shared/__pycache__").mkdir()
    (source / "shared/__pycache__/x.cpython-311.pyc").write_text("")
    (source / "shared/tests").mkdir()
    (source / "shared/tests/test_x.py").write_text("")
    (source / "devtools").mkdir()
    (source / "devtools/__init__.py").write_text("")
    # When the sources are copied
    out = tmp_path / "out"
    out.mkdir()
    lambda_build.copy_sources(source, out)
    # Then the packages and their data files are there, and nothing else
    copied = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert copied == [
        "functions/__init__.py",
        "functions/receiver/app.py",
        "shared/__init__.py",
        "shared/mapping/presets/default.json",
        "shared/x.json",
    ]


def test_build_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    # Given an artifacts folder with something in it; Then nothing is built into it
    (tmp_path / "leftover").write_text("")
    requirements = tmp_path / "r.txt"
    requirements.write_text("")
    with pytest.raises(lambda_build.BuildError, match="not empty"):
        lambda_build.build(
            tmp_path, requirements, logical_id="F", architecture="x86_64", with_sources=False, source_dir=REPO
        )
