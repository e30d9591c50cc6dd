"""The worker's batch writes the sync history in Salesforce (the org simulator) with its write-back, in one call.

Real Salesforce side (the simulator over HTTPS, ``SimpleSalesforceGateway``); Stripe and the state store are
the in-memory fakes behind their ports. Composite: "The entire series of requests counts as a single call
toward your API limits" (REST API Developer Guide, "Send Multiple Requests Using Composite",
https://developer.salesforce.com/docs/platform/api-rest/guide/resources-composite-composite-post.html).
"""

from __future__ import annotations

from typing import Any

import pytest
from simple_salesforce import Salesforce, format_soql

from devtools.salesforce_sim import SalesforceSimulator
from shared.mapping import load_mapping
from shared.salesforce.gateway import SimpleSalesforceGateway
from shared.settings import CreationMode
from shared.stripe.gateway import StripeCustomerGateway
from shared.sync.batch_sync import BatchSync
from shared.sync.customer_sync import CustomerSync
from shared.sync.history import HistoryLevel, SyncHistory, expire_history
from shared.sync.models import SObjectType, SyncRequest, TriggerSource
from tests.fakes import FakeClock, FakeStripe, InMemoryStateStore
from tests.unit.sync.world import FIELDS, DirectProcessor, refused

HISTORY_FIELDS = (
    "Outcome__c, Source__c, Stripe_Customer_ID__c, Error__c, Fix__c, Warnings__c, Synced_At__c, Changed_Fields__c, "
    "Stripe_Request_ID__c"
)


class Worker:
    """The batch on the simulator, with the history on at ``level``."""

    def __init__(
        self, sim: SalesforceSimulator, level: HistoryLevel = HistoryLevel.CHANGES, stripe: Any = None
    ) -> None:
        self.sim = sim
        self.clock = FakeClock()
        self.stripe = stripe or FakeStripe(self.clock)
        self.state = InMemoryStateStore(lease_seconds=30, clock=self.clock)
        self.gateway = SimpleSalesforceGateway(
            lambda: Salesforce(instance_url=sim.instance_url, session_id=sim.issue_token())
        )
        self.at_level(level)
        self._events = 0

    def at_level(self, level: HistoryLevel) -> None:
        """The admin changed the history level: the batch is rebuilt (same Stripe, same state)."""
        mapping = load_mapping("standard")
        self.batch = BatchSync(
            processor=DirectProcessor(CustomerSync(mapping, self.stripe, self.state, clock=self.clock)),
            salesforce=self.gateway,
            mapping=mapping,
            creation_mode=CreationMode.EVERY_ACCOUNT,
            fields=FIELDS,
            contacts=self.state.accounts_for_contacts,
            history=SyncHistory(level=level),
        )

    def sync(self, account_id: str, source: TriggerSource = TriggerSource.OUTBOUND_MESSAGE) -> None:
        self._events += 1
        request = SyncRequest(
            org_id=self.sim.org_id,
            object_type=SObjectType.ACCOUNT,
            record_id=account_id,
            account_id=account_id,
            event_id=f"event-{self._events}",
            source=source,
            force=source is TriggerSource.MANUAL,
        )
        self.batch.run([request], concurrency=1)

    def history(self, account_id: str) -> list[dict[str, Any]]:
        soql = format_soql(
            "SELECT {:literal} FROM Stripe_Sync_Record__c WHERE Account__c = {} ORDER BY Name",
            HISTORY_FIELDS,
            account_id,
        )
        return self.gateway.query(soql)


@pytest.fixture
def worker(sim: SalesforceSimulator) -> Worker:
    return Worker(sim)


