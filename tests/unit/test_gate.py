"""The gate on real local parts: holds in dynalite, the held queue in moto's SQS.

The end-to-end behaviour (observe start, every hold reason, redeploys) is tests/integration/test_gate.py.
"""

from __future__ import annotations

import statistics
import time
import uuid
from typing import Any

import boto3
import pytest
from aws_lambda_powertools import Logger, Metrics

from shared.state.holds import GATE_KEY, AutomaticReleaseRefused, HoldReason, HoldStore
from shared.sync.gate import GatedWorker, HeldQueue, redrive_held


class RecordingWorker:
    """Stands in for SqsBatchWorker: records the batches it ran, answers "all done"."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    def handle(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self.batches.append([r["messageId"] for r in event["Records"]])
        return {"batchItemFailures": []}


def sqs_event(*bodies: str) -> dict[str, Any]:
    return {"Records": [{"messageId": f"m{n}", "body": body} for n, body in enumerate(bodies)]}


@pytest.fixture
def sqs(moto_endpoint: str) -> Any:
    return boto3.client("sqs", endpoint_url=moto_endpoint, region_name="us-east-1")


def gated(store: HoldStore, held: HeldQueue, worker: RecordingWorker) -> GatedWorker:
    return GatedWorker(worker, store.holds, held, logger=Logger(), metrics=Metrics(namespace="test"))


def test_a_new_table_is_in_observe_mode_and_going_live_opens_the_gate(dynamodb: Any, state_table: str) -> None:
    # Given a new deployment's state table
    store = HoldStore(state_table, dynamodb)
    # Then the observe hold is in place until someone goes live
    assert [h.reason for h in store.holds()] == [HoldReason.OBSERVE]
    # When the operator goes live
    store.release(HoldReason.OBSERVE)
    # Then the gate is open; and observe can be put back
    assert store.holds() == []
    store.place(HoldReason.OBSERVE, by="sfsync")
    assert [h.reason for h in store.holds()] == [HoldReason.OBSERVE]


def test_an_upgraded_stack_stays_live_and_a_new_one_with_only_a_checkpoint_observes(
    dynamodb: Any, state_table: str
) -> None:
    # Given a table with only the reconcile's checkpoint (a new stack whose dry-run reconcile ran)
    store = HoldStore(state_table, dynamodb)
    dynamodb.put_item(TableName=state_table, Item={"pk": {"S": "reconcile#00D"}, "checkpoint": {"S": "{}"}})
    # Then it is still in observe mode
    assert [h.reason for h in store.holds()] == [HoldReason.OBSERVE]
    # And the gate item is written then, so the next batch's read is one GetItem, never a scan again
    dynamodb.counter.reset()
    assert [h.reason for h in store.holds()] == [HoldReason.OBSERVE]
    assert dict(dynamodb.counter.calls) == {"GetItem": 1}
    # Given instead a table from before the gate: an account's state with its customer id, and no gate item
    dynamodb.delete_item(TableName=state_table, Key={"pk": {"S": GATE_KEY}})
    dynamodb.put_item(TableName=state_table, Item={"pk": {"S": "00D#001"}, "customer_id": {"S": "cus_1"}})
    # Then the gate is open, and stays so once recorded (the scan is not repeated: the item exists now)
    assert store.holds() == []
    dynamodb.counter.reset()
    assert store.holds() == [] and dict(dynamodb.counter.calls) == {"GetItem": 1}


def test_each_reason_is_its_own_hold_and_automatic_releases_touch_only_theirs(dynamodb: Any, state_table: str) -> None:
    # Given a live gate held by the operator, the API budget and refused credentials
    store = HoldStore(state_table, dynamodb, clock=lambda: 1_765_094_400)
    store.release(HoldReason.OBSERVE)
    store.place(HoldReason.OPERATOR, by="sfsync (ops)", note="maintenance")
    store.place(HoldReason.API_BUDGET, by="sync")
    store.place(HoldReason.CREDENTIALS, by="sync")
    # When the budget refills and the credentials work again (automatic releases)
    store.release(HoldReason.API_BUDGET, automatic=True)
    store.release(HoldReason.CREDENTIALS, automatic=True)
    # Then only the operator's hold is left, with who and why
    (left,) = store.holds()
    assert left.reason is HoldReason.OPERATOR and "maintenance" in left.describe() and "2025-12-07" in left.describe()
    # And an automatic release of the operator's hold or of observe mode is refused
    for reason in (HoldReason.OPERATOR, HoldReason.OBSERVE):
        with pytest.raises(AutomaticReleaseRefused):
            store.release(reason, automatic=True)
    assert [h.reason for h in store.holds()] == [HoldReason.OPERATOR]


def test_a_held_batch_is_parked_and_a_release_redrives_it(dynamodb: Any, state_table: str, sqs: Any) -> None:
    # Given a gate in observe mode (a new table) and a held queue
    store = HoldStore(state_table, dynamodb)
    held = HeldQueue(sqs, sqs.create_queue(QueueName=f"held-{uuid.uuid4().hex[:8]}")["QueueUrl"])
    queue_url = sqs.create_queue(QueueName=f"sync-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    worker = RecordingWorker()
    # When a batch of 12 messages arrives (more than one SendMessageBatch of 10)
    answer = gated(store, held, worker).handle(sqs_event(*(f'{{"n": {n}}}' for n in range(12))), None)
    # Then none was synced, all were parked, none is left for SQS to redeliver
    assert worker.batches == [] and answer == {"batchItemFailures": []}
    # When the gate opens and the release redrives
    store.release(HoldReason.OBSERVE)
    moved = redrive_held(sqs, held.url, queue_url)
    # Then all 12 are back on the sync queue, with the reason they were held for
    assert moved.moved == 12 and moved.reasons == {"observe": 12}
    # And the next batch is run by the worker
    gated(store, held, worker).handle(sqs_event("{}"), None)
    assert worker.batches == [["m0"]]


def test_a_held_queue_that_refuses_leaves_the_messages_on_the_sync_queue(
    dynamodb: Any, state_table: str, sqs: Any
) -> None:
    # Given a held gate whose held queue does not exist (deleted, or no permission)
    store = HoldStore(state_table, dynamodb)
    held = HeldQueue(sqs, f"{sqs.meta.endpoint_url}/123456789012/no-such-queue")
    # When a batch arrives
    answer = gated(store, held, RecordingWorker()).handle(sqs_event("a", "b"), None)
    # Then both messages are reported as failures: SQS keeps them, nothing is dropped
    assert answer == {"batchItemFailures": [{"itemIdentifier": "m0"}, {"itemIdentifier": "m1"}]}


def test_the_gate_costs_one_getitem_per_batch(dynamodb: Any, state_table: str, sqs: Any) -> None:
    # Given an open gate
    store = HoldStore(state_table, dynamodb)
    store.release(HoldReason.OBSERVE)
    worker = RecordingWorker()
    gate = gated(store, HeldQueue(sqs, "unused"), worker)
    # When 50 batches pass
    dynamodb.counter.reset()
    took = []
    for _ in range(50):
        start = time.perf_counter()
        gate.handle(sqs_event("{}"), None)
        took.append(time.perf_counter() - start)
    # Then the gate read the holds once per batch (one GetItem: 0.5 read units, eventually consistent)
    assert dict(dynamodb.counter.calls) == {"GetItem": 50} and len(worker.batches) == 50
    print(f"\ngate read per batch: median {statistics.median(took) * 1000:.1f} ms on dynalite")


def test_an_unreadable_gate_retries_the_batch_and_syncs_nothing(sqs: Any) -> None:
    # Given a gate whose table does not exist (DynamoDB refuses the read)
    worker = RecordingWorker()

    def unreadable() -> list[Any]:
        raise RuntimeError("ResourceNotFoundException")

    gate = GatedWorker(worker, unreadable, HeldQueue(sqs, "unused"), logger=Logger(), metrics=Metrics(namespace="t"))
    # When a batch arrives
    answer = gate.handle(sqs_event("a", "b"), None)
    # Then nothing ran and both messages are left to SQS (answered, not raised: no failed invocation)
    assert worker.batches == []
    assert answer == {"batchItemFailures": [{"itemIdentifier": "m0"}, {"itemIdentifier": "m1"}]}
