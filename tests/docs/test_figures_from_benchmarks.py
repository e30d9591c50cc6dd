"""The README's latency line and the cost page's headline figures are those of the last `make bench` run.

`make bench` writes BENCHMARKS.md; the README and docs/performance.md quote a few of its figures in prose. These
tests read both sides, so a rerun that moves a figure fails until the prose says the same.
"""

from __future__ import annotations

import re

from devtools.local_runtime.processes import REPO_ROOT

BENCHMARKS = (REPO_ROOT / "BENCHMARKS.md").read_text()


def _section(title: str) -> str:
    """One ``## title`` section of BENCHMARKS.md."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", BENCHMARKS, re.M | re.S)
    assert match, title
    return match.group(1)


def _row(section: str, *starts: str) -> list[str]:
    """The cells of the first table row whose leading cells are ``starts``."""
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if cells[: len(starts)] == list(starts):
            return cells
    raise AssertionError(f"no row {starts}")


def _seconds(cell: str) -> float:
    return float(cell.removesuffix(" s"))


def test_the_readme_states_the_measured_p99_at_one_change_a_second() -> None:
    # Given the latency table: from the Outbound Message's POST to the customer in Stripe, at 1/s
    row = _row(_section("Latency"), "the Outbound Message's POST", "customer in Stripe", "1/s")
    p99 = _seconds(row[6])
    # Then the README's first screen states that p99, to a tenth of a second
    readme = (REPO_ROOT / "README.md").read_text()
    assert f"p99 {p99:.1f} s from the Outbound Message" in readme


def test_the_cost_page_states_the_measured_bill() -> None:
    # Given the monthly bill's totals and the per-million figure of changes that come one at a time
    bill = _section("The monthly bill")
    totals = [cell.strip("*") for cell in _row(bill, "**total**")[1:]]
    per_million = re.search(r"≤ \$8 per million changes that come one at a time: (\$\d+\.\d\d)", bill)
    assert per_million
    # Then docs/performance.md quotes them: idle, 10,000 and 100,000 changes a month, and per million
    page = (REPO_ROOT / "docs" / "performance.md").read_text()
    idle, ten_thousand, hundred_thousand = totals[0], totals[1], totals[2]
    assert f"**{idle} a month idle, {ten_thousand} at 10,000 changes, {hundred_thousand} at" in page
    assert f"and {per_million.group(1)} per million changes that come one at a time" in page
    # And it names that run, and the 1/s p99 it quotes is the latency table's
    # (a section measured on its own says when; a whole run says it once, at the top)
    stamp = r"(\d{4}-\d\d-\d\d \d\d:\d\d) UTC"
    measured = re.search(stamp, bill) or re.search(stamp, BENCHMARKS.split("\n## ", 1)[0])
    assert measured and f"The run of {measured.group(1)} UTC" in page
    row = _row(_section("Latency"), "the Outbound Message's POST", "customer in Stripe", "1/s")
    assert f"p99 {_seconds(row[6]):.1f} s from the Outbound Message" in page
