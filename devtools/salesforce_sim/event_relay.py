"""Event Relay: Change Data Capture events and the order-activation platform event, as EventBridge events.

Salesforce's contract, reproduced here: every create, update and delete of a CDC-enabled object publishes a
change event whose ``ChangeEventHeader`` names the entity, the record ids, the change type, the changed
fields (compound fields as ``BillingAddress.Street``, ``Name.FirstName``), the commit time (epoch ms) and
the transaction key + sequence number. CREATE carries every non-null field, UPDATE only the changed ones,
DELETE none. Changes made in one transaction (``with relay.transaction():``) that are the same change on
several records are merged into one event with several ``recordIds``. A Flow publishes the order-activation
platform event when an order enters the Activated status category. Event Relay forwards each event to the partner
event source ``aws.partner/salesforce.com/<orgId>/<channelId>`` (name in ``detail-type``, body in
``detail.payload``); the callback gets that EventBridge event.
"""

from __future__ import annotations

import itertools
import json
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from devtools.sam.lambda_events import change_event_name, eventbridge_event

from .event_rendering import PUBSUB, STREAMING, pubsub_change_payload
from .store import Record

EventCallback = Callable[[dict[str, Any]], None]
ENTITIES = ("Account", "Contact", "Order", "SBQQ__Quote__c")
_ADDRESSES = {"Account": ("Billing", "Shipping"), "Contact": ("Mailing",)}
_ADDRESS_PARTS = ("Street", "City", "State", "PostalCode", "Country", "StateCode", "CountryCode")
_PERSON_NAME_PARTS = {"Contact": ("FirstName", "LastName")}
# Never in a change event's body: the id is in the header, Contact.Name is the compound of its parts.
_NOT_IN_BODY = {"Id", "IsDeleted", "SystemModstamp"}
_DERIVED = {"Contact": {"Name"}}
_SYSTEM_TIMES = {"CreatedDate", "LastModifiedDate"}
# The API call making changes on this thread (``api_call``): the changeOrigin of their change events.
_CALL = threading.local()


@contextmanager
def api_call(origin: str) -> Iterator[None]:
    """Changes made inside carry ``origin`` as their ``changeOrigin``: "com/salesforce/api/<API>/<version>",
    plus ";client=<id>" when the call set ``Sforce-Call-Options: client=<id>`` (Change Data Capture Developer
    Guide, "Change Event Header Fields": https://developer.salesforce.com/docs/atlas.en-us.change_data_capture
    .meta/change_data_capture/cdc_event_fields_header.htm)."""
    outer = getattr(_CALL, "origin", None)
    _CALL.origin = origin
    try:
        yield
    finally:
        _CALL.origin = outer


def compound_path(sobject: str, field_name: str) -> tuple[str, str] | None:
    """``BillingStreet`` → (``BillingAddress``, ``Street``); None for a field that is not part of a compound."""
    for prefix in _ADDRESSES.get(sobject, ()):
        part = field_name[len(prefix) :] if field_name.startswith(prefix) else ""
        if part in _ADDRESS_PARTS:
            return f"{prefix}Address", part
    if field_name in _PERSON_NAME_PARTS.get(sobject, ()):
        return "Name", field_name
    return None


def header_name(sobject: str, field_name: str) -> str:
    """The name a change event's header uses for a field (``BillingAddress.Street`` for ``BillingStreet``)."""
    path = compound_path(sobject, field_name)
    return ".".join(path) if path else field_name


