"""The Outbound Message receiver against moto server's SQS: authenticate, parse, enqueue, acknowledge."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest

from devtools.local_runtime.stack import load_handler
from devtools.sam.lambda_events import FakeLambdaContext, http_api_event
from tests.factories import ORG_ID
from tests.unit.test_outbound_message import HOSTILE, account_notification, envelope

REPO = Path(__file__).parents[2]
TOKEN = "s3cret-token-for-tests"
ACK = (
    '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
    '<soapenv:Body><notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound"><Ack>true</Ack>'
    "</notificationsResponse></soapenv:Body></soapenv:Envelope>"
)


@pytest.fixture
def sqs(moto_endpoint: str) -> Any:
    return boto3.client("sqs", endpoint_url=moto_endpoint)


@pytest.fixture
def queue_url(sqs: Any) -> str:
    return str(sqs.create_queue(QueueName=f"sync-{uuid.uuid4().hex[:8]}")["QueueUrl"])


def receiver_env(queue_url: str, moto_endpoint: str) -> dict[str, str]:
    return {
        "ORGANIZATION_IDS": ORG_ID,
        "SYNC_QUEUE_URL": queue_url,
        "OUTBOUND_TOKEN": TOKEN,
        "AWS_ENDPOINT_URL_SQS": moto_endpoint,
        "MAX_BODY_BYTES": "65536",
    }


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch, queue_url: str, moto_endpoint: str) -> ModuleType:
    return load_handler("functions.outbound_message.app", monkeypatch, receiver_env(queue_url, moto_endpoint))


def post(receiver: ModuleType, body: bytes, query: str = f"token={TOKEN}") -> dict[str, Any]:
    return dict(receiver.lambda_handler(http_api_event(body, query=query), FakeLambdaContext("receiver")))


def queued(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not batch:
            return messages
        messages.extend(json.loads(m["Body"]) for m in batch)


def test_valid_message_is_enqueued_then_acknowledged_with_the_exact_ack(
    receiver: ModuleType, sqs: Any, queue_url: str
) -> None:
    # Given a message with 25 Account notifications from an allowed org
    body = envelope("".join(account_notification(i) for i in range(25)), org_id=ORG_ID)
    # When Salesforce posts it
    response = post(receiver, body)
    # Then the exact SOAP Ack is returned and all 25 sync requests are on the queue
    assert response["statusCode"] == 200
    assert response["body"] == ACK
    assert response["headers"]["Content-Type"].startswith("text/xml")
    requests = queued(sqs, queue_url)
    assert sorted(r["event_id"] for r in requests) == sorted(f"04l5g00000{i:08d}" for i in range(25))
    assert {r["object_type"] for r in requests} == {"Account"}


@pytest.mark.parametrize("query", ["", "token=wrong", "token="])
def test_missing_or_wrong_token_is_refused_and_nothing_enqueued(
    receiver: ModuleType, sqs: Any, queue_url: str, query: str
) -> None:
    response = post(receiver, envelope(account_notification(), org_id=ORG_ID), query=query)
    assert response["statusCode"] == 401
    assert "<faultstring>missing or wrong token</faultstring>" in response["body"]
    assert queued(sqs, queue_url) == []


def test_org_not_in_allow_list_is_refused(receiver: ModuleType, sqs: Any, queue_url: str) -> None:
    response = post(receiver, envelope(account_notification(), org_id="00D5g000009ZZZZEA4"))
    assert response["statusCode"] == 403
    assert "organization not allowed" in response["body"]
    assert queued(sqs, queue_url) == []


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_bodies_get_a_4xx_soap_fault_with_the_reason_and_nothing_enqueued(
    receiver: ModuleType, sqs: Any, queue_url: str, name: str
) -> None:
    body = HOSTILE[name].replace(b"00D5g000004ABCDEA4", ORG_ID.encode())
    response = post(receiver, body)
    assert 400 <= response["statusCode"] < 500
    assert "<soapenv:Fault>" in response["body"] and "<faultstring>" in response["body"]
    assert queued(sqs, queue_url) == []


@pytest.mark.parametrize(("method", "path"), [("GET", "/outbound-message"), ("POST", "/other")])
def test_other_routes_get_a_404_soap_fault_and_nothing_enqueued(
    receiver: ModuleType, sqs: Any, queue_url: str, method: str, path: str
) -> None:
    # Given a valid message sent with the wrong method or to the wrong path (e.g. a mistyped endpoint URL)
    event = http_api_event(
        envelope(account_notification(), org_id=ORG_ID), query=f"token={TOKEN}", method=method, path=path
    )
    # When the receiver handles it
    response = receiver.lambda_handler(event, FakeLambdaContext("receiver"))
    # Then it answers 404 with a fault naming the only route, and nothing is queued
    assert response["statusCode"] == 404
    assert "POST /outbound-message is the only route" in response["body"]
    assert queued(sqs, queue_url) == []


def test_a_named_stage_in_the_path_still_reaches_the_receiver(receiver: ModuleType, sqs: Any, queue_url: str) -> None:
    # Given the HTTP API behind a named stage, so the raw path carries the stage's prefix
    event = http_api_event(envelope(account_notification(), org_id=ORG_ID), query=f"token={TOKEN}")
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/prod/outbound-message"
    event["requestContext"]["stage"] = "prod"
    # When the receiver handles it
    response = receiver.lambda_handler(event, FakeLambdaContext("receiver"))
    # Then the route (POST /outbound-message) is what counts: acknowledged and queued
    assert response["statusCode"] == 200
    assert len(queued(sqs, queue_url)) == 1


def test_oversize_body_is_refused_with_413(receiver: ModuleType, sqs: Any, queue_url: str) -> None:
    body = envelope(account_notification(extra="<sf:Description>" + "x" * 70_000 + "</sf:Description>"), org_id=ORG_ID)
    response = post(receiver, body)
    assert response["statusCode"] == 413
    assert queued(sqs, queue_url) == []


def test_sqs_failure_answers_5xx_fault_and_no_ack(monkeypatch: pytest.MonkeyPatch, moto_endpoint: str) -> None:
    # Given the queue does not exist (SQS refuses every message)
    env = receiver_env(f"{moto_endpoint}/123456789012/no-such-queue", moto_endpoint)
    receiver = load_handler("functions.outbound_message.app", monkeypatch, env)
    # When Salesforce posts a message
    response = post(receiver, envelope(account_notification(), org_id=ORG_ID))
    # Then it gets a server fault (so it retries later), never an Ack
    assert response["statusCode"] >= 500
    assert "<Ack>" not in response["body"]
    assert "soapenv:Server" in response["body"]


def test_other_object_types_are_acknowledged_not_enqueued(receiver: ModuleType, sqs: Any, queue_url: str) -> None:
    body = envelope(
        account_notification().replace("sf:Account", "sf:Opportunity").replace("<sf:Id>001", "<sf:Id>006"),
        org_id=ORG_ID,
    )
    response = post(receiver, body)
    assert response["statusCode"] == 200 and response["body"] == ACK
    assert queued(sqs, queue_url) == []


def test_receiver_stays_light_it_imports_neither_stripe_nor_simple_salesforce(
    queue_url: str, moto_endpoint: str
) -> None:
    # Given a fresh interpreter (a Lambda cold start)
    code = (
        "import sys, functions.outbound_message.app as a; "
        "print(sorted(m for m in ('stripe', 'simple_salesforce') if m in sys.modules))"
    )
    env = {**os.environ, **receiver_env(queue_url, moto_endpoint)}
    # When the receiver module is imported
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=True)
    # Then neither heavy library was loaded
    assert out.stdout.strip() == "[]"


def test_captured_contact_message_is_accepted_as_a_contact_sync_request(
    receiver: ModuleType, sqs: Any, queue_url: str
) -> None:
    # Given the captured Contact outbound message, with its placeholder ids replaced by real-looking ones
    sample = (REPO / "tests" / "fixtures" / "salesforce" / "outbound_message_guardian_contact.xml").read_bytes()
    body = (
        sample.replace(b"someOrganizationId", ORG_ID.encode())
        .replace(b"notificationID", b"04l5g00000CONTACT1")
        .replace(b"aContactId", b"0035g00000ABCDEAA5")
    )
    # When Salesforce posts it
    response = post(receiver, body)
    # Then it is acknowledged and queued as a Contact sync request
    assert response["statusCode"] == 200 and response["body"] == ACK
    (request,) = queued(sqs, queue_url)
    assert (request["object_type"], request["record_id"], request["account_id"]) == (
        "Contact",
        "0035g00000ABCDEAA5",
        None,
    )
