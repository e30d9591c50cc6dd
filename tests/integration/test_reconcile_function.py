"""The scheduled reconcile function: capped invocations that continue from a checkpoint in the state table."""

from __future__ import annotations

from typing import Any

import pytest

from devtools.local_runtime.stack import load_handler
from devtools.sam.lambda_events import FakeLambdaContext
from tests.integration.stack import Stack
from tests.integration.test_operations import customer_account, messages_dropped, queued


def checkpoint_item(stack: Stack, dynamodb: Any, table: str) -> str | None:
    """The checkpoint the function keeps in the state table, if any."""
    key = {"pk": {"S": f"reconcile#{stack.sim.org_id}"}}
    item = dynamodb.get_item(TableName=table, Key=key).get("Item") or {}
    return item.get("checkpoint", {}).get("S")


def test_scheduled_reconcile_queues_missing_customers_across_capped_invocations(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, dynamodb: Any, state_table: str
) -> None:
    # Given three accounts whose order activations Salesforce dropped, and one in step
    in_step = customer_account(stack, Name="Im Takt AG")
    with messages_dropped(stack):
        missing = {customer_account(stack, Name=f"Fehlt {i}") for i in range(3)}
    # And the reconcile function, capped at three accounts per invocation
    reconcile = load_handler("functions.reconcile.app", monkeypatch, {"RECONCILE_MAX_ACCOUNTS": "3"})
    # When the schedule invokes it
    first = reconcile.lambda_handler({"source": "aws.events"}, FakeLambdaContext("reconcile", timeout_ms=900_000))
    # Then it checked three accounts, queued what they need and kept its place in the state table
    assert first["checked"] == 3 and first["complete"] is False
    assert checkpoint_item(stack, dynamodb, state_table) is not None
    # When it is invoked again
    second = reconcile.lambda_handler({}, FakeLambdaContext("reconcile", timeout_ms=900_000))
    # Then it continued with the last one, finished the run and forgot the checkpoint
    assert second["checked"] == 1 and second["complete"] is True and second["run_id"] == first["run_id"]
    assert checkpoint_item(stack, dynamodb, state_table) is None
    assert first.get("missing", 0) + second.get("missing", 0) == 3 and first.get("ok", 0) + second.get("ok", 0) == 1
    assert sorted(r["account_id"] for r in queued(stack)) == sorted(missing)
    # And once the worker drained the queue, the next run starts over and finds everything in step
    stack.settle()
    third = reconcile.lambda_handler({}, FakeLambdaContext("reconcile", timeout_ms=900_000))
    fourth = reconcile.lambda_handler({}, FakeLambdaContext("reconcile", timeout_ms=900_000))
    assert third["run_id"] != first["run_id"] and third["ok"] + fourth["ok"] == 4 and fourth["complete"]
    assert in_step not in missing


class RunningOutContext(FakeLambdaContext):
    """Fifteen minutes at the start of the invocation, then ten seconds."""

    def __init__(self) -> None:
        super().__init__("reconcile", timeout_ms=900_000)
        self._left = [900_000]

    def get_remaining_time_in_millis(self) -> int:
        return self._left.pop() if self._left else 10_000


def test_scheduled_reconcile_stops_before_the_timeout(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given an account to check and an invocation that is about to time out
    customer_account(stack)
    reconcile = load_handler("functions.reconcile.app", monkeypatch, {})
    # When the schedule invokes it
    result = reconcile.lambda_handler({}, RunningOutContext())
    # Then it starts no page: the next invocation does the work
    assert result["checked"] == 0 and result["complete"] is False


def test_a_complete_reconcile_run_deletes_history_older_than_the_retention(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an account with a sync history record from 31 days ago and one from the last sync
    account = customer_account(stack, Name="Alt und Neu AG")
    stack.settle()
    old = stack.sim.create("Stripe_Sync_Record__c", {"Account__c": account, "Synced_At__c": "2020-01-01T00:00:00.000Z"})
    recent = [r for r in stack.sim.store.records("Stripe_Sync_Record__c").values() if r["Id"] != old]
    assert recent, "the worker's sync left its own record"
    # When the scheduled reconcile completes a run (the default retention: 30 days)
    reconcile = load_handler("functions.reconcile.app", monkeypatch, {})
    summary = reconcile.lambda_handler({}, FakeLambdaContext("reconcile", timeout_ms=900_000))
    # Then the old record is deleted and the recent ones are kept
    assert summary["complete"] is True and summary["history_expired"] == 1
    assert (stack.sim.get("Stripe_Sync_Record__c", old) or {})["IsDeleted"] is True
    assert all(not (stack.sim.get("Stripe_Sync_Record__c", r["Id"]) or {})["IsDeleted"] for r in recent)
