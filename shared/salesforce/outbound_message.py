"""Parse Salesforce Outbound Messages (SOAP 1.1) safely.

Hostile bodies are rejected before any work: a size limit, defusedxml (no DTDs, entities or external
references), the exact envelope and outbound namespaces, and 1–100 notifications. A selected field whose
value is null is simply absent from a notification, so the parsed fields are only hints; the worker
re-reads the record.

One notification that carries no usable record (no ``<sObject>``, no type, no ``sf:Id`` — e.g. the record
was deleted or merged before delivery) does not make the message malformed: it is returned in
``OutboundMessage.unusable`` with the reason, beside the usable ones. Salesforce answers one Ack per message
and retries a message that is not acknowledged for 24 hours, then drops it *whole* (Outbound Messaging:
"Outbound messages are retried … for up to 24 hours"), so refusing the message would lose every good
notification in it too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

SOAP_ENV_NS = "http://schemas.xmlsoap.org/soap/envelope/"
OUTBOUND_NS = "http://soap.sforce.com/2005/09/outbound"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
MAX_NOTIFICATIONS = 100
MAX_DEPTH = 12  # envelope/body/notifications/Notification/sObject/field is 6; anything far deeper is hostile
MAX_NOTIFICATION_ID = 255  # Salesforce sends 18-char ids; the queue message keeps at most this many
_MAX_TYPE = 80  # an sObject API name is at most 40 characters (80 with a namespace prefix)


class MalformedMessage(ValueError):
    """The body is not an acceptable Outbound Message; the message says why (safe to show the sender)."""


@dataclass(frozen=True)
class Notification:
    """One ``<Notification>``: its id, the record's type and id, and the non-null selected fields."""

    notification_id: str
    sobject_type: str
    record_id: str
    fields: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class UnusableNotification:
    """A notification without a usable record: its id, the sObject type when known, and why (no values)."""

    notification_id: str
    reason: str
    sobject_type: str = ""


class _Unusable(Exception):
    def __init__(self, notification_id: str, reason: str, sobject_type: str = "") -> None:
        super().__init__(reason)
        self.notification = UnusableNotification(notification_id, reason, sobject_type)


@dataclass(frozen=True)
class OutboundMessage:
    """A whole Outbound Message: the usable notifications and the unusable ones (with their reasons)."""

    organization_id: str
    action_id: str
    notifications: tuple[Notification, ...]
    unusable: tuple[UnusableNotification, ...] = ()


def parse_outbound_message(body: bytes, *, max_bytes: int) -> OutboundMessage:
    """Parse and validate an Outbound Message body; raise MalformedMessage with the reason."""
    if not body:
        raise MalformedMessage("empty body")
    if len(body) > max_bytes:
        raise MalformedMessage(f"body larger than {max_bytes} bytes")
    try:
        root = fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise MalformedMessage(f"forbidden XML construct ({type(exc).__name__})") from None
    except (ParseError, ValueError):
        raise MalformedMessage("not well-formed XML") from None
    except LookupError:  # an XML declaration naming an encoding Python does not know
        raise MalformedMessage("unsupported XML encoding") from None
    _check_depth(root)
    notifications_el = _notifications_element(root)
    org_id = _required_text(notifications_el, "OrganizationId")
    action_id = _required_text(notifications_el, "ActionId")
    items = notifications_el.findall(f"{{{OUTBOUND_NS}}}Notification")
    if not 1 <= len(items) <= MAX_NOTIFICATIONS:
        raise MalformedMessage(f"expected 1 to {MAX_NOTIFICATIONS} notifications, got {len(items)}")
    notifications: list[Notification] = []
    unusable: list[UnusableNotification] = []
    for item in items:
        try:
            notifications.append(_notification(item))
        except _Unusable as exc:
            unusable.append(exc.notification)
    return OutboundMessage(org_id, action_id, tuple(notifications), tuple(unusable))


def _check_depth(root: Element) -> None:
    stack = [(root, 1)]
    while stack:
        element, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise MalformedMessage("XML nested too deeply")
        stack.extend((child, depth + 1) for child in element)


def _notifications_element(root: Element) -> Element:
    if root.tag != f"{{{SOAP_ENV_NS}}}Envelope":
        raise MalformedMessage("not a SOAP 1.1 envelope")
    body = root.find(f"{{{SOAP_ENV_NS}}}Body")
    if body is None:
        raise MalformedMessage("SOAP envelope without a Body")
    notifications = body.find(f"{{{OUTBOUND_NS}}}notifications")
    if notifications is None:
        raise MalformedMessage(f"no <notifications> element in the {OUTBOUND_NS} namespace")
    return notifications


def _required_text(parent: Element, name: str) -> str:
    element = parent.find(f"{{{OUTBOUND_NS}}}{name}")
    text = (element.text or "").strip() if element is not None else ""
    if not text:
        raise MalformedMessage(f"missing <{name}>")
    return text


def _notification(item: Element) -> Notification:
    notification_id = _required_text(item, "Id")
    if len(notification_id) > MAX_NOTIFICATION_ID:
        raise MalformedMessage(f"notification <Id> longer than {MAX_NOTIFICATION_ID} characters")
    # The notification's own <Id> names it in logs and the DLQ: without one the message is malformed.
    sobject = item.find(f"{{{OUTBOUND_NS}}}sObject")
    if sobject is None:
        raise _Unusable(notification_id, "no <sObject>")
    sobject_type = sobject.get(f"{{{XSI_NS}}}type", "").split(":")[-1]
    if not sobject_type or len(sobject_type) > _MAX_TYPE:
        raise _Unusable(notification_id, "no usable xsi:type")
    fields: dict[str, str] = {}
    for child in sobject:
        if len(child):
            continue  # compound values (addresses) are re-read from Salesforce, not taken from the message
        if child.get(f"{{{XSI_NS}}}nil") == "true":
            continue
        fields[child.tag.rsplit("}", 1)[-1]] = (child.text or "").strip()
    record_id = fields.get("Id", "")
    if not record_id:
        raise _Unusable(notification_id, "no sf:Id", sobject_type)
    return Notification(notification_id, sobject_type, record_id, fields)
