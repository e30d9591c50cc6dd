"""The cost table prices what was measured with the dated price sheet, and counts the stack's fixed costs."""

from __future__ import annotations

import json
import re

from devtools.bench.backfill import DataLoaderFigure, Invocations, TrickleFigure
from devtools.bench.costs import ARCHITECTURE, MEMORY_GB, WORKER_MEMORY_GB, cost_table, emitted_metrics, prices


def _invocations(count: int, seconds: float) -> Invocations:
    return Invocations(events=[1] * count, seconds=[seconds] * count)


def test_one_change_at_a_time_costs_its_invocations_calls_and_log_bytes_at_list_price() -> None:
    # Given 10 changes, each one receiver call (0.1 s) and one worker call (0.5 s), 4 DynamoDB calls (1 of them a
    # read) and 2 SQS calls,
    # 1 Salesforce call and 2 KiB of logs each; and a Data Loader load of 100 in one message
    one = TrickleFigure(10, _invocations(10, 0.1), _invocations(10, 0.5), 10, 40, 10, 20, 10 * 2048)
    bulk = DataLoaderFigure(100, _invocations(1, 0.2), _invocations(1, 4.0), 1, 400, 0, 3, 4096, 1, 25.0, 5.0, 100)
    # When the cost table is made
    lines = cost_table(one, bulk, log_text="")
    # Then each line is units per change × the sheet's price per million, and the total is their sum
    p = prices()
    rows = {cells[0]: cells for cells in map(_cells, lines) if cells}
    assert float(rows["Lambda requests"][2]) == round(2 * p["lambda_per_million_requests"], 2)
    assert float(rows["DynamoDB on-demand writes"][2]) == round(3 * p["dynamodb_per_million_write_request_units"], 2)
    assert float(rows["DynamoDB on-demand reads"][2]) == round(1 * p["dynamodb_per_million_read_request_units"], 2)
    # each function's wall time × its memory in the template, at the price of its default architecture
    gb_seconds = 0.1 * MEMORY_GB + 0.5 * WORKER_MEMORY_GB
    assert float(rows[f"Lambda duration (GB-s, {ARCHITECTURE})"][2]) == round(
        gb_seconds * p[f"lambda_gb_second_{ARCHITECTURE}"] * 1e6, 2
    )
    # SQS: 2 sends/deletes per change plus the worker's one receive
    assert float(rows["SQS standard"][2]) == round(3 * p["sqs_standard_per_million_requests"], 2)
    dollars = [float(row[2]) for name, row in rows.items() if name in _aws_lines(lines)]
    total = float(re.sub(r"[^\d.]", "", rows["**AWS total**"][2]))
    assert abs(total - sum(dollars)) <= 0.01 * len(dollars)
    # And a Salesforce call per change is 1,000,000 calls a million: 6.67 days of 150,000 a day
    assert rows["one at a time"][1:4] == ["1.000", "1,000,000", "6.67"]
    # And the sheet names its region and date, so a reader knows what the dollars are
    assert f"{p['region']}, {p['date']}" in lines[0]


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")] if line.startswith("| ") else []


def _aws_lines(lines: list[str]) -> set[str]:
    start = next(i for i, line in enumerate(lines) if line.startswith("|---"))
    names = [_cells(line)[0] for line in lines[start + 1 :] if line.startswith("| ")]
    return set(names[: names.index("**AWS total**")])


def test_each_metric_in_the_embedded_metric_format_counts_once() -> None:
    # Given log lines in CloudWatch's embedded metric format, two for the same metric, and other log lines
    def emf(name: str) -> str:
        directive = {"Namespace": "SalesforceStripeSync", "Dimensions": [["service"]], "Metrics": [{"Name": name}]}
        return json.dumps({"_aws": {"CloudWatchMetrics": [directive]}, "service": "sync", name: [1.0]})

    log = "\n".join([emf("created"), '{"message": "synced"}', emf("created"), emf("updated"), "not json"])
    # When the metrics are counted
    metrics = emitted_metrics(log)
    # Then each (namespace, dimensions, name) is one custom metric
    assert metrics == {
        ("SalesforceStripeSync", "service=sync", "created"),
        ("SalesforceStripeSync", "service=sync", "updated"),
    }
