"""Normalise Salesforce Platform Events and Change Data Capture events (via Event Relay → EventBridge).

Event Relay puts each event on an EventBridge partner bus: ``source`` is
``aws.partner/salesforce.com/<orgId>/<channelId>``, ``detail-type`` the event's API name and ``detail.payload``
its body. Like an Outbound Message, an event only says *which* record changed; the worker re-reads it.

Every event ends in exactly one of three ways, and this module never raises for a bad event (an exception
would make EventBridge retry a poison event until its retry policy gives up):

- **requests**: sync requests to enqueue (order activation, account/contact creates and updates, gap events);
- **ignored**: nothing to sync (deletes — R11 —, other event types, overflow events), logged and counted;
- **dropped**: refused (an org outside the allow-list, a malformed event), logged with the reason and counted;
  the function keeps it in its failure destination for a redrive.

Salesforce documents two JSON renderings of the same events, and which one Event Relay puts on EventBridge
is not stated (public Event Relay payloads show epoch dates), so both are read: the Streaming API's
(ISO-8601 dates, field *names* in ``changedFields``) and the Pub/Sub API's (dates as epoch milliseconds;
``changedFields`` / ``nulledFields`` / ``diffFields`` as hex bitmaps over the event schema, e.g. ``"0x1C"``
and ``"3-0x04"`` for fields inside compound field 3; every field present, unchanged ones null) —
Change Data Capture Developer Guide, "Change Event Header Fields" and "Event Deserialization Considerations".
A bitmap can't be read without the schema: an Order event then lets the worker re-read the order's
``StatusCode`` rather than guessing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from shared.salesforce.call_options import SYSTEM_FIELDS, made_by_the_sync
from shared.salesforce.datetimes import parse_salesforce_datetime
from shared.salesforce.ids import ORG_ID_PREFIX, id_problem, is_salesforce_id, to_18
from shared.sync.models import KEY_PREFIXES, SObjectType, SyncRequest, TriggerSource

SOURCE_PREFIX = "aws.partner/salesforce.com/"
# Change event detail-types → the object whose record ids the header carries.
CHANGE_EVENT_TYPES = {
    "AccountChangeEvent": SObjectType.ACCOUNT,
    "ContactChangeEvent": SObjectType.CONTACT,
    "OrderChangeEvent": SObjectType.ORDER,
    # A custom object's change event drops the "c" of "__c": SBQQ__Quote__c → SBQQ__Quote__ChangeEvent
    # (Change Data Capture Developer Guide, "Change Event Object Name").
    "SBQQ__Quote__ChangeEvent": SObjectType.QUOTE,
}
# Creates, updates, restores and gap events (which carry no field values) make the worker re-read the record:
# an UNDELETE is handled like its gap form GAP_UNDELETE (a restored record is read as it is now).
_SYNCED_CHANGES = frozenset({"CREATE", "UPDATE", "UNDELETE", "GAP_CREATE", "GAP_UPDATE", "GAP_UNDELETE"})
# Deleting a record never changes a customer (R11, R13): the worker keeps what it applied.
_IGNORED_CHANGES = frozenset({"DELETE", "GAP_DELETE"})
_MAX_EVENT_ID = 255
# A Pub/Sub API bitmap entry: "0x1C" (top-level fields) or "3-0x04" (fields inside compound field 3).
_BITMAP = re.compile(r"^(\d+-)?0x[0-9A-Fa-f]+$")

# Metric names (besides "enqueued", "ignored" and "dropped", which the handler always counts).
ORG_NOT_ALLOWED = "org_not_allowed"
MALFORMED_EVENT = "malformed_event"
GAP_OVERFLOW = "gap_overflow"
WILDCARD_RECORD_IDS = "wildcard_record_ids"


class EventSettings(Protocol):
    """What normalisation needs from ``shared.settings.PlatformEventSettings``."""

    @property
    def order_activated_event(self) -> str: ...
    @property
    def order_id_field(self) -> str: ...
    @property
    def account_id_field(self) -> str | None: ...
    @property
    def write_back_field_names(self) -> frozenset[str]: ...
    def is_allowed_org(self, org_id: str) -> bool: ...


@dataclass(frozen=True)
class NormalisedEvent:
    """What one EventBridge event became; ``log`` holds safe facts for the log line (no personal data)."""

    requests: tuple[SyncRequest, ...] = ()
    ignored: str | None = None  # why nothing is synced
    dropped: str | None = None  # why the event was refused
    metric: str | None = None  # the specific metric of an ignored or dropped event
    log: Mapping[str, Any] = field(default_factory=dict)


class _Stop(Exception):
    """Ends normalisation early as ignored (``dropped=False``) or dropped."""

    def __init__(self, reason: str, *, dropped: bool, metric: str | None = None, **log: Any) -> None:
        super().__init__(reason)
        self.reason, self.dropped, self.metric, self.log = reason, dropped, metric, log


def _malformed(reason: str, **log: Any) -> _Stop:
    return _Stop(reason, dropped=True, metric=MALFORMED_EVENT, **log)


def _ignore(reason: str, metric: str | None = None, **log: Any) -> _Stop:
    return _Stop(reason, dropped=False, metric=metric, **log)


def normalise_event(event: Any, settings: EventSettings) -> NormalisedEvent:
    """Sync requests for one EventBridge event from Salesforce Event Relay; never raises for a bad event."""
    log: dict[str, Any] = {"eventbridge_id": _safe_text(event, "id"), "detail_type": _safe_text(event, "detail-type")}
    try:
        if not isinstance(event, Mapping):
            raise _malformed("the event is not a JSON object")
        org_id = _org_id(event.get("source"))
        log["org_id"] = org_id
        if not settings.is_allowed_org(org_id):
            raise _Stop("organization not allowed", dropped=True, metric=ORG_NOT_ALLOWED)
        requests = _requests(event, org_id, settings, log)
    except _Stop as stop:
        log.update(stop.log)
        if stop.dropped:
            return NormalisedEvent(dropped=stop.reason, metric=stop.metric, log=log)
        return NormalisedEvent(ignored=stop.reason, metric=stop.metric, log=log)
    log["records"] = len(requests)
    return NormalisedEvent(requests=requests, log=log)


def _safe_text(event: Any, key: str) -> str | None:
    """An envelope string for the log, only when it is short, printable text."""
    value = event.get(key) if isinstance(event, Mapping) else None
    return value if isinstance(value, str) and len(value) <= _MAX_EVENT_ID and value.isprintable() else None


def _org_id(source: Any) -> str:
    if not isinstance(source, str) or not source.startswith(SOURCE_PREFIX):
        raise _malformed(f"source is not {SOURCE_PREFIX}<orgId>/<channelId>")
    parts = source[len(SOURCE_PREFIX) :].split("/")
    if len(parts) != 2 or not parts[1] or not parts[0].startswith(ORG_ID_PREFIX):
        raise _malformed(f"source is not {SOURCE_PREFIX}<orgId>/<channelId>")
    problem = id_problem(parts[0])
    if problem is not None:  # e.g. the org's 15 characters with another suffix: never an alias of the org
        raise _malformed(f"the source's organization id {problem}")
    return to_18(parts[0])


def _requests(
    event: Mapping[str, Any], org_id: str, settings: EventSettings, log: dict[str, Any]
) -> tuple[SyncRequest, ...]:
    detail_type = event.get("detail-type")
    if not isinstance(detail_type, str):
        raise _malformed("detail-type is missing")
    if detail_type != settings.order_activated_event and detail_type not in CHANGE_EVENT_TYPES:
        raise _ignore("no sync for this event type")
    detail = event.get("detail")
    payload = detail.get("payload") if isinstance(detail, Mapping) else None
    if not isinstance(payload, Mapping):
        raise _malformed("detail.payload is missing or not an object")
    if detail_type == settings.order_activated_event:
        return (_order_activation(event, payload, org_id, settings),)
    entity = CHANGE_EVENT_TYPES[detail_type]
    return _change_requests(event, payload, org_id, entity, log, settings.write_back_field_names)


def _own_write_back(header: Mapping[str, Any], written: frozenset[str]) -> bool:
    """An UPDATE the write-back made (``changeOrigin`` names the sync's client) that changed only the fields it
    writes. A Pub/Sub bitmap, or any other field changed in the same transaction (a Flow reacting to the
    write-back), is read as any change: nothing the worker should see is skipped."""
    if not written or header.get("changeType") != "UPDATE" or not made_by_the_sync(header.get("changeOrigin")):
        return False
    changed = _changed_field_names(header.get("changedFields"))
    return bool(changed) and set(changed or ()) <= written | SYSTEM_FIELDS


def _envelope_id(event: Mapping[str, Any]) -> str:
    value = event.get("id")
    if not isinstance(value, str) or not 0 < len(value) <= _MAX_EVENT_ID:
        raise _malformed("the EventBridge event id is missing")
    return value


# ---- platform event: an order was activated ----------------------------------------------------------
def _order_activation(
    event: Mapping[str, Any], payload: Mapping[str, Any], org_id: str, settings: EventSettings
) -> SyncRequest:
    order_id = payload.get(settings.order_id_field)
    if not isinstance(order_id, str) or not is_salesforce_id(order_id, "801"):
        raise _malformed(f"payload field {settings.order_id_field} is not an Order id")
    account_id = payload.get(settings.account_id_field) if settings.account_id_field else None
    # The account is only a hint that saves the worker a lookup; a wrong value must not lose the activation.
    account_ok = isinstance(account_id, str) and is_salesforce_id(account_id, "001")
    uuid = payload.get("EventUuid")
    event_id = uuid if isinstance(uuid, str) and 0 < len(uuid) <= _MAX_EVENT_ID else _envelope_id(event)
    return SyncRequest(
        org_id=org_id,
        object_type=SObjectType.ORDER,
        record_id=to_18(order_id),
        event_id=event_id,
        source=TriggerSource.PLATFORM_EVENT,
        version=_created_date(payload.get("CreatedDate")),
        account_id=to_18(str(account_id)) if account_ok else None,
    )


def _created_date(value: Any) -> int | None:
    """Epoch ms from ``CreatedDate``: ISO-8601 (Streaming API rendering) or epoch ms (Pub/Sub API rendering)."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    if isinstance(value, str):
        try:
            return parse_salesforce_datetime(value)
        except ValueError:
            pass
    raise _malformed("payload field CreatedDate is not a datetime")


# ---- change data capture --------------------------------------------------------------------------------
def _change_requests(
    event: Mapping[str, Any],
    payload: Mapping[str, Any],
    org_id: str,
    entity: SObjectType,
    log: dict[str, Any],
    written: frozenset[str] = frozenset(),
) -> tuple[SyncRequest, ...]:
    header = payload.get("ChangeEventHeader")
    if not isinstance(header, Mapping):
        raise _malformed("payload.ChangeEventHeader is missing")
    change_type = header.get("changeType")
    if not isinstance(change_type, str):
        raise _malformed("ChangeEventHeader.changeType is missing")
    if header.get("entityName", entity.value) != entity.value:
        raise _malformed("ChangeEventHeader.entityName does not match the detail-type")
    raw_ids = header.get("recordIds")
    log.update(change_type=change_type[:_MAX_EVENT_ID], entity=entity.value)  # hostile: any length
    if isinstance(raw_ids, list):
        log["records"] = len(raw_ids)
    if change_type == "GAP_OVERFLOW":
        # More changes in one transaction than Salesforce publishes; no ids. The scheduled reconcile repairs it.
        raise _ignore("overflow event: no record ids, left to the reconcile", GAP_OVERFLOW)
    if change_type in _IGNORED_CHANGES:
        raise _ignore(f"{change_type} changes nothing in Stripe (R11)")
    if change_type not in _SYNCED_CHANGES:
        raise _ignore("no sync for this change type")
    if entity is SObjectType.ORDER and not _order_activated(change_type, header, payload):
        raise _ignore("the order was not activated by this change")
    record_ids = _record_ids(raw_ids, entity)
    if entity is SObjectType.ACCOUNT and _own_write_back(header, written):
        raise _ignore("the sync's own write-back (changeOrigin client=salesforce-stripe-sync): nothing to sync")
    version = _commit_timestamp(header.get("commitTimestamp"))
    event_id = _change_event_id(event, header)
    source = TriggerSource.CHANGE_EVENT
    account_id = _payload_account_id(payload) if entity is SObjectType.ORDER else None
    return tuple(
        SyncRequest(
            org_id=org_id,
            object_type=entity,
            record_id=record_id,
            event_id=event_id,
            source=source,
            version=version,
            account_id=record_id if entity is SObjectType.ACCOUNT else account_id,
        )
        for record_id in record_ids
    )


def _order_activated(change_type: str, header: Mapping[str, Any], payload: Mapping[str, Any]) -> bool:
    """An Order change matters when it moved the order into the status category Activated.

    ``StatusCode`` is the category; ``Status`` is the org's own label ("Provisioned", "Fulfilled"…), so only
    the category tells an activation. Gap events and restores carry no fields: the worker re-reads and checks.
    Whether Salesforce lists the derived ``StatusCode`` in ``changedFields`` when ``Status`` changes is not
    documented: a change of ``Status`` alone is re-read (the worker creates a customer only for an order
    whose category is Activated, R1), never ignored.
    """
    if change_type.startswith("GAP_") or change_type == "UNDELETE":
        return True
    category = payload.get("StatusCode")
    if change_type == "CREATE":
        return category == "Activated"  # a create carries every non-null field, in both renderings
    changed = _changed_field_names(header.get("changedFields"))
    if changed is None:
        # A Pub/Sub bitmap: only a category that is plainly not Activated rules the change out; anything
        # else is re-read by the worker, which creates a customer only for an activated order (R1).
        return category is None or category == "Activated"
    if "StatusCode" in changed:
        return category == "Activated"
    return "Status" in changed


def _changed_field_names(value: Any) -> list[str] | None:
    """``changedFields`` as field names, or None when it is a Pub/Sub bitmap (``0x…``, ``3-0x…``)."""
    if not isinstance(value, list):
        return []
    if any(isinstance(item, str) and _BITMAP.match(item) for item in value):
        return None
    return [item for item in value if isinstance(item, str)]


def _record_ids(raw_ids: Any, entity: SObjectType) -> tuple[str, ...]:
    if not isinstance(raw_ids, list) or not raw_ids or not all(isinstance(i, str) for i in raw_ids):
        raise _malformed("ChangeEventHeader.recordIds is missing or empty")
    if any(record_id.endswith("*") for record_id in raw_ids):
        # "001*": a field type conversion changed every record; the scheduled reconcile repairs that.
        raise _ignore("wildcard record ids: left to the reconcile", WILDCARD_RECORD_IDS)
    prefix = KEY_PREFIXES[entity]
    for position, record_id in enumerate(raw_ids):
        if not is_salesforce_id(record_id, prefix):
            problem = id_problem(record_id) if isinstance(record_id, str) and len(record_id) == 18 else None
            raise _malformed(f"ChangeEventHeader.recordIds[{position}] {problem or f'is not a {entity.value} id'}")
    return tuple(dict.fromkeys(to_18(record_id) for record_id in raw_ids))


def _commit_timestamp(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise _malformed("ChangeEventHeader.commitTimestamp is not epoch milliseconds")
    return value


def _change_event_id(event: Mapping[str, Any], header: Mapping[str, Any]) -> str:
    """transactionKey:sequenceNumber names the change itself, so a re-published event is recognised."""
    key, sequence = header.get("transactionKey"), header.get("sequenceNumber")
    if isinstance(key, str) and key and isinstance(sequence, int) and not isinstance(sequence, bool):
        event_id = f"{key}:{sequence}"
        if len(event_id) <= _MAX_EVENT_ID:
            return event_id
    return _envelope_id(event)


def _payload_account_id(payload: Mapping[str, Any]) -> str | None:
    account_id = payload.get("AccountId")
    if isinstance(account_id, str) and is_salesforce_id(account_id, KEY_PREFIXES[SObjectType.ACCOUNT]):
        return to_18(account_id)
    return None
