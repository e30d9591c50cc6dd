"""The sync engine against dynalite and the Stripe emulator: exactly one right customer, fewest calls."""

from __future__ import annotations

import threading
from typing import Any

import boto3
import pytest

from shared.state.account_state import AccountStateStore
from shared.sync.customer_sync import CustomerSync, Outcome
from tests.factories import ORG_ID, account_record, contact_record, order_record, sf_datetime
from tests.integration.engine import make_sync, snapshot


@pytest.fixture
def engine(stripe_emulator: Any, dynamodb: Any, state_table: str) -> CustomerSync:
    return make_sync(stripe_emulator, dynamodb, state_table)


def test_rule_r1_activated_order_creates_one_customer_with_all_standard_fields(
    engine: CustomerSync, stripe_emulator: Any
) -> None:
    # Given an account with an activated order whose quote's primary contact has an email
    record = account_record(
        Name="Muster AG",
        Phone="+49 30 1234",
        Description="Key account",
        BillingStreet="Hauptstr. 1\nHinterhaus",
        BillingCity="Berlin",
        BillingPostalCode="10115",
        BillingCountry="Deutschland",
        ShippingCity="Potsdam",
        ShippingCountry="Germany",
        order=order_record(contact_record("buyer@muster.de")),
    )
    # When it is synced
    result = engine.sync(snapshot(record), may_create=True)
    # Then exactly one customer exists, carrying the mapped fields in Stripe's formats
    assert result.outcome is Outcome.CREATED
    customers = stripe_emulator.customers()
    assert len(customers) == 1
    customer = customers[0]
    assert customer["id"] == result.customer_id
    assert customer["email"] == "buyer@muster.de"
    assert customer["address"]["line1"] == "Hauptstr. 1"
    assert customer["address"]["line2"] == "Hinterhaus"
    assert customer["address"]["country"] == "DE"
    assert customer["shipping"]["name"] == "Muster AG"
    assert customer["shipping"]["address"]["country"] == "DE"
    assert customer["metadata"]["salesforce_account_id"] == record["Id"]
    assert len(stripe_emulator.write_requests()) == 1


def test_rule_r7_update_sends_only_changed_fields_and_clears_emptied_ones(
    engine: CustomerSync, stripe_emulator: Any
) -> None:
    # Given a synced customer
    record = account_record(Name="Muster AG", Phone="+49 30 1234", Description="Old", modstamp=1)
    created = engine.sync(snapshot(record), may_create=True)
    # When the description changes and the phone is cleared in Salesforce
    changed = {
        **record,
        "Description": "New",
        "Phone": None,
        "SystemModstamp": "2026-11-01T12:00:05.000+0000",
    }
    result = engine.sync(snapshot(changed), may_create=True)
    # Then one update carries just those two fields, the phone cleared with ""
    assert result.outcome is Outcome.UPDATED
    assert result.customer_id == created.customer_id
    update = stripe_emulator.write_requests()[-1]
    assert update["path"] == f"/v1/customers/{created.customer_id}"
    assert update["params"] == {"description": "New", "phone": ""}
    assert stripe_emulator.customer(created.customer_id)["phone"] is None


def test_unchanged_data_makes_no_stripe_call(engine: CustomerSync, stripe_emulator: Any) -> None:
    # Given a synced customer
    record = account_record(Name="Same GmbH", modstamp=1)
    engine.sync(snapshot(record), may_create=True)
    before = len(stripe_emulator.requests)
    # When the account is touched without a mapped change (newer modstamp)
    touched = {**record, "SystemModstamp": "2026-11-01T12:01:00.000+0000"}
    result = engine.sync(snapshot(touched), may_create=True)
    # Then nothing is sent to Stripe
    assert result.outcome is Outcome.UNCHANGED
    assert len(stripe_emulator.requests) == before


def test_stale_version_is_skipped_and_never_overwrites_newer_data(engine: CustomerSync, stripe_emulator: Any) -> None:
    # Given version 10 of an account was applied
    record = account_record(Name="Newer Name", modstamp=10)
    engine.sync(snapshot(record), may_create=True)
    writes = len(stripe_emulator.write_requests())
    # When an older read (version 5, older name) arrives late
    older = {**record, "Name": "Older Name", "SystemModstamp": "2026-11-01T12:00:05.000+0000"}
    result = engine.sync(snapshot(older), may_create=True)
    # Then it is skipped and Stripe keeps the newer name
    assert result.outcome is Outcome.STALE
    assert len(stripe_emulator.write_requests()) == writes
    assert stripe_emulator.customers()[0]["name"] == "Newer Name"


