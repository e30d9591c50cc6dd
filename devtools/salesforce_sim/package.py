"""The Salesforce DX project in ``salesforce/``, read as the simulated org's definitions.

One source of truth: the fields, Outbound Messages, Flows and platform event an admin deploys with
``sf project deploy start`` are what the simulator runs on, so a typo in the package shows up in every
end-to-end test. Source format (Salesforce DX): ``objects/<Object>/fields/<Field>.field-meta.xml``,
``workflows/<Object>.workflow-meta.xml`` (``<outboundMessages>``), ``flows/<Name>.flow-meta.xml`` (``<start>``
entry conditions, ``<decisions>``, ``<actionCalls>`` of type ``outboundMessage``, ``<recordCreates>``),
``platformEventChannelMembers/``, ``permissionsets/``: Metadata API Developer Guide, "CustomField",
"Workflow", "Flow", "PlatformEventChannelMember", "PermissionSet".
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET

PACKAGE_ROOT = Path(__file__).resolve().parents[2] / "salesforce"
_NS = "{http://soap.sforce.com/2006/04/metadata}"
Record = dict[str, Any]


def _children(element: Element, tag: str) -> list[Element]:
    return element.findall(f"{_NS}{tag}")


def _text(element: Element | None, tag: str, default: str = "") -> str:
    found = None if element is None else element.find(f"{_NS}{tag}")
    return (found.text or "").strip() if found is not None else default


def _read(path: Path) -> Element:
    root: Element = SafeET.parse(path).getroot()
    return root


@dataclass(frozen=True)
class CustomFieldDef:
    """A custom field: ``sobject`` + API ``name``, Metadata API ``type`` (Text, …), ``length`` in characters."""

    sobject: str
    name: str
    type: str
    length: int | None
    unique: bool = False
    external_id: bool = False
    required: bool = False
    case_sensitive: bool = False  # ``caseSensitive``: for a unique field, 'ABC' and 'abc' differ
    formula: str | None = None  # ``formula``: a formula field (read-only, computed from the record)
    reference_to: str | None = None  # ``referenceTo`` of a Lookup or MasterDetail field
    relationship_name: str | None = None  # ``relationshipName``: the parent's child relationship is ``…__r``


@dataclass(frozen=True)
class CustomObjectDef:
    """A custom object (not a platform event, not a custom setting): its API name and ``nameField`` type."""

    name: str
    auto_number: str | None  # ``nameField.displayFormat`` when the Name is an AutoNumber ("SSR-{0000000}")


@dataclass(frozen=True)
class QuickActionDef:
    """An object-specific quick action (``quickActions/Object.Name.quickAction-meta.xml``): its ``type`` and the
    field values it sets (``fieldOverrides``: field → formula, e.g. ``NOW()``)."""

    sobject: str
    name: str
    type: str
    field_overrides: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class OutboundMessageDef:
    """A WorkflowOutboundMessage: the object, its API name and the fields each notification carries."""

    sobject: str
    name: str
    fields: tuple[str, ...]
    endpoint_url: str
    integration_user: str

    @property
    def full_name(self) -> str:
        """``Account.Stripe_Account_Sync``: how a Flow's ``actionName`` names it."""
        return f"{self.sobject}.{self.name}"


@dataclass(frozen=True)
class FlowFilter:
    """One entry condition of a record-triggered Flow (``field operator value``)."""

    field: str
    operator: str
    value: str | bool | None

    def holds(self, record: Record) -> bool:
        """The condition on one version of the record (operators the package uses; others refused at load)."""
        actual = record.get(self.field)
        if self.operator == "EqualTo":
            return bool(actual == self.value)
        if self.operator == "NotEqualTo":
            return bool(actual != self.value)
        return (actual is None) is bool(self.value)  # IsNull


