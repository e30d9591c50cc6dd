"""Which stack ``sfsync`` works on is the operator's setting: the option, ``SFSYNC_STACK_NAME``, or a suggestion.

Without settings and without a stack named, ``sfsync`` says which option gives them (and the name samconfig.toml
gives ``sam deploy``), instead of only listing the worker's variables it is missing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ops.cli import main
from ops.stack_env import samconfig_stack_name
from shared.settings import WorkerSettings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def bare_shell(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A shell with none of the worker's variables, in a copy of the project's samconfig.toml's folder."""
    for name in [*(f.alias or name for name, f in WorkerSettings.model_fields.items()), "SFSYNC_STACK_NAME"]:
        monkeypatch.delenv(str(name), raising=False)
    (tmp_path / "samconfig.toml").write_text((ROOT / "samconfig.toml").read_text().replace(
        'stack_name = "salesforce-stripe-sync"', 'stack_name = "acme-sync"'))  # fmt: skip
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_without_settings_or_a_stack_sfsync_suggests_the_options(
    bare_shell: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a shell without the worker's settings, in a folder whose samconfig.toml names the stack acme-sync
    # When the operator runs sfsync without --stack or --stack-name
    code = main(["status", "001000000000001AAA"])
    # Then it is a configuration error that suggests both options, with the deployed stack's name
    err = capsys.readouterr().err
    assert code == 2
    assert "--stack .local/stack.json" in err and "--stack-name acme-sync" in err and "SFSYNC_STACK_NAME" in err


def test_samconfig_stack_name_reads_deploys_then_global_parameters(tmp_path: Path) -> None:
    # Given a samconfig.toml with the name in deploy's parameters, then only in global ones
    config = tmp_path / "samconfig.toml"
    config.write_text('version = 0.1\n[default.deploy.parameters]\nstack_name = "from-deploy"\n')
    assert samconfig_stack_name(config) == "from-deploy"
    config.write_text('version = 0.1\n[default.global.parameters]\nstack_name = "from-global"\n')
    assert samconfig_stack_name(config) == "from-global"
    # And no file, or no name, is no name
    assert samconfig_stack_name(tmp_path / "missing.toml") is None
