"""Calls per event, per scenario: Stripe (from the emulator's request log) and DynamoDB (botocore events).

The printed table is the figure reported on the issue; the assertions hold the product to its floors:
Stripe 1 write when data changed and 0 otherwise, and a bounded number of DynamoDB calls.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

from shared.sync.customer_sync import Outcome
from shared.sync.event_idempotency import EventProcessor
from tests.factories import account_record, sf_datetime
from tests.integration.engine import make_sync, snapshot
from tests.integration.test_exactly_once import request_for


def test_calls_per_scenario_stay_at_their_floors(
    stripe_emulator: Any, dynamodb: Any, state_table: str, idempotency_table: str
) -> None:
    # Given the engine behind the event-level idempotency layer, all on the real local parts
    persistence = DynamoDBPersistenceLayer(table_name=idempotency_table, boto3_client=dynamodb)
    processor = EventProcessor(make_sync(stripe_emulator, dynamodb, state_table), persistence, expiry_seconds=172_800)
    record = account_record(Name="Count AG", modstamp=10)
    scenarios = [
        ("create", "e1", record, Outcome.CREATED, 1),
        ("update", "e2", {**record, "Name": "Count AG 2", "SystemModstamp": sf_datetime(20)}, Outcome.UPDATED, 1),
        ("no-op", "e3", {**record, "Name": "Count AG 2", "SystemModstamp": sf_datetime(30)}, Outcome.UNCHANGED, 0),
        ("duplicate", "e3", {**record, "Name": "Count AG 2", "SystemModstamp": sf_datetime(30)}, Outcome.UNCHANGED, 0),
        ("stale", "e4", {**record, "Name": "Old", "SystemModstamp": sf_datetime(15)}, Outcome.STALE, 0),
    ]
    rows = []
    for name, event_id, data, expected, stripe_writes in scenarios:
        stripe_before = len(stripe_emulator.requests)
        dynamodb.counter.reset()
        # When each event is processed
        result = processor.process(request_for(record, event_id), snapshot(data), may_create=True)
        stripe_calls = len(stripe_emulator.requests) - stripe_before
        rows.append((name, result.outcome.value, stripe_calls, dynamodb.counter.total(), dict(dynamodb.counter.calls)))
        # Then the outcome is right and Stripe saw exactly the writes the data needed
        assert result.outcome is expected, name
        assert stripe_calls == stripe_writes, name
        assert dynamodb.counter.total() <= 5, name
    # A create: the idempotency record (put, completed), the lease, the contact index (the record names a
    # contact) and the commit, which also keeps the customer id Stripe answered with — no write of its own.
    assert rows[0][4] == {"PutItem": 1, "UpdateItem": 4}
    print("\nscenario   outcome    stripe  dynamodb  (dynamodb by operation)")
    for name, outcome, stripe_calls, dynamo_calls, by_op in rows:
        print(f"{name:<10} {outcome:<10} {stripe_calls:>6}  {dynamo_calls:>8}  {by_op}")
