"""The sample events in events/ (for `sam local invoke -e`) are accepted by their handlers."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest

from devtools.local_runtime.stack import load_handler
from devtools.sam.lambda_events import FakeLambdaContext
from devtools.sam.make_events import ORG_ID, TOKEN, _stable, build

EVENTS = Path(__file__).parents[2] / "events"


def test_sample_files_are_up_to_date() -> None:
    # Given the builder of the samples; Then every file in events/ is what it builds (no hand-edited drift)
    built = build()
    assert sorted(p.name for p in EVENTS.glob("*.json")) == sorted(built)
    for name, event in built.items():
        assert json.loads((EVENTS / name).read_text()) == json.loads(json.dumps(_stable(event))), name


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("outbound_message_account.json", 1),
        ("outbound_message_order_activated.json", 1),
        ("outbound_message_batch.json", 5),
        ("outbound_message_contact.json", 1),
    ],
)
def test_outbound_message_samples_are_acknowledged_and_enqueued(
    monkeypatch: pytest.MonkeyPatch, moto_endpoint: str, name: str, expected: int
) -> None:
    # Given the receiver configured like the samples expect (their org and token)
    sqs = boto3.client("sqs", endpoint_url=moto_endpoint)
    queue_url = sqs.create_queue(QueueName=f"samples-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    env = {
        "ORGANIZATION_IDS": ORG_ID,
        "SYNC_QUEUE_URL": queue_url,
        "OUTBOUND_TOKEN": TOKEN,
        "AWS_ENDPOINT_URL_SQS": moto_endpoint,
    }
    receiver = load_handler("functions.outbound_message.app", monkeypatch, env)
    # When the sample is invoked
    event = json.loads((EVENTS / name).read_text())
    response: dict[str, Any] = receiver.lambda_handler(event, FakeLambdaContext("receiver"))
    # Then it is acknowledged and its notifications are queued
    assert response["statusCode"] == 200 and "<Ack>true</Ack>" in response["body"]
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"])
    assert int(attributes["Attributes"]["ApproximateNumberOfMessages"]) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("eventbridge_contact_change_event.json", 1),
        ("eventbridge_order_activated_platform_event.json", 1),
        ("eventbridge_account_change_event_compound_address.json", 1),
        ("eventbridge_account_change_event_several_records.json", 3),
        ("eventbridge_account_change_event_delete.json", 0),
        ("eventbridge_account_change_event_gap_update.json", 1),
        ("eventbridge_order_change_event_activated.json", 1),
    ],
)
def test_eventbridge_samples_are_handled_by_the_platform_event_function(
    monkeypatch: pytest.MonkeyPatch, moto_endpoint: str, name: str, expected: int
) -> None:
    # Given the platform_event function configured for the samples' org
    sqs = boto3.client("sqs", endpoint_url=moto_endpoint)
    queue_url = sqs.create_queue(QueueName=f"samples-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    env = {"ORGANIZATION_IDS": ORG_ID, "SYNC_QUEUE_URL": queue_url, "AWS_ENDPOINT_URL_SQS": moto_endpoint}
    function = load_handler("functions.platform_event.app", monkeypatch, env)
    # When the sample is invoked (as `sam local invoke PlatformEventFunction -e events/<name>` would)
    event = json.loads((EVENTS / name).read_text())
    summary: dict[str, int] = function.lambda_handler(event, FakeLambdaContext("platform-event"))
    # Then its requests are queued (a delete is ignored, never dropped)
    assert summary == {"enqueued": expected, "ignored": int(expected == 0), "dropped": 0}
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"])
    assert int(attributes["Attributes"]["ApproximateNumberOfMessages"]) == expected
