"""Exactly one customer beyond Stripe's idempotency window, behind a stored 500, and after a failed follow-up.

Stripe stores a request's result under its Idempotency-Key once execution began — "including 500 errors" —
and may prune keys once "at least 24 hours old", after which the same key runs the request anew
(https://docs.stripe.com/api/idempotent_requests). Search lags writes by up to a minute
(https://docs.stripe.com/search#data-freshness); list is strongly consistent. The emulator models all of it.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from shared.errors import TransientSyncError
from shared.state.account_state import AccountStateStore
from shared.sync.customer_create import KEY_WINDOW_SECONDS
from shared.sync.customer_sync import CustomerSync, Outcome
from tests.factories import ORG_ID, account_record, contact_record, order_record
from tests.integration.engine import make_sync, snapshot

DAY = 24 * 3600


def make_engine(stripe_emulator: Any, dynamodb: Any, table: str, *, days_later: float = 0) -> CustomerSync:
    """The engine on the local parts; ``days_later`` moves its clock forward (with the emulator's, in the test)."""
    return make_sync(stripe_emulator, dynamodb, table, timeout_seconds=2, clock=lambda: time.time() + days_later * DAY)


def lose_every_reply_to_the_create(stripe_emulator: Any) -> None:
    """The create runs at Stripe, but the SDK's attempt and both its retries time out (a lost reply)."""
    stripe_emulator.timeout_seconds = 0.2
    stripe_emulator.inject("timeout_after", 3, method="POST", path_prefix="/v1/customers")


def lookups(stripe_emulator: Any) -> list[str]:
    """The searches and lists the sync sent (GET /v1/customers/search, GET /v1/customers)."""
    found = ("/v1/customers/search", "/v1/customers")
    return [r["path"] for r in stripe_emulator.requests if r["method"] == "GET" and r["path"] in found]


@pytest.mark.vendor_doc(
    "https://docs.stripe.com/api/idempotent_requests",
    "keys may be pruned once at least 24 hours old; then the same key runs the request anew",
)
def test_lost_reply_then_the_key_expired_adopts_the_customer_instead_of_a_second_one(
    stripe_emulator: Any, dynamodb: Any, state_table: str
) -> None:
    # Given a create that ran at Stripe while every reply was lost (the message then fails its receives)
    record = account_record(Name="Lost Reply GmbH")
    lose_every_reply_to_the_create(stripe_emulator)
    with pytest.raises(TransientSyncError):
        make_engine(stripe_emulator, dynamodb, state_table).sync(snapshot(record), may_create=True)
    [first] = stripe_emulator.customers()
    # When the message is redriven from the DLQ 25 hours later: Stripe has pruned the create's key
    stripe_emulator.advance_clock(25 * 3600)
    later = make_engine(stripe_emulator, dynamodb, state_table, days_later=25 / 24)
    result = later.sync(snapshot(record), may_create=True)
    # Then the customer the lost create made is found and adopted: still exactly one customer
    assert result.outcome is Outcome.CREATED and result.customer_id == first["id"]
    assert [c["id"] for c in stripe_emulator.customers()] == [first["id"]]
    # And it was looked for (search and the list of customers created since), not created again
    assert {"/v1/customers/search", "/v1/customers"} <= set(lookups(stripe_emulator))
    state = AccountStateStore(state_table, dynamodb).get(ORG_ID, record["Id"])
    assert state is not None and state.customer_id == first["id"] and state.pending_create is None


def test_a_retry_within_the_key_window_replays_the_create_without_looking(
    stripe_emulator: Any, dynamodb: Any, state_table: str
) -> None:
    # Given the same lost reply, retried 23 h minus a minute later (Stripe still keeps the key)
    record = account_record(Name="Within Window AG")
    lose_every_reply_to_the_create(stripe_emulator)
    with pytest.raises(TransientSyncError):
        make_engine(stripe_emulator, dynamodb, state_table).sync(snapshot(record), may_create=True)
    stripe_emulator.advance_clock(KEY_WINDOW_SECONDS - 60)
    later = make_engine(stripe_emulator, dynamodb, state_table, days_later=(KEY_WINDOW_SECONDS - 60) / DAY)
    result = later.sync(snapshot(record), may_create=True)
    # Then Stripe replayed the create: one customer, and no search or list was needed
    assert result.outcome is Outcome.CREATED and len(stripe_emulator.customers()) == 1
    assert stripe_emulator.write_requests()[-1]["replayed"] and lookups(stripe_emulator) == []


def test_a_refused_update_after_the_replayed_create_keeps_the_customer_id(
    stripe_emulator: Any, dynamodb: Any, state_table: str
) -> None:
    # Given a create whose replies were lost
    record = account_record(Name="Kept Id KG", order=order_record(contact_record("buyer@kept.de")))
    lose_every_reply_to_the_create(stripe_emulator)
    engine = make_engine(stripe_emulator, dynamodb, state_table)
    with pytest.raises(TransientSyncError):
        engine.sync(snapshot(record), may_create=True)
    # When the email changed meanwhile and Stripe refuses the new one on the follow-up update (400)
    changed = account_record(
        account_id=record["Id"], modstamp=60, Name="Kept Id KG", order=order_record(contact_record("bad@kept.de"))
    )
    stripe_emulator.inject("email_invalid", method="POST", path_prefix="/v1/customers/")
    synced = engine.sync(snapshot(changed), may_create=True)
    # Then the customer the replayed create returned is kept, and only the refused email is left out: a
    # warning names the Salesforce field it comes from (a refusal costs only what was refused)
    [customer] = stripe_emulator.customers()
    assert synced.outcome is Outcome.CREATED and synced.customer_id == customer["id"]
    assert [(w.field, w.stripe_path) for w in synced.warnings] == [
        ("Order.SBQQ__Quote__r.SBQQ__PrimaryContact__r.Email", "email")
    ]
    state = AccountStateStore(state_table, dynamodb).get(ORG_ID, record["Id"])
    assert state is not None and state.customer_id == customer["id"]
    # When the admin fixes the email, Then that customer is updated: no second customer
    fixed = account_record(
        account_id=record["Id"], modstamp=120, Name="Kept Id KG", order=order_record(contact_record("ok@kept.de"))
    )
    result = engine.sync(snapshot(fixed), may_create=True)
    assert result.outcome is Outcome.UPDATED and result.customer_id == customer["id"]
    assert [c["email"] for c in stripe_emulator.customers()] == ["ok@kept.de"]


@pytest.mark.vendor_doc(
    "https://docs.stripe.com/api/idempotent_requests",
    "a result is stored once execution began, 500 errors included, and replayed under its key",
)
def test_a_stored_500_on_create_is_looked_for_instead_of_replayed_forever(
    stripe_emulator: Any, dynamodb: Any, state_table: str
) -> None:
    # Given a create Stripe carried out but answered with a 500, stored under the key
    record = account_record(Name="Stored Fivehundred SE")
    stripe_emulator.inject("server_error_after", method="POST", path_prefix="/v1/customers")
    engine = make_engine(stripe_emulator, dynamodb, state_table)
    with pytest.raises(TransientSyncError):
        engine.sync(snapshot(record), may_create=True)
    [made] = stripe_emulator.customers()
    # When the message is retried right away (search does not see the new customer yet)
    result = engine.sync(snapshot(record), may_create=True)
    # Then the customer is found by listing what was created since, and adopted: one customer
    assert result.outcome is Outcome.CREATED and result.customer_id == made["id"]
    assert len(stripe_emulator.customers()) == 1
    assert not any(r["replayed"] for r in stripe_emulator.write_requests())


def test_a_stored_500_before_anything_was_created_creates_once_with_a_new_key(
    stripe_emulator: Any, dynamodb: Any, state_table: str
) -> None:
    # Given a create whose execution failed with a stored 500 before any customer existed
    record = account_record(Name="Nothing Made Ltd")
    stripe_emulator.inject("server_error_during", method="POST", path_prefix="/v1/customers")
    engine = make_engine(stripe_emulator, dynamodb, state_table)
    with pytest.raises(TransientSyncError):
        engine.sync(snapshot(record), may_create=True)
    assert stripe_emulator.customers() == []
    # When retried, Then nothing is found, and one customer is created under a new key
    result = engine.sync(snapshot(record), may_create=True)
    assert result.outcome is Outcome.CREATED and len(stripe_emulator.customers()) == 1
    keys = [r["idempotency_key"] for r in stripe_emulator.write_requests()]
    assert len(keys) == 2 and keys[0] != keys[1]
