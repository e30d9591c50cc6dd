"""R5 BillingCountry/ShippingCountry → address.country: Stripe's tax features need ISO 3166-1 alpha-2."""

from __future__ import annotations

import pytest

from shared.mapping import CustomerMapping, load_mapping
from tests.unit.mapping.records import account


@pytest.fixture(scope="module")
def standard() -> CustomerMapping:
    return load_mapping("standard")


@pytest.mark.parametrize(
    ("salesforce_value", "alpha2"),
    [
        ("Germany", "DE"),
        ("Deutschland", "DE"),
        ("germany ", "DE"),
        ("GERMANY", "DE"),
        ("DEU", "DE"),
        ("deu", "DE"),
        ("de", "DE"),
        ("US", "US"),
        ("USA", "US"),
        ("United States of America", "US"),
        ("United States", "US"),
        ("UK", "GB"),
        ("Great Britain", "GB"),
        ("United Kingdom", "GB"),
        ("Österreich", "AT"),
        ("Espana", "ES"),
        ("Russia", "RU"),
    ],
)
def test_rule_r5_billing_country_is_normalised_to_alpha2(
    standard: CustomerMapping, salesforce_value: str, alpha2: str
) -> None:
    # Given a billing country held as a code or a name, in any case and spacing
    record = account(BillingCountry=salesforce_value)
    # When it is mapped
    params = standard.map_account(record).params
    # Then Stripe gets the alpha-2 code
    assert params["address"]["country"] == alpha2


def test_rule_r5_unknown_billing_country_is_a_warning_naming_the_field(standard: CustomerMapping) -> None:
    # Given a billing country that is no country, beside a valid city
    record = account(BillingCountry="Atlantis", BillingCity="Berlin")
    # When it is mapped
    mapped = standard.map_account(record)
    # Then the customer keeps the city, the country is left out with a warning naming BillingCountry
    assert mapped.params["address"] == {"city": "Berlin"}
    assert [str(w) for w in mapped.warnings] == [
        "BillingCountry: is not a country Stripe accepts (ISO 3166-1 alpha-2 needed); left out"
    ]
    assert mapped.withheld_paths == ("address.country",)


def test_rule_r5_unknown_shipping_country_names_shipping_country(standard: CustomerMapping) -> None:
    # Given an invalid shipping country
    record = account(ShippingCountry="Narnia")
    # When it is mapped
    mapped = standard.map_account(record)
    # Then the warning names ShippingCountry
    assert [w.field for w in mapped.warnings] == ["ShippingCountry"]


def test_rule_r5_picklist_preset_prefers_billing_country_code() -> None:
    # Given an org with State/Country picklists: code and label fields are both set
    record = account(BillingCountryCode="AT", BillingCountry="Austria", BillingStateCode="9", BillingState="Wien")
    # When it is mapped with the standard_picklists preset
    params = load_mapping("standard_picklists").map_account(record).params
    # Then the code fields are used
    assert params["address"] == {"country": "AT", "state": "9"}


def test_rule_r5_picklist_preset_falls_back_to_billing_country() -> None:
    # Given a record whose code fields are empty but whose label fields hold a name
    record = account(
        BillingCountryCode=None, BillingCountry="Deutschland", BillingStateCode=None, BillingState="Bayern"
    )
    # When it is mapped with the standard_picklists preset
    params = load_mapping("standard_picklists").map_account(record).params
    # Then the label fields are used, the country normalised
    assert params["address"] == {"country": "DE", "state": "Bayern"}


def test_rule_r5_picklist_preset_selects_the_code_fields() -> None:
    # Given the standard_picklists preset (orgs without picklists lack *Code fields: a separate preset)
    fields = load_mapping("standard_picklists").account_fields
    # Then its SOQL selects both code and label fields
    assert {"BillingCountryCode", "BillingCountry", "ShippingStateCode", "ShippingState"} <= set(fields)
    # And the plain standard preset selects no *Code field
    assert not [
        field for field in load_mapping("standard").account_fields if field.endswith(("CountryCode", "StateCode"))
    ]
