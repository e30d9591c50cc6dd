"""The holds the sync places by itself, on the whole local stack, with the template's maxReceiveCount (10).

- Refused credentials: Stripe answers 401 to a deleted or expired key (https://docs.stripe.com/keys); the
  worker re-reads the secret once, and a key still refused is a configuration problem for the gate, not a
  message problem for the DLQ.
- The API budget: Salesforce reports ``Sforce-Limit-Info: api-usage=USED/MAX`` on every REST response
  (https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/headers_api_usage.htm) and
  answers ``403 REQUEST_LIMIT_EXCEEDED`` once the rolling 24 h allowance is spent; the Limits resource
  reports ``DailyApiRequests`` (https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/
  resources_limits.htm). The simulator models all three.

Releases come from the worker's scheduled probe (template.yaml ``GateProbe``), invoked here directly.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest

from devtools.local_runtime.salesforce_login import rsa_key_pair
from devtools.sam.lambda_events import FakeLambdaContext
from ops.cli import main
from shared.state.holds import HoldReason, HoldStore
from tests.integration.conftest import StackFactory
from tests.integration.stack import Stack
from tests.integration.test_gate import held_count, salesforce_writes, template_max_receive_count
from tests.integration.test_stripe_key_rotation import stripe_key_secret

OLD_KEY = "sk_test_holds_old_0001"
NEW_KEY = "sk_test_holds_new_0002"
DAILY_LIMIT = 15_000  # the simulator's default: a Developer Edition org's allowance


@pytest.fixture
def live(stack_factory: StackFactory, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Starts live stacks with the template's maxReceiveCount on the sync queue."""

    def make(**env: str) -> Stack:
        stack = stack_factory(**env)
        dlq_arn = stack.sqs.get_queue_attributes(QueueUrl=stack.dlq_url, AttributeNames=["QueueArn"])["Attributes"]
        policy = {"deadLetterTargetArn": dlq_arn["QueueArn"], "maxReceiveCount": str(template_max_receive_count())}
        stack.sqs.set_queue_attributes(QueueUrl=stack.queue_url, Attributes={"RedrivePolicy": json.dumps(policy)})
        monkeypatch.setenv("SYNC_DLQ_URL", stack.dlq_url)
        return stack

    return make


@pytest.fixture
def stripe_secret(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, str]]:
    """The Stripe key (this module's OLD_KEY) in moto's Secrets Manager."""
    yield stripe_key_secret(moto_endpoint, monkeypatch, OLD_KEY)


def holds(stack: Stack) -> list[HoldReason]:
    store: HoldStore = stack.worker.COMPONENTS.holds
    return [hold.reason for hold in store.holds(consistent=True)]


def probe(stack: Stack) -> dict[str, Any]:
    """The schedule's invocation of the worker: ``{"gate_probe": true}``."""
    answer: dict[str, Any] = stack.worker.lambda_handler({"gate_probe": True}, FakeLambdaContext("worker"))
    return answer


def activated_accounts(stack: Stack, count: int) -> list[str]:
    accounts = []
    for n in range(count):
        account, _, order = stack.new_customer_account(Name=f"Gehalten {n} AG", email=f"buyer{n}@example.com")
        stack.sim.update("Order", order, {"Status": "Activated"})
        accounts.append(account)
    return accounts


def status_of(stack: Stack, account_id: str) -> str | None:
    return (stack.sim.get("Account", account_id) or {}).get("Stripe_Sync_Status__c")


