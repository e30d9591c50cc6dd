"""The reliability suite at CI size: every scenario runs against the real local stack and reports zeros.

The same scenarios run at full size in ``make reliability`` (figures in RELIABILITY.md); here they run
small (``--size ci``) in a child process, so the stack's environment and handler modules stay out of this
test session.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from devtools.reliability.__main__ import SCENARIOS

REPO = Path(__file__).parents[2]


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    """The reliability suite at CI size, run once for this module: (the run, its folder)."""
    tmp_path = tmp_path_factory.mktemp("reliability")
    figures_path = tmp_path / "figures.json"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "devtools.reliability",
            "--size",
            "ci",
            "--report",
            str(tmp_path / "RELIABILITY.md"),
            "--log",
            str(tmp_path / "reliability.log"),
            "--json",
            str(figures_path),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )
    return result, tmp_path


@pytest.mark.timeout(300)
def test_every_reliability_scenario_reports_zero_lost_duplicated_leaked(
    suite: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    # When the suite runs at CI size
    result, tmp_path = suite
    # Then every scenario ran and every figure that must be 0 is 0
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-3000:]
    figures = json.loads((tmp_path / "figures.json").read_text())
    assert len(figures) == len(SCENARIOS)
    for scenario in figures:
        assert scenario["failures"] == [], scenario
        assert (scenario["lost"], scenario["duplicates"], scenario["leaks"]) == (0, 0, 0)
    # And the report names the machine and holds the table
    report = (tmp_path / "RELIABILITY.md").read_text()
    assert "cores, Python" in report and "| duplicate storm |" in report
    assert "| lost reply, key expired |" in report


@pytest.mark.timeout(300)
def test_rule_r12_no_reliability_scenario_sends_stripe_a_customer_deletion(
    suite: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    # When every fault, crash, storm, poison and expired-key scenario has run against the Stripe emulator
    _, tmp_path = suite
    figures = json.loads((tmp_path / "figures.json").read_text())
    # Then each scenario counted the customer deletions in the emulator's request log, and found none
    assert len(figures) == len(SCENARIOS)
    assert [scenario["zero"]["stripe_customer_deletions"] for scenario in figures] == [0] * len(SCENARIOS)


@pytest.mark.timeout(300)
def test_no_personal_value_is_at_rest_in_the_tables_or_failure_queues_after_every_scenario(
    suite: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    # When every scenario has run and settled, then the leak scan read the tables and the failure queues
    _, tmp_path = suite
    figures = json.loads((tmp_path / "figures.json").read_text())
    leaks = next(scenario for scenario in figures if scenario["scenario"] == "log leaks")
    # Then no mapped value is in the state or idempotency table, and no personal value in a failure queue
    assert leaks["zero"]["values_in_tables"] == 0, leaks
    assert leaks["zero"]["personal_data_in_failure_queues"] == 0, leaks
    assert "table items" in leaks["size"]
