"""Normalise trigger payloads into ``SyncRequest`` messages for the queue.

Account and Order notifications (and Contact and CPQ Quote ones, for fields drawn from them) become sync requests;
notifications of other objects are acknowledged and reported as ignored, never retried forever.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.salesforce.datetimes import parse_salesforce_datetime
from shared.salesforce.ids import id_problem, is_salesforce_id, to_18
from shared.salesforce.outbound_message import Notification, OutboundMessage, UnusableNotification
from shared.sync.models import KEY_PREFIXES, SObjectType, SyncRequest, TriggerSource

_VERSION_FIELDS = ("SystemModstamp", "LastModifiedDate")
_ORDER_ACCOUNT_FIELD = "AccountId"
# What each object's Outbound Message must select, no more: the record id (always sent), the version that
# orders old against new, and for an order its account (spares the worker a lookup). The worker reads the
# current data itself. salesforce/ (the Salesforce DX package) defines the messages; a test keeps them equal.
OUTBOUND_MESSAGE_FIELDS: dict[SObjectType, tuple[str, ...]] = {
    SObjectType.ACCOUNT: ("Id", _VERSION_FIELDS[0]),
    SObjectType.ORDER: ("Id", _ORDER_ACCOUNT_FIELD, _VERSION_FIELDS[0]),
    SObjectType.CONTACT: ("Id", _VERSION_FIELDS[0]),
    SObjectType.QUOTE: ("Id", _VERSION_FIELDS[0]),
}
# "Sync to Stripe now": the package's Stripe_Sync_Now message, sent when the quick action sets this field. Only
# that message carries it, so a notification with it is an admin's request for a forced sync.
SYNC_REQUESTED_FIELD = "Stripe_Sync_Requested__c"
SYNC_NOW_MESSAGE_FIELDS = ("Id", SYNC_REQUESTED_FIELD, _VERSION_FIELDS[0])


@dataclass(frozen=True)
class Normalised:
    """What a message became: requests to enqueue, notifications ignored (by object type) and notifications
    without a usable record (kept, with the reason, for inspection)."""

    requests: tuple[SyncRequest, ...]
    ignored: tuple[Notification, ...]
    unusable: tuple[UnusableNotification, ...] = ()


class _Unusable(Exception):
    """A notification of a synced object whose record id or version can't be used."""


def from_outbound_message(message: OutboundMessage) -> Normalised:
    """Sync requests for a parsed (and already authorised) Outbound Message."""
    org_id = to_18(message.organization_id)
    requests: list[SyncRequest] = []
    ignored: list[Notification] = []
    unusable = list(message.unusable)
    for notification in message.notifications:
        try:
            object_type = SObjectType(notification.sobject_type)
        except ValueError:
            ignored.append(notification)
            continue
        try:
            requests.append(_request(org_id, object_type, notification))
        except _Unusable as exc:
            unusable.append(UnusableNotification(notification.notification_id, str(exc), notification.sobject_type))
    return Normalised(tuple(requests), tuple(ignored), tuple(unusable))


def _request(org_id: str, object_type: SObjectType, notification: Notification) -> SyncRequest:
    record_id = notification.record_id
    if not is_salesforce_id(record_id, KEY_PREFIXES[object_type]):
        problem = id_problem(record_id)  # a wrong checksum suffix would make a second key for the record
        raise _Unusable(f"sf:Id {problem}" if problem else f"sf:Id is not a {object_type} id")
    account_id = None
    if object_type is SObjectType.ACCOUNT:
        account_id = to_18(record_id)
    elif object_type is SObjectType.ORDER and is_salesforce_id(
        notification.fields.get(_ORDER_ACCOUNT_FIELD, ""), "001"
    ):
        account_id = to_18(notification.fields[_ORDER_ACCOUNT_FIELD])
    manual = object_type is SObjectType.ACCOUNT and bool(notification.fields.get(SYNC_REQUESTED_FIELD))
    return SyncRequest(
        org_id=org_id,
        object_type=object_type,
        record_id=to_18(record_id),
        event_id=notification.notification_id,
        source=TriggerSource.MANUAL if manual else TriggerSource.OUTBOUND_MESSAGE,
        version=_version(notification),
        account_id=account_id,
        force=manual,  # compare with the customer in Stripe itself (repairs edits made there)
    )


def _version(notification: Notification) -> int | None:
    for name in _VERSION_FIELDS:
        value = notification.fields.get(name)
        if value:
            try:
                return parse_salesforce_datetime(value)
            except ValueError:
                raise _Unusable(f"{name} is not a datetime") from None
    return None
