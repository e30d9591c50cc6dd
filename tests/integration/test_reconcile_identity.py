"""Reconcile against the whole local stack: identity damage is a verdict with both ids, and one account that
can't be checked never stops the run.

Stripe keeps test-mode and live-mode objects apart and answers an id of the other mode with a 404 "a
similar object exists in live mode" (https://docs.stripe.com/keys#test-live-modes): one such Stripe ID in
the org used to abort the whole reconcile. Customers name their account in ``metadata.salesforce_account_id``
(https://docs.stripe.com/api/metadata); the account names its customer in its Stripe ID field.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import stripe

from devtools.local_runtime.stack import load_handler
from devtools.sam.lambda_events import FakeLambdaContext
from tests.integration.stack import Stack
from tests.integration.test_operations import customer_account, customer_of, messages_dropped, queued, sfsync

LIVE_KEY = "sk_live_reconcile_test_key"
STRIPE_ID = "Stripe_Customer_ID__c"


def stripe_client(stack: Stack, key: str = "sk_test_x") -> stripe.StripeClient:
    return stripe.StripeClient(key, base_addresses={"api": stack.stripe.base_url}, max_network_retries=0)


def reasons(out: str) -> dict[str, str]:
    """The ``why:`` lines under the reconcile table: account id -> ``verdict: reason``."""
    found: dict[str, str] = {}
    for line in out.split("\nwhy:\n", 1)[-1].splitlines() if "\nwhy:\n" in out else []:
        account_id, _, rest = line.strip().partition("  ")
        if account_id.startswith("001"):
            found[account_id] = rest
    return found


def other_mode_account(stack: Stack) -> tuple[str, str]:
    """An account holding a live-mode customer id in a test-mode stack (a refreshed sandbox); (account, id)."""
    stack.stripe.add_key(LIVE_KEY)
    live_id = str(stripe_client(stack, LIVE_KEY).v1.customers.create(params={"name": "Produktion AG"}).id)
    with messages_dropped(stack):
        account_id = customer_account(stack, Name="Kopie AG", **{STRIPE_ID: live_id})
    return account_id, live_id


def test_reconcile_lists_an_account_it_cannot_check_and_finishes_the_run(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an account in step and one whose Stripe ID belongs to the other Stripe mode
    in_step = customer_account(stack, Name="Im Takt AG")
    copied, live_id = other_mode_account(stack)
    # When reconcile runs
    code, out, _ = sfsync(capsys, "reconcile", "--all")
    # Then the run finished: both accounts are listed, the copied one with Stripe's reason, and the exit is 0
    assert code == 0
    assert "checked 2 accounts" in out and "ok 1" in out and "check_failed 1" in out
    assert reasons(out)[copied].startswith("check_failed:") and "live mode" in reasons(out)[copied]
    assert in_step in out
    # And with --strict the same run exits 1 (e.g. for a CI job that must notice)
    code, out, _ = sfsync(capsys, "reconcile", "--strict")
    assert code == 1 and "check_failed 1" in out
    # And the live customer was never touched
    assert [w for w in stack.stripe.write_requests() if live_id in w["path"]] == []


def published_metrics(out: str) -> dict[str, float]:
    """The metrics a function printed in CloudWatch's embedded metric format (one JSON object a line)."""
    found: dict[str, float] = {}
    for line in out.splitlines():
        if line.startswith('{"_aws"'):
            blob = json.loads(line)
            for definition in blob["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
                value = blob[definition["Name"]]
                found[definition["Name"]] = sum(value) if isinstance(value, list) else value
    return found


def test_scheduled_reconcile_counts_an_account_it_cannot_check_instead_of_raising(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an account in step and one whose Stripe ID belongs to the other Stripe mode
    customer_account(stack, Name="Im Takt AG")
    copied, _ = other_mode_account(stack)
    # When the schedule invokes the reconcile function
    reconcile = load_handler("functions.reconcile.app", monkeypatch, {})
    summary = reconcile.lambda_handler({}, FakeLambdaContext("reconcile", timeout_ms=900_000))
    # Then the run completed, with the failed check counted beside the ok one
    assert summary["complete"] is True and summary["checked"] == 2
    assert summary.get("check_failed") == 1 and summary.get("ok") == 1
    # And its metrics count the failed check (and no identity damage: the alarm's metric is 0, not missing)
    metrics = published_metrics(capsys.readouterr().out)
    assert metrics["reconcile_check_failed"] == 1 and metrics["reconcile_identity_damage"] == 0
    assert copied not in {r["account_id"] for r in queued(stack)}


def test_reconcile_reports_two_customers_naming_one_account_with_both_ids(
    stack: Stack, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a synced account, and a second customer naming the same account (e.g. made under an org-id alias)
    account_id = customer_account(stack, Name="Doppelt AG")
    own = customer_of(stack, account_id)["id"]
    second = str(
        stripe_client(stack).v1.customers.create(params={"metadata": {"salesforce_account_id": account_id}}).id
    )
    # When reconcile runs
    code, out, _ = sfsync(capsys, "reconcile")
    # Then the account's verdict is duplicate_customers, naming both customers
    assert code == 0 and "duplicate_customers 1" in out
    line = reasons(out)[account_id]
    assert line.startswith("duplicate_customers:") and own in line and second in line
    # And the scheduled run publishes it as identity damage (what ReconcileIdentityAlarm watches)
    reconcile = load_handler("functions.reconcile.app", monkeypatch, {})
    summary = reconcile.lambda_handler({}, FakeLambdaContext("reconcile", timeout_ms=900_000))
    assert summary.get("duplicate_customers") == 1
    assert published_metrics(capsys.readouterr().out)["reconcile_identity_damage"] == 1


def test_reconcile_never_queues_a_sync_over_another_accounts_customer(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given two synced accounts, and the second one's customer id moved into the first one's Stripe ID field
    # (the field is unique: Salesforce refuses it while the second account still holds it, so it was cleared
    # there first)
    first = customer_account(stack, Name="Erste AG")
    second = customer_account(stack, Name="Zweite AG")
    first_customer, second_customer = customer_of(stack, first)["id"], customer_of(stack, second)["id"]
    with messages_dropped(stack):
        stack.sim.update("Account", second, {STRIPE_ID: None})
        stack.sim.update("Account", first, {STRIPE_ID: second_customer})
    before = stripe_client(stack).v1.customers.retrieve(second_customer)
    # When reconcile applies
    code, out, _ = sfsync(capsys, "reconcile", "--apply")
    # Then the first account is customer_of_other_account, naming the other account and both customers
    assert code == 0 and "customer_of_other_account 1" in out
    line = reasons(out)[first]
    assert line.startswith("customer_of_other_account:") and second in line and second_customer in line
    assert first_customer in line  # its own customer, which still names it, is named too
    # And no sync is queued for it, so the second account's customer keeps its data
    assert first not in {r["account_id"] for r in queued(stack)}
    stack.settle()
    after = stripe_client(stack).v1.customers.retrieve(second_customer)
    assert (after.name, after.metadata["salesforce_account_id"]) == (before.name, second)


def test_reconcile_reports_a_customer_naming_an_account_that_names_another_customer(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a synced account whose Stripe ID field was then typed with a web-shop customer (no Salesforce
    # reference at all), while the customer the sync made still names the account
    account_id = customer_account(stack, Name="Webshop AG")
    own = customer_of(stack, account_id)["id"]
    web_shop: Any = stripe_client(stack).v1.customers.create(params={"email": "shop@example.com"})
    with messages_dropped(stack):
        stack.sim.update("Account", account_id, {STRIPE_ID: web_shop.id})
    # When reconcile runs
    code, out, _ = sfsync(capsys, "reconcile")
    # Then the verdict names both: the customer that names the account, and the one the account names
    assert code == 0 and "claimed_by_other_customer 1" in out
    line = reasons(out)[account_id]
    assert line.startswith("claimed_by_other_customer:") and own in line and web_shop.id in line


def test_rule_r13_a_merge_whose_master_keeps_the_losers_stripe_id_is_reported_and_never_synced_over(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given two synced accounts, merged with the admin keeping the loser's Stripe ID on the master (Salesforce
    # runs no workflow on a merge: no Outbound Message; the losers are deleted with MasterRecordId set)
    master = customer_account(stack, Name="Gewinner AG")
    loser = customer_account(stack, Name="Verlierer AG")
    master_customer, loser_customer = customer_of(stack, master)["id"], customer_of(stack, loser)["id"]
    before = stripe_client(stack).v1.customers.retrieve(loser_customer)
    stack.sim.merge("Account", master, [loser], master_fields={STRIPE_ID: loser_customer})
    # When reconcile applies
    code, out, _ = sfsync(capsys, "reconcile", "--apply")
    # Then the master is reported with the loser's customer (which names the loser) and its own orphaned one
    assert code == 0 and "customer_of_other_account 1" in out
    line = reasons(out)[master]
    assert loser_customer in line and loser in line and master_customer in line
    # And no sync is queued for it: the loser's customer is not rewritten with the master's data
    assert master not in {r["account_id"] for r in queued(stack)}
    stack.settle()
    after = stripe_client(stack).v1.customers.retrieve(loser_customer)
    assert (after.name, after.metadata["salesforce_account_id"]) == (before.name, loser)
