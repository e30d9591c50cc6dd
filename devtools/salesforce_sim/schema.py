"""Objects, fields, lookups and child relationships of the simulated org (names case-insensitive)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import SalesforceError
from .order_status import OrderStatuses
from .package import CustomFieldDef, CustomObjectDef, load_package

# Field types the simulator knows; they decide value coercion, SOQL literal checks and rendering.
TEXT_TYPES = frozenset({"string", "textarea", "phone", "url", "email", "picklist"})
FIELD_TYPES = TEXT_TYPES | {"id", "boolean", "datetime", "date", "reference", "double"}
SYSTEM_FIELDS = ("CreatedDate", "LastModifiedDate", "SystemModstamp")


@dataclass
class FieldDef:
    """One field: API name, type and what the API may do with it."""

    name: str
    type: str = "string"
    length: int | None = 255
    reference_to: str | None = None
    relationship_name: str | None = None
    updateable: bool = True
    required: bool = False  # required on REST create (REQUIRED_FIELD_MISSING)
    unique: bool = False  # a second record with the value is refused (DUPLICATE_VALUE: ``unique``)
    case_sensitive: bool = False  # for a unique field: whether 'ABC' and 'abc' are different values
    formula: str | None = None  # a formula field's formula (formula.py evaluates it on read)
    master_detail: bool = False  # the detail record is deleted with its master ("Master-Detail Relationships")


@dataclass
class ObjectDef:
    """One sObject type: key prefix, fields in describe order and child relationships."""

    name: str
    prefix: str
    fields: dict[str, FieldDef] = field(default_factory=dict)  # keyed by lower-cased API name
    children: dict[str, tuple[str, str]] = field(default_factory=dict)  # rel (lower) -> (object, field)
    child_names: dict[str, str] = field(default_factory=dict)  # rel (lower) -> canonical rel name
    auto_number: str | None = None  # the Name's AutoNumber display format, e.g. "SSR-{0000000}"

    @classmethod
    def of(cls, name: str, prefix: str, fields: list[FieldDef]) -> ObjectDef:
        """An object with these fields, in this (describe) order."""
        obj = cls(name, prefix)
        for fdef in fields:
            obj.add(fdef)
        return obj

    def add(self, fdef: FieldDef) -> None:
        self.fields[fdef.name.lower()] = fdef

    def field(self, name: str) -> FieldDef | None:
        return self.fields.get(name.lower())

    def parent_relationship(self, name: str) -> FieldDef | None:
        """The lookup field whose relationship name is `name` (e.g. `Account` → AccountId)."""
        wanted = name.lower()
        for fdef in self.fields.values():
            if fdef.relationship_name and fdef.relationship_name.lower() == wanted:
                return fdef
        return None

    def field_names(self) -> list[str]:
        return [f.name for f in self.fields.values()]


def _text(name: str, length: int = 255, **kw: object) -> FieldDef:
    return FieldDef(name, "string", length, **kw)  # type: ignore[arg-type]


def _lookup(name: str, target: str, rel: str, **kw: object) -> FieldDef:
    return FieldDef(name, "reference", 18, reference_to=target, relationship_name=rel, **kw)  # type: ignore[arg-type]


# Metadata API field types (CustomField.type) → the simulator's REST describe types.
_METADATA_TYPES = {
    "Text": "string",
    "TextArea": "textarea",
    "LongTextArea": "textarea",
    "Picklist": "picklist",
    "Checkbox": "boolean",
    "Date": "date",
    "DateTime": "datetime",
    "Number": "double",
    "Email": "email",
    "Phone": "phone",
    "Url": "url",
}


def _package_fields(sobject: str) -> list[FieldDef]:
    """The custom fields the Salesforce DX package (``salesforce/``) deploys on ``sobject``."""
    return [_from_metadata(f) for f in load_package().fields_of(sobject)]


def _from_metadata(definition: CustomFieldDef) -> FieldDef:
    if definition.type in ("Lookup", "MasterDetail") and definition.reference_to:
        # A master-detail field is required on create ("Master-Detail Relationships", Salesforce Help).
        required = definition.type == "MasterDetail"
        # The child's side of a custom relationship: Account__c → Account__r (the parent's side is
        # ``relationshipName`` + __r, see Schema).
        rel = f"{definition.name.removesuffix('__c')}__r"
        return _lookup(definition.name, definition.reference_to, rel, required=required, master_detail=required)
    kind = _METADATA_TYPES.get(definition.type)
    if kind is None:
        raise ValueError(f"{definition.sobject}.{definition.name}: field type {definition.type} is not simulated")
    length = definition.length if kind in TEXT_TYPES else None
    return FieldDef(
        definition.name,
        kind,
        length,
        unique=definition.unique,
        case_sensitive=definition.case_sensitive,
        updateable=definition.formula is None,  # a formula field is calculated, never written
        formula=definition.formula,
    )


def _head() -> list[FieldDef]:
    return [
        FieldDef("Id", "id", 18, updateable=False),
        FieldDef("IsDeleted", "boolean", None, updateable=False),
    ]


def _tail() -> list[FieldDef]:
    return [FieldDef(n, "datetime", None, updateable=False) for n in SYSTEM_FIELDS]


def _address(prefix: str, picklists: bool) -> list[FieldDef]:
    fields = [
        FieldDef(f"{prefix}Street", "textarea", 255),
        _text(f"{prefix}City", 40),
        _text(f"{prefix}State", 80),
        _text(f"{prefix}PostalCode", 20),
        _text(f"{prefix}Country", 80),
    ]
    if picklists:
        # Only orgs with State and Country/Territory Picklists enabled have these columns.
        fields += [FieldDef(f"{prefix}StateCode", "picklist", 10), FieldDef(f"{prefix}CountryCode", "picklist", 10)]
    return fields


def _account(picklists: bool) -> ObjectDef:
    return ObjectDef.of(
        "Account",
        "001",
        [
            *_head(),
            _lookup("MasterRecordId", "Account", "MasterRecord", updateable=False),
            _text("Name", required=True),
            _lookup("ParentId", "Account", "Parent"),
            *_address("Billing", picklists),
            *_address("Shipping", picklists),
            FieldDef("Phone", "phone", 40),
            FieldDef("Website", "url", 255),
            FieldDef("Description", "textarea", 32000),
            *_tail(),
            *_package_fields("Account"),  # Stripe Customer ID, Sync Status, Sync Error: salesforce/
            _text("stripeConnector__Stripe_ID__c"),  # Stripe's own connector (a managed package)
        ],
    )


def _contact() -> ObjectDef:
    return ObjectDef.of(
        "Contact",
        "003",
        [
            *_head(),
            _lookup("MasterRecordId", "Contact", "MasterRecord", updateable=False),
            _lookup("AccountId", "Account", "Account"),
            _text("LastName", 80, required=True),
            _text("FirstName", 40),
            _text("Name", 121, updateable=False),  # computed "First Last"
            FieldDef("MailingStreet", "textarea", 255),
            _text("MailingCity", 40),
            _text("MailingState", 80),
            _text("MailingPostalCode", 20),
            _text("MailingCountry", 80),
            FieldDef("Phone", "phone", 40),
            FieldDef("Email", "email", 80),
            *_tail(),
        ],
    )


def _order(cpq: bool) -> ObjectDef:
    quote = [_lookup("SBQQ__Quote__c", "SBQQ__Quote__c", "SBQQ__Quote__r")] if cpq else []
    return ObjectDef.of(
        "Order",
        "801",
        [
            *_head(),
            _lookup("AccountId", "Account", "Account", required=True),
            FieldDef("EffectiveDate", "date", None, required=True),
            FieldDef("Status", "picklist", 40, required=True),
            FieldDef("StatusCode", "picklist", 40, updateable=False),
            FieldDef("ActivatedDate", "datetime", None, updateable=False),
            *quote,
            _lookup("BillToContactId", "Contact", "BillToContact"),
            _lookup("ShipToContactId", "Contact", "ShipToContact"),
            *_tail(),
        ],
    )


def _quote() -> ObjectDef:
    return ObjectDef.of(
        "SBQQ__Quote__c",
        "a0z",
        [
            *_head(),
            _text("Name", 80, updateable=False),  # auto-number Q-00001
            _lookup("SBQQ__Account__c", "Account", "SBQQ__Account__r"),
            _lookup("SBQQ__PrimaryContact__c", "Contact", "SBQQ__PrimaryContact__r"),
            FieldDef("SBQQ__Primary__c", "boolean", None),
            *_tail(),
        ],
    )


# Key prefixes of the package's custom objects: an org assigns its own (a0…); stable ones keep tests readable.
_CUSTOM_PREFIXES = ("a1S", "a1T", "a1U", "a1V")


def _custom_object(definition: CustomObjectDef, prefix: str) -> ObjectDef:
    """A custom object of the package: Id, IsDeleted, Name (an auto number is not writable), its fields."""
    name = FieldDef("Name", "string", 80, updateable=definition.auto_number is None)
    obj = ObjectDef.of(definition.name, prefix, [*_head(), name, *_tail(), *_package_fields(definition.name)])
    obj.auto_number = definition.auto_number
    return obj


def _custom_setting(name: str, prefix: str) -> ObjectDef:
    """A hierarchy custom setting the package deploys, as the API shows it: an object whose records are the org
    default (``SetupOwnerId`` = the org's id) and profile or user overrides (``SetupOwnerId`` = their id).

    Apex Reference, "Hierarchy Custom Setting Methods": ``getOrgDefaults()`` "returns the custom setting data
    set record for the organization", i.e. the record whose ``SetupOwnerId`` is the org id
    (https://developer.salesforce.com/docs/atlas.en-us.apexref.meta/apexref/apex_methods_system_custom_settings.htm).
    ``SetupOwnerId`` is polymorphic (Organization, Profile, User): no relationship the simulator follows.
    """
    return ObjectDef.of(
        name,
        prefix,
        [
            *_head(),
            _text("Name", 80, updateable=False),
            FieldDef("SetupOwnerId", "reference", 18, updateable=False),
            *_tail(),
            *_package_fields(name),
        ],
    )


class Schema:
    """All objects of the org, looked up case-insensitively by name or by id prefix."""

    def __init__(self, state_country_picklists: bool = False, cpq: bool = True) -> None:
        self.state_country_picklists = state_country_picklists
        self.order_statuses = OrderStatuses()  # the org's Order Status values and their categories
        # Salesforce CPQ is a managed package (namespace SBQQ): without it there is no quote object and
        # no Order.SBQQ__Quote__c lookup.
        objects = [_account(state_country_picklists), _contact(), _order(cpq), *([_quote()] if cpq else [])]
        custom = load_package().custom_objects
        objects += [_custom_object(d, p) for d, p in zip(custom, _CUSTOM_PREFIXES, strict=False)]
        # Key prefixes of custom objects are org-specific (a0…, a1…); these are the simulator's.
        settings = load_package().custom_settings
        objects += [_custom_setting(name, f"a1{chr(ord('A') + n)}") for n, name in enumerate(settings)]
        self._objects = {o.name.lower(): o for o in objects}
        for lookup in load_package().custom_fields:  # e.g. Account.Stripe_Sync_Records__r
            if lookup.reference_to and lookup.relationship_name and self.get(lookup.sobject):
                self._add_child(lookup.reference_to, f"{lookup.relationship_name}__r", lookup.sobject, lookup.name)
        self._add_child("Account", "Orders", "Order", "AccountId")
        self._add_child("Account", "Contacts", "Contact", "AccountId")
        self._add_child("Account", "ChildAccounts", "Account", "ParentId")

    def _add_child(self, parent: str, rel: str, child: str, fname: str) -> None:
        obj = self.require(parent)
        obj.children[rel.lower()] = (child, fname)
        obj.child_names[rel.lower()] = rel

    def get(self, name: str) -> ObjectDef | None:
        return self._objects.get(name.lower())

    def require(self, name: str) -> ObjectDef:
        """The object, or INVALID_TYPE as Salesforce answers for an unknown sObject."""
        obj = self.get(name)
        if obj is None:
            raise SalesforceError(404, "NOT_FOUND", f"The requested resource does not exist: sObject type '{name}'")
        return obj

    def by_prefix(self, prefix: str) -> ObjectDef | None:
        return next((o for o in self._objects.values() if o.prefix == prefix), None)

    def objects(self) -> list[ObjectDef]:
        return list(self._objects.values())

    def add_field(self, sobject: str, name: str, type: str = "string", length: int | None = 255) -> FieldDef:
        """Add a custom field (e.g. `Billing_Email__c`); adding an existing field is a no-op."""
        if type not in FIELD_TYPES or type in ("id", "reference"):
            raise ValueError(f"unsupported field type {type!r}")
        obj = self.require(sobject)
        existing = obj.field(name)
        if existing is not None:
            return existing
        fdef = FieldDef(name, type, length if type in TEXT_TYPES else None)
        obj.add(fdef)
        return fdef

    def lookups_to(self, target: str) -> list[tuple[ObjectDef, FieldDef]]:
        """Every updateable lookup pointing at `target` (what a merge reparents)."""
        return [
            (obj, fdef)
            for obj in self._objects.values()
            for fdef in obj.fields.values()
            if fdef.reference_to == target and fdef.updateable
        ]