@dataclass(frozen=True)
class RecordFlowDef:
    """A record-triggered Flow as far as the simulator runs it.

    ``filters`` (all must hold) and ``requires_change`` (only when a record is updated to meet them) are the
    Start element's entry conditions; ``skip_permission`` is a custom permission whose holders' changes the
    Flow's decision sends nothing for, ``changed_fields`` fields its decision requires changed (``$Record.F``
    not equal to ``$Record__Prior.F``; on create the prior value is null); ``outbound_messages`` the
    ``Object.Name`` of the messages it sends, ``publishes`` the records (platform events) it creates, each
    with its field → ``$Record`` field assignments.
    """

    name: str
    sobject: str
    trigger: str  # Create | Update | CreateAndUpdate
    filters: tuple[FlowFilter, ...]
    requires_change: bool
    skip_permission: str | None
    changed_fields: tuple[str, ...]
    outbound_messages: tuple[str, ...]
    publishes: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]
    active: bool

    def meets(self, record: Record) -> bool:
        return all(f.holds(record) for f in self.filters)

    def fires(self, old: Record | None, new: Record) -> bool:
        """Whether a save of ``new`` (``old`` None on create) starts the Flow (its entry conditions)."""
        if not self.active or (old is None and self.trigger == "Update") or (old and self.trigger == "Create"):
            return False
        if not self.meets(new) or any(old is not None and old.get(f) == new.get(f) for f in self.changed_fields):
            return False
        return old is None or not self.requires_change or not self.meets(old)

    def criteria(self) -> Callable[[Record | None, Record], bool]:
        return self.fires


@dataclass(frozen=True)
class PlatformEventDef:
    """A platform event (``Name__e``) and its custom fields."""

    name: str
    fields: tuple[CustomFieldDef, ...]

    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)


@dataclass(frozen=True)
class PermissionSetDef:
    """What a permission set grants: user and custom permissions, object and field access."""

    name: str
    user_permissions: frozenset[str]
    custom_permissions: frozenset[str]
    objects: dict[str, tuple[bool, bool]]  # object → (read, edit)
    fields: dict[str, tuple[bool, bool]]  # Object.Field → (read, edit)


@dataclass(frozen=True)
class SalesforcePackage:
    """Everything the sync needs in the org, as the package defines it (see the module docstring)."""

    root: Path
    directories: tuple[str, ...]
    custom_fields: tuple[CustomFieldDef, ...]
    outbound_messages: tuple[OutboundMessageDef, ...]
    flows: tuple[RecordFlowDef, ...]
    platform_events: tuple[PlatformEventDef, ...]
    channel_members: dict[str, tuple[str, ...]]  # channel → selected entities
    permission_sets: dict[str, PermissionSetDef] = field(default_factory=dict)
    custom_objects: tuple[CustomObjectDef, ...] = ()
    quick_actions: tuple[QuickActionDef, ...] = ()
    custom_settings: tuple[str, ...] = ()  # hierarchy custom settings (``customSettingsType`` Hierarchy)

    def quick_action(self, sobject: str, name: str) -> QuickActionDef:
        return next(a for a in self.quick_actions if (a.sobject, a.name) == (sobject, name))

    def fields_of(self, sobject: str) -> tuple[CustomFieldDef, ...]:
        return tuple(f for f in self.custom_fields if f.sobject == sobject)

    def outbound_message(self, full_name: str) -> OutboundMessageDef:
        return next(m for m in self.outbound_messages if m.full_name == full_name)

    def flows_sending(self, message: OutboundMessageDef) -> tuple[RecordFlowDef, ...]:
        return tuple(f for f in self.flows if message.full_name in f.outbound_messages)

    def platform_event(self, name: str) -> PlatformEventDef:
        return next(e for e in self.platform_events if e.name == name)

    def flows_publishing(self, event: str) -> tuple[RecordFlowDef, ...]:
        return tuple(f for f in self.flows if any(name == event for name, _ in f.publishes))


def package_directories(root: Path = PACKAGE_ROOT) -> tuple[str, ...]:
    """The ``packageDirectories`` of ``sfdx-project.json``, in order."""
    project = json.loads((root / "sfdx-project.json").read_text(encoding="utf-8"))
    return tuple(entry["path"] for entry in project["packageDirectories"])


