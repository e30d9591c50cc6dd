"""R5: the standard field mappings (Salesforce Account field → Stripe customer field), one test per row."""

from __future__ import annotations

from shared.mapping import CustomerMapping
from tests.unit.mapping.records import ACCOUNT_ID, account, orders


def test_rule_r5_name_maps_to_name(standard: CustomerMapping) -> None:
    # Given an account named "Acme GmbH"
    record = account(Name="Acme GmbH")
    # When it is mapped with the standard preset
    params = standard.map_account(record).params
    # Then the customer's name is the account name
    assert params["name"] == "Acme GmbH"


def test_rule_r5_phone_maps_to_phone(standard: CustomerMapping) -> None:
    # Given an account with a phone number
    record = account(Phone="+49 30 123456")
    # When it is mapped
    params = standard.map_account(record).params
    # Then the customer's phone is that number
    assert params["phone"] == "+49 30 123456"


def test_rule_r5_description_maps_to_description(standard: CustomerMapping) -> None:
    # Given an account with a description
    record = account(Description="Key account, EMEA")
    # When it is mapped
    params = standard.map_account(record).params
    # Then the customer's description is the account description
    assert params["description"] == "Key account, EMEA"


def test_rule_r5_primary_contact_email_maps_to_email(standard: CustomerMapping) -> None:
    # Given an account whose latest activated order's quote has a primary contact with an email
    record = account(Orders=orders("billing@acme.de"))
    # When it is mapped
    params = standard.map_account(record).params
    # Then the customer's email is the primary contact's email (Account has no email field)
    assert params["email"] == "billing@acme.de"


def test_rule_r5_billing_street_maps_to_address_line1(standard: CustomerMapping) -> None:
    # Given a one-line billing street
    record = account(BillingStreet="Hauptstraße 1")
    # When it is mapped
    params = standard.map_account(record).params
    # Then it is the address's first line
    assert params["address"] == {"line1": "Hauptstraße 1"}


def test_rule_r5_billing_city_maps_to_address_city(standard: CustomerMapping) -> None:
    # Given a billing city
    record = account(BillingCity="Berlin")
    # When it is mapped
    params = standard.map_account(record).params
    # Then it is the address city
    assert params["address"] == {"city": "Berlin"}


def test_rule_r5_billing_state_maps_to_address_state(standard: CustomerMapping) -> None:
    # Given a billing state
    record = account(BillingState="Bayern")
    # When it is mapped
    params = standard.map_account(record).params
    # Then it is the address state
    assert params["address"] == {"state": "Bayern"}


def test_rule_r5_billing_postal_code_maps_to_address_postal_code(standard: CustomerMapping) -> None:
    # Given a billing postal code
    record = account(BillingPostalCode="10115")
    # When it is mapped
    params = standard.map_account(record).params
    # Then it is the address postal code
    assert params["address"] == {"postal_code": "10115"}


def test_rule_r5_billing_country_maps_to_address_country(standard: CustomerMapping) -> None:
    # Given a billing country held as a name
    record = account(BillingCountry="Germany")
    # When it is mapped
    params = standard.map_account(record).params
    # Then the address country is its ISO 3166-1 alpha-2 code
    assert params["address"] == {"country": "DE"}


def test_rule_r5_phone_maps_to_shipping_phone(standard: CustomerMapping) -> None:
    # Given an account with a phone and a shipping address
    record = account(Phone="+49 40 987654", ShippingCity="Hamburg")
    # When it is mapped
    params = standard.map_account(record).params
    # Then the shipping phone is the account phone
    assert params["shipping"]["phone"] == "+49 40 987654"


def test_rule_r5_shipping_street_maps_to_shipping_address_line1(standard: CustomerMapping) -> None:
    # Given a one-line shipping street
    record = account(ShippingStreet="Hafenweg 7")
    # When it is mapped
    params = standard.map_account(record).params
    # Then it is the shipping address's first line
    assert params["shipping"]["address"] == {"line1": "Hafenweg 7"}


def test_rule_r5_shipping_city_maps_to_shipping_address_city(standard: CustomerMapping) -> None:
    # Given a shipping city
    record = account(ShippingCity="Hamburg")
    # When it is mapped
    params = standard.map_account(record).params
    # Then it is the shipping address city
    assert params["shipping"]["address"] == {"city": "Hamburg"}


def test_rule_r5_shipping_state_maps_to_shipping_address_state(standard: CustomerMapping) -> None:
    # Given a shipping state
    record = account(ShippingState="Hamburg")
    # When it is mapped
    params = standard.map_account(record).params
    # Then it is the shipping address state
    assert params["shipping"]["address"] == {"state": "Hamburg"}


def test_rule_r5_shipping_postal_code_maps_to_shipping_address_postal_code(standard: CustomerMapping) -> None:
    # Given a shipping postal code
    record = account(ShippingPostalCode="20457")
    # When it is mapped
    params = standard.map_account(record).params
    # Then it is the shipping address postal code
    assert params["shipping"]["address"] == {"postal_code": "20457"}


def test_rule_r5_shipping_country_maps_to_shipping_address_country(standard: CustomerMapping) -> None:
    # Given a shipping country held as a native name
    record = account(ShippingCountry="Deutschland")
    # When it is mapped
    params = standard.map_account(record).params
    # Then the shipping address country is its alpha-2 code
    assert params["shipping"]["address"] == {"country": "DE"}


def test_rule_r5_standard_preset_builds_exact_nested_params(standard: CustomerMapping) -> None:
    # Given an account with every standard field set and a primary contact
    record = account(
        Name="Acme GmbH",
        Phone="+49 30 123456",
        Description="Key account",
        BillingStreet="Hauptstraße 1\r\nHinterhaus",
        BillingCity="Berlin",
        BillingState="Berlin",
        BillingPostalCode="10115",
        BillingCountry="Germany",
        ShippingStreet="Hafenweg 7",
        ShippingCity="Hamburg",
        ShippingState="Hamburg",
        ShippingPostalCode="20457",
        ShippingCountry="DE",
        Orders=orders("billing@acme.de"),
    )
    # When it is mapped
    mapped = standard.map_account(record)
    # Then the params are exactly Stripe's nested create params, keys sorted at every level
    assert mapped.params == {
        "address": {
            "city": "Berlin",
            "country": "DE",
            "line1": "Hauptstraße 1",
            "line2": "Hinterhaus",
            "postal_code": "10115",
            "state": "Berlin",
        },
        "description": "Key account",
        "email": "billing@acme.de",
        "metadata": {"salesforce_account_id": ACCOUNT_ID},
        "name": "Acme GmbH",
        "phone": "+49 30 123456",
        "shipping": {
            "address": {
                "city": "Hamburg",
                "country": "DE",
                "line1": "Hafenweg 7",
                "postal_code": "20457",
                "state": "Hamburg",
            },
            "name": "Acme GmbH",
            "phone": "+49 30 123456",
        },
    }
    assert list(mapped.params) == sorted(mapped.params)
    assert list(mapped.params["shipping"]) == sorted(mapped.params["shipping"])
    # And flat holds the same data as dot-paths
    assert mapped.flat["address.line2"] == "Hinterhaus"
    assert mapped.flat["shipping.address.city"] == "Hamburg"
    assert mapped.flat["metadata.salesforce_account_id"] == ACCOUNT_ID
    assert list(mapped.flat) == sorted(mapped.flat)
