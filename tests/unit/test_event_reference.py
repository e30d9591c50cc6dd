"""The failure queue keeps a reference to an Event Relay event, not the record (security point 3).

Shapes: Salesforce "Change Event Message Structure" (ChangeEventHeader: entityName, recordIds, changeType,
changedFields, commitTimestamp; then the changed fields' values), EventBridge's event envelope.
"""

from __future__ import annotations

import json

from devtools.sam.lambda_events import change_event
from shared.salesforce import normalise_event
from shared.salesforce.ids import to_18
from shared.settings import PlatformEventSettings
from shared.sync.event_reference import REDACTED, event_reference

ORG = to_18("00D5g000004SAMP")
ACCOUNT = to_18("0015g00000ACCT1")
PERSONAL = {
    "Name": "Erika Mustermann",
    "Phone": "+49 30 9876543",
    "Description": "x" * 17 + "1",  # 18 letters and digits, but no id: its checksum doesn't match
    "BillingAddress": {"Street": "Heidestraße 17", "City": "Köln", "PostalCode": "51147"},
    "NumberOfEmployees": 12,
    "ParentId": to_18("0015g00000PRNT1"),
    "LastModifiedDate": "2026-11-01T12:00:00.000Z",
}


def test_a_change_events_field_values_are_redacted_and_its_references_kept() -> None:
    # Given an Account change event carrying personal data, its parent's id and its version
    event = change_event("Account", "UPDATE", [ACCOUNT], org_id=ORG, commit_ms=1793611920000, changed=sorted(PERSONAL))
    event["detail"]["payload"].update(PERSONAL)
    # When the failure queue's reference is made
    reference = event_reference(event)
    # Then no value of the record is in it, and the field names still say what the event held
    text = json.dumps(reference, ensure_ascii=False)
    for value in ("Erika", "9876543", "Heidestraße", "Köln", "51147", "x" * 17):
        assert value not in text, value
    payload = reference["detail"]["payload"]
    assert payload["Name"] == payload["NumberOfEmployees"] == payload["BillingAddress"]["Street"] == REDACTED
    # And the ids, the header and the version are kept, as is the envelope's metadata
    assert payload["ParentId"] == PERSONAL["ParentId"] and payload["LastModifiedDate"] == PERSONAL["LastModifiedDate"]
    assert payload["ChangeEventHeader"] == event["detail"]["payload"]["ChangeEventHeader"]
    assert {k: reference[k] for k in ("id", "source", "detail-type", "time")} == {
        k: event[k] for k in ("id", "source", "detail-type", "time")
    }
    # And the event itself is unchanged
    assert event["detail"]["payload"]["Name"] == "Erika Mustermann"


def test_a_redacted_event_still_normalises_to_the_same_sync_request() -> None:
    # Given a change event and its reference (what an operator redrives from the failure queue)
    event = change_event("Account", "UPDATE", [ACCOUNT], org_id=ORG, commit_ms=1793611920000, changed=["Name"])
    event["detail"]["payload"]["Name"] = "Erika Mustermann"
    settings = PlatformEventSettings.model_validate({"ORGANIZATION_IDS": ORG, "SYNC_QUEUE_URL": "http://q"})
    # Then both become the same sync requests: the reference holds all the function reads
    assert normalise_event(event_reference(event), settings).requests == normalise_event(event, settings).requests


def test_an_event_that_is_not_an_object_is_kept_as_its_type_only() -> None:
    assert event_reference(["Erika Mustermann"]) == {"unreadable_event": "list"}


def test_a_reference_is_its_own_reference() -> None:
    # Given references of a change event and of an unreadable event, as parked (JSON)
    event = change_event("Account", "UPDATE", [ACCOUNT], org_id=ORG, commit_ms=1793611920000, changed=["Name"])
    event["detail"]["payload"].update(PERSONAL)
    for reference in (event_reference(event), event_reference("Erika Mustermann")):
        parked = json.loads(json.dumps(reference))
        # Then redacting it again changes nothing (what the reliability suite's in-clear count relies on)
        assert event_reference(parked) == parked
