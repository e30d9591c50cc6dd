"""What a holder of the endpoint token can make one request cost: bounded (security point 6).

Salesforce's Outbound Message carries 1 to 100 notifications, each with an ``<Id>`` that Salesforce says to
use to recognise what was already processed ("Understanding Outbound Messaging",
https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_om_outboundmessaging_understanding.htm).
A forged message must neither fan out into one DLQ message per notification, nor let a notification id
claimed in advance swallow the real change Salesforce sends later under that id.
"""

from __future__ import annotations

import json
import uuid
from types import ModuleType
from typing import Any

import boto3
import pytest

from devtools.local_runtime.stack import load_handler
from shared.sync.customer_sync import Outcome
from shared.sync.dead_letters import REASON_ATTRIBUTE
from shared.sync.event_idempotency import EventProcessor
from tests.factories import ORG_ID, account_record
from tests.integration.test_customer_sync import snapshot
from tests.integration.test_exactly_once import processor, request_for  # noqa: F401
from tests.integration.test_outbound_receiver import TOKEN, post, queued, receiver_env
from tests.unit.test_outbound_message import envelope


def _wrong_object_notification(index: int) -> str:
    # An Account notification whose sf:Id is a Contact id (003…): parsed, but unusable.
    return (
        f"<Notification><Id>04l5g00000{index:08d}</Id>"
        '<sObject xsi:type="sf:Account" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">'
        f"<sf:Id>0035g00000{index:05d}AAA</sf:Id></sObject></Notification>"
    )


@pytest.fixture
def sqs(moto_endpoint: str) -> Any:
    return boto3.client("sqs", endpoint_url=moto_endpoint)


@pytest.fixture
def receiver_with_dlq(monkeypatch: pytest.MonkeyPatch, sqs: Any, moto_endpoint: str) -> tuple[ModuleType, str, str]:
    queue_url = sqs.create_queue(QueueName=f"sync-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    dlq_url = sqs.create_queue(QueueName=f"dlq-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    env = {**receiver_env(queue_url, moto_endpoint), "SYNC_DLQ_URL": dlq_url, "MAX_BODY_BYTES": "1048576"}
    return load_handler("functions.outbound_message.app", monkeypatch, env), queue_url, dlq_url


def test_a_hundred_unusable_notifications_of_one_message_are_one_dlq_entry_with_every_id(
    receiver_with_dlq: tuple[ModuleType, str, str], sqs: Any
) -> None:
    # Given an authentic message (right token, allowed org) of 100 notifications, none with a usable record
    receiver, queue_url, dlq_url = receiver_with_dlq
    body = envelope("".join(_wrong_object_notification(i) for i in range(100)), org_id=ORG_ID)
    # When it is posted
    response = post(receiver, body, query=f"token={TOKEN}")
    # Then it is acknowledged, nothing is queued, and the DLQ holds ONE entry naming all 100 notification ids
    assert response["statusCode"] == 200
    assert queued(sqs, queue_url) == []
    got = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
    (kept,) = got["Messages"]
    entry = json.loads(kept["Body"])["unusable_notifications"]
    assert sorted(n["notification_id"] for n in entry["notifications"]) == [f"04l5g00000{i:08d}" for i in range(100)]
    assert entry["organization_id"] == ORG_ID
    assert kept["MessageAttributes"][REASON_ATTRIBUTE]["StringValue"].startswith("unusable notifications (100): ")


def test_a_notification_id_claimed_in_advance_does_not_swallow_the_real_change(
    processor: EventProcessor,  # noqa: F811
    stripe_emulator: Any,
) -> None:
    # Given a customer synced for an account, and a token holder who forged a notification under the id
    # Salesforce will use next, with a version of their choosing (the record unchanged)
    record = account_record(Name="Vorab GmbH", SystemModstamp="2026-11-01T12:00:00.000+0000")
    processor.process(request_for(record, "04l5g0000000Seed1A"), snapshot(record), may_create=True)
    forged = request_for(record, "04l5g0000000Next1A").model_copy(update={"version": 1_000})
    processor.process(forged, snapshot(record), may_create=True)
    # When the account really changes and Salesforce sends that notification id with the record's version
    renamed = {**record, "Name": "Vorab GmbH & Co. KG", "SystemModstamp": "2026-11-01T12:30:00.000+0000"}
    real = request_for(record, "04l5g0000000Next1A").model_copy(update={"version": 1_762_000_200_000})
    result = processor.process(real, snapshot(renamed), may_create=True)
    # Then the change is synced, not answered from the forged notification's stored result
    assert not result.duplicate and result.outcome is Outcome.UPDATED
    [customer] = stripe_emulator.customers()
    assert customer["name"] == "Vorab GmbH & Co. KG"


def test_rule_the_same_notification_redelivered_is_still_processed_once(
    processor: EventProcessor,  # noqa: F811
    stripe_emulator: Any,
) -> None:
    # Given a notification processed once (id and version as Salesforce sent them)
    record = account_record(Name="Einmal AG", SystemModstamp="2026-11-01T12:00:00.000+0000")
    request = request_for(record, "04l5g0000000Once1A").model_copy(update={"version": 1_762_000_000_000})
    first = processor.process(request, snapshot(record), may_create=True)
    calls = len(stripe_emulator.requests)
    # When Salesforce delivers it again, unchanged
    replay = processor.process(request, snapshot(record), may_create=True)
    # Then the stored result answers it, and Stripe sees nothing more
    assert replay.duplicate and not first.duplicate and len(stripe_emulator.requests) == calls
