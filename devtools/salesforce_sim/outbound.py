"""Outbound Messages: definitions, the notification queue and a background SOAP sender.

Salesforce's contract, reproduced here: one notification per firing; up to 100 notifications per
SOAP message; the sObject rendered at send time from the current record (so only the latest data is
sent, null fields omitted); acknowledged only by HTTP 200 + `<Ack>true</Ack>`; otherwise retried with
exponential backoff until acknowledged or expired; at least once (optional duplicates); never on delete.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol
from xml.sax.saxutils import escape

import defusedxml.ElementTree as SafeET
import requests

from . import ids
from .store import Record, Store
from .values import soap_value

MAX_NOTIFICATIONS_PER_MESSAGE = 100
Criteria = Callable[[Record | None, Record], bool]
NotificationFilter = Callable[[dict[str, Any]], bool]


class OrgInfo(Protocol):
    """What the envelope needs from the simulator (read at send time)."""

    @property
    def org_id(self) -> str: ...
    @property
    def instance_url(self) -> str: ...
    @property
    def api_version(self) -> str: ...


@dataclass
class OutboundMessage:
    """An outbound message definition (the handle `add_outbound_message` returns)."""

    name: str
    sobject: str
    fields: list[str]
    endpoint_url: str
    criteria: Criteria | None
    action_id: str
    notification_ids: list[str] = field(default_factory=list)  # every notification it queued
    active: bool = True


@dataclass
class Notification:
    id: str
    definition: OutboundMessage
    record_id: str
    created: float  # time.monotonic()

    def info(self) -> dict[str, Any]:
        """What `send_now(message_filter)` sees for each pending notification."""
        return {
            "notification_id": self.id,
            "record_id": self.record_id,
            "definition": self.definition.name,
            "sobject": self.definition.sobject,
        }


@dataclass
class _Message:
    id: str
    definition: OutboundMessage
    notifications: list[Notification]
    attempts: int = 0
    next_attempt: float = 0.0
    in_flight: bool = False
    duplicate: bool = False


class OutboundDispatcher:
    """Queues notifications and delivers them from a background thread (one POST thread per message)."""

    def __init__(self, store: Store, org: OrgInfo, id_factory: ids.IdFactory) -> None:
        # Salesforce backs off up to 2 hours and gives up after 24 hours; a local simulator retries
        # fast by default so a failing receiver does not stall tests (set these to mimic production).
        self.retry_base_seconds = 0.05
        self.retry_max_seconds = 1.0
        self.expire_after_seconds = 24 * 3600.0
        self.request_timeout_seconds = 60.0
        self.duplicate_rate = 0.0
        # What a notification carries when its record was deleted (or merged away) before delivery: None
        # renders the record as stored; "no_sobject" leaves out <sObject>, "no_id" sends it without sf:Id.
        # Salesforce documents neither, and receivers report both: the unusable notification sits in one
        # message beside usable ones, which only one Ack covers.
        self.deleted_record_notification: str | None = None
        self.rng = random.Random()
        self.definitions: list[OutboundMessage] = []
        self.deliveries: list[dict[str, Any]] = []
        self.expired: list[dict[str, Any]] = []
        self._store, self._org, self._ids = store, org, id_factory
        self._cond = threading.Condition()
        self._unbatched: list[Notification] = []
        self._messages: list[_Message] = []
        self._message_seq = itertools.count(1)
        self._paused = False
        self._stopped = True
        self._thread: threading.Thread | None = None

    # ---- definitions and firing -------------------------------------------------------------------
    def define(
        self, name: str, sobject: str, fields: list[str], endpoint_url: str, criteria: Criteria | None = None
    ) -> OutboundMessage:
        obj = self._store.schema.require(sobject)
        names = ["Id"]
        for fname in fields:
            fdef = obj.field(fname)
            if fdef is None:
                raise ValueError(f"No such field {fname!r} on {obj.name}")
            if fdef.name not in names:
                names.append(fdef.name)
        definition = OutboundMessage(name, obj.name, names, endpoint_url, criteria, self._ids.new("04k"))
        with self._cond:
            self.definitions.append(definition)
        return definition

    def on_change(self, sobject: str, old: Record | None, new: Record) -> None:
        """Store hook: queue one notification per matching definition."""
        for definition in list(self.definitions):
            if not definition.active or definition.sobject != sobject:
                continue
            if definition.criteria is not None and not definition.criteria(old, new):
                continue
            notification = Notification(self._ids.new("04l"), definition, new["Id"], time.monotonic())
            with self._cond:
                definition.notification_ids.append(notification.id)
                self._unbatched.append(notification)
                self._cond.notify_all()

    # ---- lifecycle and control ----------------------------------------------------------------------
    def start(self) -> None:
        self._stopped = False
        self._thread = threading.Thread(target=self._loop, name="sf-sim-outbound", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def pause(self) -> None:
        with self._cond:
            self._paused = True

    def resume(self) -> None:
        with self._cond:
            self._paused = False
            self._cond.notify_all()

    def pending(self) -> int:
        """Notifications not yet acknowledged (and not expired)."""
        with self._cond:
            return len(self._unbatched) + sum(len(m.notifications) for m in self._messages)

    def wait_idle(self, timeout: float = 10) -> bool:
        """Block until nothing is pending; False when `timeout` passed first."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self._unbatched) + len(self._messages) > 0:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 0.05))
                self._expire(time.monotonic())
            return True

    def send_now(self, message_filter: NotificationFilter | None = None) -> list[dict[str, Any]]:
        """Deliver now, synchronously, ignoring pause and backoff; returns the delivery records.

        `message_filter(info)` gets each pending notification's `info()`; only matching notifications
        are batched now, and an already formed (retrying) message goes when any of its notifications match.
        """
        with self._cond:
            self._expire(time.monotonic())
            self._form_batches(message_filter)
            chosen = [
                m
                for m in self._messages
                if not m.in_flight
                and (message_filter is None or any(message_filter(n.info()) for n in m.notifications))
            ]
            for message in chosen:
                message.in_flight = True
        return [self._deliver(message) for message in chosen]

    # ---- scheduling ---------------------------------------------------------------------------------
    def _loop(self) -> None:
        while True:
            with self._cond:
                if self._stopped:
                    return
                now = time.monotonic()
                self._expire(now)
                due: list[_Message] = []
                if not self._paused:
                    self._form_batches(None)
                    due = [m for m in self._messages if not m.in_flight and m.next_attempt <= now]
                for message in due:
                    message.in_flight = True
                if not due:
                    self._cond.wait(self._idle_wait(now))
                    continue
            for message in due:
                threading.Thread(target=self._deliver, args=(message,), daemon=True).start()

    def _idle_wait(self, now: float) -> float:
        waits = [m.next_attempt - now for m in self._messages if not m.in_flight]
        return max(0.005, min([0.5, *waits]))

    def _form_batches(self, message_filter: NotificationFilter | None) -> None:
        """Group queued notifications per definition into messages of at most 100 (lock held)."""
        chosen = [n for n in self._unbatched if message_filter is None or message_filter(n.info())]
        # By identity: a Data Loader load queues 10,000 notifications, and `in` on a list of dataclasses
        # compares field by field (hours at that size).
        chosen_ids = {id(n) for n in chosen}
        self._unbatched = [n for n in self._unbatched if id(n) not in chosen_ids]
        by_definition: dict[str, list[Notification]] = {}
        for notification in chosen:
            by_definition.setdefault(notification.definition.action_id, []).append(notification)
        for group in by_definition.values():
            for start in range(0, len(group), MAX_NOTIFICATIONS_PER_MESSAGE):
                chunk = group[start : start + MAX_NOTIFICATIONS_PER_MESSAGE]
                self._messages.append(_Message(f"msg-{next(self._message_seq)}", chunk[0].definition, chunk))

    def _expire(self, now: float) -> None:
        """Drop what has been undelivered longer than `expire_after_seconds` (lock held)."""
        limit = now - self.expire_after_seconds
        for message in [m for m in self._messages if not m.in_flight]:
            if min(n.created for n in message.notifications) < limit:
                self._messages.remove(message)
                self.expired.append(
                    {"message_id": message.id, "notification_ids": [n.id for n in message.notifications]}
                )
        stale = [n for n in self._unbatched if n.created < limit]
        if stale:
            stale_ids = {id(n) for n in stale}
            self._unbatched = [n for n in self._unbatched if id(n) not in stale_ids]
            self.expired.append({"message_id": None, "notification_ids": [n.id for n in stale]})
        self._cond.notify_all()

    # ---- delivery -----------------------------------------------------------------------------------
    def _deliver(self, message: _Message) -> dict[str, Any]:
        body = self.render(message.definition, message.notifications)
        status: int | None = None
        error: str | None = None
        acked = False
        try:
            response = requests.post(
                message.definition.endpoint_url,
                data=body.encode("utf-8"),
                headers={"Content-Type": "text/xml; charset=UTF-8", "SOAPAction": '""'},
                timeout=self.request_timeout_seconds,
            )
            status = response.status_code
            acked = status == 200 and is_ack(response.content)
            if not acked:
                error = f"not acknowledged: HTTP {status}"
        except requests.RequestException as exc:
            error = f"{type(exc).__name__}: {exc}"
        return self._record(message, body, status, acked, error)

    def _record(
        self, message: _Message, body: str, status: int | None, acked: bool, error: str | None
    ) -> dict[str, Any]:
        with self._cond:
            message.attempts += 1
            message.in_flight = False
            delivery = {
                "message_id": message.id,
                "definition": message.definition.name,
                "endpoint": message.definition.endpoint_url,
                "notification_ids": [n.id for n in message.notifications],
                "record_ids": [n.record_id for n in message.notifications],
                "status": status,
                "acked": acked,
                "attempt": message.attempts,
                "time": time.time(),
                "error": error,
                "duplicate": message.duplicate,
                "body": body,
            }
            self.deliveries.append(delivery)
            if acked:
                self._messages.remove(message)
                if not message.duplicate and self.duplicate_rate and self.rng.random() < self.duplicate_rate:
                    # At-least-once: Salesforce sometimes sends an acknowledged message again.
                    copy = _Message(f"msg-{next(self._message_seq)}", message.definition, message.notifications)
                    copy.duplicate = True
                    self._messages.append(copy)
            else:
                delay = min(self.retry_base_seconds * 2 ** (message.attempts - 1), self.retry_max_seconds)
                message.next_attempt = time.monotonic() + delay
            self._cond.notify_all()
            return delivery

    def render(self, definition: OutboundMessage, notifications: list[Notification]) -> str:
        """The SOAP envelope, each sObject read now from the current record."""
        org_id, base, version = self._org.org_id, self._org.instance_url, self._org.api_version
        parts = [
            '<?xml version="1.0" encoding="UTF-8"?>\n<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/'
            'soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/'
            'XMLSchema-instance">\n <soapenv:Body>\n  <notifications xmlns="http://soap.sforce.com/2005/09/outbound">\n',
            f"   <OrganizationId>{org_id}</OrganizationId>\n   <ActionId>{definition.action_id}</ActionId>\n",
            '   <SessionId xsi:nil="true"/>\n',
            f"   <EnterpriseUrl>{escape(base)}/services/Soap/c/{version}/{org_id[:15]}</EnterpriseUrl>\n",
            f"   <PartnerUrl>{escape(base)}/services/Soap/u/{version}/{org_id[:15]}</PartnerUrl>\n",
        ]
        for notification in notifications:
            record = self._store.get(definition.sobject, notification.record_id) or {"Id": notification.record_id}
            mode = self.deleted_record_notification if record.get("IsDeleted") else None
            parts.append(f"   <Notification>\n    <Id>{notification.id}</Id>\n")
            if mode == "no_sobject":
                parts.append("   </Notification>\n")
                continue
            parts.append(
                f'    <sObject xsi:type="sf:{definition.sobject}" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">\n'
            )
            for fname in definition.fields:
                value = record.get(fname)
                if value is not None and not (mode == "no_id" and fname == "Id"):  # null fields are absent
                    parts.append(f"     <sf:{fname}>{escape(soap_value(value))}</sf:{fname}>\n")
            parts.append("    </sObject>\n   </Notification>\n")
        parts.append("  </notifications>\n </soapenv:Body>\n</soapenv:Envelope>")
        return "".join(parts)


def is_ack(content: bytes) -> bool:
    """True only for a parseable body holding an `Ack` element whose text is `true`."""
    try:
        root = SafeET.fromstring(content)
    except Exception:  # any unparseable body means "not delivered"
        return False
    return any(el.tag.rsplit("}", 1)[-1] == "Ack" and (el.text or "").strip() == "true" for el in root.iter())
