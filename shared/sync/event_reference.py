"""What the failure queue keeps of an Event Relay event: a reference and a redacted payload, no record.

A Salesforce change event carries the changed fields' values (names, e-mail addresses, phone numbers,
addresses) in ``detail.payload``; the failure queue keeps a message for 14 days. So the record the
platform-event function parks there holds the event's EventBridge metadata (``id``, ``source``,
``detail-type``, ``time``, ...), the Change Data Capture ``ChangeEventHeader`` (record ids, change type,
field names, commit time — no values), and of every other payload field only what identifies and orders
the change: 18-character Salesforce ids, the version and status fields below, booleans and nulls. Any other value is
replaced by ``REDACTED``, so the field names still say what the event held.

The function's normaliser reads exactly these (ids, ``ChangeEventHeader``, ``StatusCode``, ``CreatedDate``,
``EventUuid``), so a redacted event can be redriven to the function once its cause is fixed.

Shapes: Salesforce, "Change Event Message Structure"
(https://developer.salesforce.com/docs/atlas.en-us.change_data_capture.meta/change_data_capture/cdc_message_structure.htm);
EventBridge, "Amazon EventBridge events" (https://docs.aws.amazon.com/eventbridge/latest/ref/overiew-event-structure.html).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.salesforce.ids import is_salesforce_id, to_18

REDACTED = "[redacted]"
_UNREADABLE = "unreadable_event"
# The EventBridge envelope: metadata, no Salesforce data (detail is handled below).
_ENVELOPE_KEYS = ("version", "id", "detail-type", "source", "account", "time", "region", "resources")
# Payload fields that order or classify a change and hold no personal data (the normaliser reads them).
_HEADER = "ChangeEventHeader"
_KEPT_FIELDS = frozenset({"CreatedDate", "SystemModstamp", "LastModifiedDate", "StatusCode", "EventUuid"})


def event_reference(event: Any) -> Any:
    """``event`` with every payload value that is not an id, a version or a status replaced by ``REDACTED``.

    ``event``: an EventBridge event (a dict); anything else (a malformed event) is kept only as its type name.
    Returns a new dict; ``event`` is not changed. A reference is its own reference (the reliability suite
    counts parked records that differ from theirs as values in clear).
    """
    if not isinstance(event, Mapping):
        return {_UNREADABLE: type(event).__name__}
    if set(event) == {_UNREADABLE}:
        return {_UNREADABLE: str(event[_UNREADABLE])[:64]}  # already a reference: a reference stays as it is
    reference: dict[str, Any] = {key: event[key] for key in _ENVELOPE_KEYS if key in event}
    detail = event.get("detail")
    if isinstance(detail, Mapping):
        payload = detail.get("payload")
        reference["detail"] = {
            **{key: _redacted(value) for key, value in detail.items() if key != "payload"},
            **({"payload": _redacted_payload(payload)} if "payload" in detail else {}),
        }
    elif "detail" in event:
        reference["detail"] = _redacted(detail)
    return reference


def _redacted_payload(payload: Any) -> Any:
    if not isinstance(payload, Mapping):
        return _redacted(payload)
    return {key: _kept(key, value) for key, value in payload.items()}


def _kept(key: str, value: Any) -> Any:
    if key == _HEADER and isinstance(value, Mapping):
        return dict(value)  # ids, the change type, field names and the commit time: no field values
    if key in _KEPT_FIELDS and (isinstance(value, int | float) or (isinstance(value, str) and len(value) <= 64)):
        return value  # a date, a status code or a UUID: short, or it is not what it claims to be
    return _redacted(value)


def _redacted(value: Any) -> Any:
    """Ids, booleans and nulls as they are; containers item by item; any other value ``REDACTED``."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and _is_18_char_id(value):
        return value
    if isinstance(value, Mapping):
        return {key: _redacted(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_redacted(item) for item in value]
    return REDACTED


def _is_18_char_id(value: str) -> bool:
    # Events carry 18-character ids; their last 3 characters are a checksum of the case of the first 15, so
    # a word of 18 letters and digits is not mistaken for one (a 15-character id has no such check).
    return len(value) == 18 and is_salesforce_id(value) and to_18(value[:15]) == value
