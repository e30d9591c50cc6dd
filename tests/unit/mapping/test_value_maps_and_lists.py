"""Value maps, list fields and the tax ID entry: what a Salesforce admin maps beyond plain strings."""

from __future__ import annotations

import pytest

from shared.mapping import CustomerMapping, MappingConfigError
from shared.stripe.customer_diff import update_params
from tests.unit.mapping.records import account

TAX_EXEMPT = {"fields": {"tax_exempt": {"from": "Tax_Exempt__c", "values": {"true": "exempt", "false": "none"}}}}


def test_a_checkbox_becomes_tax_exempt_through_a_value_map() -> None:
    # Given a checkbox mapped to tax_exempt with a value map
    mapping = CustomerMapping.from_dict(TAX_EXEMPT)
    # When a ticked and an unticked account are mapped (REST returns booleans)
    ticked = mapping.map_account(account(Tax_Exempt__c=True))
    unticked = mapping.map_account(account(Tax_Exempt__c=False))
    # Then Stripe gets its own values
    assert ticked.params["tax_exempt"] == "exempt"
    assert unticked.params["tax_exempt"] == "none"


def test_a_picklist_label_matches_its_map_entry_ignoring_case() -> None:
    mapping = CustomerMapping.from_dict(
        {
            "fields": {
                "tax_exempt": {"from": "Tax_Status__c", "values": {"Exempt": "exempt", "Reverse charge": "reverse"}}
            }
        }
    )
    assert mapping.map_account(account(Tax_Status__c="reverse CHARGE")).params["tax_exempt"] == "reverse"


def test_a_value_map_target_stripe_refuses_is_an_error_at_load() -> None:
    # Given a value map whose target is not one of Stripe's tax_exempt values
    config = {"fields": {"tax_exempt": {"from": "Tax_Exempt__c", "values": {"true": "yes"}}}}
    # Then the mapping does not load, and the error names the entry and Stripe's values
    with pytest.raises(MappingConfigError, match=r"fields\['tax_exempt'\].*'true' → 'yes'.*exempt, none, reverse"):
        CustomerMapping.from_dict(config)


def test_a_value_outside_the_map_is_a_warning_naming_the_field_without_echoing_the_value() -> None:
    mapping = CustomerMapping.from_dict({"fields": {"name": "Name", **TAX_EXEMPT["fields"]}})
    mapped = mapping.map_account(account(Tax_Exempt__c="maybe"))
    # Then the customer is still mapped, without tax_exempt, and the warning names the Salesforce field
    assert "tax_exempt" not in mapped.flat and mapped.flat["name"] == "Acme GmbH"
    (warning,) = mapped.warnings
    assert (warning.field, warning.stripe_path, warning.left_out) == ("Tax_Exempt__c", "tax_exempt", True)
    assert "maybe" not in warning.problem and "false, true" in warning.problem


def test_preferred_locales_from_a_language_field_are_normalised() -> None:
    # Given a multi-select language picklist ("German;fr_CA;de" as REST returns it)
    mapping = CustomerMapping.from_dict({"fields": {"preferred_locales": "Languages__c"}})
    mapped = mapping.map_account(account(Languages__c="German;fr_CA;de"))
    # Then Stripe gets IETF tags in order, without duplicates
    assert mapped.params["preferred_locales"] == ["de", "fr-CA"]


def test_an_unknown_language_leaves_the_list_out_with_a_warning() -> None:
    mapping = CustomerMapping.from_dict({"fields": {"preferred_locales": "Languages__c"}})
    mapped = mapping.map_account(account(Languages__c="de;Klingon-ish"))
    assert not any(path.startswith("preferred_locales") for path in mapped.flat)
    assert [(w.field, w.stripe_path) for w in mapped.warnings] == [("Languages__c", "preferred_locales")]


