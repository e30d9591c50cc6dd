"""Platform Events and Change Data Capture (Event Relay → EventBridge) become the same sync requests."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devtools.sam.lambda_events import change_event, eventbridge_event
from shared.salesforce.change_events import (
    GAP_OVERFLOW,
    MALFORMED_EVENT,
    ORG_NOT_ALLOWED,
    WILDCARD_RECORD_IDS,
    NormalisedEvent,
    normalise_event,
)
from shared.salesforce.ids import to_18
from shared.settings import PlatformEventSettings, SettingsError
from shared.sync.models import SObjectType, TriggerSource

FIXTURES = Path(__file__).parents[1] / "fixtures" / "salesforce"
ORG_15 = "00D5g000004ABCD"
ORG_ID = to_18(ORG_15)
ACCOUNT_1, ACCOUNT_2, ACCOUNT_3 = (to_18(f"0015g00000ACCT{i}") for i in range(1, 4))
ORDER_ID = to_18("8015g00000ORDR1")
CONTACT_ID = to_18("0035g00000CONT1")
COMMIT_MS = 1793611920000
ENV = {"ORGANIZATION_IDS": ORG_15, "SYNC_QUEUE_URL": "http://127.0.0.1:1/q"}
SETTINGS = PlatformEventSettings.from_env(ENV)


def cdc(
    entity: str,
    change_type: str,
    record_ids: list[str],
    *,
    changed: list[str] | None = None,
    org_id: str = ORG_ID,
    event_id: str = "eb-envelope-id",
    **body: Any,
) -> dict[str, Any]:
    return change_event(
        entity,
        change_type,
        record_ids,
        org_id=org_id,
        commit_ms=COMMIT_MS,
        event_id=event_id,
        changed=changed,
        body=body,
        transaction_key="00051a4b-7d0c-4b6b-bd5e-7f3c2f4c1a11",
        sequence=2,
    )


def order_activated(**payload: Any) -> dict[str, Any]:
    body = {
        "CreatedDate": "2026-11-02T09:31:00.000Z",
        "EventUuid": "5f3e9a2c-0d7b-4c59-9d2e-0123456789ab",
        "OrderId__c": ORDER_ID,
        "AccountId__c": ACCOUNT_1,
        **payload,
    }
    return eventbridge_event(
        "Stripe_Order_Activated__e",
        {k: v for k, v in body.items() if v is not None},
        org_id=ORG_ID,
        event_id="eb-envelope-id",
    )


def normalise(event: Any, settings: PlatformEventSettings = SETTINGS) -> NormalisedEvent:
    return normalise_event(event, settings)


def ignored(result: NormalisedEvent) -> bool:
    return result.requests == () and result.ignored is not None and result.dropped is None


def dropped(result: NormalisedEvent, metric: str = MALFORMED_EVENT) -> bool:
    return result.requests == () and result.dropped is not None and result.metric == metric


# ---- order-activation platform event ----------------------------------------------------------------
def test_rule_r1_order_activation_platform_event_becomes_one_order_request() -> None:
    # Given the platform event a Flow publishes when an order is activated
    event = order_activated()
    # When it is normalised
    (request,) = normalise(event).requests
    # Then it is one Order request named by the event's EventUuid, versioned by its CreatedDate
    assert request.object_type is SObjectType.ORDER
    assert (request.org_id, request.record_id, request.account_id) == (ORG_ID, ORDER_ID, ACCOUNT_1)
    assert request.event_id == "5f3e9a2c-0d7b-4c59-9d2e-0123456789ab"
    assert request.source is TriggerSource.PLATFORM_EVENT
    assert request.version == 1793611860000  # 2026-11-02T09:31:00Z


def test_platform_event_without_uuid_date_or_account_uses_the_envelope_id_and_no_version() -> None:
    # Given a platform event with only the order id
    event = order_activated(EventUuid=None, CreatedDate=None, AccountId__c=None)
    # When it is normalised
    (request,) = normalise(event).requests
    # Then the EventBridge id names it, it carries no version, and the worker looks the account up
    assert (request.event_id, request.version, request.account_id) == ("eb-envelope-id", None, None)


def test_platform_event_with_a_wrong_account_hint_still_syncs_the_order() -> None:
    # Given the optional account field holds something that is not an account id
    event = order_activated(AccountId__c=CONTACT_ID)
    # Then the activation is not lost: the worker resolves the order's account itself
    (request,) = normalise(event).requests
    assert (request.record_id, request.account_id) == (ORDER_ID, None)


def test_platform_event_names_and_fields_come_from_the_settings() -> None:
    # Given an org whose event and fields are named differently
    settings = PlatformEventSettings.from_env(
        {**ENV, "ORDER_ACTIVATED_EVENT": "acme__Order_Live__e", "ORDER_ID_FIELD": "Order__c", "ACCOUNT_ID_FIELD": ""}
    )
    event = eventbridge_event("acme__Order_Live__e", {"Order__c": ORDER_ID[:15]}, org_id=ORG_ID)
    # Then the configured event is recognised, the 15-char id canonicalised, and the default one is not
    (request,) = normalise(event, settings).requests
    assert (request.record_id, request.account_id) == (ORDER_ID, None)
    assert ignored(normalise(order_activated(), settings))


@pytest.mark.parametrize(
    "payload",
    [{"OrderId__c": ACCOUNT_1}, {"OrderId__c": "not-an-id"}, {"OrderId__c": None}, {"CreatedDate": "yesterday"}],
)
def test_platform_event_without_a_valid_order_id_or_date_is_dropped_as_malformed(payload: dict[str, Any]) -> None:
    event = order_activated()
    event["detail"]["payload"].update(payload)
    assert dropped(normalise(event))


# ---- AccountChangeEvent ----------------------------------------------------------------------------------
def test_compound_address_change_becomes_one_account_request_versioned_by_commit_timestamp() -> None:
    # Given the captured AccountChangeEvent payload of a billing street and shipping postal code change
    payload = json.loads((FIXTURES / "cdc_payload_account_update_compound_address.json").read_text())
    payload["ChangeEventHeader"]["recordIds"] = [ACCOUNT_1]
    assert "BillingAddress.Street" in payload["ChangeEventHeader"]["changedFields"]
    event = eventbridge_event("AccountChangeEvent", payload, org_id=ORG_ID)
    # When it is normalised
    (request,) = normalise(event).requests
    # Then it is one Account request: the worker re-reads the whole account, so the parts don't matter
    assert request.object_type is SObjectType.ACCOUNT
    assert (request.record_id, request.account_id) == (ACCOUNT_1, ACCOUNT_1)
    assert request.version == 1778192987000
    assert request.event_id == "00007e6d-1720-70a0-4379-f4dc745d2b32:1"
    assert request.source is TriggerSource.CHANGE_EVENT


def test_change_event_with_several_record_ids_becomes_one_request_per_account() -> None:
    # Given Salesforce merged the same change on three accounts (one 15-char, one repeated) into one event
    event = cdc("Account", "UPDATE", [ACCOUNT_1, ACCOUNT_2[:15], ACCOUNT_3, ACCOUNT_1], changed=["Description"])
    # When it is normalised
    requests = normalise(event).requests
    # Then every account gets its own request, canonical ids, one event id (idempotency adds the record id)
    assert [r.record_id for r in requests] == [ACCOUNT_1, ACCOUNT_2, ACCOUNT_3]
    assert {r.event_id for r in requests} == {"00051a4b-7d0c-4b6b-bd5e-7f3c2f4c1a11:2"}
    assert {r.version for r in requests} == {COMMIT_MS}


def test_event_id_falls_back_to_the_envelope_id_without_transaction_key() -> None:
    event = cdc("Account", "CREATE", [ACCOUNT_1], event_id="eb-1234")
    del event["detail"]["payload"]["ChangeEventHeader"]["transactionKey"]
    (request,) = normalise(event).requests
    assert request.event_id == "eb-1234"


@pytest.mark.parametrize("change_type", ["CREATE", "UPDATE", "UNDELETE", "GAP_CREATE", "GAP_UPDATE", "GAP_UNDELETE"])
def test_account_creates_updates_restores_and_gap_events_are_re_read(change_type: str) -> None:
    (request,) = normalise(cdc("Account", change_type, [ACCOUNT_1])).requests
    assert (request.object_type, request.record_id) == (SObjectType.ACCOUNT, ACCOUNT_1)


@pytest.mark.parametrize("entity", ["Account", "Contact", "Order"])
@pytest.mark.parametrize("change_type", ["DELETE", "GAP_DELETE"])
def test_rule_r11_deletes_are_ignored(entity: str, change_type: str) -> None:
    # Given a record was deleted in Salesforce
    record_id = {"Account": ACCOUNT_1, "Contact": CONTACT_ID, "Order": ORDER_ID}[entity]
    result = normalise(cdc(entity, change_type, [record_id]))
    # Then nothing is synced: deleting changes nothing in Stripe, and the event is counted, not retried
    assert ignored(result)
    assert result.log["change_type"] == change_type


def test_overflow_event_is_ignored_and_counted_with_its_entity() -> None:
    # Given an overflow event (a transaction with more changes than Salesforce publishes; no record ids)
    result = normalise(cdc("Account", "GAP_OVERFLOW", []))
    # Then it is ignored with its own metric, and the log names the entity for the operator
    assert ignored(result) and result.metric == GAP_OVERFLOW
    assert result.log["entity"] == "Account"


def test_wildcard_record_ids_are_ignored_and_counted() -> None:
    # Given a field type conversion changed every account ("001*")
    result = normalise(cdc("Account", "UPDATE", ["001*"]))
    assert ignored(result) and result.metric == WILDCARD_RECORD_IDS


def test_unknown_change_type_is_ignored() -> None:
    assert ignored(normalise(cdc("Account", "SNAPSHOT", [ACCOUNT_1])))


# ---- OrderChangeEvent --------------------------------------------------------------------------------
def test_rule_r1_order_change_to_activated_becomes_an_order_request_with_its_account() -> None:
    event = cdc(
        "Order",
        "UPDATE",
        [ORDER_ID],
        changed=["Status", "StatusCode", "LastModifiedDate"],
        Status="Activated",
        StatusCode="Activated",
    )
    event["detail"]["payload"]["AccountId"] = ACCOUNT_1
    (request,) = normalise(event).requests
    assert (request.object_type, request.record_id, request.account_id) == (SObjectType.ORDER, ORDER_ID, ACCOUNT_1)
    assert request.version == COMMIT_MS


def test_order_created_activated_is_synced() -> None:
    (request,) = normalise(cdc("Order", "CREATE", [ORDER_ID], Status="Activated", StatusCode="Activated")).requests
    assert (request.record_id, request.account_id) == (ORDER_ID, None)


def test_rule_r1_order_moved_to_an_org_defined_status_in_the_activated_category_is_synced() -> None:
    # Given an org whose admins activate orders with their own status "Provisioned" (category Activated):
    # Salesforce's Order.StatusCode is "the status category for the order" (Object Reference, Order)
    event = cdc(
        "Order", "UPDATE", [ORDER_ID], changed=["Status", "StatusCode"], Status="Provisioned", StatusCode="Activated"
    )
    # When the change event arrives, Then it becomes a sync request for the order
    (request,) = normalise(event).requests
    assert request.record_id == ORDER_ID


@pytest.mark.parametrize(
    ("changed", "body"),
    [
        (["Status", "StatusCode"], {"Status": "Draft", "StatusCode": "Draft"}),  # changed, not to Activated
        (["Description"], {"Description": "x"}),  # Status untouched
        (["Description"], {"StatusCode": "Activated"}),  # present but not among the changed fields
    ],
)
def test_order_changes_that_do_not_activate_are_ignored(changed: list[str], body: dict[str, Any]) -> None:
    assert ignored(normalise(cdc("Order", "UPDATE", [ORDER_ID], changed=changed, **body)))


@pytest.mark.parametrize("status", ["Activated", "Provisioned", "Fulfilled"])
def test_rule_r1_order_status_change_without_its_category_in_the_event_is_re_read_never_ignored(status: str) -> None:
    # Given an order change whose changed fields hold Status but not the derived StatusCode (whether
    # Salesforce lists StatusCode in change events is not documented), e.g. an activation under an org label
    event = cdc("Order", "UPDATE", [ORDER_ID], changed=["Status"], Status=status)
    # Then the category can't be read from the event: the order is re-read (the worker checks it, R1)
    (request,) = normalise(event).requests
    assert request.record_id == ORDER_ID


def test_order_undelete_is_re_read() -> None:
    (request,) = normalise(cdc("Order", "UNDELETE", [ORDER_ID])).requests
    assert request.record_id == ORDER_ID


def test_order_created_as_draft_is_ignored() -> None:
    assert ignored(normalise(cdc("Order", "CREATE", [ORDER_ID], Status="Draft", StatusCode="Draft")))


def test_order_gap_event_is_re_read() -> None:
    # Gap events carry no fields: the worker re-reads and only creates a customer for an activated order (R1)
    (request,) = normalise(cdc("Order", "GAP_UPDATE", [ORDER_ID])).requests
    assert request.record_id == ORDER_ID


# ---- ContactChangeEvent --------------------------------------------------------------------------------
@pytest.mark.parametrize("change_type", ["CREATE", "UPDATE", "GAP_UPDATE"])
def test_rule_r7_contact_change_becomes_a_contact_request(change_type: str) -> None:
    event = cdc("Contact", change_type, [CONTACT_ID], changed=["Email"], Email="billing@example.com")
    result = normalise(event)
    (request,) = result.requests
    assert (request.object_type, request.record_id, request.account_id) == (SObjectType.CONTACT, CONTACT_ID, None)
    # And nothing personal reaches the log
    assert "billing@example.com" not in repr(result.log)


# ---- what is refused ----------------------------------------------------------------------------------
def test_event_from_an_org_outside_the_allow_list_is_dropped_and_counted() -> None:
    # Given an event from another org
    other_org = to_18("00D5g000004OTHR")
    result = normalise(cdc("Account", "UPDATE", [ACCOUNT_1], org_id=other_org))
    # Then it is dropped with its own metric, without a request and without raising
    assert dropped(result, ORG_NOT_ALLOWED)
    assert result.log["org_id"] == other_org


def test_allow_list_entry_in_15_char_form_accepts_the_18_char_source() -> None:
    (request,) = normalise(cdc("Account", "UPDATE", [ACCOUNT_1])).requests
    assert request.org_id == ORG_ID


def test_other_event_types_are_ignored() -> None:
    event = eventbridge_event("LeadChangeEvent", {"ChangeEventHeader": {}}, org_id=ORG_ID)
    assert ignored(normalise(event))


_DELETE = object()


def _malformed_cases() -> list[Any]:
    base = cdc("Account", "UPDATE", [ACCOUNT_1])

    def edit(path: list[str], value: Any) -> dict[str, Any]:
        event = copy.deepcopy(base)
        target = event
        for key in path[:-1]:
            target = target[key]
        if value is _DELETE:
            del target[path[-1]]
        else:
            target[path[-1]] = value
        return event

    header = ["detail", "payload", "ChangeEventHeader"]
    return [
        pytest.param("not an event", id="not-an-object"),
        pytest.param(edit(["source"], _DELETE), id="no-source"),
        pytest.param(edit(["source"], "aws.partner/example.com/x/y"), id="other-partner"),
        pytest.param(edit(["source"], f"aws.partner/salesforce.com/{ORG_ID}"), id="no-channel"),
        pytest.param(edit(["source"], "aws.partner/salesforce.com/not-an-org/0YL"), id="bad-org-id"),
        pytest.param(edit(["detail-type"], _DELETE), id="no-detail-type"),
        pytest.param(edit(["detail"], _DELETE), id="no-detail"),
        pytest.param(edit(["detail", "payload"], "text"), id="payload-not-an-object"),
        pytest.param(edit([*header[:-1], "ChangeEventHeader"], _DELETE), id="no-header"),
        pytest.param(edit([*header, "changeType"], _DELETE), id="no-change-type"),
        pytest.param(edit([*header, "entityName"], "Contact"), id="entity-mismatch"),
        pytest.param(edit([*header, "recordIds"], _DELETE), id="no-record-ids"),
        pytest.param(edit([*header, "recordIds"], []), id="empty-record-ids"),
        pytest.param(edit([*header, "recordIds"], [ACCOUNT_1, CONTACT_ID]), id="contact-id-in-account-event"),
        pytest.param(edit([*header, "recordIds"], ["001-bad"]), id="bad-record-id"),
        pytest.param(edit([*header, "commitTimestamp"], "2026-11-02"), id="bad-commit-timestamp"),
    ]


@pytest.mark.parametrize("event", _malformed_cases())
def test_malformed_event_is_dropped_with_a_reason_never_raised(event: Any) -> None:
    # Given a malformed event; When it is normalised; Then it is dropped (so EventBridge doesn't retry it)
    result = normalise(event)
    assert dropped(result), result
    assert result.dropped


def test_platform_event_without_any_event_id_is_malformed() -> None:
    event = order_activated(EventUuid=None)
    del event["id"]
    assert dropped(normalise(event))


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(
    key=st.sampled_from(["source", "detail-type", "detail", "id"]),
    header_key=st.sampled_from(["recordIds", "changeType", "commitTimestamp", "transactionKey", "entityName"]),
    value=_JSON,
)
def test_normalisation_never_raises(key: str, header_key: str, value: Any) -> None:
    # Given an event with any JSON in place of one envelope value and one header value
    for event in (cdc("Account", "UPDATE", [ACCOUNT_1]), order_activated()):
        event[key] = value
        other = cdc("Contact", "UPDATE", [CONTACT_ID])
        other["detail"]["payload"]["ChangeEventHeader"][header_key] = value
        # Then it ends as requests, ignored or dropped: never an exception
        for candidate in (event, other):
            result = normalise(candidate)
            assert bool(result.requests) + (result.ignored is not None) + (result.dropped is not None) == 1


# ---- settings -------------------------------------------------------------------------------------------
def test_platform_event_settings_defaults() -> None:
    assert (SETTINGS.order_activated_event, SETTINGS.order_id_field, SETTINGS.account_id_field) == (
        "Stripe_Order_Activated__e",
        "OrderId__c",
        "AccountId__c",
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("ORDER_ACTIVATED_EVENT", "AccountChangeEvent"),  # not a platform event (no __e)
        ("ORDER_ACTIVATED_EVENT", "Order Activated__e"),
        ("ORDER_ID_FIELD", "Order.Id"),
        ("ACCOUNT_ID_FIELD", "1Account__c"),
    ],
)
def test_invalid_platform_event_setting_is_named_in_the_error(variable: str, value: str) -> None:
    with pytest.raises(SettingsError, match=variable):
        PlatformEventSettings.from_env({**ENV, variable: value})


def test_cpq_quote_change_event_becomes_a_quote_request_whatever_the_orgs_key_prefix() -> None:
    # Given the change event of a custom object (CDC names it <Object without c>ChangeEvent) for a quote whose
    # key prefix is org-specific
    quote_id = to_18("a0zba0000000QUO")
    event = cdc("SBQQ__Quote__c", "UPDATE", [quote_id], changed=["SBQQ__PrimaryContact__c"])
    assert event["detail-type"] == "SBQQ__Quote__ChangeEvent"
    # When it is normalised
    (request,) = normalise(event).requests
    # Then the worker is asked to resolve the quote (quote → activated order → account)
    assert (request.object_type, request.record_id, request.account_id) == (SObjectType.QUOTE, quote_id, None)


# ---- both JSON renderings (Streaming API / Pub/Sub API) ---------------------------------------------------
# Salesforce documents the Pub/Sub API rendering with dates as epoch milliseconds and changedFields /
# nulledFields / diffFields as hex bitmaps ("Event Deserialization Considerations", "Bitmap Fields"); which
# rendering Event Relay writes is not stated, and public Event Relay payloads show epoch dates.
def test_platform_event_with_an_epoch_millisecond_created_date_is_synced_and_versioned_by_it() -> None:
    (request,) = normalise(order_activated(CreatedDate=1793611860000)).requests
    assert (request.record_id, request.version) == (ORDER_ID, 1793611860000)


@pytest.mark.parametrize("changed", [["0x1C00"], ["0x3", "5-0x1"]])
def test_order_change_with_bitmap_changed_fields_and_activated_category_is_synced(changed: list[str]) -> None:
    event = cdc("Order", "UPDATE", [ORDER_ID], changed=changed, Status="Provisioned", StatusCode="Activated")
    (request,) = normalise(event).requests
    assert request.record_id == ORDER_ID


def test_order_change_with_bitmap_changed_fields_and_no_category_is_re_read_not_guessed() -> None:
    # Pub/Sub rendering: unchanged fields are null, so the payload alone can't rule an activation out
    event = cdc("Order", "UPDATE", [ORDER_ID], changed=["0x400"], Status=None, StatusCode=None)
    (request,) = normalise(event).requests
    assert request.object_type is SObjectType.ORDER


def test_order_change_with_bitmap_changed_fields_into_draft_is_ignored() -> None:
    event = cdc("Order", "UPDATE", [ORDER_ID], changed=["0x6"], Status="Draft", StatusCode="Draft")
    assert ignored(normalise(event))


# ---- the sync's own write-back, recognised from changeOrigin ------------------------------------------------
OWN = "com/salesforce/api/rest/66.0;client=salesforce-stripe-sync"
WRITE_BACK = PlatformEventSettings.from_env(
    {**ENV, "WRITE_BACK_FIELDS": "Stripe_Customer_ID__c,Stripe_Sync_Status__c,,Stripe_Sync_Error__c"}
)


def _update(origin: str, changed: list[str]) -> dict[str, Any]:
    event = cdc("Account", "UPDATE", [ACCOUNT_1], changed=changed)
    event["detail"]["payload"]["ChangeEventHeader"]["changeOrigin"] = origin
    return event


@pytest.mark.vendor_doc(
    "https://developer.salesforce.com/docs/atlas.en-us.change_data_capture.meta/change_data_capture/"
    "cdc_event_fields_header.htm",
    "changeOrigin carries client=<id> of the call that made the change: an app recognises its own changes",
)
def test_the_write_backs_own_change_event_is_ignored_without_a_read() -> None:
    # Given the change event of the worker's write-back: made with the sync's client id, only its fields changed
    event = _update(OWN, ["Stripe_Customer_ID__c", "Stripe_Sync_Status__c", "LastModifiedDate", "SystemModstamp"])
    # When it is normalised
    result = normalise(event, WRITE_BACK)
    # Then nothing is queued: the worker does not read the account again to find it unchanged
    assert ignored(result) and "own write-back" in str(result.ignored)


@pytest.mark.parametrize(
    ("origin", "changed"),
    [
        # a Flow reacting to the write-back changed a mapped field in the same transaction
        (OWN, ["Stripe_Customer_ID__c", "BillingCity", "LastModifiedDate"]),
        # another app, or the same fields changed by a person
        ("com/salesforce/api/rest/66.0;client=DataLoader", ["Stripe_Sync_Status__c"]),
        ("", ["Stripe_Sync_Status__c"]),
        # a Pub/Sub bitmap can't say which fields changed
        (OWN, ["0x1C"]),
    ],
)
def test_a_change_the_write_back_did_not_make_alone_is_still_read(origin: str, changed: list[str]) -> None:
    # Given an Account update that is not (only) the sync's own write-back
    event = _update(origin, changed)
    # When it is normalised; Then the account is read as for any change
    assert [r.record_id for r in normalise(event, WRITE_BACK).requests] == [ACCOUNT_1]


def test_without_the_write_back_fields_every_change_is_read() -> None:
    # Given settings that name no write-back field (WRITE_BACK_FIELDS unset)
    event = _update(OWN, ["Stripe_Customer_ID__c", "LastModifiedDate"])
    # Then even the sync's own write-back is read: nothing is skipped on a guess
    assert [r.record_id for r in normalise(event, SETTINGS).requests] == [ACCOUNT_1]