def test_credentials_refused_mid_load_hold_the_gate_and_the_probe_releases_when_fixed(
    live: Any, stripe_secret: tuple[Any, str], monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    # Given a live stack whose Stripe key lives in Secrets Manager, warm after one sync
    secrets, name = stripe_secret
    stack = live(STRIPE_API_KEY="", STRIPE_API_KEY_SECRET_NAME=name)
    (first,) = activated_accounts(stack, 1)
    stack.settle()
    assert status_of(stack, first) == "Synced"
    # When the key is rolled (the old one expiring now) but the new one is not stored yet, while changes flow
    stack.stripe.roll_key(OLD_KEY, NEW_KEY)
    accounts = activated_accounts(stack, 3)
    for n in range(template_max_receive_count()):  # more deliveries than the DLQ's maxReceiveCount
        stack.sim.update("Account", accounts[0], {"Description": f"edit {n}"})
    stack.settle()
    # Then the gate holds for credentials, naming the setting; every change waits; none reached the DLQ
    assert holds(stack) == [HoldReason.CREDENTIALS]
    assert held_count(stack) >= len(accounts) and stack.dlq_messages() == []
    metrics = capsys.readouterr().out  # the worker's EMF lines so far (CloudWatch metrics, printed)
    assert '"credentials_refused"' in metrics  # what CredentialsRefusedAlarm watches: it fires within a minute
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert "credentials" in out and "STRIPE_API_KEY_SECRET_NAME" in out and NEW_KEY not in out
    # When the probe runs while the secret still holds the old key, then the hold stays
    monkeypatch.setattr("shared.stripe.gateway.REREAD_MIN_INTERVAL_SECONDS", 0.0)  # the schedule's 5 min
    assert probe(stack)["released"] == [] and holds(stack) == [HoldReason.CREDENTIALS]
    # When the new key is stored (the fix) and the probe runs
    secrets.put_secret_value(SecretId=name, SecretString=NEW_KEY)
    answer = probe(stack)
    stack.settle()
    # Then the hold is released, the held changes redriven and synced; the DLQ stayed empty
    assert answer["released"] == ["credentials"] and answer["redriven"] >= len(accounts)
    assert holds(stack) == [] and held_count(stack) == 0 and stack.dlq_messages() == []
    assert [status_of(stack, a) for a in accounts] == ["Synced"] * len(accounts)


def test_usage_above_the_api_budget_holds_and_the_probe_releases_when_it_drops(live: Any, capsys: Any) -> None:
    # Given a live stack with a synced customer
    stack = live()
    (account,) = activated_accounts(stack, 1)
    stack.settle()
    # When other integrations used 12,500 of the org's 15,000 daily requests (above the 80 % budget)
    stack.sim.set_api_usage(12_500, DAILY_LIMIT)
    stack.sim.update("Account", account, {"Name": "Budget 1 AG"})
    stack.settle()
    # Then that batch was synced, and the usage its responses reported holds the gate
    assert stack.stripe.customers()[0]["name"] == "Budget 1 AG"
    assert holds(stack) == [HoldReason.API_BUDGET]
    # And the next change waits instead of spending the org's requests
    stack.sim.update("Account", account, {"Name": "Budget 2 AG"})
    stack.settle()
    assert stack.stripe.customers()[0]["name"] == "Budget 1 AG" and held_count(stack) == 1
    # When the probe runs while usage is still above the budget, then the hold stays
    assert probe(stack)["released"] == [] and holds(stack) == [HoldReason.API_BUDGET]
    # And the metric ApiBudgetAlarm watches was published (when placed, and again by the probe)
    assert capsys.readouterr().out.count('"api_budget_exceeded"') >= 2
    # When older requests leave the rolling 24 h window and the probe runs
    stack.sim.set_api_usage(4_000)
    answer = probe(stack)
    stack.settle()
    # Then the hold is released and the waiting change applied; nothing reached the DLQ
    assert answer == {"released": ["api_budget"], "redriven": 1}
    assert stack.stripe.customers()[0]["name"] == "Budget 2 AG"
    assert holds(stack) == [] and stack.dlq_messages() == []


def test_request_limit_exceeded_holds_the_gate_instead_of_burning_receives(live: Any) -> None:
    # Given a live stack with a synced customer
    stack = live()
    (account,) = activated_accounts(stack, 1)
    stack.settle()
    writes = len(stack.stripe.write_requests())
    # When the org's allowance is spent (Salesforce answers 403 REQUEST_LIMIT_EXCEEDED) and the account changes
    stack.sim.set_api_usage(DAILY_LIMIT)
    for n in range(template_max_receive_count() + 1):
        stack.sim.update("Account", account, {"Name": f"Limit {n} AG"})
    stack.settle()
    # Then the gate holds for the API budget, nothing was written, the changes wait, none in the DLQ
    assert holds(stack) == [HoldReason.API_BUDGET]
    assert len(stack.stripe.write_requests()) == writes
    assert held_count(stack) >= 1 and stack.dlq_messages() == []
    # When the allowance refills and the probe runs
    stack.sim.set_api_usage(0)
    assert probe(stack)["released"] == ["api_budget"]
    stack.settle()
    # Then the latest change reached Stripe
    assert stack.stripe.customers()[0]["name"] == f"Limit {template_max_receive_count()} AG"
    assert stack.dlq_messages() == []


def test_observe_mode_records_what_it_would_do_and_writes_nothing(
    stack_factory: StackFactory, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a new deployment (observe mode) and four accounts: a new one with an activated order; one whose
    # Stripe ID field names our customer, holding another name; one naming a customer no account claims; one
    # without an activated order
    stack = stack_factory(start_live=False)
    monkeypatch.setenv("SYNC_DLQ_URL", stack.dlq_url)
    new_account, _, order = stack.new_customer_account(Name="Beobachtet AG", email="observed@example.com")
    stack.sim.update("Order", order, {"Status": "Activated"})
    known, _, known_order = stack.new_customer_account(Name="Neuer Name GmbH", email="old@example.com")
    ours = stack.stripe.add_customer(
        {"name": "Alter Name GmbH", "email": "old@example.com", "metadata": {"salesforce_account_id": known}}
    )
    stack.sim.update("Order", known_order, {"Status": "Activated"})
    stack.sim.update("Account", known, {"Stripe_Customer_ID__c": ours})
    unclaimed_account, _, unclaimed_order = stack.new_customer_account(Name="Fremd AG", email="web@example.com")
    unclaimed = stack.stripe.add_customer({"name": "Web Shop Sign-up", "email": "web@example.com"})
    stack.sim.update("Order", unclaimed_order, {"Status": "Activated"})
    stack.sim.update("Account", unclaimed_account, {"Stripe_Customer_ID__c": unclaimed})
    idle, _, _ = stack.new_customer_account(Name="Ohne Auftrag AG", email="idle@example.com")
    stack.settle()
    # Then nothing was written: no Stripe write, no account field in Salesforce; the changes wait for go-live
    assert stack.stripe.write_requests() == []
    assert all(r["path"].endswith("/composite") for r in salesforce_writes(stack))  # history inserts only
    assert all(not stack.sim.get("Account", a).get("Stripe_Sync_Status__c") for a in (new_account, known, idle))
    assert held_count(stack) >= 4 and stack.dlq_messages() == []
    # And the admin sees the would-do in the account's Stripe Sync Records (names, never values)
    history = {r["Account__c"]: r for r in stack.sim.store.records("Stripe_Sync_Record__c").values()}
    assert history[new_account]["Outcome__c"] == "Would Create"
    assert history[known]["Outcome__c"] == "Would Update" and history[known]["Changed_Fields__c"] == "name"
    assert history[unclaimed_account]["Outcome__c"] == "Would Refuse"
    assert "sfsync go-live" in history[new_account]["Fix__c"] and idle not in history
    assert "Beobachtet AG" not in json.dumps(history, default=str)
    # And sfsync shows, per account, what the sync would do: field names, never values
    assert main(["status", new_account]) == 0
    status = capsys.readouterr().out
    assert "would create" in status and "email, metadata.salesforce_account_id, name" in status
    assert "Beobachtet AG" not in status
    assert main(["observe", "report"]) == 0
    report = capsys.readouterr().out
    assert "1 would create, 1 would update, 0 unchanged, 1 refused, 1 no customer" in report
    assert f"{known}: would update ({ours}) fields: name" in report
    assert f"{unclaimed_account}: refused ({unclaimed}) reason: UnclaimedCustomer" in report
    assert f"{idle}: no customer" in report
    # And the recorded items hold no mapped value (names only), and expire after 30 days
    dynamodb = stack.worker.COMPONENTS.dynamodb
    items = dynamodb.scan(TableName=stack.worker.SETTINGS.state_table_name)["Items"]
    observed = [item for item in items if item["pk"]["S"].startswith("observe#")]
    assert len(observed) == 4 and all("expires_at" in item for item in observed)
    text = json.dumps(observed)
    for value in ("Beobachtet AG", "observed@example.com", "Neuer Name GmbH", "old@example.com", "Ohne Auftrag"):
        assert value not in text
    # And sfsync forget erases an account's would-do with the rest of what the stack holds about it
    assert main(["forget", idle]) == 0
    capsys.readouterr()
    assert stack.worker.COMPONENTS.observe_log.get(stack.org_id, idle) is None
    # When the operator goes live, the held changes apply as observe mode said
    assert main(["go-live"]) == 0
    stack.settle()
    named = {c["metadata"].get("salesforce_account_id"): c["name"] for c in stack.stripe.customers()}
    assert named[new_account] == "Beobachtet AG" and named[known] == "Neuer Name GmbH"
    assert (stack.stripe.customer(unclaimed) or {}).get("name") == "Web Shop Sign-up"
    assert stack.dlq_messages() == []


def test_a_login_refused_at_cold_start_holds_the_gate_instead_of_failing_invocations(
    live: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a live stack with a synced customer
    stack = live()
    (account,) = activated_accounts(stack, 1)
    stack.settle()
    # When the JWT certificate is rotated in Salesforce (the stored private key no longer accepted), the
    # sessions expire, and a new worker instance starts (its org check logs in)
    credentials = json.loads(os.environ["SALESFORCE_CREDENTIALS_JSON"])
    private_pem, public_pem = rsa_key_pair()
    stack.sim.auth.rotate_certificate(credentials["consumer_key"], public_pem)
    stack.sim.expire_sessions()
    stack.reload_worker()
    for n in range(template_max_receive_count() + 1):
        stack.sim.update("Account", account, {"Name": f"Kalt {n} AG"})
    stack.settle()
    # Then the gate holds for credentials (Salesforce), the changes wait, none reached the DLQ
    assert holds(stack) == [HoldReason.CREDENTIALS] and held_count(stack) >= 1 and stack.dlq_messages() == []
    assert stack.worker.COMPONENTS.holds.holds()[0].note.startswith("salesforce:")
    # When the new private key is stored (inline credentials here: a new instance reads them; deployed, the
    # probe reads the secret again) and the probe runs
    monkeypatch.setenv("SALESFORCE_CREDENTIALS_JSON", json.dumps({**credentials, "private_key": private_pem}))
    stack.reload_worker()
    assert probe(stack)["released"] == ["credentials"]
    stack.settle()
    # Then the latest change reached Stripe, nothing in the DLQ
    assert stack.stripe.customers()[0]["name"] == f"Kalt {template_max_receive_count()} AG"
    assert holds(stack) == [] and stack.dlq_messages() == []


def test_the_admins_api_budget_preference_lowers_the_stacks_budget(live: Any) -> None:
    # Given a live stack (budget 80 %) whose admin set API Budget Percent to 50 in Salesforce Setup
    stack = live()
    stack.sim.set_org_default("Stripe_Sync_Preferences__c", {"API_Budget_Percent__c": 50})
    (account,) = activated_accounts(stack, 1)
    stack.settle()
    assert holds(stack) == []
    # When the org's usage is at 60 % of its daily requests (under the stack's 80, above the admin's 50)
    stack.sim.set_api_usage(9_000, DAILY_LIMIT)
    stack.sim.update("Account", account, {"Name": "Half Budget AG"})
    stack.settle()
    # Then the admin's lower budget holds the gate
    assert holds(stack) == [HoldReason.API_BUDGET]
    assert stack.dlq_messages() == []
