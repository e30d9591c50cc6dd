"""A shipping address Stripe Tax can't use never hides a billing address it can (Stripe Tax customer locations).

https://docs.stripe.com/tax/customer-locations: Stripe Tax places a customer by the shipping address first
when one is present, and can't place a US address without a postal code ("We can't calculate tax for US
customers with only an ISO country code").
"""

from __future__ import annotations

import pytest

from shared.mapping import CustomerMapping, MappingConfigError, load_mapping
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


def test_validate_location_is_a_request_flag_sent_with_the_create_never_customer_data() -> None:
    # Given a mapping asking Stripe Tax to validate locations immediately (docs/stripe-tax.md)
    mapping = CustomerMapping.from_dict(
        {"fields": {"name": "Name"}, "defaults": {"tax.validate_location": "immediately"}}
    )
    mapped = mapping.map_account(account())
    # Then the create carries it, while the mapped fields (applied state, content hash) don't
    assert mapped.params["tax"] == {"validate_location": "immediately"}
    assert not [path for path in mapped.flat if path.startswith("tax")]
    assert (
        mapped.content_hash
        == CustomerMapping.from_dict({"fields": {"name": "Name"}}).map_account(account()).content_hash
    )


def test_validate_location_auto_is_refused_at_load_create_does_not_take_it() -> None:
    with pytest.raises(MappingConfigError, match="validate_location"):
        CustomerMapping.from_dict({"defaults": {"tax.validate_location": "auto"}})
