"""What an installation pays a month at 0, 10,000, 100,000 and 1,000,000 changes, fixed costs included.

The variable part is the measured one-at-a-time cost per change (``costs.per_change_dollars``). The fixed part
comes from the template (its alarms, dashboard, secrets, the event source mapping's empty polls, the
reconcile schedule) and the dated price sheet. Custom metrics sit in between: CloudWatch bills a custom
metric by the hour, only for the hours it is published ("All custom metrics charges are prorated by the
hour and metered only when you send metrics to CloudWatch", https://aws.amazon.com/cloudwatch/pricing/), so a
metric published by a fraction ``q`` of the changes costs $0.30 × P(published in an hour) =
$0.30 × (1 − e^(−q·N/730)) a month at N changes spread over the month's 730 hours.
"""

from __future__ import annotations

import ast
import math
import re
from collections import Counter
from typing import Any

from devtools.bench.backfill import TrickleFigure
from devtools.local_runtime.processes import REPO_ROOT
from devtools.sam.template_tables import load_template, parameter_default

HOURS_PER_MONTH = 730
VOLUMES = (0, 10_000, 100_000, 1_000_000)
GOAL_AT_10_000 = 8.0  # $ a month with alarms and the dashboard on
GOAL_PER_MILLION = 8.0  # $ per million changes that come one at a time
# Lambda's event source mapping long-polls an empty queue with 5 pollers, about 3 requests a minute each.
EMPTY_POLLS_PER_MONTH = 5 * 3 * 60 * 24 * 30
_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_PER_MONTH = {"minute": 30 * 24 * 60, "hour": 30 * 24, "day": 30}


def metric_hours_dollars(q: float, changes: int, p: dict[str, Any]) -> float:
    """$ a month for one custom metric that a fraction ``q`` of ``changes`` publish (see the module doc)."""
    published = 1 - math.exp(-q * changes / HOURS_PER_MONTH) if changes else 0.0
    return float(p["cloudwatch_custom_metric_per_month"]) * published


def reconcile_runs_per_month() -> int:
    """Runs a month of the template's default ``ReconcileSchedule`` (``rate(…)``; 0 when empty, 30 for a cron)."""
    schedule = str(parameter_default("ReconcileSchedule"))
    if not schedule:
        return 0
    match = _RATE.match(schedule)
    if match is None:
        return 30
    count, unit = int(match.group(1)), match.group(2).rstrip("s")
    return _PER_MONTH[unit] // count


def reconcile_metrics() -> int:
    """Metric names the scheduled reconcile publishes each run (its ``add_metric`` calls; a verdict's
    ``reconcile_<verdict>`` counted once: most runs find only ``ok`` accounts)."""
    tree = ast.parse((REPO_ROOT / "functions" / "reconcile" / "app.py").read_text())
    return sum(
        1
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "add_metric"
    )


def _count(resource_type: str) -> int:
    return sum(1 for r in load_template()["Resources"].values() if r["Type"] == resource_type)


def fixed_lines(p: dict[str, Any]) -> list[tuple[str, float]]:
    """(what, $ a month) of what the stack costs whatever the volume."""
    alarms, dashboards = _count("AWS::CloudWatch::Alarm"), _count("AWS::CloudWatch::Dashboard")
    created = _count("AWS::SecretsManager::Secret")
    secrets = created + sum(1 for name in load_template()["Parameters"] if name.endswith("SecretName"))
    runs, metrics = reconcile_runs_per_month(), reconcile_metrics()
    metric_month = float(p["cloudwatch_custom_metric_per_month"])
    return [
        (f"{dashboards} CloudWatch dashboard", dashboards * p["cloudwatch_dashboard_per_month"]),
        (f"{alarms} alarms (standard resolution, one metric each)", alarms * p["cloudwatch_standard_alarm_per_month"]),
        (
            f"{secrets} secrets in Secrets Manager ({created} the stack's own, {secrets - created} named by "
            "parameters)",
            secrets * p["secrets_manager_per_secret_month"],
        ),
        (
            f"the queue's empty long polls ({EMPTY_POLLS_PER_MONTH / 1e6:.2f} M requests)",
            EMPTY_POLLS_PER_MONTH / 1e6 * p["sqs_standard_per_million_requests"],
        ),
        (
            f"the scheduled reconcile's {metrics} metrics, {runs} runs (metric-hours)",
            metrics * min(runs, HOURS_PER_MONTH) / HOURS_PER_MONTH * metric_month,
        ),
    ]


def metric_publications(log_text: str) -> Counter[str]:
    """How many embedded-metric-format records published each metric (name; one dimension set: service)."""
    from devtools.bench.costs import emf_metrics

    found: Counter[str] = Counter()
    for _, _, dimensions, name in emf_metrics(log_text):
        keys = ",".join(dimensions)
        found[f"{name} [{keys}]" if keys != "service" else name] += 1
    return found


def monthly_table(trickle: TrickleFigure, per_change: float, p: dict[str, Any]) -> list[str]:
    """The month's bill at each volume: changes one at a time at ``per_change`` $, their metrics, fixed costs."""
    changes = max(1, trickle.changes)
    rates = {name: count / changes for name, count in sorted(trickle.published.items())}
    fixed = fixed_lines(p)
    heads = " | ".join(f"{volume:,} changes" for volume in VOLUMES)
    lines = [f"| a month | {heads} |", "|---|" + "---|" * len(VOLUMES)]

    def row(label: str, dollars: list[float], bold: bool = False) -> str:
        cells = " | ".join(f"**${d:.2f}**" if bold else f"${d:.2f}" for d in dollars)
        return f"| {'**' + label + '**' if bold else label} | {cells} |"

    changed = [volume * per_change for volume in VOLUMES]
    published = ", ".join(f"`{name}` {q:.2f}" for name, q in rates.items())
    metrics = [sum(metric_hours_dollars(q, volume, p) for q in rates.values()) for volume in VOLUMES]
    lines.append(row("the changes: Lambda, DynamoDB, SQS, API Gateway, logs (one at a time, measured)", changed))
    lines.append(row(f"custom metrics the changes publish, by the hour (per change: {published})", metrics))
    for label, dollars in fixed:
        lines.append(row(label, [dollars] * len(VOLUMES)))
    totals = [c + m + sum(d for _, d in fixed) for c, m in zip(changed, metrics, strict=True)]
    lines.append(row("total", totals, bold=True))
    at_10k, per_million = totals[VOLUMES.index(10_000)], per_change * 1_000_000
    verdict = "met" if at_10k <= GOAL_AT_10_000 else "missed"
    verdict_million = "met" if per_million <= GOAL_PER_MILLION else "missed"
    lines += [
        "",
        f"Goals: ≤ ${GOAL_AT_10_000:.0f} a month at 10,000 changes with alarms and the dashboard on: ${at_10k:.2f}, "
        f"{verdict}; ≤ ${GOAL_PER_MILLION:.0f} per million changes that come one at a time: ${per_million:.2f}, "
        f"{verdict_million} (line by line below). Changes spread evenly over the "
        f"month's {HOURS_PER_MONTH} hours; list prices of "
        f"`devtools/bench/aws_prices.json` ({p['region']}, {p['date']}), no free tier. Not included: storage "
        "(logs, DynamoDB items and their point-in-time recovery), which grows with what was synced, and the "
        "scheduled reconcile's Lambda time, which grows with the org (below).",
    ]
    return lines
