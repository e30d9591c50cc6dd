"""Stripe Tax's customer location in the Stripe emulator, driven through stripe-python's real ``StripeClient``.

Modelled on https://docs.stripe.com/tax/customer-locations ("Which customer address we use": the shipping
address first when present, then the billing address; US addresses need a postal code) and
``tax[validate_location]`` (https://docs.stripe.com/api/customers/update#update_customer-tax-validate_location,
``auto`` since https://docs.stripe.com/changelog/acacia/2024-10-28/tax-validate-location-auto).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import stripe

from devtools.stripe_emulator import StripeEmulator

US_BILLING = {"line1": "27 Fredrick Ave", "city": "Brothers", "state": "OR", "postal_code": "97712", "country": "US"}
COUNTRY_ONLY_SHIPPING = {"name": "Acme", "address": {"country": "US"}}


@pytest.fixture
def emu() -> Iterator[StripeEmulator]:
    with StripeEmulator() as emulator:
        yield emulator


def client(emu: StripeEmulator) -> stripe.StripeClient:
    return stripe.StripeClient(
        "sk_test_x", base_addresses={"api": emu.base_url}, http_client=stripe.RequestsClient(timeout=5)
    )


def create(emu: StripeEmulator, **params: Any) -> Any:
    return client(emu).v1.customers.create(params={"name": "Acme", **params, "expand": ["tax"]})  # type: ignore[typeddict-item]


def test_a_complete_us_billing_address_places_the_customer(emu: StripeEmulator) -> None:
    # Given a customer with a complete US billing address and no shipping address
    customer = create(emu, address=US_BILLING)
    # Then Stripe Tax places it by the billing address
    assert customer.tax.automatic_tax == "supported"
    assert customer.tax.location.to_dict() == {"country": "US", "source": "billing_address", "state": "OR"}


def test_a_country_only_us_shipping_address_wins_over_the_billing_address_and_places_nothing(
    emu: StripeEmulator,
) -> None:
    # Given a complete US billing address and a shipping address holding only the country
    customer = create(emu, address=US_BILLING, shipping=COUNTRY_ONLY_SHIPPING)
    # Then the shipping address is used first, and Stripe Tax can't place the customer with it
    assert customer.tax.automatic_tax == "unrecognized_location"
    assert customer.tax.location is None


@pytest.mark.parametrize(
    ("address", "placed"),
    [
        ({"country": "US", "state": "OR"}, False),  # "can't calculate tax ... with only country and state"
        ({"country": "US", "postal_code": "97712-4918"}, True),
        ({"country": "CA", "state": "ON"}, True),
        ({"country": "CA"}, False),
        ({"country": "DE"}, True),
        ({"country": "Germany"}, False),  # not an ISO 3166-1 alpha-2 code
    ],
)
def test_documented_address_formats(emu: StripeEmulator, address: dict[str, str], placed: bool) -> None:
    customer = create(emu, address=address)
    assert (customer.tax.automatic_tax == "supported") is placed


def test_tax_is_only_in_the_answer_when_expanded(emu: StripeEmulator) -> None:
    customer = client(emu).v1.customers.create(params={"address": US_BILLING})
    assert "tax" not in customer.to_dict()
    assert emu.customer_tax(customer.id)["automatic_tax"] == "supported"


def test_validate_location_immediately_refuses_an_unplaceable_create_and_creates_nothing(emu: StripeEmulator) -> None:
    # Given a create whose shipping address Stripe Tax can't use, asked to validate immediately
    with pytest.raises(stripe.InvalidRequestError) as raised:
        create(emu, address=US_BILLING, shipping=COUNTRY_ONLY_SHIPPING, tax={"validate_location": "immediately"})
    # Then Stripe refuses it with customer_tax_location_invalid and no customer exists
    assert raised.value.code == "customer_tax_location_invalid"
    assert emu.customers() == []


def test_create_defaults_to_deferred(emu: StripeEmulator) -> None:
    customer = create(emu, shipping=COUNTRY_ONLY_SHIPPING)
    assert customer.tax.automatic_tax == "unrecognized_location"


def test_update_default_auto_refuses_only_for_customers_with_automatic_tax_subscriptions(emu: StripeEmulator) -> None:
    # Given two placed customers, one with an automatic-tax subscription
    sc = client(emu)
    plain, subscribed = create(emu, address=US_BILLING), create(emu, address=US_BILLING)
    emu.stripe_tax["test"].add_automatic_tax_subscription(subscribed.id)
    # When both get a country-only shipping address and a new email in one update (no validate_location)
    update = {"shipping": COUNTRY_ONLY_SHIPPING, "email": "billing@example.com"}
    sc.v1.customers.update(plain.id, params=update)  # type: ignore[arg-type]
    with pytest.raises(stripe.InvalidRequestError) as raised:
        sc.v1.customers.update(subscribed.id, params=update)  # type: ignore[arg-type]
    # Then only the subscribed one is refused, and nothing of its update was applied
    assert raised.value.code == "customer_tax_location_invalid"
    assert emu.customer(subscribed.id)["email"] is None  # type: ignore[index]
    assert emu.customer(plain.id)["email"] == "billing@example.com"  # type: ignore[index]


def test_update_deferred_never_refuses(emu: StripeEmulator) -> None:
    sc = client(emu)
    customer = create(emu, address=US_BILLING)
    emu.stripe_tax["test"].add_automatic_tax_subscription(customer.id)
    params = {"shipping": COUNTRY_ONLY_SHIPPING, "tax": {"validate_location": "deferred"}}
    sc.v1.customers.update(customer.id, params=params)  # type: ignore[arg-type]
    assert emu.customer_tax(customer.id)["automatic_tax"] == "unrecognized_location"


def test_not_collecting_where_the_account_has_no_registration(emu: StripeEmulator) -> None:
    emu.stripe_tax["test"].registrations = frozenset({"DE"})
    assert create(emu, address=US_BILLING).tax.automatic_tax == "not_collecting"
    assert create(emu, address={"country": "DE"}).tax.automatic_tax == "supported"
