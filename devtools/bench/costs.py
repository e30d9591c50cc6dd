"""What a million Salesforce changes cost: AWS from the measured durations and calls and a dated price sheet
(``aws_prices.json``), and Salesforce API calls beside an Enterprise org's daily allowance.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from devtools.bench.backfill import TRICKLE_LATENCY_SECONDS, ChangesFigure, DataLoaderFigure, TrickleFigure
from devtools.bench.monthly import monthly_table
from devtools.bench.reconcile import ReconcileFigure
from devtools.sam.template_tables import function_memory_mb, parameter_default

PRICES = Path(__file__).with_name("aws_prices.json")
# What Lambda bills per second of each invocation, per function.
MEMORY_GB = function_memory_mb("OutboundMessageFunction") / 1024
WORKER_MEMORY_GB = function_memory_mb("SyncWorkerFunction") / 1024
RECONCILE_MEMORY_GB = function_memory_mb("ReconcileFunction") / 1024
ARCHITECTURE = str(parameter_default("Architecture"))  # the template's default: its duration price
TRACING = str(parameter_default("Tracing"))  # X-Ray is billed only when the stack runs with Tracing=Active
MILLION = 1_000_000
TEMPLATE_STRIPE_RATE = float(parameter_default("StripeRequestsPerSecondPerWorker"))
# Salesforce, "API Request Limits and Allocations": Enterprise Edition gets 100,000 API requests per 24 h plus
# 1,000 per Salesforce license (e.g. 50 licenses: 150,000).
ENTERPRISE_BASE, ENTERPRISE_PER_LICENSE, EXAMPLE_LICENSES = 100_000, 1_000, 50


def prices() -> dict[str, Any]:
    return dict(json.loads(PRICES.read_text()))


def _per_change(run: ChangesFigure) -> dict[str, float]:
    n = max(1, run.changes)
    invocations = len(run.receiver.seconds) + len(run.worker.seconds)
    return {
        "invocations": invocations / n,
        "gb_seconds": (sum(run.receiver.seconds) * MEMORY_GB + sum(run.worker.seconds) * WORKER_MEMORY_GB) / n,
        "dynamodb": (run.dynamodb_calls - run.dynamodb_reads) / n,
        "dynamodb_read": run.dynamodb_reads / n,
        # the local poller's receives are not Lambda's: one receive per worker invocation
        "sqs": (run.sqs_calls + len(run.worker.seconds)) / n,
        "api_gateway": len(run.receiver.seconds) / n,
        "log_gb": run.log_bytes / n / 2**30,
        "traces": invocations / n,
        "salesforce": run.salesforce_calls / n,
    }


def gb_second_price(p: dict[str, Any]) -> float:
    """$ per GB-second of Lambda duration at the template's default architecture."""
    return float(p[f"lambda_gb_second_{ARCHITECTURE}"])


def _price_rows(p: dict[str, Any]) -> list[tuple[str, str, float, str]]:
    """(line, unit key, $ per million units, how the units were measured)."""
    xray = p["xray_per_million_traces_recorded"]
    return [
        ("Lambda requests", "invocations", p["lambda_per_million_requests"], "receiver + worker invocations"),
        (
            f"Lambda duration (GB-s, {ARCHITECTURE})",
            "gb_seconds",
            gb_second_price(p) * MILLION,
            f"measured wall time of each invocation × its memory (receiver {MEMORY_GB * 1024:.0f} MB, worker "
            f"{WORKER_MEMORY_GB * 1024:.0f} MB)",
        ),
        (
            "DynamoDB on-demand writes",
            "dynamodb",
            p["dynamodb_per_million_write_request_units"],
            "PutItem, UpdateItem, DeleteItem calls, each one write request unit (items under 1 KB)",
        ),
        (
            "DynamoDB on-demand reads",
            "dynamodb_read",
            p["dynamodb_per_million_read_request_units"],
            "GetItem and Query calls, each one read request unit (items under 4 KB)",
        ),
        ("SQS standard", "sqs", p["sqs_standard_per_million_requests"], "send, receive and delete requests"),
        ("API Gateway HTTP API", "api_gateway", p["api_gateway_http_api_per_million_requests"], "Outbound Messages"),
        ("CloudWatch Logs ingestion", "log_gb", p["cloudwatch_logs_ingestion_per_gb"] * MILLION, "log bytes"),
        (
            f"X-Ray (Tracing={TRACING}, the default)",
            "traces",
            xray if TRACING == "Active" else 0.0,
            f"at most one trace per invocation (sampling: 1/s + 5 %); with Tracing=Active ${xray:.2f} per million",
        ),
    ]