def test_a_refused_sync_shows_in_the_history_and_sync_now_after_the_fix_clears_the_error(
    sim: SalesforceSimulator, worker: Worker
) -> None:
    # Given an account whose customer Stripe refuses
    account = sim.create("Account", {"Name": "Muster AG"})
    worker.stripe.fail_next("create", refused("metadata", "parameter_invalid_metadata"))
    # When its change syncs
    worker.sync(account)
    # Then the history says it was refused, by what, and what the admin does about it
    (first,) = worker.history(account)
    assert (first["Outcome__c"], first["Source__c"]) == ("Refused", "Outbound Message")
    assert first["Error__c"].startswith("metadata: ") and "Sync to Stripe now" in first["Fix__c"]
    assert sim.get("Account", account)["Stripe_Sync_Status__c"] == "Error"  # type: ignore[index]
    # When the cause is gone and the admin presses Sync to Stripe now
    worker.sync(account, TriggerSource.MANUAL)
    # Then the history shows the manual sync created the customer, and the account's error is cleared
    second = worker.history(account)[1]
    assert (second["Outcome__c"], second["Source__c"]) == ("Created", "Manual")
    assert second["Stripe_Customer_ID__c"].startswith("cus_") and second["Error__c"] is None
    saved = sim.get("Account", account) or {}
    assert (saved["Stripe_Sync_Status__c"], saved["Stripe_Sync_Error__c"]) == ("Synced", None)


def test_history_costs_no_salesforce_call_of_its_own(sim: SalesforceSimulator, worker: Worker) -> None:
    # Given three accounts changed in Salesforce, in one batch
    accounts = [sim.create("Account", {"Name": f"Kunde {n}"}) for n in range(3)]
    before = dict(sim.api_calls)
    requests = [
        SyncRequest(
            org_id=sim.org_id,
            object_type=SObjectType.ACCOUNT,
            record_id=a,
            account_id=a,
            event_id=f"e{n}",
            source=TriggerSource.OUTBOUND_MESSAGE,
        )
        for n, a in enumerate(accounts)
    ]
    # When the batch syncs them, writing back the customer ids and the history
    worker.batch.run(requests, concurrency=2)
    # Then Salesforce saw one query and one write (the Composite call), and every account has its record
    calls = {k: v - before.get(k, 0) for k, v in sim.api_calls.items() if v != before.get(k, 0)}
    assert calls == {"queryAll": 1, "composite": 1}
    assert all([h["Outcome__c"] for h in worker.history(a)] == ["Created"] for a in accounts)


def test_the_history_names_the_fields_an_update_sent_never_their_values(
    sim: SalesforceSimulator, worker: Worker
) -> None:
    # Given a synced account
    account = sim.create("Account", {"Name": "Muster AG", "BillingCity": "Berlin"})
    worker.sync(account)
    # When its billing city changes
    sim.update("Account", account, {"BillingCity": "Köln"})
    worker.sync(account)
    # Then the update's record names the Salesforce field and the Stripe field it feeds, not the city
    update = worker.history(account)[-1]
    assert (update["Outcome__c"], update["Changed_Fields__c"]) == ("Updated", "BillingCity → address.city")
    assert "Köln" not in str(update) and "Berlin" not in str(update)


def test_unchanged_syncs_leave_no_record_unless_the_level_asks_or_the_admin_pressed_the_button(
    sim: SalesforceSimulator, worker: Worker
) -> None:
    # Given a synced account
    account = sim.create("Account", {"Name": "Muster AG"})
    worker.sync(account)
    # When the same data syncs again (a reconcile pass), then by Sync to Stripe now
    worker.sync(account, TriggerSource.RECONCILE)
    before = dict(sim.api_calls)
    worker.sync(account, TriggerSource.MANUAL)
    # Then the reconcile's unchanged sync left no record and no write; the admin's press left one
    assert [(h["Outcome__c"], h["Source__c"]) for h in worker.history(account)] == [
        ("Created", "Outbound Message"),
        ("Unchanged", "Manual"),
    ]
    assert sim.api_calls["composite"] - before.get("composite", 0) == 1
    # And at the level "all", an unchanged sync is recorded too
    worker.at_level(HistoryLevel.EVERYTHING)
    worker.sync(account, TriggerSource.RECONCILE)
    assert [(h["Outcome__c"], h["Source__c"]) for h in worker.history(account)][-1] == ("Unchanged", "Reconcile")


