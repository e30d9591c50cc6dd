"""The mapping checked against one org: every field it reads exists, is readable, and can produce the value.

The worker selects every mapped path in one SOQL per batch; one field the org lacks (or hides from the
integration user through field-level security) fails the whole query with INVALID_FIELD, batch after batch.
Checked once against the org's describes (``shared.salesforce.OrgSchema``), such a mapping is refused at the
worker's cold start with the entry named, and ``sfsync doctor`` prints the same findings.

A finding is an *error* when the sync can't work (a missing field, a compound field, a checkbox mapped to a
Stripe field with fixed values and no value map) and a *warning* when it works but may refuse some values
(free text mapped to such a field).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from shared.mapping.config import MappingConfig
from shared.mapping.paths import SalesforcePath
from shared.mapping.stripe_paths import StripeField, stripe_field
from shared.salesforce.describe import COMPOUND_TYPES, FieldInfo, ObjectInfo, OrgSchema

ERROR, WARNING = "error", "warning"
ACCOUNT, ORDER = "Account", "Order"
# What the worker's own query reads besides the mapping (shared.salesforce.gateway.account_soql).
_ACCOUNT_BASICS = ("Id", "Name", "IsDeleted", "MasterRecordId", "SystemModstamp")
_ORDER_BASICS = ("Id", "AccountId", "Status", "ActivatedDate", "SystemModstamp")
_TEXT_TYPES = frozenset({"string", "textarea", "phone", "email", "url", "picklist", "id", "reference", "combobox"})
_CPQ_NAMESPACE = "sbqq__"


@dataclass(frozen=True)
class Finding:
    """One problem: which setting or mapping entry, which Salesforce field, what is wrong and the fix."""

    level: str
    entry: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.entry} ({self.field}): {self.message}"


def check_mapping(config: MappingConfig, schema: OrgSchema) -> list[Finding]:
    """Every ``fields`` entry's sources resolved against the org, and their types against the Stripe field."""
    findings: list[Finding] = []
    for path, entry in config.fields.items():
        target = _stripe_target(path)
        values = getattr(entry, "values", None)  # value maps (a mapping entry's "values"), when configured
        for source in entry.sources:
            resolved = _resolve(schema, source)
            entry_name = f"fields[{path!r}]"
            if isinstance(resolved, str):
                findings.append(Finding(ERROR, entry_name, _full(source), resolved))
                continue
            problem = _type_problem(resolved, target, has_value_map=bool(values))
            if problem:
                findings.append(Finding(problem[0], entry_name, _full(source), problem[1]))
    return findings


def check_write_back(fields: Iterable[tuple[str, str]], schema: OrgSchema) -> list[Finding]:
    """The Account fields the worker writes (``(setting, field)`` pairs): present, readable and editable."""
    account = schema.object(ACCOUNT)
    findings: list[Finding] = []
    for setting, name in fields:
        info = account.field(name) if account else None
        where = f"Account.{name}"
        if info is None:
            findings.append(Finding(ERROR, setting, where, _missing(name, ACCOUNT) + "; the sync writes it back"))
        elif not info.updateable:
            findings.append(
                Finding(
                    ERROR,
                    setting,
                    where,
                    "the integration user can read but not edit it: give its permission set Edit access "
                    "(Setup → Field Accessibility); until then customer ids and sync results are not written back",
                )
            )
        elif info.type not in _TEXT_TYPES:
            findings.append(Finding(ERROR, setting, where, f"is a {info.type} field; it must hold text"))
    return findings


def check_query_basics(schema: OrgSchema) -> list[Finding]:
    """The fields the worker's query always reads: Account's and the latest activated Order's."""
    findings: list[Finding] = []
    for sobject, names in ((ACCOUNT, _ACCOUNT_BASICS), (ORDER, _ORDER_BASICS)):
        info = schema.object(sobject)
        if info is None:
            findings.append(Finding(ERROR, "the sync's query", sobject, _no_object(sobject)))
            continue
        for name in names:
            if info.field(name) is None:
                findings.append(Finding(ERROR, "the sync's query", f"{sobject}.{name}", _missing(name, sobject)))
    account = schema.object(ACCOUNT)
    if account is not None and "orders" not in account.child_relationships:
        findings.append(Finding(ERROR, "the sync's query", "Account.Orders", "the Orders relationship is not visible"))
    return findings


