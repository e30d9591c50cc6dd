"""The mapping checked against an org's describes (no network: describes as Salesforce shapes them)."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

from shared.mapping import check_mapping, check_write_back
from shared.mapping.config import parse_config
from shared.mapping.paths import parse_path
from shared.salesforce import OrgSchema


def field(name: str, type_: str = "string", *, updateable: bool = True, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, "updateable": updateable, **extra}


def org(*, cpq: bool = True, account: list[dict[str, Any]] | None = None) -> OrgSchema:
    quote_lookup = field(
        "SBQQ__Quote__c", "reference", referenceTo=["SBQQ__Quote__c"], relationshipName="SBQQ__Quote__r"
    )
    described = {
        "Account": {"name": "Account", "fields": [field("Id", "id"), field("Name"), *(account or [])]},
        "Order": {"name": "Order", "fields": [field("Id", "id"), *([quote_lookup] if cpq else [])]},
        "SBQQ__Quote__c": {"name": "SBQQ__Quote__c", "fields": [field("Name")]},
    }
    calls: list[str] = []

    def describe(name: str) -> dict[str, Any] | None:
        calls.append(name)
        return described.get(name) if cpq or not name.startswith("SBQQ") else None

    schema = OrgSchema(describe)
    schema.calls = calls  # type: ignore[attr-defined]
    return schema


def test_a_checkbox_mapped_to_tax_exempt_is_an_error_proposing_a_value_map() -> None:
    schema = org(account=[field("Tax_Exempt__c", "boolean")])
    [finding] = check_mapping(parse_config({"fields": {"tax_exempt": "Tax_Exempt__c"}}), schema)
    assert finding.level == "error" and finding.entry == "fields['tax_exempt']"
    assert "a checkbox gives true/false" in finding.message and '"values": {"true": ' in finding.message


def test_the_checkbox_suggestion_for_tax_exempt_never_puts_unticked_accounts_on_reverse_charge() -> None:
    # Given a checkbox mapped to tax_exempt (Stripe's enum: exempt, none, reverse; "none" is its default)
    schema = org(account=[field("Tax_Exempt__c", "boolean")])
    [finding] = check_mapping(parse_config({"fields": {"tax_exempt": "Tax_Exempt__c"}}), schema)
    # When the admin copies the suggested value map
    suggested = json.loads(finding.message.split('"values": ', 1)[1])
    # Then ticked means exempt and unticked means no special treatment, and the suggestion loads as it is
    assert suggested == {"true": "exempt", "false": "none"}
    parse_config({"fields": {"tax_exempt": {"from": "Tax_Exempt__c", "values": suggested}}})


def test_a_value_map_satisfies_the_type_check() -> None:
    # Given an entry carrying a value map (the mapping config's "values")
    entry = SimpleNamespace(sources=(parse_path("Tax_Exempt__c"),), values={"true": "exempt", "false": "none"})
    config = SimpleNamespace(fields={"tax_exempt": entry})
    # Then a checkbox source is fine
    assert check_mapping(config, org(account=[field("Tax_Exempt__c", "boolean")])) == []  # type: ignore[arg-type]


def test_a_picklist_is_checked_value_by_value() -> None:
    values = lambda *vs: [{"value": v, "active": True} for v in vs]  # noqa: E731
    good = org(account=[field("Tax__c", "picklist", picklistValues=values("exempt", "none"))])
    bad = org(account=[field("Tax__c", "picklist", picklistValues=values("Exempt", "none"))])
    config = parse_config({"fields": {"tax_exempt": "Tax__c"}})
    assert check_mapping(config, good) == []
    [finding] = check_mapping(config, bad)
    assert finding.level == "error" and "picklist values Exempt are not among" in finding.message


def test_free_text_mapped_to_tax_exempt_is_a_warning_and_a_compound_field_an_error() -> None:
    schema = org(account=[field("Tax__c"), field("BillingAddress", "address")])
    config = parse_config({"fields": {"tax_exempt": "Tax__c", "address.line1": "BillingAddress"}})
    levels = {f.entry: f.level for f in check_mapping(config, schema)}
    assert levels == {"fields['tax_exempt']": "warning", "fields['address.line1']": "error"}


def test_a_path_through_cpq_in_an_org_without_it_names_cpq() -> None:
    config = parse_config({"fields": {"email": "Order.SBQQ__Quote__r.SBQQ__PrimaryContact__r.Email"}})
    [finding] = check_mapping(config, org(cpq=False))
    assert finding.field == "Order.SBQQ__Quote__r.SBQQ__PrimaryContact__r.Email"
    assert "Salesforce CPQ (namespace SBQQ), which is not installed" in finding.message


def test_each_object_is_described_once() -> None:
    schema = org(account=[field("Phone", "phone"), field("Description", "textarea")])
    check_mapping(parse_config({"fields": {"phone": "Phone", "description": "Description", "name": "Name"}}), schema)
    assert schema.calls == ["Account"]  # type: ignore[attr-defined]


def test_write_back_fields_must_be_editable_text() -> None:
    schema = org(account=[field("Stripe_Id__c", updateable=False), field("Synced__c", "boolean")])
    findings = check_write_back([("SALESFORCE_STRIPE_ID_FIELD", "Stripe_Id__c"),
                                 ("SALESFORCE_SYNC_STATUS_FIELD", "Synced__c"),
                                 ("SALESFORCE_SYNC_ERROR_FIELD", "Missing__c")], schema)  # fmt: skip
    assert [(f.entry, f.level) for f in findings] == [
        ("SALESFORCE_STRIPE_ID_FIELD", "error"),
        ("SALESFORCE_SYNC_STATUS_FIELD", "error"),
        ("SALESFORCE_SYNC_ERROR_FIELD", "error"),
    ]
    assert "can read but not edit it" in findings[0].message and "boolean" in findings[1].message