def test_custom_fields_are_name_value_pairs_in_order_and_empty_ones_are_left_out() -> None:
    config = {
        "fields": {
            "invoice_settings.custom_fields": [
                {"name": "PO number", "from": "Order.PoNumber"},
                {"name": "Cost centre", "from": "Cost_Centre__c"},
                {"name": "Contract", "from": "Contract__c"},
            ]
        }
    }
    mapping = CustomerMapping.from_dict(config)
    assert "PoNumber" in mapping.order_fields
    mapped = mapping.map_account(account(Cost_Centre__c="CC-7", Contract__c="K-1"))
    assert mapped.params["invoice_settings"]["custom_fields"] == [
        {"name": "Cost centre", "value": "CC-7"},
        {"name": "Contract", "value": "K-1"},
    ]


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ([{"name": f"F{i}", "from": "A__c"} for i in range(5)], "at most 4"),
        ([{"name": "x" * 41, "from": "A__c"}], "at most 40"),
        ([{"name": "Same", "from": "A__c"}, {"name": "Same", "from": "B__c"}], "unique"),
        ([{"from": "A__c"}], "name"),
    ],
)
def test_custom_fields_beyond_stripes_limits_are_refused_at_load(entries: list, message: str) -> None:
    with pytest.raises(MappingConfigError, match=message):
        CustomerMapping.from_dict({"fields": {"invoice_settings.custom_fields": entries}})


def test_a_custom_field_value_over_140_characters_is_a_warning_naming_the_field() -> None:
    mapping = CustomerMapping.from_dict(
        {"fields": {"invoice_settings.custom_fields": [{"name": "PO", "from": "Po__c"}]}}
    )
    mapped = mapping.map_account(account(Po__c="P" * 141))
    assert [(w.field, w.stripe_path) for w in mapped.warnings] == [("Po__c", "invoice_settings.custom_fields")]
    assert "invoice_settings" not in mapped.params


@pytest.mark.parametrize(
    ("value", "country", "expected"),
    [
        ("DE 123 456 789", None, ("eu_vat", "DE123456789")),
        ("GB123456789", None, ("gb_vat", "GB123456789")),
        ("CHE-123.456.789 MWST", None, ("ch_vat", "CHE-123.456.789 MWST")),
        ("123456789MVA", "NO", ("no_vat", "123456789MVA")),
    ],
)
def test_the_tax_id_type_is_derived_from_the_prefix_or_billing_country(
    value: str, country: str | None, expected: tuple
) -> None:
    mapping = CustomerMapping.from_dict(
        {"fields": {"tax_id_data": "VAT_Number__c", "address.country": "BillingCountry"}}
    )
    mapped = mapping.map_account(account(VAT_Number__c=value, BillingCountry=country))
    assert mapped.params["tax_id_data"] == [{"type": expected[0], "value": expected[1]}]


def test_a_tax_id_type_given_in_the_mapping_wins_and_unknown_types_are_refused_at_load() -> None:
    mapping = CustomerMapping.from_dict({"fields": {"tax_id_data": {"from": "VAT_Number__c", "type": "eu_vat"}}})
    assert mapping.map_account(account(VAT_Number__c="ATU12345678")).params["tax_id_data"][0]["type"] == "eu_vat"
    with pytest.raises(MappingConfigError, match="unknown Stripe tax ID type 'xx_vat'"):
        CustomerMapping.from_dict({"fields": {"tax_id_data": {"from": "VAT_Number__c", "type": "xx_vat"}}})
    with pytest.raises(MappingConfigError, match="'type' applies only to tax_id_data"):
        CustomerMapping.from_dict({"fields": {"name": {"from": "Name", "type": "eu_vat"}}})


def test_an_update_replaces_a_list_whole_and_never_sends_tax_id_data() -> None:
    # Given a customer synced with two locales, a custom field and a tax ID
    old = {
        "preferred_locales.0": "de",
        "preferred_locales.1": "en",
        "invoice_settings.custom_fields.0.name": "PO",
        "invoice_settings.custom_fields.0.value": "1",
        "tax_id_data.0.type": "eu_vat",
        "tax_id_data.0.value": "DE123456789",
    }
    # When one locale changes, the custom field is cleared and the tax ID changes
    new = {
        "preferred_locales.0": "de",
        "preferred_locales.1": "fr",
        "tax_id_data.0.type": "eu_vat",
        "tax_id_data.0.value": "DE999999999",
    }
    # Then the whole locale list is sent, the custom fields are removed with "", and tax_id_data is not sent
    assert update_params(old, new) == {"preferred_locales": ["de", "fr"], "invoice_settings": {"custom_fields": ""}}