@cache
def load_package(root: Path = PACKAGE_ROOT) -> SalesforcePackage:
    """Read every package directory of the project at ``root``; ValueError names a file the loader can't run."""
    directories = package_directories(root)
    sources = [root / d for d in directories]
    objects_fields = [
        _custom_field(p) for src in sources for p in sorted(src.glob("**/objects/*/fields/*.field-meta.xml"))
    ]
    events = {p.parent.name for src in sources for p in src.glob("**/objects/*__e/*.object-meta.xml")}
    objects = [o for src in sources for p in sorted(src.glob("**/objects/*__c/*.object-meta.xml")) if (o := _object(p))]
    return SalesforcePackage(
        root=root,
        directories=directories,
        custom_fields=tuple(f for f in objects_fields if f.sobject not in events),
        outbound_messages=tuple(
            m
            for src in sources
            for p in sorted(src.glob("**/workflows/*.workflow-meta.xml"))
            for m in _outbound_messages(p)
        ),
        flows=tuple(_flow(p) for src in sources for p in sorted(src.glob("**/flows/*.flow-meta.xml"))),
        platform_events=tuple(
            PlatformEventDef(name, tuple(f for f in objects_fields if f.sobject == name)) for name in sorted(events)
        ),
        channel_members=_channel_members(sources),
        permission_sets={
            p.name.split(".")[0]: _permission_set(p)
            for src in sources
            for p in sorted(src.glob("**/permissionsets/*.permissionset-meta.xml"))
        },
        custom_objects=tuple(objects),
        quick_actions=tuple(
            _quick_action(p) for src in sources for p in sorted(src.glob("**/quickActions/*.quickAction-meta.xml"))
        ),
        custom_settings=tuple(
            p.parent.name
            for src in sources
            for p in sorted(src.glob("**/objects/*/*.object-meta.xml"))
            if _text(_read(p), "customSettingsType") == "Hierarchy"
        ),
    )


def _object(path: Path) -> CustomObjectDef | None:
    """A custom object's definition; None for a custom setting (``customSettingsType``: data, not records)."""
    root = _read(path)
    if _text(root, "customSettingsType"):
        return None
    name_field = root.find(f"{_NS}nameField")
    auto = _text(name_field, "displayFormat") if _text(name_field, "type") == "AutoNumber" else ""
    return CustomObjectDef(path.parent.name, auto or None)


def _quick_action(path: Path) -> QuickActionDef:
    root = _read(path)
    sobject, _, name = path.name.removesuffix(".quickAction-meta.xml").partition(".")
    overrides = tuple((_text(o, "field"), _text(o, "formula")) for o in _children(root, "fieldOverrides"))
    return QuickActionDef(sobject, name, _text(root, "type"), overrides)


def _custom_field(path: Path) -> CustomFieldDef:
    root = _read(path)
    length = _text(root, "length")
    return CustomFieldDef(
        sobject=path.parent.parent.name,
        name=_text(root, "fullName") or path.name.split(".")[0],
        type=_text(root, "type"),
        length=int(length) if length else None,
        unique=_text(root, "unique") == "true",
        external_id=_text(root, "externalId") == "true",
        required=_text(root, "required") == "true",
        case_sensitive=_text(root, "caseSensitive") == "true",
        formula=_text(root, "formula") or None,
        reference_to=_text(root, "referenceTo") or None,
        relationship_name=_text(root, "relationshipName") or None,
    )


def _outbound_messages(path: Path) -> Iterator[OutboundMessageDef]:
    sobject = path.name.split(".")[0]
    for message in _children(_read(path), "outboundMessages"):
        yield OutboundMessageDef(
            sobject=sobject,
            name=_text(message, "fullName"),
            fields=tuple((f.text or "").strip() for f in _children(message, "fields")),
            endpoint_url=_text(message, "endpointUrl"),
            integration_user=_text(message, "integrationUser"),
        )


_OPERATORS = {"EqualTo", "NotEqualTo", "IsNull"}


def _value(element: Element | None) -> str | bool | None:
    if element is None:
        return None
    if (text := _text(element, "stringValue", "\0")) != "\0":
        return text
    if (flag := _text(element, "booleanValue")) in ("true", "false"):
        return flag == "true"
    raise ValueError(f"unsupported value {SafeET.tostring(element)!r}")


