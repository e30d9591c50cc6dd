"""Exactly once: replayed events, crashes between Stripe and the bookkeeping, data changed before a retry."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import pytest
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

from shared.state.account_state import AccountStateStore
from shared.sync.customer_sync import CustomerSync, Outcome
from shared.sync.event_idempotency import EventProcessor
from shared.sync.models import SyncRequest
from tests.factories import ORG_ID, account_record
from tests.integration.engine import make_sync, snapshot


def request_for(record: dict[str, Any], event_id: str = "04l5g0000000EvT1AA") -> SyncRequest:
    return SyncRequest(
        org_id=ORG_ID,
        object_type="Account",
        record_id=record["Id"],
        event_id=event_id,
        source="outbound_message",
        account_id=record["Id"],
    )


def make_engine(stripe_emulator: Any, dynamodb: Any, table: str, *, seconds_later: float = 0) -> CustomerSync:
    """The engine with a 2 s Stripe timeout and a 30 s lease; its clock runs ``seconds_later`` ahead of the wall's."""
    return make_sync(
        stripe_emulator, dynamodb, table, lease_seconds=30, clock=lambda: time.time() + seconds_later, timeout_seconds=2
    )


@pytest.fixture
def processor(stripe_emulator: Any, dynamodb: Any, state_table: str, idempotency_table: str) -> EventProcessor:
    persistence = DynamoDBPersistenceLayer(table_name=idempotency_table, boto3_client=dynamodb)
    return EventProcessor(make_engine(stripe_emulator, dynamodb, state_table), persistence, expiry_seconds=172_800)


@pytest.mark.vendor_doc(
    "https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_om_outboundmessaging_notifications.htm",
    "a message can be delivered more than once",
)
def test_replayed_event_makes_no_further_stripe_call(
    processor: EventProcessor, stripe_emulator: Any, dynamodb: Any
) -> None:
    # Given an event was processed and created a customer
    record = account_record(Name="Once AG")
    first = processor.process(request_for(record), snapshot(record), may_create=True)
    calls_after_first = len(stripe_emulator.requests)
    # When Salesforce delivers the same notification again (even with changed data in the meantime)
    renamed = {**record, "Name": "Once AG (renamed)", "SystemModstamp": "2026-11-01T12:10:00.000+0000"}
    dynamodb.counter.reset()
    replay = processor.process(request_for(record), snapshot(renamed), may_create=True)
    # Then the stored result is returned, marked as a duplicate, and Stripe sees no request at all
    assert replay.duplicate and not first.duplicate
    assert replace(replay, duplicate=False) == first
    assert first.outcome is Outcome.CREATED
    assert len(stripe_emulator.requests) == calls_after_first
    assert dynamodb.counter.total() <= 2  # the idempotency lookup only


def test_crash_between_stripe_create_and_the_commit_creates_no_duplicate(
    stripe_emulator: Any, dynamodb: Any, state_table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the process dies right after Stripe created the customer, before the commit that keeps its id
    engine = make_engine(stripe_emulator, dynamodb, state_table)
    record = account_record(Name="Crash GmbH")
    monkeypatch.setattr(AccountStateStore, "commit", _crash)
    with pytest.raises(SystemExit):
        engine.sync(snapshot(record), may_create=True)
    monkeypatch.undo()
    assert len(stripe_emulator.customers()) == 1
    # When the message is retried after the lease ran out, with the account renamed meanwhile
    renamed = {**record, "Name": "Crash GmbH & Co. KG", "SystemModstamp": "2026-11-01T12:20:00.000+0000"}
    retry = make_engine(stripe_emulator, dynamodb, state_table, seconds_later=31)
    result = retry.sync(snapshot(renamed), may_create=True)
    # Then Stripe replayed the first create (same key, same params) and the rename became an update
    assert result.outcome is Outcome.CREATED
    customers = stripe_emulator.customers()
    assert len(customers) == 1
    assert customers[0]["id"] == result.customer_id
    assert customers[0]["name"] == "Crash GmbH & Co. KG"
    assert any(r["replayed"] for r in stripe_emulator.write_requests())


def test_crash_after_the_customer_id_was_kept_updates_that_customer(
    stripe_emulator: Any, dynamodb: Any, state_table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a create lost before its commit, replayed with the account renamed — so its id was stored before
    # the rename's update — and the process dying before that commit too
    record = account_record(Name="Later Crash GmbH")
    renamed = {**record, "Name": "Later Crash GmbH & Co. KG", "SystemModstamp": "2026-11-01T12:20:00.000+0000"}
    monkeypatch.setattr(AccountStateStore, "commit", _crash)
    with pytest.raises(SystemExit):
        make_engine(stripe_emulator, dynamodb, state_table).sync(snapshot(record), may_create=True)
    with pytest.raises(SystemExit):
        make_engine(stripe_emulator, dynamodb, state_table, seconds_later=31).sync(snapshot(renamed), may_create=True)
    monkeypatch.undo()
    [customer] = stripe_emulator.customers()
    assert AccountStateStore(state_table, dynamodb).get(ORG_ID, record["Id"]).customer_id == customer["id"]
    # When the message is retried once more, after that lease ran out too
    retry = make_engine(stripe_emulator, dynamodb, state_table, seconds_later=62)
    result = retry.sync(snapshot(renamed), may_create=True)
    # Then the kept customer is updated; Stripe made one customer (the second create was a replay)
    [customer] = stripe_emulator.customers()
    assert result.outcome is Outcome.UPDATED and result.customer_id == customer["id"]
    assert customer["name"] == "Later Crash GmbH & Co. KG"
    creates = [w for w in stripe_emulator.write_requests() if w["path"] == "/v1/customers"]
    assert [w["replayed"] for w in creates] == [False, True]


def _crash(*_: Any, **__: Any) -> None:
    raise SystemExit("killed")
