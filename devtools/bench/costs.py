"""What a million Salesforce changes cost: AWS from the measured durations and calls and a dated price sheet
(``aws_prices.json``), and Salesforce API calls beside an Enterprise org's daily allowance.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import boto3

from devtools.bench.backfill import BackfillFigure, TrickleFigure

PRICES = Path(__file__).with_name("aws_prices.json")
MEMORY_GB = 512 / 1024  # template.yaml Globals: MemorySize 512
MILLION = 1_000_000
# Salesforce, "API Request Limits and Allocations": Enterprise Edition gets 100,000 API requests per 24 h plus
# 1,000 per Salesforce license (e.g. 50 licenses: 150,000).
ENTERPRISE_BASE, ENTERPRISE_PER_LICENSE, EXAMPLE_LICENSES = 100_000, 1_000, 50


# Sends and deletes; receives are one per worker invocation (the event source mapping's empty long polls are
# a fixed cost, below the table, and the local poller's extra polls are not Lambda's).
_SQS_COUNTED = ("SendMessage", "SendMessageBatch", "DeleteMessage", "DeleteMessageBatch")


class AwsCalls:
    """Counts every DynamoDB and SQS call of the clients built from the default boto3 session from now on."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        session = boto3.DEFAULT_SESSION or boto3.setup_default_session() or boto3.DEFAULT_SESSION
        assert session is not None
        session.events.register("before-call.dynamodb.*", self._count)
        for operation in _SQS_COUNTED:
            session.events.register(f"before-call.sqs.{operation}", self._count)

    def watch(self, client: Any) -> None:
        """Count a client built before this counter (e.g. the local poller's SQS client)."""
        for operation in _SQS_COUNTED:
            client.meta.events.register(f"before-call.sqs.{operation}", self._count)

    def _count(self, model: Any, **_: Any) -> None:
        self.calls[model.service_model.service_name] += 1

    def snapshot(self) -> Counter[str]:
        return Counter(self.calls)


def prices() -> dict[str, Any]:
    return dict(json.loads(PRICES.read_text()))


def _per_change(trickle: TrickleFigure) -> dict[str, float]:
    n = trickle.changes
    return {
        "invocations": (len(trickle.receiver.seconds) + len(trickle.worker.seconds)) / n,
        "gb_seconds": (sum(trickle.receiver.seconds) + sum(trickle.worker.seconds)) * MEMORY_GB / n,
        "dynamodb": trickle.dynamodb_calls / n,
        "sqs": (trickle.sqs_calls + len(trickle.worker.seconds)) / n,
        "api_gateway": len(trickle.receiver.seconds) / n,
        "log_gb": trickle.log_bytes / n / 2**30,
        "traces": (len(trickle.receiver.seconds) + len(trickle.worker.seconds)) / n,
        "salesforce": trickle.salesforce_calls / n,
    }


def _per_change_bulk(backfill: BackfillFigure, calls: Counter[str]) -> dict[str, float]:
    n = backfill.stripe_creates or 1
    invocations = len(backfill.worker.seconds)
    return {
        "invocations": invocations / n,
        "gb_seconds": sum(backfill.worker.seconds) * MEMORY_GB / n,
        "dynamodb": calls["dynamodb"] / n,
        "sqs": (calls["sqs"] + invocations) / n,
        "api_gateway": 0.0,
        "log_gb": 0.0,
        "traces": invocations / n,
        "salesforce": backfill.salesforce_calls / n,
    }


def cost_table(trickle: TrickleFigure, backfill: BackfillFigure, bulk_calls: Counter[str]) -> list[str]:
    """Dollars per million changes, one at a time and in bulk, line by line, from the price sheet."""
    p = prices()
    one, bulk = _per_change(trickle), _per_change_bulk(backfill, bulk_calls)
    rows = [
        (
            "Lambda requests",
            "invocations",
            p["lambda_per_million_requests"],
            "receiver + worker invocations",
        ),
        (
            "Lambda duration (GB-s, 512 MB, x86_64)",
            "gb_seconds",
            p["lambda_gb_second_x86_64"] * MILLION,
            "measured wall time of each invocation × 0.5 GB",
        ),
        (
            "DynamoDB on-demand",
            "dynamodb",
            p["dynamodb_per_million_write_request_units"],
            "every call priced as a write of ≤ 1 KB (state and idempotency items are smaller; reads cost less)",
        ),
        ("SQS standard", "sqs", p["sqs_standard_per_million_requests"], "send, receive and delete requests"),
        ("API Gateway HTTP API", "api_gateway", p["api_gateway_http_api_per_million_requests"], "Outbound Messages"),
        ("CloudWatch Logs ingestion", "log_gb", p["cloudwatch_logs_ingestion_per_gb"] * MILLION, "log bytes"),
        (
            "X-Ray (Tracing=Active; PassThrough: 0)",
            "traces",
            p["xray_per_million_traces_recorded"],
            "at most one trace per invocation (sampling: 1/s + 5 %)",
        ),
    ]
    lines = [
        f"Prices: `devtools/bench/aws_prices.json`, {p['region']}, {p['date']} (list prices, no free tier). "
        f"One at a time: {trickle.changes} account changes, each its own Outbound Message and worker batch, "
        f"Stripe answering in {int(1000 * 0.3)} ms. In bulk: the {backfill.accounts:,}-account backfill "
        "(reconcile --apply, batches of up to 100).",
        "",
        "| per million changes | one at a time: units per change | $ | in bulk: units per change | $ | measured as |",
        "|---|---|---|---|---|---|",
    ]
    totals = [0.0, 0.0]
    for name, key, unit_price_per_million, how in rows:
        dollars = (one[key] * unit_price_per_million, bulk[key] * unit_price_per_million)
        totals = [totals[0] + dollars[0], totals[1] + dollars[1]]
        unit = "GB" if key == "log_gb" else ("GB-s" if key == "gb_seconds" else "")
        lines.append(
            f"| {name} | {one[key]:.4g} {unit} | {dollars[0]:.2f} | {bulk[key]:.4g} {unit} | {dollars[1]:.2f} | {how} |"
        )
    lines.append(f"| **AWS total** | | **{totals[0]:.2f}** | | **{totals[1]:.2f}** | |")
    allowance = ENTERPRISE_BASE + ENTERPRISE_PER_LICENSE * EXAMPLE_LICENSES
    for label, figures in (("one at a time", one), ("in bulk", bulk)):
        calls = figures["salesforce"] * MILLION
        lines.append(
            f"| Salesforce API calls, {label} | {figures['salesforce']:.3f} | {calls:,.0f} per million changes "
            f"= {calls / allowance:.2f} days of an Enterprise org's allowance ({allowance:,}/24 h with "
            f"{EXAMPLE_LICENSES} licenses: 100,000 + 1,000 each) | | | queries + write-backs + logins |"
        )
    metrics = p["cloudwatch_custom_metric_per_month"]
    lines += [
        "",
        f"Fixed, whatever the volume: custom metrics (about 15 names, × ${metrics:.2f} a month = "
        f"${15 * metrics:.2f}/month), the event source mapping's empty long polls of the queue (about "
        f"{5 * 3 * 60 * 24 * 30 / MILLION:.1f} M requests a month at 5 pollers: "
        f"${5 * 3 * 60 * 24 * 30 / MILLION * p['sqs_standard_per_million_requests']:.2f}), and the secrets in "
        "Secrets Manager.",
    ]
    return lines