def per_change_dollars(trickle: ChangesFigure) -> float:
    """AWS $ of one change synced alone (every line of the price sheet the change's units touch)."""
    one = _per_change(trickle)
    return sum(one[key] * price for _, key, price, _ in _price_rows(prices())) / MILLION


def monthly_bill(trickle: TrickleFigure) -> list[str]:
    """The month's bill at 0 / 10,000 / 100,000 / 1,000,000 changes (``devtools.bench.monthly``)."""
    one, p = _per_change(trickle), prices()
    parts = "; ".join(
        f"{name} ${one[key] * price:.2f}" for name, key, price, _ in _price_rows(p) if one[key] * price >= 0.005
    )
    return [
        *monthly_table(trickle, per_change_dollars(trickle), p),
        "",
        f"A million changes one at a time ({trickle.changes} measured, each its own Outbound Message and worker "
        f"batch, Stripe answering in {TRICKLE_LATENCY_SECONDS * 1000:.0f} ms): {parts}. The same measured units "
        f"with the defaults before 2026-12-07 (x86_64, every function at 512 MB, X-Ray on): "
        f"${previous_defaults_dollars(trickle) * MILLION:.2f}.",
    ]


def previous_defaults_dollars(trickle: ChangesFigure) -> float:
    """AWS $ of one change alone at the template's earlier defaults: x86_64, the worker at 512 MB like the
    other functions, Tracing=Active (one trace per invocation, sampling a quiet stack's nearly all)."""
    one, p = _per_change(trickle), prices()
    now = per_change_dollars(trickle) * MILLION
    n = max(1, trickle.changes)
    gb_seconds = (sum(trickle.receiver.seconds) + sum(trickle.worker.seconds)) * 0.5 / n
    duration_now = one["gb_seconds"] * gb_second_price(p) * MILLION
    duration_then = gb_seconds * p["lambda_gb_second_x86_64"] * MILLION
    xray_then = one["traces"] * p["xray_per_million_traces_recorded"] if TRACING != "Active" else 0.0
    return (now - duration_now + duration_then + xray_then) / MILLION


def cost_table(
    trickle: TrickleFigure, loaded: DataLoaderFigure, log_text: str, reconciled: ReconcileFigure | None = None
) -> list[str]:
    """Dollars per million changes, one at a time and in a Data Loader load, line by line, from the price
    sheet; Salesforce API calls beside an Enterprise org's allowance; the fixed monthly costs."""
    p = prices()
    one, bulk = _per_change(trickle), _per_change(loaded)
    lines = [
        f"Prices: `devtools/bench/aws_prices.json`, {p['region']}, {p['date']} (list prices, no free tier). "
        f"One at a time: {trickle.changes} account changes, each its own Outbound Message and worker batch, "
        f"Stripe answering in {TRICKLE_LATENCY_SECONDS * 1000:.0f} ms. In bulk: the Data Loader update of "
        f"{loaded.changes:,} accounts ({loaded.messages} Outbound Messages, worker batches of up to 100, one worker "
        f"at {loaded.rate:g} Stripe requests/s).",
        "",
        "| per million changes | one at a time: units per change | $ | in bulk: units per change | $ | measured as |",
        "|---|---|---|---|---|---|",
    ]
    totals = [0.0, 0.0]
    for name, key, unit_price_per_million, how in _price_rows(p):
        dollars = (one[key] * unit_price_per_million, bulk[key] * unit_price_per_million)
        totals = [totals[0] + dollars[0], totals[1] + dollars[1]]
        unit = "GB" if key == "log_gb" else ("GB-s" if key == "gb_seconds" else "")
        lines.append(
            f"| {name} | {one[key]:.4g} {unit} | {dollars[0]:.2f} | {bulk[key]:.4g} {unit} | {dollars[1]:.2f} | {how} |"
        )
    lines.append(f"| **AWS total** | | **{totals[0]:.2f}** | | **{totals[1]:.2f}** | |")
    # A worker waits for its Stripe rate, and Lambda bills the wait: at the template's default rate a batch of
    # 100 takes at least 100 / 4 s.
    default_floor = WORKER_MEMORY_GB / TEMPLATE_STRIPE_RATE * gb_second_price(p) * MILLION
    lines += [
        "",
        f"In bulk the worker's duration is its wait for the Stripe rate: at the template's default "
        f"{TEMPLATE_STRIPE_RATE:g} requests/s (`StripeRequestsPerSecondPerWorker`) a change costs at least "
        f"{WORKER_MEMORY_GB / TEMPLATE_STRIPE_RATE:.3f} GB-s, ${default_floor:.2f} per million instead of "
        f"${bulk['gb_seconds'] * gb_second_price(p) * MILLION:.2f} at {loaded.rate:g}/s.",
        "",
        *_salesforce_lines(one, bulk),
        "",
        "Fixed costs (metrics, alarms, the dashboard, secrets, the queue's empty polls): the monthly bill above.",
        *(_reconcile_lines(p, reconciled) if reconciled else []),
    ]
    return lines


