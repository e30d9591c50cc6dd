"""The admin's preferences on the whole local stack: Live Sync off holds the automatic triggers, a start date
keeps old orders out, a refused order filter holds with an error naming it.

Live Sync and a refused filter are the gate's ``live_switch`` hold (``shared.sync.live_switch``): the messages
wait in the held queue — one receive each, so none reaches the DLQ — and the scheduled reconcile redrives
them once the preference allows it again. The preferences are the org default of the
``Stripe_Sync_Preferences__c`` hierarchy custom setting in the simulated org.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from devtools.local_runtime.stack import load_handler
from devtools.sam.lambda_events import FakeLambdaContext
from ops.cli import main
from shared.salesforce.preferences import SETTING, OrderFilterRefused, PreferencesReader
from shared.state.holds import Hold, HoldReason, HoldStore
from tests.integration.conftest import StackFactory
from tests.integration.stack import Stack


def _holds(stack: Stack) -> list[Hold]:
    store: HoldStore = stack.worker.COMPONENTS.holds
    return store.holds(consistent=True)


def _held(stack: Stack) -> int:
    attrs = stack.sqs.get_queue_attributes(
        QueueUrl=stack.held_queue_url, AttributeNames=["ApproximateNumberOfMessages"]
    )
    return int(attrs["Attributes"]["ApproximateNumberOfMessages"])


def _five_minutes_later(stack: Stack) -> None:
    """The worker instance's kept preferences are out of date (what 5 minutes do)."""
    reader: PreferencesReader = stack.worker.COMPONENTS.preferences
    reader.expire()