def test_rule_r10_stripe_id_pointing_at_deleted_customer_is_permanent_error_and_creates_nothing(
    engine: CustomerSync, stripe_emulator: Any
) -> None:
    # Given the Account's Stripe ID field names a customer that was deleted in Stripe
    record = account_record(Name="Gone AG", modstamp=1)
    first = engine.sync(snapshot(record), may_create=True)
    stripe_emulator.delete_customer(first.customer_id)
    linked = {
        **record,
        "Name": "Gone AG (renamed)",
        "Stripe_Customer_ID__c": first.customer_id,
        "SystemModstamp": "2026-11-01T12:00:09.000+0000",
    }
    # When the account is synced again
    result = engine.sync(snapshot(linked), may_create=True)
    # Then it is a permanent error naming the problem, and no second customer exists
    assert result.outcome is Outcome.PERMANENT_ERROR
    assert "deleted" in (result.error or "")
    assert [c["id"] for c in stripe_emulator.customers(include_deleted=True)] == [first.customer_id]
    assert all(r["path"] != "/v1/customers" or r["method"] != "POST" for r in stripe_emulator.write_requests()[1:])


def test_rule_r3_default_mode_does_not_create_without_activated_order(
    engine: CustomerSync, stripe_emulator: Any
) -> None:
    # Given an account without any activated order, in order-activation mode
    record = account_record(order=None)
    snap = snapshot(record)
    # When it is synced
    result = engine.sync(snap, may_create=snap.has_activated_order)
    # Then no customer exists and Stripe was not called
    assert result.outcome is Outcome.NO_CUSTOMER
    assert stripe_emulator.requests == []


@pytest.mark.parametrize("field", ["IsDeleted", "MasterRecordId"])
def test_rule_r11_r13_deleted_or_merged_account_never_touches_stripe(
    engine: CustomerSync, stripe_emulator: Any, field: str
) -> None:
    # Given a deleted account, or the losing account of a merge
    value: Any = True if field == "IsDeleted" else account_record()["Id"]
    record = account_record(**{field: value})
    # When it is synced
    result = engine.sync(snapshot(record), may_create=True)
    # Then Stripe is untouched
    assert result.outcome in (Outcome.SKIPPED_DELETED, Outcome.SKIPPED_MERGED)
    assert stripe_emulator.requests == []


def test_invalid_email_is_a_warning_and_the_customer_is_created_without_it(
    engine: CustomerSync, stripe_emulator: Any
) -> None:
    # Given the primary contact's email is not an address Stripe accepts, beside a valid name
    record = account_record(Name="Warn GmbH", order=order_record(contact_record("not-an-email")))
    # When it is synced
    result = engine.sync(snapshot(record), may_create=True)
    # Then the customer is created with every valid field and no email
    assert result.outcome is Outcome.CREATED
    (customer,) = stripe_emulator.customers()
    assert customer["name"] == "Warn GmbH" and customer["email"] is None
    # And the warning names the Salesforce field, not the value
    assert [w.field for w in result.warnings] == ["Order.SBQQ__Quote__r.SBQQ__PrimaryContact__r.Email"]
    assert "not-an-email" not in str(result.warnings[0])


