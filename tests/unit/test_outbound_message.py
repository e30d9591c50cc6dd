"""Parsing Outbound Messages: the real captures parse; hostile or malformed bodies are refused with a reason."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from shared.salesforce.outbound_message import MalformedMessage, parse_outbound_message
from shared.salesforce.outbound_requests import from_outbound_message

FIXTURES = Path(__file__).parents[1] / "fixtures" / "salesforce"
LIMIT = 1_048_576


def envelope(notifications: str, org_id: str = "00D5g000004ABCDEA4") -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>'
        '<notifications xmlns="http://soap.sforce.com/2005/09/outbound">'
        f"<OrganizationId>{org_id}</OrganizationId><ActionId>04k5g000000AbCdAAK</ActionId>"
        '<SessionId xsi:nil="true"/>'
        f"{notifications}</notifications></soapenv:Body></soapenv:Envelope>"
    ).encode()


def account_notification(index: int = 1, extra: str = "") -> str:
    return (
        f"<Notification><Id>04l5g00000{index:08d}</Id>"
        '<sObject xsi:type="sf:Account" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">'
        f"<sf:Id>0015g00000{index:05d}AAA</sf:Id>{extra}</sObject></Notification>"
    )


def test_captured_account_message_parses() -> None:
    # Given the real captured Account outbound message
    body = (FIXTURES / "outbound_message_create_account.xml").read_bytes()
    # When it is parsed
    message = parse_outbound_message(body, max_bytes=LIMIT)
    # Then the org, the notification id, the object type, the record id and the non-null fields are read
    assert message.organization_id == "00Dxx0000001gPFEAY"
    (notification,) = message.notifications
    assert notification.notification_id == "04lxx000000CaSdAAK"
    assert notification.sobject_type == "Account"
    assert notification.record_id == "001xx000003DGb2AAG"
    assert notification.fields["LastModifiedDate"] == "2026-09-08T23:40:33.000Z"


def test_captured_contact_message_parses() -> None:
    # Given the captured Contact message of a production listener (placeholder ids)
    body = (FIXTURES / "outbound_message_guardian_contact.xml").read_bytes()
    # When it is parsed
    message = parse_outbound_message(body, max_bytes=LIMIT)
    # Then it is read as one Contact notification
    assert message.organization_id == "someOrganizationId"
    assert [n.sobject_type for n in message.notifications] == ["Contact"]


def test_null_fields_are_absent_and_nil_elements_are_skipped() -> None:
    # Given a notification with a nil field
    body = envelope(account_notification(extra='<sf:Phone xsi:nil="true"/><sf:Name>Acme</sf:Name>'))
    # When parsed
    (notification,) = parse_outbound_message(body, max_bytes=LIMIT).notifications
    # Then only the non-null field is there
    assert notification.fields == {"Id": "0015g0000000001AAA", "Name": "Acme"}


def test_account_notification_becomes_a_sync_request_with_its_version() -> None:
    # Given an Account notification carrying SystemModstamp
    body = envelope(account_notification(extra="<sf:SystemModstamp>2026-09-08T23:40:33.000Z</sf:SystemModstamp>"))
    # When normalised
    normalised = from_outbound_message(parse_outbound_message(body, max_bytes=LIMIT))
    # Then it is one Account request keyed by the notification id, with the version in epoch ms
    (request,) = normalised.requests
    assert (request.object_type, request.account_id, request.event_id) == (
        "Account",
        request.record_id,
        "04l5g0000000000001",
    )
    assert request.version == int(datetime(2026, 9, 8, 23, 40, 33, tzinfo=UTC).timestamp() * 1000)


def test_other_object_types_are_ignored_not_rejected() -> None:
    # Given a notification for an Opportunity
    body = envelope(account_notification().replace("sf:Account", "sf:Opportunity").replace("<sf:Id>001", "<sf:Id>006"))
    # When normalised
    normalised = from_outbound_message(parse_outbound_message(body, max_bytes=LIMIT))
    # Then nothing is enqueued and it is reported as ignored
    assert normalised.requests == ()
    assert [n.sobject_type for n in normalised.ignored] == ["Opportunity"]


HOSTILE = {
    "dtd with external entity": b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
    "billion laughs": (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
        b"<lolz>&lol2;</lolz>"
    ),
    "not xml": b"this is not xml",
    "wrong namespace": envelope(account_notification()).replace(
        b"http://soap.sforce.com/2005/09/outbound", b"urn:evil"
    ),
    "101 notifications": envelope("".join(account_notification(i) for i in range(101))),
    "no notifications": envelope(""),
    "deeply nested": b"<a>" * 200 + b"</a>" * 200,
    "not an envelope": b"<notifications/>",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_or_malformed_bodies_are_refused_with_a_reason(name: str) -> None:
    # Given a hostile or malformed body
    # When it is parsed
    with pytest.raises(MalformedMessage) as refused:
        parse_outbound_message(HOSTILE[name], max_bytes=LIMIT)
    # Then the refusal says why
    assert str(refused.value)


def test_oversize_body_is_refused_before_parsing() -> None:
    # Given a body over the limit
    body = envelope(account_notification(extra="<sf:Name>" + "x" * 2000 + "</sf:Name>"))
    # When parsed with a 1 KiB limit
    with pytest.raises(MalformedMessage, match="larger than 1024 bytes"):
        parse_outbound_message(body, max_bytes=1024)


def test_record_id_of_the_wrong_object_makes_that_notification_unusable_not_the_message() -> None:
    # Given an "Account" notification whose id is a Contact id, beside a good one
    bad = account_notification(2).replace("<sf:Id>001", "<sf:Id>003")
    body = envelope(account_notification(1) + bad)
    # When normalised
    normalised = from_outbound_message(parse_outbound_message(body, max_bytes=LIMIT))
    # Then the good one is a request and the bad one is kept aside with its reason
    assert [r.event_id for r in normalised.requests] == ["04l5g0000000000001"]
    assert [(u.notification_id, u.reason) for u in normalised.unusable] == [
        ("04l5g0000000000002", "sf:Id is not a Account id")
    ]


@pytest.mark.parametrize(
    ("notification", "reason"),
    [
        ("<Notification><Id>04l5g0000000000009</Id></Notification>", "no <sObject>"),
        (
            '<Notification><Id>04l5g0000000000009</Id><sObject xsi:type="sf:Account" '
            'xmlns:sf="urn:sobject.enterprise.soap.sforce.com"><sf:Name>x</sf:Name></sObject></Notification>',
            "no sf:Id",
        ),
        (
            account_notification(9, "<sf:SystemModstamp>yesterday</sf:SystemModstamp>"),
            "SystemModstamp is not a datetime",
        ),
    ],
)
def test_notification_without_a_usable_record_is_set_aside_and_the_others_kept(notification: str, reason: str) -> None:
    # Given an authentic message in which one notification carries no usable record (deleted before delivery)
    body = envelope(account_notification(1) + notification)
    # When parsed and normalised
    normalised = from_outbound_message(parse_outbound_message(body, max_bytes=LIMIT))
    # Then the message is not refused: the good notification is a request, the other set aside with why
    assert len(normalised.requests) == 1
    (unusable,) = normalised.unusable
    assert (unusable.notification_id, unusable.reason) == ("04l5g0000000000009", reason)


def test_cpq_quote_notification_becomes_a_quote_request() -> None:
    # Given the quote's Outbound Message (a custom object: its key prefix differs between orgs)
    notification = (
        "<Notification><Id>04l5g0000000QUOT</Id>"
        '<sObject xsi:type="sf:SBQQ__Quote__c" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">'
        "<sf:Id>a0x5g00000QuOtEAAV</sf:Id><sf:SBQQ__PrimaryContact__c>0035g00000XyZaBAAV</sf:SBQQ__PrimaryContact__c>"
        "</sObject></Notification>"
    )
    # When normalised
    (request,) = from_outbound_message(parse_outbound_message(envelope(notification), max_bytes=LIMIT)).requests
    # Then it asks for a re-sync of the accounts behind the quote
    assert (request.object_type.value, request.record_id, request.account_id) == (
        "SBQQ__Quote__c",
        "a0x5g00000QuOtEAAV",
        None,
    )
