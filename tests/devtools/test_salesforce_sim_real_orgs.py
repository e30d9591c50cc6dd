"""Salesforce simulator: what real orgs do that the product must survive.

Each behaviour is modelled as Salesforce documents it (cited beside each test); the product's tests then
run against it.
"""

from __future__ import annotations

from typing import Any

import pytest
from simple_salesforce import Salesforce

from devtools.salesforce_sim import SalesforceSimulator
from devtools.salesforce_sim.event_rendering import PUBSUB
from tests.devtools.salesforce_sim_helpers import Receiver


def _patch(sim: SalesforceSimulator, *records: dict[str, Any]) -> list[dict[str, Any]]:
    sf = Salesforce(instance_url=sim.instance_url, session_id=sim.issue_token())
    body = {"allOrNone": False, "records": [{"attributes": {"type": "Account"}, **r} for r in records]}
    return list(sf.restful("composite/sobjects", method="PATCH", json=body))


# ---- sObject Collections: per-record refusals (SOAP API Developer Guide, StatusCode) -----------------------
@pytest.mark.vendor_doc(
    "https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_composite_sobjects_collections_update.htm",
    "sObject Collections answer record by record: one locked record fails, the others are saved",
)
def test_row_lock_refuses_one_record_of_a_collection_until_released(sim: SalesforceSimulator) -> None:
    # Given a record another transaction holds for one write, beside a free one
    locked, free = sim.create("Account", {"Name": "A"}), sim.create("Account", {"Name": "B"})
    sim.rest.faults.lock_row("Account", locked)
    # When both are updated in one Collections call, twice
    first = _patch(sim, {"id": locked, "Phone": "1"}, {"id": free, "Phone": "1"})
    second = _patch(sim, {"id": locked, "Phone": "2"})
    # Then only the locked record failed, with UNABLE_TO_LOCK_ROW, and the retry went through
    assert [r["success"] for r in first] == [False, True]
    assert first[0]["errors"][0]["statusCode"] == "UNABLE_TO_LOCK_ROW"
    assert second[0]["success"] and sim.get("Account", locked)["Phone"] == "2"


@pytest.mark.parametrize(
    ("fault", "code"),
    [("validation_rule", "FIELD_CUSTOM_VALIDATION_EXCEPTION"), ("no_access", "INSUFFICIENT_ACCESS_OR_READONLY")],
)
@pytest.mark.vendor_doc(
    "https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_composite_sobjects_collections_update.htm",
    "a validation rule or missing edit access refuses the record in its SaveResult",
)
def test_validation_rule_and_missing_edit_access_refuse_every_write(
    sim: SalesforceSimulator, fault: str, code: str
) -> None:
    account = sim.create("Account", {"Name": "A"})
    if fault == "validation_rule":
        sim.rest.faults.validation_rule("Account", "VAT number required", error_field="Description")
    else:
        sim.rest.faults.no_access("Account", account)
    for _ in range(2):
        (result,) = _patch(sim, {"id": account, "Stripe_Customer_ID__c": "cus_1"})
        assert not result["success"] and result["errors"][0]["statusCode"] == code
    assert sim.get("Account", account)["Stripe_Customer_ID__c"] is None
    sim.rest.faults.clear()
    assert _patch(sim, {"id": account, "Stripe_Customer_ID__c": "cus_1"})[0]["success"]


# ---- Outbound Messages: a record deleted before delivery --------------------------------------------------
@pytest.mark.parametrize(("mode", "missing"), [("no_sobject", "<sObject"), ("no_id", "<sf:Id>")])
@pytest.mark.vendor_doc(
    "https://help.salesforce.com/s/articleView?id=platform.workflow_om_considerations.htm&type=5",
    "a notification for a record deleted before delivery carries no data",
)
def test_notification_for_a_record_deleted_before_delivery_lacks_its_record(
    sim: SalesforceSimulator, mode: str, missing: str
) -> None:
    with Receiver().running() as receiver:
        sim.add_outbound_message("AccountSync", "Account", ["Name"], receiver.url)
        sim.outbound.deleted_record_notification = mode
        # Given two queued notifications, one of whose records is deleted before delivery
        sim.outbound.pause()
        kept, deleted = sim.create("Account", {"Name": "Kept"}), sim.create("Account", {"Name": "Deleted"})
        sim.delete("Account", deleted)
        # When the message goes out
        (result,) = sim.outbound.send_now()
        # Then both are in one message, and the deleted record's notification lacks it
        body = receiver.requests[0]["body"]
        assert result["record_ids"] == [kept, deleted]
        assert body.count("<Notification>") == 2 and body.count(missing) == 1
        assert "Deleted" not in body.split("<Notification>")[2] or mode == "no_id"


# ---- Event Relay: the Pub/Sub API rendering ---------------------------------------------------------------
@pytest.mark.vendor_doc(
    "https://developer.salesforce.com/docs/atlas.en-us.api_streaming.meta/api_streaming/cdc_event_diff_pubsub_cometd.htm",
    "change events: Streaming API (ISO dates, field names) vs Pub/Sub API (epoch dates, bitmaps, all fields)",
)
def test_pubsub_rendering_has_epoch_dates_bitmaps_and_every_field(sim: SalesforceSimulator) -> None:
    # CDC Developer Guide, "Event Deserialization Considerations"; Pub/Sub API, "Bitmap Fields"
    events: list[dict[str, Any]] = []
    relay = sim.add_event_relay(events.append)
    relay.rendering = PUBSUB
    account = sim.create("Account", {"Name": "Muster AG", "BillingCity": "Berlin"})
    order = sim.create("Order", {"AccountId": account, "EffectiveDate": "2026-11-01"})
    events.clear()
    # When the billing street changes and the order is activated
    sim.update("Account", account, {"BillingStreet": "Hauptstr. 1"})
    sim.update("Order", order, {"Status": "Activated"})
    change = events[0]["detail"]["payload"]
    header = change["ChangeEventHeader"]
    # Then changedFields are hex bitmaps (top level, then the parts inside BillingAddress)
    assert header["changedFields"][0].startswith("0x") and "-0x" in header["changedFields"][1]
    # And every field is present, unchanged ones null, datetimes as epoch ms
    assert change["Name"] is None and change["BillingAddress"]["City"] is None
    assert change["BillingAddress"]["Street"] == "Hauptstr. 1" and isinstance(change["LastModifiedDate"], int)
    (activation,) = [e for e in events if e["detail-type"] == "Stripe_Order_Activated__e"]
    assert isinstance(activation["detail"]["payload"]["CreatedDate"], int)