def _salesforce_lines(one: dict[str, float], bulk: dict[str, float]) -> list[str]:
    allowance = ENTERPRISE_BASE + ENTERPRISE_PER_LICENSE * EXAMPLE_LICENSES
    lines = [
        f"| Salesforce API calls | per change | per million changes | days of an Enterprise org's allowance "
        f"({allowance:,} per 24 h with {EXAMPLE_LICENSES} licenses: 100,000 + 1,000 each) | counted |",
        "|---|---|---|---|---|",
    ]
    for label, figures in (("one at a time", one), ("in bulk", bulk)):
        calls = figures["salesforce"] * MILLION
        lines.append(
            f"| {label} | {figures['salesforce']:.3f} | {calls:,.0f} | {calls / allowance:.2f} "
            "| queries, write-backs, logins |"
        )
    return lines


def _reconcile_lines(p: dict[str, Any], reconciled: ReconcileFigure) -> list[str]:
    """The scheduled reconcile (rate(1 day)) of the largest org measured, a month of it."""
    gb_seconds = reconciled.seconds * RECONCILE_MEMORY_GB * 30
    return [
        "",
        f"The scheduled reconcile of {reconciled.accounts:,} accounts once a day (`rate(1 day)`): "
        f"{reconciled.seconds:.0f} s × {RECONCILE_MEMORY_GB:g} GB × 30 = {gb_seconds:,.0f} GB-s, "
        f"${gb_seconds * gb_second_price(p):.2f} a month; {reconciled.stripe_calls:,} Stripe and "
        f"{reconciled.salesforce_calls:,} Salesforce calls a day.",
    ]


def emf_metrics(log_text: str) -> Iterator[tuple[dict[str, Any], str, list[str], str]]:
    """Every metric of the log's CloudWatch embedded metric format lines: (record, namespace, dimension names,
    metric name), once per metric × dimension set (what CloudWatch bills as one custom metric)."""
    for line in log_text.splitlines():
        if '"CloudWatchMetrics"' not in line:
            continue
        try:
            record = json.loads(line)
        except ValueError:
            continue
        for directive in record.get("_aws", {}).get("CloudWatchMetrics", []):
            for dimensions in directive.get("Dimensions", [[]]):
                for metric in directive.get("Metrics", []):
                    yield record, directive.get("Namespace", ""), list(dimensions), metric["Name"]


def emitted_metrics(log_text: str) -> set[tuple[str, str, str]]:
    """(namespace, dimensions, name) of every metric in the log's CloudWatch embedded metric format lines:
    each combination is one custom metric, billed per month."""
    return {
        (namespace, ",".join(f"{d}={record.get(d)}" for d in dimensions), name)
        for record, namespace, dimensions, name in emf_metrics(log_text)
    }
