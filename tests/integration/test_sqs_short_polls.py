"""Draining a queue (the held queue on release, the DLQ on ``sfsync redrive``) must not stop at a false empty.

SQS answers a short poll (``WaitTimeSeconds`` 0) from a sample of its servers: with fewer than 1,000 messages it
may answer none while the queue still holds some ("If this happens, repeat the request":
https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ReceiveMessage.html). A queue-moving
tool that stopped at the first empty answer left thousands behind (https://github.com/scottjbarr/sqsmv/issues/15).
The moto server answers every poll in full, so these tests give the client ``ShortPolls``, which answers short
polls the way AWS documents; every other queue call goes to the moto server.
"""

from __future__ import annotations

import uuid
from typing import Any

import boto3
import pytest

from devtools.local_runtime.sqs_short_polls import ShortPolls
from ops.dlq import move_back, peek
from shared.sync.dead_letters import DeadLetters
from shared.sync.gate import HeldQueue, redrive_held
from shared.sync.models import SyncRequest, TriggerSource

ORG_ID = "00D5g000004SAMPEA4"
WAITING = 25  # fewer than 1,000: the size at which AWS says short polls answer fewer messages, or none


@pytest.fixture
def sqs(moto_endpoint: str) -> Any:
    """An SQS client of the moto server that sees nothing but what the server answers."""
    return boto3.client("sqs", endpoint_url=moto_endpoint, region_name="us-east-1")


@pytest.fixture
def sampled(moto_endpoint: str) -> tuple[Any, ShortPolls]:
    """An SQS client of the same server whose short polls are sampled as on AWS."""
    client = boto3.client("sqs", endpoint_url=moto_endpoint, region_name="us-east-1")
    return client, ShortPolls(client)


def new_queue(sqs: Any, name: str) -> str:
    return str(sqs.create_queue(QueueName=f"{name}-{uuid.uuid4().hex[:8]}")["QueueUrl"])


def requests(count: int) -> list[str]:
    return [
        SyncRequest.for_account(
            ORG_ID, f"0015g{n:013d}", event_id=f"04l5g{n:013d}", source=TriggerSource.RECONCILE
        ).model_dump_json()
        for n in range(count)
    ]


def visible(sqs: Any, url: str) -> int:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def test_a_short_poll_may_answer_nothing_while_a_long_poll_answers(sqs: Any, sampled: tuple[Any, ShortPolls]) -> None:
    # Given a queue holding 25 visible messages, read through the sampled client
    client, polls = sampled
    url = new_queue(sqs, "sampled")
    for body in requests(WAITING):
        sqs.send_message(QueueUrl=url, MessageBody=body)
    # When it short-polls, then long-polls
    short = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
    long = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    # Then the short poll answers no message although 25 are visible, and the long poll answers some
    assert "Messages" not in short and polls.false_empties == 1
    assert long["Messages"] and visible(sqs, url) == WAITING - len(long["Messages"])


def test_rule_r7_a_release_redrives_every_held_message_though_a_short_poll_answers_none(
    sqs: Any, sampled: tuple[Any, ShortPolls]
) -> None:
    # Given 25 changes parked in the held queue while the gate held (observe mode, a pause…)
    client, _ = sampled
    held, queue = new_queue(sqs, "held"), new_queue(sqs, "sync")
    records = [{"messageId": f"m{n}", "body": body} for n, body in enumerate(requests(WAITING))]
    parked, error = HeldQueue(sqs, held).park(records, "observe")
    assert len(parked) == WAITING and error is None
    # When the gate opens and the release redrives the held queue (sfsync resume / go-live, the probe, reconcile)
    moved = redrive_held(client, held, queue)
    # Then every change is back on the sync queue, none left waiting for the next day's reconcile
    assert moved.moved == WAITING and moved.reasons == {"observe": WAITING}
    assert visible(sqs, held) == 0 and visible(sqs, queue) == WAITING


def test_sfsync_redrive_moves_every_dead_letter_though_a_short_poll_answers_none(
    sqs: Any, sampled: tuple[Any, ShortPolls]
) -> None:
    # Given 25 dead letters in the DLQ
    client, _ = sampled
    dlq, queue = new_queue(sqs, "dlq"), new_queue(sqs, "sync")
    letters = DeadLetters(sqs, dlq)
    for body in requests(WAITING):
        letters.send(body, "Stripe unavailable")
    # When the operator looks first (sfsync redrive --dry-run), then redrives
    seen = peek(client, dlq, limit=10_000)
    summary = move_back(client, dlq, queue, limit=10_000)
    # Then both saw every letter, and all 25 are back on the sync queue with none left in the DLQ
    assert seen.total == WAITING
    assert summary.moved == WAITING and visible(sqs, dlq) == 0 and visible(sqs, queue) == WAITING
