"""Dead letters: poison messages parked with the reason, and redriven (repaired or as they are)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from pydantic import ValidationError

from shared.sync.dead_letters import REASON_ATTRIBUTE, DeadLetter, DeadLetters, poison_reason, redrive
from shared.sync.models import SyncRequest

VALID = {
    "org_id": "00D5g000004SAMPEA4",
    "object_type": "Account",
    "record_id": "0015g0000000001AAA",
    "event_id": "04l5g0000000001AAA",
    "source": "outbound_message",
}


@pytest.fixture
def sqs() -> Iterator[Any]:
    with mock_aws():  # in-process: no network
        yield boto3.client("sqs", region_name="us-east-1")


@pytest.fixture
def queues(sqs: Any) -> tuple[str, str]:
    return sqs.create_queue(QueueName="sync")["QueueUrl"], sqs.create_queue(QueueName="sync-dlq")["QueueUrl"]


def _validation_error(body: str) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        SyncRequest.model_validate_json(body)
    return caught.value


def _bodies(sqs: Any, url: str) -> list[str]:
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)
    return [m["Body"] for m in got.get("Messages", [])]


def test_poison_reason_names_the_fields_but_never_the_values() -> None:
    body = json.dumps({**VALID, "record_id": "ada@example.com", "phone": "+49 30 1234567"})
    reason = poison_reason(_validation_error(body))
    assert reason.startswith("not a sync request: ")
    assert "record_id" in reason and "phone" in reason
    assert "ada@example.com" not in reason and "1234567" not in reason


def test_poison_reason_for_a_body_that_is_not_json() -> None:
    reason = poison_reason(_validation_error('{"org_id": "00D5g0'))
    assert reason.startswith("not a sync request: Invalid JSON")


def test_poison_reason_is_bounded() -> None:
    many = {f"unexpected_{i}_{'x' * 300}": i for i in range(50)}
    reason = poison_reason(_validation_error(json.dumps({**VALID, **many})))
    assert len(reason) <= 1000
    assert "more)" in reason


def test_send_parks_the_body_with_the_reason(sqs: Any, queues: tuple[str, str]) -> None:
    _, dlq = queues
    DeadLetters(sqs, dlq).send("not json", "not a sync request: Invalid JSON", source_message_id="m-1")
    [letter] = DeadLetters(sqs, dlq).receive()
    assert letter.body == "not json"
    assert letter.reason == "not a sync request: Invalid JSON"
    raw = sqs.receive_message(QueueUrl=dlq, MessageAttributeNames=["All"], VisibilityTimeout=0)
    assert raw.get("Messages", []) == []  # still hidden after receive (visibility), nothing else there


def test_redrive_moves_every_letter_back_as_it_is(sqs: Any, queues: tuple[str, str]) -> None:
    queue, dlq = queues
    for i in range(23):  # more than one receive of 10
        sqs.send_message(QueueUrl=dlq, MessageBody=f"body-{i}")
    report = redrive(sqs, dlq, queue)
    assert (report.moved, report.kept) == (23, 0)
    moved: list[str] = []
    while batch := sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, VisibilityTimeout=60).get("Messages"):
        moved.extend(message["Body"] for message in batch)
    assert sorted(moved) == sorted(f"body-{i}" for i in range(23))
    assert _bodies(sqs, dlq) == []


def test_redrive_repairs_and_keeps_what_it_cannot_fix(sqs: Any, queues: tuple[str, str]) -> None:
    queue, dlq = queues
    letters = DeadLetters(sqs, dlq)
    letters.send(json.dumps({**VALID, "orgId": VALID["org_id"]}), "not a sync request: orgId: Extra inputs")
    letters.send("garbage", "not a sync request: Invalid JSON")

    def repair(letter: DeadLetter) -> str | None:
        try:
            data = json.loads(letter.body)
        except ValueError:
            return None  # nothing to repair: stays in the DLQ
        data.pop("orgId", None)
        return json.dumps(data)

    report = redrive(sqs, dlq, queue, repair=repair)
    assert (report.moved, report.kept) == (1, 1)
    [fixed] = _bodies(sqs, queue)
    assert SyncRequest.model_validate_json(fixed).org_id == VALID["org_id"]
    # The kept letter is visible again at once, still with its reason.
    [kept] = letters.receive()
    assert (kept.body, kept.reason) == ("garbage", "not a sync request: Invalid JSON")


def test_redriven_messages_carry_no_failure_reason(sqs: Any, queues: tuple[str, str]) -> None:
    queue, dlq = queues
    DeadLetters(sqs, dlq).send(json.dumps(VALID), "not a sync request: x")
    redrive(sqs, dlq, queue)
    got = sqs.receive_message(QueueUrl=queue, MessageAttributeNames=["All"])["Messages"]
    assert REASON_ATTRIBUTE not in (got[0].get("MessageAttributes") or {})


def test_redrive_stops_at_the_limit(sqs: Any, queues: tuple[str, str]) -> None:
    queue, dlq = queues
    for i in range(5):
        sqs.send_message(QueueUrl=dlq, MessageBody=f"b{i}")
    assert redrive(sqs, dlq, queue, limit=3).moved == 3