def wire_value(value: object) -> object:
    """JSON as change events carry it (datetimes ``2026-05-07T22:29:47.000Z``)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    if isinstance(value, date):
        return value.isoformat()
    return value


def change_body(sobject: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    """Field values as a change event carries them, compound fields nested."""
    body: dict[str, Any] = {}
    for name, value in fields.items():
        path = compound_path(sobject, name)
        if path is None:
            body[name] = wire_value(value)
        else:
            body.setdefault(path[0], {})[path[1]] = wire_value(value)
    return body


def epoch_ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


@dataclass(frozen=True)
class _Activation:
    """An order that just entered the Activated status category: the Flow publishes the platform event."""

    order: Record


@dataclass(frozen=True)
class _Change:
    """One record's change, waiting to be published."""

    entity: str
    change_type: str
    record_id: str
    fields: dict[str, Any]  # record field → value carried in the body
    changed: tuple[str, ...]  # record fields listed in changedFields (UPDATE only)
    commit_ms: int
    record_fields: tuple[str, ...] = ()  # every field of the record, in schema order (the Pub/Sub schema)
    origin: str | None = None  # the API call's changeOrigin (None: the relay's default)

    def merge_key(self) -> str:
        """Changes with the same key are "the same change" and share one event (system times aside)."""
        values = {k: wire_value(v) for k, v in self.fields.items() if k not in _SYSTEM_TIMES}
        key = [self.entity, self.change_type, self.changed, values, self.origin]
        return json.dumps(key, sort_keys=True, default=str)


class EventRelay:
    """Turns record changes into EventBridge events for ``callback`` (see the module docstring)."""

    def __init__(
        self,
        org_id: str,
        callback: EventCallback,
        *,
        channel_id: str,
        commit_user: str,
        order_event: str | None = "Stripe_Order_Activated__e",
        order_id_field: str = "OrderId__c",
        account_id_field: str | None = "AccountId__c",
        entities: tuple[str, ...] = ENTITIES,
        api_version: str = "59.0",
        activation: Callable[[Record | None, Record], bool] | None = None,
    ) -> None:
        self.org_id, self.channel_id, self.commit_user = org_id, channel_id, commit_user
        self.callback = callback
        self.order_event, self.order_id_field, self.account_id_field = order_event, order_id_field, account_id_field
        self.entities = entities
        # When the publishing Flow runs (the package's entry conditions); by default Status becoming Activated.
        self.activation = activation or _just_activated
        self.change_origin = f"com/salesforce/api/rest/{api_version}"
        self.active = True
        self.rendering = STREAMING  # or PUBSUB: which JSON rendering Event Relay writes (event_rendering)
        # Whether an Order change event carries the derived StatusCode beside Status (in the body and in
        # changedFields): Salesforce does not document it, so the simulator emits both shapes.
        self.status_code_in_change_events = True
        self.published: list[dict[str, Any]] = []  # every event handed to the callback, in order
        self.failures: list[str] = []  # callback errors (Event Relay never fails the Salesforce transaction)
        self._lock = threading.Lock()
        self._commit_numbers = itertools.count(1)
        self._local = threading.local()
        # The object's formula fields (left out of change events); the simulator sets it from its schema.
        self.formula_fields: Callable[[str], set[str]] = lambda sobject: set()

    # ---- store hooks ------------------------------------------------------------------------------------
    def on_change(self, sobject: str, old: Record | None, new: Record) -> None:
        """A record was created (``old`` None) or updated."""
        if not self.active:
            return
        changes: list[_Change | _Activation] = []
        if sobject in self.entities:
            withheld = {"StatusCode"} if sobject == "Order" and not self.status_code_in_change_events else set()
            withheld |= self.formula_fields(sobject)
            changes.append(_record_change(sobject, old, new, withheld))
        if sobject == "Order" and self.order_event and self.activation(old, new):
            changes.append(_Activation(new))  # published after the commit, so after the change events
        self._collect(changes)

    def on_delete(self, sobject: str, record: Record) -> None:
        """A record was deleted (or merged away): DELETE carries no field values."""
        if self.active and sobject in self.entities:
            stamp = epoch_ms(record["SystemModstamp"])
            self._collect([_Change(sobject, "DELETE", record["Id"], {}, (), stamp, tuple(record))])

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Publish this thread's changes together when the block ends, like one Salesforce transaction."""
        outer = getattr(self._local, "buffer", None)
        if outer is not None:  # nested: part of the outer transaction
            yield
            return
        buffer: list[_Change | _Activation] = []
        self._local.buffer = buffer
        try:
            yield
        finally:
            self._local.buffer = None
            self._publish(buffer)

    # ---- publishing ---------------------------------------------------------------------------------
    def _collect(self, changes: list[_Change | _Activation]) -> None:
        buffer = getattr(self._local, "buffer", None)
        if buffer is not None:
            buffer.extend(changes)
        elif changes:
            self._publish(changes)

    def _publish(self, changes: list[_Change | _Activation]) -> None:
        transaction_key = str(uuid.uuid4())
        groups: dict[str, list[_Change]] = {}
        for change in changes:
            if isinstance(change, _Change):
                groups.setdefault(change.merge_key(), []).append(change)
        events = [
            self._change_event(group, transaction_key, sequence)
            for sequence, group in enumerate(groups.values(), start=1)
        ]
        events += [self._order_activated_event(c.order) for c in changes if isinstance(c, _Activation)]
        for event in events:
            self._deliver(event)

    def _change_event(self, group: list[_Change], transaction_key: str, sequence: int) -> dict[str, Any]:
        last = group[-1]
        header = {
            "entityName": last.entity,
            "recordIds": [change.record_id for change in group],
            "changeType": last.change_type,
            "changeOrigin": last.origin or self.change_origin,
            "transactionKey": transaction_key,
            "sequenceNumber": sequence,
            "commitTimestamp": max(change.commit_ms for change in group),
            "commitNumber": next(self._commit_numbers),
            "commitUser": self.commit_user,
            "changedFields": [header_name(last.entity, name) for name in last.changed],
            "nulledFields": [header_name(last.entity, n) for n in last.changed if last.fields.get(n) is None],
            "diffFields": [],
        }
        payload = {"ChangeEventHeader": header, **change_body(last.entity, last.fields)}
        if self.rendering == PUBSUB:
            payload = pubsub_change_payload(payload, *_pubsub_schema(last.entity, last.record_fields))
        return eventbridge_event(
            change_event_name(last.entity), payload, org_id=self.org_id, channel_id=self.channel_id
        )

    def _order_activated_event(self, order: Record) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "CreatedDate": epoch_ms(order["SystemModstamp"])
            if self.rendering == PUBSUB
            else wire_value(order["SystemModstamp"]),
            "CreatedById": self.commit_user,
            "EventUuid": str(uuid.uuid4()),
            self.order_id_field: order["Id"],
        }
        if self.account_id_field:
            payload[self.account_id_field] = order.get("AccountId")
        return eventbridge_event(str(self.order_event), payload, org_id=self.org_id, channel_id=self.channel_id)

    def _deliver(self, event: dict[str, Any]) -> None:
        with self._lock:
            self.published.append(event)
        try:
            self.callback(event)
        except Exception as exc:  # a failing subscriber never fails the change that published the event
            with self._lock:
                self.failures.append(f"{event['detail-type']}: {type(exc).__name__}: {exc}")


