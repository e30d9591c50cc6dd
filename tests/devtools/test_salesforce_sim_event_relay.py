"""Salesforce simulator: Event Relay (CDC and the order-activation platform event) and the EventBridge invoker."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from devtools.local_runtime import EventBridgeInvoker
from devtools.salesforce_sim import SalesforceSimulator

CAPTURED = Path(__file__).parents[1] / "fixtures" / "salesforce" / "cdc_payload_account_update_compound_address.json"


@pytest.fixture
def sim() -> SalesforceSimulator:
    return SalesforceSimulator()  # records only: no server needed


@pytest.fixture
def events(sim: SalesforceSimulator) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []
    sim.add_event_relay(got.append, channel_id="0YLxx0000000042AAA")
    return got


def header(event: dict[str, Any]) -> dict[str, Any]:
    return dict(event["detail"]["payload"]["ChangeEventHeader"])


def body(event: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in event["detail"]["payload"].items() if k != "ChangeEventHeader"}


def stamp_ms(sim: SalesforceSimulator, sobject: str, record_id: str) -> int:
    return int(sim.get(sobject, record_id)["SystemModstamp"].timestamp() * 1000)


@pytest.mark.vendor_doc(
    "https://developer.salesforce.com/docs/platform/event-relay/guide/intro.html",
    "Event Relay puts change events on an EventBridge partner event bus",
)
def test_create_carries_every_non_null_field_in_the_eventbridge_envelope(
    sim: SalesforceSimulator, events: list[dict[str, Any]]
) -> None:
    account_id = sim.create("Account", {"Name": "Muster AG", "BillingCity": "Berlin"})
    (event,) = events
    assert event["source"] == f"aws.partner/salesforce.com/{sim.org_id}/0YLxx0000000042AAA"
    assert event["detail-type"] == "AccountChangeEvent"
    assert header(event)["changeType"] == "CREATE" and header(event)["changedFields"] == []
    assert header(event)["recordIds"] == [account_id]
    assert header(event)["commitTimestamp"] == stamp_ms(sim, "Account", account_id)
    assert body(event)["Name"] == "Muster AG"
    assert body(event)["BillingAddress"] == {"City": "Berlin"}
    assert "Phone" not in body(event) and "Id" not in body(event)


@pytest.mark.vendor_doc(
    "https://developer.salesforce.com/docs/atlas.en-us.change_data_capture.meta/change_data_capture/cdc_event_fields_body.htm",
    "an update's change event carries only the changed fields (compound fields by name)",
)
def test_update_carries_only_changed_fields_with_compound_names_like_the_captured_payload(
    sim: SalesforceSimulator, events: list[dict[str, Any]]
) -> None:
    captured = json.loads(CAPTURED.read_text())["ChangeEventHeader"]
    account_id = sim.create("Account", {"Name": "Muster AG", "BillingStreet": "Alt 1", "ShippingPostalCode": "1"})
    sim.update("Account", account_id, {"BillingStreet": "Neu 2", "ShippingPostalCode": "10115", "Name": "Muster AG"})
    update = events[-1]
    # The same header keys and the same compound names as a captured CDC payload
    assert set(captured) <= set(header(update))
    assert header(update)["changedFields"] == [*captured["changedFields"], "LastModifiedDate"]
    assert body(update) == {
        "BillingAddress": {"Street": "Neu 2"},
        "ShippingAddress": {"PostalCode": "10115"},
        "LastModifiedDate": body(update)["LastModifiedDate"],
    }
    assert body(update)["LastModifiedDate"].endswith("Z")
    assert header(update)["commitTimestamp"] == stamp_ms(sim, "Account", account_id)


def test_nulled_fields_and_contact_name_parts(sim: SalesforceSimulator, events: list[dict[str, Any]]) -> None:
    account_id = sim.create("Account", {"Name": "A"})
    contact_id = sim.create("Contact", {"AccountId": account_id, "FirstName": "Ada", "LastName": "B", "Phone": "1"})
    sim.update("Contact", contact_id, {"FirstName": "Eve", "Phone": None})
    update = events[-1]
    assert header(update)["changedFields"] == ["Name.FirstName", "Phone", "LastModifiedDate"]
    assert header(update)["nulledFields"] == ["Phone"]
    assert body(update)["Name"] == {"FirstName": "Eve"}


@pytest.mark.vendor_doc(
    "https://developer.salesforce.com/docs/atlas.en-us.change_data_capture.meta/change_data_capture/cdc_event_fields_body.htm",
    "a delete's change event carries no field values",
)
def test_delete_and_merge_publish_delete_events_without_fields(
    sim: SalesforceSimulator, events: list[dict[str, Any]]
) -> None:
    winner, loser, gone = (sim.create("Account", {"Name": n}) for n in ("W", "L", "G"))
    sim.delete("Account", gone)
    sim.merge("Account", winner, [loser])
    deletes = [e for e in events if header(e)["changeType"] == "DELETE"]
    assert [header(e)["recordIds"] for e in deletes] == [[gone], [loser]]
    assert all(body(e) == {} for e in deletes)
    # The merge winner's update is published too (Salesforce runs no workflow on merge, but CDC fires)
    assert header(events[-1])["changeType"] == "UPDATE" and header(events[-1])["recordIds"] == [winner]


@pytest.mark.vendor_doc(
    "https://developer.salesforce.com/docs/atlas.en-us.change_data_capture.meta/change_data_capture/cdc_event_fields_header.htm",
    "one change event can name several records (recordIds) changed the same way in one transaction",
)
def test_same_change_in_one_transaction_is_one_event_with_several_record_ids(
    sim: SalesforceSimulator, events: list[dict[str, Any]]
) -> None:
    ids = [sim.create("Account", {"Name": f"A{i}"}) for i in range(3)]
    relay = sim.event_relays[0]
    events.clear()
    with relay.transaction():
        for record_id in ids:
            sim.update("Account", record_id, {"Description": "Key"})
        sim.update("Account", ids[0], {"Phone": "1"})
    merged, other = events
    assert header(merged)["recordIds"] == ids and header(merged)["sequenceNumber"] == 1
    assert header(other)["recordIds"] == [ids[0]] and header(other)["sequenceNumber"] == 2
    assert header(merged)["transactionKey"] == header(other)["transactionKey"]


def test_order_activation_publishes_the_change_event_then_the_platform_event(
    sim: SalesforceSimulator, events: list[dict[str, Any]]
) -> None:
    account_id = sim.create("Account", {"Name": "A"})
    order_id = sim.create("Order", {"AccountId": account_id, "EffectiveDate": "2026-11-01"})
    sim.update("Order", order_id, {"Status": "Activated"})
    sim.update("Order", order_id, {"Status": "Activated"})  # already activated: no second platform event
    types = [e["detail-type"] for e in events]
    assert types == [
        "AccountChangeEvent",
        "OrderChangeEvent",
        "OrderChangeEvent",
        "Stripe_Order_Activated__e",
        "OrderChangeEvent",
    ]
    platform = events[3]["detail"]["payload"]
    assert (platform["OrderId__c"], platform["AccountId__c"]) == (order_id, account_id)
    assert platform["EventUuid"] and platform["CreatedDate"].endswith("Z")
    assert "Status" in header(events[2])["changedFields"] and events[2]["detail"]["payload"]["Status"] == "Activated"


def test_a_failing_subscriber_never_fails_the_change(sim: SalesforceSimulator) -> None:
    def broken(event: dict[str, Any]) -> None:
        raise RuntimeError("subscriber down")

    relay = sim.add_event_relay(broken, entities=("Account",), order_event=None)
    sim.create("Account", {"Name": "A"})
    assert relay.failures == ["AccountChangeEvent: RuntimeError: subscriber down"]
    assert len(relay.published) == 1


# ---- EventBridgeInvoker ----------------------------------------------------------------------------------
def test_invoker_retries_then_dead_letters_and_delivers_asynchronously() -> None:
    attempts: list[str] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
        attempts.append(event["id"])
        if event["id"].startswith("bad") or attempts.count(event["id"]) < 2:
            raise RuntimeError("flaky")
        return {"ok": 1}

    invoker = EventBridgeInvoker(handler, max_attempts=3)
    try:
        invoker.submit({"id": "good"})
        invoker.submit({"id": "bad"})
        assert invoker.wait_idle(timeout=5)
    finally:
        invoker.stop()
    assert attempts == ["good", "good", "bad", "bad", "bad"]
    assert invoker.stats.results == [{"ok": 1}]
    assert invoker.dead_letters == [{"id": "bad"}]
    assert invoker.stats.handler_errors == 4


@pytest.mark.parametrize("with_status_code", [True, False])
def test_rule_r1_an_order_activation_change_event_in_either_shape_becomes_an_order_request(
    sim: SalesforceSimulator, with_status_code: bool
) -> None:
    # Given Event Relay whose Order change events carry the derived StatusCode, or only Status (Salesforce
    # does not document which), and an org that activates orders under its own status label
    from shared.salesforce.change_events import normalise_event
    from shared.settings import PlatformEventSettings

    got: list[dict[str, Any]] = []
    relay = sim.add_event_relay(got.append, channel_id="0YLxx0000000042AAA", order_event=None)
    relay.status_code_in_change_events = with_status_code
    sim.add_order_status("Provisioned", "Activated")
    account_id = sim.create("Account", {"Name": "Muster AG"})
    order_id = sim.create("Order", {"AccountId": account_id, "EffectiveDate": "2026-11-01"})
    # When the order is activated
    sim.update("Order", order_id, {"Status": "Provisioned"})
    change = got[-1]
    assert ("StatusCode" in header(change)["changedFields"]) is with_status_code
    # Then the product turns the change event into a sync request for the order (re-read, never ignored)
    settings = PlatformEventSettings.from_env(
        {"ORGANIZATION_IDS": sim.org_id, "SYNC_QUEUE_URL": "http://127.0.0.1:1/q"}
    )
    normalised = normalise_event(change, settings)
    assert [(r.object_type.value, r.record_id) for r in normalised.requests] == [("Order", order_id)]


@pytest.mark.vendor_doc(
    "https://developer.salesforce.com/docs/atlas.en-us.change_data_capture.meta/change_data_capture/"
    "cdc_event_fields_header.htm",
    "changeOrigin is com/salesforce/api/<API>/<version>;client=<id>, the client id set in the call's "
    "Sforce-Call-Options header",
)
@pytest.mark.parametrize(
    ("call_options", "origin"),
    [
        (
            {"Sforce-Call-Options": "client=salesforce-stripe-sync"},
            "com/salesforce/api/rest/66.0;client=salesforce-stripe-sync",
        ),
        ({}, "com/salesforce/api/rest/66.0"),
    ],
)
def test_a_rest_update_names_its_api_and_client_in_change_origin(
    sim: SalesforceSimulator, events: list[dict[str, Any]], call_options: dict[str, str], origin: str
) -> None:
    # Given an account, and an sObject Collections update through REST API 66.0, with or without a client id
    account_id = sim.create("Account", {"Name": "Muster AG"})
    events.clear()
    records = [{"attributes": {"type": "Account"}, "id": account_id, "Stripe_Customer_ID__c": "cus_123"}]
    route = sim.rest.route("PATCH", "/services/data/v66.0/composite/sobjects", "", {"records": records}, call_options)
    # When the call runs
    assert route is not None
    status, _ = route.handler()
    # Then its change event's changeOrigin names the REST API, its version and (when set) the client
    assert status == 200
    (event,) = events
    assert header(event)["changeOrigin"] == origin
    # And a change made elsewhere (not through this call) keeps the relay's own origin
    sim.update("Account", account_id, {"Phone": "+49 30 1234567"})
    assert "client=" not in header(events[-1])["changeOrigin"]