def test_the_issues_messy_account_gets_a_customer_with_every_field_stripe_can_take(
    engine: CustomerSync, stripe_emulator: Any
) -> None:
    # Given ordinary but messy CRM data that used to cost the account its customer: a phone with an extension
    # (24 characters, Stripe takes 20), a 5,200-character description (Stripe takes 5,000), the country in
    # German and an email Stripe refuses
    record = account_record(
        Name="Chaos SARL",
        Phone="+1 555-010-4477 ext. 725",
        Description="x" * 5200,
        BillingCity="Paris",
        BillingCountry="Frankreich",
        order=order_record(contact_record("compta@chaos")),
    )
    # When it is synced
    result = engine.sync(snapshot(record), may_create=True)
    # Then the Stripe emulator (Stripe's own length and format rules) accepted a customer with every field it
    # can take: the phone in E.164, the description cut to 5,000, the country as its ISO code, no email
    assert result.outcome is Outcome.CREATED
    (customer,) = stripe_emulator.customers()
    assert customer["phone"] == "+15550104477"
    assert customer["description"] == "x" * 5000
    assert customer["address"] == {**customer["address"], "city": "Paris", "country": "FR"}
    assert customer["email"] is None
    # And each adjusted or left-out field is a warning naming it
    assert sorted(w.field for w in result.warnings) == [
        "Description",
        "Order.SBQQ__Quote__r.SBQQ__PrimaryContact__r.Email",
        "Phone",
    ]


def test_invalid_field_on_update_is_left_as_stripe_has_it(
    engine: CustomerSync, stripe_emulator: Any, dynamodb: Any, state_table: str
) -> None:
    # Given a customer synced with a valid billing country and city
    record = account_record(Name="Land AG", BillingCity="Paris", BillingCountry="France")
    first = engine.sync(snapshot(record), may_create=True)
    # When the country becomes something Stripe can't take and the city changes
    changed = {**record, "BillingCountry": "Atlantis", "BillingCity": "Lyon", "SystemModstamp": sf_datetime(1)}
    result = engine.sync(snapshot(changed), may_create=True)
    # Then the city is updated, the country stays as Stripe has it, and the warning names BillingCountry
    assert result.outcome is Outcome.UPDATED
    customer = stripe_emulator.customer(first.customer_id)
    assert customer["address"]["city"] == "Lyon" and customer["address"]["country"] == "FR"
    assert [w.field for w in result.warnings] == ["BillingCountry"]
    # And the state keeps the warning
    state = AccountStateStore(state_table, dynamodb).get(ORG_ID, record["Id"])
    assert state is not None and [str(w) for w in state.warnings] == [str(w) for w in result.warnings]
    # And the same data again is recognised as unchanged without any Stripe call
    requests = len(stripe_emulator.requests)
    again = engine.sync(snapshot({**changed, "SystemModstamp": sf_datetime(2)}), may_create=True)
    assert again.outcome is Outcome.UNCHANGED and again.warnings == result.warnings
    assert len(stripe_emulator.requests) == requests


@pytest.mark.parametrize("fault", ["rate_limit", "server_error"])
def test_rate_limit_or_outage_then_success_creates_exactly_one_customer(
    stripe_emulator: Any, dynamodb: Any, state_table: str, fault: str
) -> None:
    # Given Stripe answers the first create with a 429 or a 500
    engine = make_sync(stripe_emulator, dynamodb, state_table)
    stripe_emulator.inject(fault, count=1, method="POST")
    # When the account is synced
    result = engine.sync(snapshot(account_record(Name="Retry GmbH")), may_create=True)
    # Then the retry succeeded and exactly one customer exists
    assert result.outcome is Outcome.CREATED
    assert len(stripe_emulator.customers()) == 1


def test_twenty_concurrent_workers_on_one_new_account_create_exactly_one_customer(
    stripe_emulator: Any, dynamodb_endpoint: str, state_table: str
) -> None:
    # Given 20 workers (own clients, like 20 Lambda instances) and a slow Stripe
    stripe_emulator.latency = 0.05
    record = account_record(Name="Race AG")
    barrier = threading.Barrier(20)
    outcomes: list[str] = []

    def worker() -> None:
        client = boto3.client("dynamodb", endpoint_url=dynamodb_endpoint)
        engine = make_sync(stripe_emulator, client, state_table)
        barrier.wait()
        try:
            outcomes.append(engine.sync(snapshot(record), may_create=True).outcome.value)
        except Exception as exc:  # the losers are told to retry (transient), never create
            outcomes.append(type(exc).__name__)

    # When they all sync the same new account at once
    threads = [threading.Thread(target=worker) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then exactly one customer was created; every other worker was told to retry
    assert len(stripe_emulator.customers()) == 1
    assert outcomes.count("created") == 1
    assert set(outcomes) <= {"created", "LeaseHeld", "unchanged"}
    assert stripe_emulator.max_concurrent_writes_per_customer <= 1
