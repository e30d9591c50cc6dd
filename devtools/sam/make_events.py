"""Write the sample events in ``events/`` (for ``sam local invoke -e`` and for the tests).

Run ``python -m devtools.sam.make_events`` after changing an event's shape; the tests check that every sample
is still accepted by its handler.
"""

from __future__ import annotations

import json
import time
from typing import Any

from devtools.local_runtime.processes import REPO_ROOT
from devtools.sam.lambda_events import change_event, eventbridge_event, http_api_event, sqs_event, sqs_record

EVENTS = REPO_ROOT / "events"
ORG_ID = "00D5g000004SAMPEA4"  # any org id works once it is in ORGANIZATION_IDS
TOKEN = "change-me"  # must equal OUTBOUND_TOKEN (or the token secret) of the function
_SAMPLE_MS = 1793611800000  # 2026-11-02T09:30:00Z
# A captured CDC payload (see tests/fixtures/salesforce/PROVENANCE.md); its ids are replaced by sample ones.
CDC_ADDRESS_FIXTURE = (
    REPO_ROOT / "tests" / "fixtures" / "salesforce" / "cdc_payload_account_update_compound_address.json"
)


def soap_message(notifications: list[tuple[str, str, dict[str, str]]], *, org_id: str = ORG_ID) -> bytes:
    """An Outbound Message with ``(notification id, sObject type, fields)`` entries."""
    items = []
    for notification_id, sobject, fields in notifications:
        values = "".join(f"<sf:{name}>{value}</sf:{name}>" for name, value in fields.items())
        items.append(
            f"<Notification><Id>{notification_id}</Id>"
            f'<sObject xsi:type="sf:{sobject}" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">{values}</sObject>'
            "</Notification>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        '<soapenv:Body><notifications xmlns="http://soap.sforce.com/2005/09/outbound">'
        f"<OrganizationId>{org_id}</OrganizationId><ActionId>04k5g000000SAMPLEA</ActionId>"
        '<SessionId xsi:nil="true"/>'
        "<EnterpriseUrl>https://example.my.salesforce.com/services/Soap/c/59.0/00D5g000004SAMP</EnterpriseUrl>"
        "<PartnerUrl>https://example.my.salesforce.com/services/Soap/u/59.0/00D5g000004SAMP</PartnerUrl>"
        f"{''.join(items)}</notifications></soapenv:Body></soapenv:Envelope>"
    ).encode()


def account(index: int) -> tuple[str, str, dict[str, str]]:
    """An Account notification (the fields an admin typically selects)."""
    return (
        f"04l5g0000000{index:04d}AA",
        "Account",
        {
            "Id": f"0015g0000000{index:03d}AAA",
            "Name": f"Sample Account {index}",
            "SystemModstamp": "2026-11-02T09:30:00.000Z",
        },
    )


def order_activation() -> tuple[str, str, dict[str, str]]:
    """An Order notification sent by the "order activated" Flow (AccountId selected, so no lookup)."""
    return (
        "04l5g0000000900AAA",
        "Order",
        {
            "Id": "8015g0000000001AAA",
            "AccountId": "0015g0000000001AAA",
            "Status": "Activated",
            "SystemModstamp": "2026-11-02T09:31:00.000Z",
        },
    )


def contact_update() -> tuple[str, str, dict[str, str]]:
    """A Contact notification (the primary contact's email changed)."""
    return (
        "04l5g0000000950AAA",
        "Contact",
        {"Id": "0035g0000000001AAA", "Email": "billing@example.com", "SystemModstamp": "2026-11-02T09:32:00.000Z"},
    )


def contact_change_event() -> dict[str, Any]:
    """An EventBridge event carrying a ContactChangeEvent (CDC) from Event Relay."""
    return change_event(
        "Contact",
        "UPDATE",
        ["0035g0000000001AAA"],
        org_id=ORG_ID,
        commit_ms=1793611920000,
        event_id="8b3f6c1e-sample-contact",
        changed=["Email", "LastModifiedDate"],
        body={"Email": "billing@example.com", "LastModifiedDate": "2026-11-02T09:32:00.000Z"},
        transaction_key="00051a4b-7d0c-4b6b-bd5e-7f3c2f4c1a11",
    )


def order_activated_platform_event() -> dict[str, Any]:
    """The order-activation platform event a Flow publishes (``Stripe_Order_Activated__e``)."""
    payload = {
        "CreatedDate": "2026-11-02T09:31:00.000Z",
        "CreatedById": "0055g0000000001AAA",
        "EventUuid": "5f3e9a2c-0d7b-4c59-9d2e-sample-order",
        "OrderId__c": "8015g0000000001AAA",
        "AccountId__c": "0015g0000000001AAA",
    }
    event = eventbridge_event("Stripe_Order_Activated__e", payload, org_id=ORG_ID, event_id="8b3f6c1e-sample-order")
    event["time"] = "2026-11-02T09:31:00Z"
    return event