def _flow(path: Path) -> RecordFlowDef:
    root = _read(path)
    start = root.find(f"{_NS}start")
    if start is None or not _text(start, "object"):
        raise ValueError(f"{path.name}: not a record-triggered Flow")
    if _text(start, "filterLogic", "and") != "and" or _text(start, "filterFormula"):
        raise ValueError(f"{path.name}: only AND-ed entry conditions are simulated")
    filters = []
    for element in _children(start, "filters"):
        operator = _text(element, "operator")
        if operator not in _OPERATORS:
            raise ValueError(f"{path.name}: entry condition operator {operator} is not simulated")
        filters.append(FlowFilter(_text(element, "field"), operator, _value(element.find(f"{_NS}value"))))
    return RecordFlowDef(
        name=path.name.split(".")[0],
        sobject=_text(start, "object"),
        trigger=_text(start, "recordTriggerType"),
        filters=tuple(filters),
        requires_change=_text(start, "doesRequireRecordChangedToMeetCriteria") == "true",
        skip_permission=_skip_permission(root),
        changed_fields=_changed_fields(root),
        outbound_messages=tuple(
            _text(a, "actionName")
            for a in _children(root, "actionCalls")
            if _text(a, "actionType") == "outboundMessage"
        ),
        publishes=tuple(_record_create(c) for c in _children(root, "recordCreates")),
        active=_text(root, "status") == "Active",
    )


def _skip_permission(root: Element) -> str | None:
    """The custom permission a decision checks for ``false`` before anything is sent (``$Permission.X``)."""
    for condition in root.iter(f"{_NS}conditions"):
        left = _text(condition, "leftValueReference")
        if left.startswith("$Permission.") and _value(condition.find(f"{_NS}rightValue")) is False:
            return left.removeprefix("$Permission.")
    return None


def _changed_fields(root: Element) -> tuple[str, ...]:
    """Fields a decision requires changed: ``$Record.F`` NotEqualTo ``$Record__Prior.F``."""
    changed = []
    for condition in root.iter(f"{_NS}conditions"):
        left = _text(condition, "leftValueReference")
        right = _text(condition.find(f"{_NS}rightValue"), "elementReference")
        if (
            _text(condition, "operator") == "NotEqualTo"
            and left.startswith("$Record.")
            and right.startswith("$Record__Prior.")
        ):
            if left.removeprefix("$Record.") != right.removeprefix("$Record__Prior."):
                raise ValueError(f"{left} compared with {right}: not a change of one field")
            changed.append(left.removeprefix("$Record."))
    return tuple(changed)


def _record_create(element: Element) -> tuple[str, tuple[tuple[str, str], ...]]:
    assignments = []
    for assignment in _children(element, "inputAssignments"):
        reference = _text(assignment.find(f"{_NS}value"), "elementReference")
        assignments.append((_text(assignment, "field"), reference.removeprefix("$Record.")))
    return _text(element, "object"), tuple(assignments)


def _channel_members(sources: list[Path]) -> dict[str, tuple[str, ...]]:
    members: dict[str, list[str]] = {}
    for src in sources:
        for path in sorted(src.glob("**/platformEventChannelMembers/*.platformEventChannelMember-meta.xml")):
            root = _read(path)
            members.setdefault(_text(root, "eventChannel"), []).append(_text(root, "selectedEntity"))
    return {channel: tuple(entities) for channel, entities in members.items()}


def _permission_set(path: Path) -> PermissionSetDef:
    root = _read(path)

    def enabled(tag: str) -> frozenset[str]:
        return frozenset(_text(e, "name") for e in _children(root, tag) if _text(e, "enabled") == "true")

    return PermissionSetDef(
        name=path.name.split(".")[0],
        user_permissions=enabled("userPermissions"),
        custom_permissions=enabled("customPermissions"),
        objects={
            _text(e, "object"): (_text(e, "allowRead") == "true", _text(e, "allowEdit") == "true")
            for e in _children(root, "objectPermissions")
        },
        fields={
            _text(e, "field"): (_text(e, "readable") == "true", _text(e, "editable") == "true")
            for e in _children(root, "fieldPermissions")
        },
    )