def test_a_refused_history_record_costs_only_itself(sim: SalesforceSimulator, worker: Worker) -> None:
    # Given an org where the integration user can't write the history's Outcome field (a permission gap)
    account = sim.create("Account", {"Name": "Muster AG"})
    sim.set_field_access("Stripe_Sync_Record__c", "Outcome__c", "read")
    # When the account syncs
    outcome = worker.batch.run(
        [
            SyncRequest(
                org_id=sim.org_id,
                object_type=SObjectType.ACCOUNT,
                record_id=account,
                account_id=account,
                event_id="e1",
                source=TriggerSource.OUTBOUND_MESSAGE,
            )
        ],
        concurrency=1,
    )
    # Then the customer id is still written back and nothing is retried; the refusal is reported
    assert (sim.get("Account", account) or {})["Stripe_Customer_ID__c"].startswith("cus_")
    assert not outcome.retry and [e.status_code for e in outcome.history_refused] == ["INVALID_FIELD_FOR_INSERT_UPDATE"]


def test_retention_deletes_only_records_older_than_the_setting(sim: SalesforceSimulator, worker: Worker) -> None:
    # Given one record synced 31 days ago and one today
    account = sim.create("Account", {"Name": "Muster AG"})
    old = sim.create("Stripe_Sync_Record__c", {"Account__c": account, "Synced_At__c": "2026-11-05T09:00:00.000Z"})
    new = sim.create("Stripe_Sync_Record__c", {"Account__c": account, "Synced_At__c": "2026-12-06T09:00:00.000Z"})
    # When the daily reconcile enforces the 30-day retention
    from datetime import UTC, datetime

    deleted = expire_history(worker.gateway, SyncHistory(retention_days=30), lambda: datetime(2026, 12, 7, tzinfo=UTC))
    # Then only the old record is gone
    assert deleted == 1
    assert (sim.get("Stripe_Sync_Record__c", old) or {})["IsDeleted"] is True
    assert (sim.get("Stripe_Sync_Record__c", new) or {})["IsDeleted"] is False


def test_a_refusal_by_stripe_carries_stripes_request_id(sim: SalesforceSimulator, stripe_emulator: Any) -> None:
    # Given Stripe (the emulator) and an account whose Stripe Customer ID names no customer there
    stripe = StripeCustomerGateway("sk_test_history", api_base=stripe_emulator.base_url, timeout_seconds=5)
    worker = Worker(sim, stripe=stripe)
    account = sim.create("Account", {"Name": "Tippfehler GmbH", "Stripe_Customer_ID__c": "cus_Tippfehler000001"})
    # When it syncs
    worker.sync(account)
    # Then the history names Stripe's request, to find in the Dashboard's request logs
    (record,) = worker.history(account)
    assert record["Outcome__c"] == "Error" and record["Stripe_Request_ID__c"].startswith("req_")


def test_more_records_than_one_composite_call_holds_take_one_more_call_per_thousand(sim: SalesforceSimulator) -> None:
    # Given 250 account updates and 900 history records: 2 + 5 sObject Collections subrequests of ≤ 200 records,
    # more than the 5 one Composite request may carry
    accounts = [sim.create("Account", {"Name": f"Kunde {n}"}) for n in range(250)]
    updates = [{"Id": a, "Stripe_Sync_Status__c": "Synced"} for a in accounts]
    history = [
        {"attributes": {"type": "Stripe_Sync_Record__c"}, "Account__c": accounts[n % 250], "Outcome__c": "Updated"}
        for n in range(900)
    ]
    gateway = SimpleSalesforceGateway(lambda: Salesforce(instance_url=sim.instance_url, session_id=sim.issue_token()))
    # When the gateway writes them
    written = gateway.write_back(updates, history)
    # Then two Composite calls wrote everything, each answer matched to its record
    assert sim.api_calls["composite"] == 2
    assert set(written.accounts) == set(accounts) and not any(written.accounts.values())
    assert not written.history_refused and len(sim.store.records("Stripe_Sync_Record__c")) == 900
