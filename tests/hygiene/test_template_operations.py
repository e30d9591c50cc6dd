"""template.yaml's operations parts: the optional scheduled reconcile and the dashboard."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from devtools.sam.template_tables import load_template
from shared.reconcile.reconciler import Verdict
from shared.sync.customer_sync import Outcome
from tests.build.lambda_env import LocalStack

TEMPLATE = load_template(Path(__file__).resolve().parents[2] / "template.yaml")
RESOURCES = TEMPLATE["Resources"]


def _stack(**parameters: Any) -> LocalStack:
    return LocalStack(TEMPLATE, parameters=parameters, sqs=None, dynamodb=None, secretsmanager=None, secret_values={})


def test_scheduled_reconcile_runs_daily_by_default_and_an_empty_schedule_removes_it() -> None:
    # Given the reconcile function; Then it exists only with a schedule, daily unless told otherwise
    function = RESOURCES["ReconcileFunction"]
    assert function["Condition"] == "HasReconcileSchedule"
    assert TEMPLATE["Parameters"]["ReconcileSchedule"]["Default"] == "rate(1 day)"
    assert _stack().condition("HasReconcileSchedule") is True
    assert _stack(ReconcileSchedule="").condition("HasReconcileSchedule") is False
    event = function["Properties"]["Events"]["Schedule"]
    assert event["Type"] == "Schedule" and event["Properties"]["Schedule"] == {"Ref": "ReconcileSchedule"}
    # And it is built and run like the worker, one instance at a time
    worker = RESOURCES["SyncWorkerFunction"]
    assert function["Metadata"]["BuildMethod"] == "makefile" and function["Properties"]["CodeUri"] == "."
    assert _stack(ReserveConcurrency="true").resolve(function["Properties"]["ReservedConcurrentExecutions"]) == 1
    shared_env = {"CREATION_MODE", "MAPPING_CONFIG", "STRIPE_API_KEY_SECRET_NAME", "SALESFORCE_SECRET_NAME"}
    shared_env.add("STATE_DIGEST_KEY_SECRET_NAME")  # the same field digests, or every account looks changed
    for name in shared_env | {"SALESFORCE_STRIPE_ID_FIELD", "STATE_TABLE_NAME"}:
        assert (
            function["Properties"]["Environment"]["Variables"][name]
            == (worker["Properties"]["Environment"]["Variables"][name])
        )


def test_scheduled_reconcile_may_not_delete_or_touch_the_idempotency_table() -> None:
    # Given its policies; Then it reads and writes the state table and sends to the sync queue, nothing more
    role = RESOURCES["ReconcileFunction"]["Properties"]["Role"]["Fn::GetAtt"].split(".")[0]
    policies = RESOURCES[role]["Properties"]["Policies"]
    statements = [st for p in policies for st in p["PolicyDocument"]["Statement"] if "Fn::If" not in st]
    tables = {
        "dynamodb": [st["Resource"] for st in statements if any(a.startswith("dynamodb:") for a in st["Action"])],
        "actions": {a for st in statements for a in st["Action"] if a.startswith("dynamodb:")},
    }
    assert tables["dynamodb"] == [{"Fn::GetAtt": "AccountStateTable.Arn"}]
    assert not tables["actions"] & {"dynamodb:DeleteItem", "dynamodb:Scan", "dynamodb:BatchWriteItem"}
    sends = [st for st in statements if st["Action"] == "sqs:SendMessageBatch"]
    assert [st["Resource"] for st in sends] == [{"Fn::GetAtt": "SyncQueue.Arn"}]


def _dashboard_metrics() -> list[list[Any]]:
    body = RESOURCES["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    widgets = json.loads(re.sub(r"\$\{[^}]+\}", "x", body))["widgets"]
    return [metric for widget in widgets for metric in widget["properties"]["metrics"]]


def test_dashboard_shows_every_outcome_error_and_the_queues() -> None:
    # Given the dashboard's metrics
    metrics = _dashboard_metrics()
    custom = {m[1] for m in metrics if m[0] == "SalesforceStripeSync"}
    # Then every outcome the worker counts, its errors and the reconcile findings are there, under the
    # namespace and service dimension the functions publish with
    assert TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"] == (
        "SalesforceStripeSync"
    )
    assert {o.value for o in Outcome} | {
        "duplicate",
        "transient_error",
        "writeback_error",
        "dead_lettered",
        "field_warning",
    } <= custom
    assert {f"reconcile_{v.value}" for v in Verdict} | {"reconcile_queued", "reconcile_identity_damage"} <= custom
    assert all(m[2:4] == ["service", "salesforce-stripe-sync"] for m in metrics if m[0] == "SalesforceStripeSync")
    # And the DLQ depth, the worker's health and the endpoint's answers
    aws = {(m[0], m[1]) for m in metrics}
    assert ("AWS/SQS", "ApproximateNumberOfMessagesVisible") in aws
    assert {("AWS/Lambda", "Duration"), ("AWS/Lambda", "Errors"), ("AWS/Lambda", "Throttles")} <= aws
    assert {("AWS/ApiGateway", "4xx"), ("AWS/ApiGateway", "5xx")} <= aws


def test_identity_damage_found_by_the_scheduled_reconcile_raises_an_alarm() -> None:
    # Given the alarm on the reconcile's identity metric (issue: customers and accounts naming each other wrongly)
    alarm = RESOURCES["ReconcileIdentityAlarm"]
    properties = alarm["Properties"]
    variables = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]
    # Then it exists with the scheduled reconcile, watches the metric the function publishes under its namespace
    # and service, fires on a single damaged account, and notifies the alarm topic
    assert alarm["Condition"] == "HasReconcileSchedule"
    assert properties["MetricName"] == "reconcile_identity_damage"
    assert properties["Namespace"] == variables["POWERTOOLS_METRICS_NAMESPACE"]
    assert properties["Dimensions"] == [{"Name": "service", "Value": variables["POWERTOOLS_SERVICE_NAME"]}]
    assert properties["Threshold"] == 0 and properties["ComparisonOperator"] == "GreaterThanThreshold"
    assert {"Ref": "AlarmTopic"} in properties["AlarmActions"]
    assert "reconcile_identity_damage" in {m[1] for m in _dashboard_metrics()}