def account_change_event_compound_address() -> dict[str, Any]:
    """The captured AccountChangeEvent UPDATE of two address parts, its ids replaced by the sample ones."""
    payload = json.loads(CDC_ADDRESS_FIXTURE.read_text())
    header = payload["ChangeEventHeader"]
    header.update(recordIds=["0015g0000000001AAA"], commitUser="0055g0000000001AAA")
    event = eventbridge_event("AccountChangeEvent", payload, org_id=ORG_ID, event_id="8b3f6c1e-sample-address")
    event["time"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(header["commitTimestamp"] // 1000))
    return event


def account_change_event_several_records() -> dict[str, Any]:
    """One AccountChangeEvent for the same change on three accounts (Salesforce merges such changes)."""
    ids = [f"0015g0000000{i:03d}AAA" for i in range(1, 4)]
    body = {"Description": "Key account", "LastModifiedDate": "2026-11-02T09:33:00.000Z"}
    return change_event(
        "Account",
        "UPDATE",
        ids,
        org_id=ORG_ID,
        commit_ms=1793611980000,
        event_id="8b3f6c1e-sample-several",
        changed=["Description", "LastModifiedDate"],
        body=body,
    )


def eventbridge_samples() -> dict[str, dict[str, Any]]:
    """One EventBridge sample per kind of event the platform_event function handles."""
    return {
        "eventbridge_contact_change_event.json": contact_change_event(),
        "eventbridge_order_activated_platform_event.json": order_activated_platform_event(),
        "eventbridge_account_change_event_compound_address.json": account_change_event_compound_address(),
        "eventbridge_account_change_event_several_records.json": account_change_event_several_records(),
        "eventbridge_account_change_event_delete.json": change_event(
            "Account",
            "DELETE",
            ["0015g0000000004AAA"],
            org_id=ORG_ID,
            commit_ms=1793612040000,
            event_id="8b3f6c1e-sample-delete",
        ),
        "eventbridge_account_change_event_gap_update.json": change_event(
            "Account",
            "GAP_UPDATE",
            ["0015g0000000001AAA"],
            org_id=ORG_ID,
            commit_ms=1793612100000,
            event_id="8b3f6c1e-sample-gap",
        ),
        "eventbridge_order_change_event_activated.json": change_event(
            "Order",
            "UPDATE",
            ["8015g0000000001AAA"],
            org_id=ORG_ID,
            commit_ms=1793611860000,
            event_id="8b3f6c1e-sample-order-change",
            changed=["Status", "StatusCode", "ActivatedDate", "LastModifiedDate"],
            body={
                "Status": "Activated",
                "StatusCode": "Activated",
                "ActivatedDate": "2026-11-02T09:31:00.000Z",
                "LastModifiedDate": "2026-11-02T09:31:00.000Z",
            },
        ),
    }


def scheduled_event() -> dict[str, Any]:
    """What an EventBridge schedule rule sends the reconcile function (it reads nothing from it)."""
    return {
        "version": "0",
        "id": "5f6d2c1e-sample-schedule",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2026-11-02T09:30:00Z",
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/salesforce-stripe-sync-ReconcileSchedule"],
        "detail": {},
    }


def build() -> dict[str, dict[str, Any]]:
    """Every sample event by file name."""
    query = f"token={TOKEN}"
    requests = [
        {
            "org_id": ORG_ID,
            "object_type": "Order",
            "record_id": "8015g0000000001AAA",
            "event_id": "04l5g0000000900AAA",
            "source": "outbound_message",
            "version": 1793611860000,
            "account_id": "0015g0000000001AAA",
        },
        {
            "org_id": ORG_ID,
            "object_type": "Account",
            "record_id": "0015g0000000002AAA",
            "event_id": "04l5g0000000002AAA",
            "source": "outbound_message",
            "version": 1793611800000,
            "account_id": "0015g0000000002AAA",
        },
    ]
    return {
        "outbound_message_account.json": http_api_event(soap_message([account(1)]), query=query),
        "outbound_message_order_activated.json": http_api_event(soap_message([order_activation()]), query=query),
        "outbound_message_batch.json": http_api_event(soap_message([account(i) for i in range(1, 6)]), query=query),
        "outbound_message_contact.json": http_api_event(soap_message([contact_update()]), query=query),
        **eventbridge_samples(),
        "scheduled_reconcile.json": scheduled_event(),
        "sqs_sync_batch.json": sqs_event(
            [sqs_record(json.dumps(r), message_id=f"0000000{i}-sample") for i, r in enumerate(requests)]
        ),
    }


def _stable(event: dict[str, Any]) -> dict[str, Any]:
    """Fixed request ids and times, so the files only change when a shape changes."""
    context = event.get("requestContext")
    if context:
        context.update(requestId="sample-request", time="02/Nov/2026:09:30:00 +0000", timeEpoch=_SAMPLE_MS)
    for record in event.get("Records", []):
        record["receiptHandle"] = f"sample-receipt-{record['messageId']}"
        record["attributes"].update(SentTimestamp=str(_SAMPLE_MS), ApproximateFirstReceiveTimestamp=str(_SAMPLE_MS))
    return event


def main() -> None:
    """Write the files."""
    EVENTS.mkdir(exist_ok=True)
    for name, event in build().items():
        (EVENTS / name).write_text(json.dumps(_stable(event), indent=2) + "\n")
        print(f"wrote events/{name}")


if __name__ == "__main__":
    main()