def errors_of(findings: Sequence[Finding]) -> list[Finding]:
    """Only the errors."""
    return [finding for finding in findings if finding.level == ERROR]


def _stripe_target(path: str) -> StripeField | None:
    try:
        return stripe_field(path)
    except ValueError:
        return None  # a field kind with its own rules (lists, tax IDs): not a single string field


def _full(source: SalesforcePath) -> str:
    return f"{ORDER if source.on_order else ACCOUNT}.{source.soql}"


def _resolve(schema: OrgSchema, source: SalesforcePath) -> FieldInfo | str:
    """The field at the end of the path, or what is wrong with the path, in an admin's words."""
    current: ObjectInfo | None = schema.object(ORDER if source.on_order else ACCOUNT)
    if current is None:
        return _no_object(ORDER if source.on_order else ACCOUNT)
    for hop in source.segments[:-1]:
        lookup = current.relationship(hop)
        if lookup is None or not lookup.reference_to:
            return _cpq_hint(hop) or (
                f"{current.name} has no relationship {hop!r}, or the integration user can't read its lookup field "
                "(field-level security)"
            )
        target = schema.object(lookup.reference_to[0])
        if target is None:
            return _cpq_hint(lookup.reference_to[0]) or _no_object(lookup.reference_to[0])
        current = target
    name = source.segments[-1]
    return current.field(name) or _cpq_hint(name) or _missing(name, current.name)


def _type_problem(info: FieldInfo, target: StripeField | None, *, has_value_map: bool) -> tuple[str, str] | None:
    if info.type in COMPOUND_TYPES:
        return ERROR, f"is a compound {info.type} field; map one of its components (e.g. BillingStreet, BillingCity)"
    if info.type == "base64":
        return ERROR, "is a file (base64) field and can't become a Stripe value"
    if target is None or not target.choices or has_value_map:
        return None
    allowed = ", ".join(target.choices)
    if info.type == "boolean":
        return ERROR, (
            f"a checkbox gives true/false, but Stripe's {target.path} takes only {allowed}: add a value map"
            + _checkbox_example(target.choices)
        )
    if info.type == "picklist" and info.picklist_values:
        outside = [value for value in info.picklist_values if value not in target.choices]
        if outside:
            return ERROR, (
                f"picklist values {', '.join(outside)} are not among Stripe's {target.path} values ({allowed}): "
                "add a value map"
            )
        return None
    return WARNING, f"only the values {allowed} are accepted for Stripe's {target.path}; others are refused"


# Stripe's enum value for "no special treatment" (tax_exempt: "none", its default for every customer).
NEUTRAL_CHOICE = "none"


def _checkbox_example(choices: tuple[str, ...]) -> str:
    """A value map for a checkbox, derived from Stripe's enum: false → its neutral value, true → the first
    other one (tax_exempt: exempt). Never a value that changes treatment for an unticked box (``reverse``
    would put every non-exempt customer on reverse charge); no example when the enum has no neutral value."""
    if NEUTRAL_CHOICE not in choices:
        return ""
    ticked = next(choice for choice in choices if choice != NEUTRAL_CHOICE)
    return f', e.g. "values": {_json({"true": ticked, "false": NEUTRAL_CHOICE})}'


def _missing(name: str, sobject: str) -> str:
    return (
        f"no field {name} on {sobject}, or the integration user can't read it: create the field, or give the "
        "integration user's permission set Read access to it (Setup → Field Accessibility)"
    )


def _no_object(sobject: str) -> str:
    return f"the object {sobject} does not exist in this org or the integration user has no access to it"


def _cpq_hint(name: str) -> str | None:
    if not name.lower().startswith(_CPQ_NAMESPACE):
        return None
    return (
        f"{name} belongs to Salesforce CPQ (namespace SBQQ), which is not installed in this org or not visible to "
        "the integration user (assign the CPQ licence and permission set), or map the email from another field"
    )


def _json(value: Any) -> str:
    import json

    return json.dumps(value)