def _record_change(sobject: str, old: Record | None, new: Record, withheld: set[str]) -> _Change:
    skip = _NOT_IN_BODY | _DERIVED.get(sobject, set()) | withheld
    stamp = epoch_ms(new["SystemModstamp"])
    origin = getattr(_CALL, "origin", None)
    if old is None:
        fields = {k: v for k, v in new.items() if k not in skip and v is not None}
        return _Change(sobject, "CREATE", new["Id"], fields, (), stamp, tuple(new), origin)
    changed = tuple(k for k, v in new.items() if k not in skip and old.get(k) != v)
    return _Change(sobject, "UPDATE", new["Id"], {k: new[k] for k in changed}, changed, stamp, tuple(new), origin)


def _pubsub_schema(sobject: str, record_fields: tuple[str, ...]) -> tuple[list[str], dict[str, list[str]]]:
    """The change event's top-level fields in schema order, and the parts of each compound field."""
    skip = _NOT_IN_BODY | _DERIVED.get(sobject, set())
    schema: list[str] = []
    parts: dict[str, list[str]] = {}
    for name in record_fields:
        if name in skip:
            continue
        path = compound_path(sobject, name)
        top = path[0] if path else name
        if top not in schema:
            schema.append(top)
        if path:
            parts.setdefault(path[0], []).append(path[1])
    return schema, parts


def _just_activated(old: Record | None, new: Record) -> bool:
    """The order entered the Activated status category (any org-defined status in it)."""
    return new.get("StatusCode") == "Activated" and (old is None or old.get("StatusCode") != "Activated")
