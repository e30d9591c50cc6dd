"""A shipping address Stripe Tax can't use never hides a billing address it can (Stripe Tax customer locations).

https://docs.stripe.com/tax/customer-locations: Stripe Tax places a customer by the shipping address first
when one is present, and can't place a US address without a postal code ("We can't calculate tax for US
customers with only an ISO country code").
"""

from __future__ import annotations

import pytest

from shared.mapping import CustomerMapping, load_mapping
from tests.unit.mapping.records import account

US_BILLING = {
    "BillingStreet": "27 Fredrick Ave",
    "BillingCity": "Brothers",
    "BillingState": "OR",
    "BillingPostalCode": "97712",
    "BillingCountry": "US",
}


@pytest.fixture(scope="module")
def standard() -> CustomerMapping:
    return load_mapping("standard")


def test_country_only_us_shipping_is_not_sent_beside_a_complete_billing_address(standard: CustomerMapping) -> None:
    # Given a complete US billing address and a shipping address holding only the country
    mapped = standard.map_account(account(**US_BILLING, ShippingCountry="United States"))
    # Then no shipping is sent (Stripe Tax would use it first and place nothing), the billing address is
    assert "shipping" not in mapped.params
    assert mapped.params["address"]["postal_code"] == "97712"
    # And a warning names the Salesforce field that is missing, and why
    [warning] = mapped.warnings
    assert warning.field == "ShippingPostalCode"
    assert warning.stripe_path == "shipping"
    assert "Stripe Tax" in warning.problem and "billing address" in warning.problem
    # And it is not "left out" (Stripe's shipping is cleared, not kept)
    assert not warning.left_out


@pytest.mark.parametrize(
    "shipping",
    [
        {"ShippingCountry": "US", "ShippingPostalCode": "10001"},
        {"ShippingCountry": "Germany"},  # a country alone places a German address
        {"ShippingCountry": "Canada", "ShippingState": "ON"},
    ],
)
def test_a_shipping_address_stripe_tax_can_place_is_sent(standard: CustomerMapping, shipping: dict[str, str]) -> None:
    mapped = standard.map_account(account(**US_BILLING, **shipping))
    assert "address" in mapped.params["shipping"]
    assert mapped.warnings == ()


def test_without_a_placeable_billing_address_the_shipping_address_is_sent_as_it_is(standard: CustomerMapping) -> None:
    # Given neither address can be placed: there is nothing better to offer Stripe Tax
    mapped = standard.map_account(account(BillingCountry="US", ShippingCountry="US"))
    # Then both are sent as they are
    assert mapped.params["shipping"]["address"] == {"country": "US"}
    assert mapped.warnings == ()


def test_a_mapping_without_a_shipping_postal_code_names_the_shipping_country() -> None:
    mapping = CustomerMapping.from_dict(
        {
            "fields": {
                "address.postal_code": "BillingPostalCode",
                "address.country": "BillingCountry",
                "shipping.address.country": "ShippingCountry",
            }
        }
    )
    mapped = mapping.map_account(account(BillingPostalCode="97712", BillingCountry="US", ShippingCountry="US"))
    assert [w.field for w in mapped.warnings] == ["ShippingCountry"]
