"""Hostile Outbound Messages found by the reliability suite: refused with a 4xx and a reason, never a crash."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from devtools.local_runtime.stack import load_handler
from devtools.reliability.hostile_bodies import HostileRequest, hostile_requests
from devtools.sam.lambda_events import FakeLambdaContext, http_api_event
from devtools.sam.make_events import soap_message
from shared.salesforce.outbound_message import MalformedMessage, parse_outbound_message

LIMIT = 1_048_576
ORG_ID = "00D5g000004SAMPEA4"
TOKEN = "t0ken"
ACCOUNT = ("04l5g0000000001AAA", "Account", {"Id": "0015g0000000001AAA"})


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    # Everything here is refused before the queue: the queue URL is never called.
    env = {"ORGANIZATION_IDS": ORG_ID, "SYNC_QUEUE_URL": "http://127.0.0.1:9/queue", "OUTBOUND_TOKEN": TOKEN}
    return load_handler("functions.outbound_message.app", monkeypatch, env)


def _post(receiver: ModuleType, body: bytes) -> dict[str, Any]:
    response: dict[str, Any] = receiver.lambda_handler(
        http_api_event(body, query=f"token={TOKEN}"), FakeLambdaContext()
    )
    return response


def test_unknown_xml_encoding_is_refused_not_a_crash(receiver: ModuleType) -> None:
    # Given a declaration naming an encoding Python does not know (expat raised LookupError: a 500 before)
    body = b'<?xml version="1.0" encoding="x-no-such-encoding"?><soapenv:Envelope/>'
    # Then the parser refuses it with a reason, and the receiver answers 400
    with pytest.raises(MalformedMessage, match="encoding"):
        parse_outbound_message(body, max_bytes=LIMIT)
    assert _post(receiver, body)["statusCode"] == 400


def test_notification_id_longer_than_a_queue_message_allows_is_refused(receiver: ModuleType) -> None:
    # Given a notification whose <Id> is longer than an event id may be (pydantic raised: a 500 before)
    body = soap_message([("04l" + "x" * 300, *ACCOUNT[1:])], org_id=ORG_ID)  # type: ignore[list-item]
    # Then it is refused with a reason that does not echo the id
    with pytest.raises(MalformedMessage, match="longer than 255") as refused:
        parse_outbound_message(body, max_bytes=LIMIT)
    assert "xxxx" not in str(refused.value)
    response = _post(receiver, body)
    assert response["statusCode"] == 400
    assert "longer than 255" in response["body"]


def test_a_notification_the_queue_model_refuses_is_a_400(receiver: ModuleType, monkeypatch: Any) -> None:
    # Given the parser let something through that the sync request refuses (defence in depth)
    monkeypatch.setattr("shared.salesforce.outbound_message.MAX_NOTIFICATION_ID", 10_000)
    body = soap_message([("04l" + "x" * 300, *ACCOUNT[1:])], org_id=ORG_ID)  # type: ignore[list-item]
    # Then the receiver still answers 400 with the field named
    response = _post(receiver, body)
    assert response["statusCode"] == 400
    assert "event_id" in response["body"]


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(case=hostile_requests(TOKEN, ORG_ID))
def test_hostile_requests_are_refused_or_ignored_never_a_crash(receiver: ModuleType, case: HostileRequest) -> None:
    # Whatever the request, the receiver answers (no exception) and never with a 5xx; nothing here is
    # acceptable, so nothing reaches the (unreachable) queue either — that would be a 503
    response = receiver.lambda_handler(http_api_event(case.body, query=case.query), FakeLambdaContext())
    assert response["statusCode"] < 500, (case.kind, response["body"][:300])