def _reconcile(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """One run of the scheduled reconcile (a fresh instance: it reads the preferences)."""
    handler = load_handler("functions.reconcile.app", monkeypatch, {})
    summary: dict[str, Any] = handler.lambda_handler({}, FakeLambdaContext("reconcile", timeout_ms=900_000))
    return summary


def _activate(stack: Stack, name: str) -> str:
    account_id, _, order_id = stack.new_customer_account(Name=name)
    stack.settle()
    stack.sim.update("Order", order_id, {"Status": "Activated"})
    stack.settle()
    return account_id


def _customers_of(stack: Stack, account_id: str) -> list[dict[str, Any]]:
    return [c for c in stack.stripe.customers() if c["metadata"].get("salesforce_account_id") == account_id]


def test_live_sync_off_holds_an_activation_until_the_admin_turns_it_on(
    stack_factory: StackFactory, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a live stack whose admin unticked Live Sync in Setup
    stack = stack_factory()
    stack.sim.set_org_default(SETTING, {"Live_Sync__c": False})
    # When an order is activated
    account_id = _activate(stack, "Pausiert AG")
    # Then nothing reached Stripe: the change waits in the held queue (not the DLQ), held by the preferences
    assert stack.stripe.write_requests() == []
    assert _held(stack) >= 1 and stack.dlq_messages() == []
    (hold,) = _holds(stack)
    assert hold.reason is HoldReason.LIVE_SWITCH and hold.by == "salesforce preferences"
    assert f"{SETTING}.Live_Sync__c is off" in hold.note
    assert main(["status"]) == 0 and "live_switch" in capsys.readouterr().out
    # When the admin ticks Live Sync again and the schedule runs the reconcile
    stack.sim.set_org_default(SETTING, {"Live_Sync__c": True})
    _five_minutes_later(stack)
    summary = _reconcile(monkeypatch)
    stack.settle()
    # Then the hold is released, the waiting activation is redriven and synced, and nothing reached the DLQ
    assert summary["apply"] is True and _holds(stack) == []
    assert len(_customers_of(stack, account_id)) == 1
    assert _held(stack) == 0 and stack.dlq_messages() == []


def test_the_five_minute_gate_probe_resumes_within_minutes_when_live_sync_is_ticked_again(
    stack_factory: StackFactory,
) -> None:
    # Given an activation held because the admin unticked Live Sync
    stack = stack_factory()
    stack.sim.set_org_default(SETTING, {"Live_Sync__c": False})
    account_id = _activate(stack, "Wieder Live AG")
    assert stack.stripe.write_requests() == [] and _held(stack) >= 1
    # When the admin ticks it again and the worker's 5-minute gate probe runs (no reconcile, no new change)
    stack.sim.set_org_default(SETTING, {"Live_Sync__c": True})
    _five_minutes_later(stack)
    answer = stack.worker.lambda_handler({"gate_probe": True}, FakeLambdaContext("worker"))
    stack.settle()
    # Then the hold is released and the waiting activation synced within that probe's period, not a day later
    assert answer["released"] == ["live_switch"] and answer["redriven"] >= 1
    assert _holds(stack) == [] and len(_customers_of(stack, account_id)) == 1
    assert _held(stack) == 0 and stack.dlq_messages() == []


def test_live_sync_on_never_releases_the_operators_pause(
    stack_factory: StackFactory, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a stack paused by the operator while the admin's Live Sync was off
    stack = stack_factory()
    stack.sim.set_org_default(SETTING, {"Live_Sync__c": False})
    assert main(["pause", "--note", "Wartung"]) == 0
    _activate(stack, "Doppelt Gehalten AG")
    assert {h.reason for h in _holds(stack)} == {HoldReason.OPERATOR, HoldReason.LIVE_SWITCH}
    # When the admin turns Live Sync on
    stack.sim.set_org_default(SETTING, {"Live_Sync__c": True})
    _five_minutes_later(stack)
    summary = _reconcile(monkeypatch)
    # Then only the preferences' hold is gone: the operator's pause holds, nothing is written
    assert summary["apply"] is False
    assert [h.reason for h in _holds(stack)] == [HoldReason.OPERATOR]
    assert stack.stripe.write_requests() == [] and _held(stack) >= 1


def test_an_order_activated_before_the_start_date_is_skipped(stack_factory: StackFactory) -> None:
    # Given an admin's start date, an account whose order was activated long before it, and a new one
    stack = stack_factory()
    stack.sim.set_org_default(SETTING, {"Start_Date__c": "2026-01-01"})
    old_account, _, old_order = stack.new_customer_account(Name="Altbestand AG")
    stack.sim.update("Order", old_order, {"Status": "Activated"})
    stack.sim.load_system_fields("Order", old_order, {"ActivatedDate": datetime(2025, 3, 1, tzinfo=UTC)})
    stack.settle()
    # When the old account changes (an automatic trigger) and a new order is activated
    stack.sim.update("Account", old_account, {"Name": "Altbestand AG (geändert)"})
    new_account = _activate(stack, "Neukunde AG")
    # Then only the new order's account got a customer; the old one was skipped, nothing held or dead-lettered
    assert _customers_of(stack, old_account) == []
    assert len(_customers_of(stack, new_account)) == 1
    assert _holds(stack) == [] and stack.dlq_messages() == []


def test_a_refused_order_filter_holds_the_sync_with_an_error_naming_it(
    stack_factory: StackFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an admin's order filter naming a field Order doesn't have
    stack = stack_factory()
    stack.sim.set_org_default(SETTING, {"Order_Filter__c": "Typo__c = 'Neu'"})
    # When an order is activated
    account_id = _activate(stack, "Gefiltert AG")
    # Then nothing is synced without the filter: the change waits, the hold names the preference and the code
    assert stack.stripe.write_requests() == [] and stack.dlq_messages() == []
    (hold,) = _holds(stack)
    assert hold.reason is HoldReason.LIVE_SWITCH
    assert f"{SETTING}.Order_Filter__c refused by Salesforce (INVALID_FIELD)" in hold.note
    # And the scheduled reconcile stops with the same error, naming the preference (its errors alarm tells the
    # operator), rather than list accounts without the filter
    with pytest.raises(OrderFilterRefused, match=rf"^{SETTING}.Order_Filter__c: .*INVALID_FIELD"):
        _reconcile(monkeypatch)
    # When the admin fixes the filter
    stack.sim.set_org_default(SETTING, {"Order_Filter__c": "EffectiveDate >= 2026-01-01"})
    _five_minutes_later(stack)
    _reconcile(monkeypatch)
    stack.settle()
    # Then the activation syncs
    assert _holds(stack) == [] and len(_customers_of(stack, account_id)) == 1


def _preference_reads(stack: Stack) -> int:
    _, log = stack.sim.snapshot()
    return sum(SETTING in entry["path"] for entry in log)


def test_preferences_cost_no_salesforce_call_per_batch_in_the_steady_state(stack_factory: StackFactory) -> None:
    # Given a live stack whose worker has synced one batch (its cold start read the preferences once)
    stack = stack_factory()
    _activate(stack, "Erster Batch AG")
    first = _preference_reads(stack)
    assert first == 1
    # When more batches follow within 5 minutes
    for n in range(3):
        stack.sim.create("Account", {"Name": f"Weiterer Batch {n}"})
        stack.settle()
    # Then none of them read the preferences again (the bench's "preference reads/batch" column: 0)
    assert _preference_reads(stack) == first
