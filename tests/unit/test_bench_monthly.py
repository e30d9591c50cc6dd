"""The monthly bill: the changes at their measured price, custom metrics by the hour, the template's fixed costs."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from devtools.bench.backfill import Invocations, TrickleFigure
from devtools.bench.costs import prices
from devtools.bench.monthly import VOLUMES, fixed_lines, metric_hours_dollars, metric_publications, monthly_table
from devtools.sam.template_tables import load_template


def _trickle(published: Counter[str]) -> TrickleFigure:
    one = Invocations(events=[1] * 10, seconds=[0.3] * 10)
    return TrickleFigure(10, one, one, 10, 40, 10, 20, 20_480, published)


def _totals(lines: list[str]) -> list[float]:
    row = next(line for line in lines if line.startswith("| **total**"))
    return [float(value) for value in re.findall(r"\$(\d+\.\d+)", row)]


@pytest.mark.vendor_doc(
    "https://aws.amazon.com/cloudwatch/pricing/",
    "custom metrics are prorated by the hour and metered only when sent",
    model="the monthly bill of `make bench` (`devtools/bench/monthly.py`)",
)
def test_a_custom_metric_costs_only_the_hours_it_is_published_in() -> None:
    # Given the price sheet's $0.30 per custom metric and month
    p = prices()
    # Then a metric no change publishes costs nothing; one every change publishes costs the whole month at
    # 10,000 changes (13.7 an hour); one a change in 100 publishes costs about an eighth of it
    assert metric_hours_dollars(1.0, 0, p) == 0
    assert metric_hours_dollars(1.0, 10_000, p) == pytest.approx(0.30, abs=0.001)
    assert metric_hours_dollars(0.01, 10_000, p) == pytest.approx(0.30 * 0.128, abs=0.002)


def test_an_idle_stack_pays_its_fixed_costs_counted_from_the_template() -> None:
    # Given the template's alarms, dashboard and secrets
    resources = load_template()["Resources"].values()
    alarms = sum(1 for r in resources if r["Type"] == "AWS::CloudWatch::Alarm")
    p = prices()
    # When the bill is made from changes that each published `updated` once
    lines = monthly_table(_trickle(Counter(updated=10)), 0.000_01, p)
    totals = _totals(lines)
    # Then with no change the month costs exactly the fixed lines, the alarms among them at $0.10 each
    fixed = fixed_lines(p)
    assert totals[0] == pytest.approx(sum(d for _, d in fixed), abs=0.01)
    assert any(what.startswith(f"{alarms} alarms") and d == pytest.approx(alarms * 0.10) for what, d in fixed)
    # And at 1,000,000 changes it adds the changes ($10.00) and the metric's whole month ($0.30)
    assert totals[VOLUMES.index(1_000_000)] - totals[0] == pytest.approx(10.00 + 0.30, abs=0.02)


def test_each_metric_publication_in_the_log_is_counted() -> None:
    # Given two EMF records publishing `updated`, one `created`, and a plain log line
    emf = (
        '{{"_aws": {{"CloudWatchMetrics": [{{"Namespace": "SalesforceStripeSync", "Dimensions": [["service"]], '
        '"Metrics": [{{"Name": "{name}"}}]}}]}}, "service": "s", "{name}": [1.0]}}'
    )
    log = "\n".join([emf.format(name="updated"), "synced", emf.format(name="updated"), emf.format(name="created")])
    # Then each publication counts once per record
    assert metric_publications(log) == Counter(updated=2, created=1)
