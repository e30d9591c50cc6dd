"""``CustomerSync``'s decisions when Stripe refuses a part of a write, on the in-memory fakes: the write is sent once
more without that part, and the account syncs with a warning naming the Salesforce field (a 4xx names its ``param``:
https://docs.stripe.com/api/errors; ``customer_tax_location_invalid``: https://docs.stripe.com/tax/customer-locations).
End to end on the Stripe emulator: tests/integration/test_stripe_refusals.py and test_property_stripe_refusals.py.
"""

from __future__ import annotations

import pytest

from shared.mapping import CustomerMapping
from shared.sync.customer_sync import Outcome
from tests.unit.sync.world import World, refused


@pytest.mark.parametrize("method", ["create", "update"])
def test_a_field_stripe_refuses_is_synced_with_a_warning_naming_the_salesforce_field(method: str) -> None:
    # Given Stripe refusing an account's phone
    world = World(Phone="+49 30 1")
    customer_id = world.created() if method == "update" else None
    world.stripe.fail_next(method, refused("phone"))
    # When the phone and the name change in one edit and the account is synced
    result = world.sync(world.change(Phone="+49 30 9", Name="Acme AG"))
    # Then the account syncs with the name, Stripe keeps its phone, and a warning names Phone
    assert result.outcome is (Outcome.UPDATED if customer_id else Outcome.CREATED)
    customer = world.customer(result.customer_id or "")
    assert (customer["name"], customer.get("phone")) == ("Acme AG", "+49 30 1" if customer_id else None)
    assert [(w.field, "invalid_phone" in w.problem) for w in result.warnings] == [("Phone", True)]


def test_a_refusal_warning_stays_while_the_account_is_unchanged() -> None:
    # Given an account synced while Stripe refused its phone
    world = World(Phone="+49 30 1")
    world.stripe.fail_next("create", refused("phone"))
    world.sync()
    world.stripe.calls.clear()
    # When the same data is synced again (the write-back itself bumps SystemModstamp)
    again = world.sync(world.change())
    # Then nothing is sent, and the warning is still reported (the account would otherwise read "Synced")
    assert again.outcome is Outcome.UNCHANGED and world.stripe.writes() == []
    assert [w.field for w in again.warnings] == ["Phone"]


def test_an_address_stripe_tax_cannot_place_is_left_out_when_validate_location_is_immediately() -> None:
    # Given a mapping asking Stripe Tax to validate the location, and a US address without its ZIP code
    mapping = CustomerMapping.from_dict(
        {
            "fields": {"name": "Name", "address.city": "BillingCity", "address.country": "BillingCountry"},
            "defaults": {"tax.validate_location": "immediately"},
        }
    )
    world = World(mapping, BillingCity="Brothers", BillingCountry="US")
    # When it is synced
    result = world.sync()
    # Then the customer is created without the address, with a warning naming the Salesforce field
    assert result.outcome is Outcome.CREATED
    assert "address" not in world.customer(result.customer_id or "")
    assert [w.field for w in result.warnings] == ["BillingCountry"]
    assert "customer_tax_location_invalid" in result.warnings[0].problem


def test_the_whole_metadata_is_never_left_out_of_a_create() -> None:
    # Given Stripe refusing a create's metadata as a whole (it holds the account id reconcile finds it by)
    world = World()
    world.stripe.fail_next("create", refused("metadata", "parameter_invalid_metadata"))
    # When it is synced
    result = world.sync()
    # Then no customer is made without it: the account fails, naming metadata
    assert (result.outcome, result.error_field, world.stripe.customers) == (Outcome.PERMANENT_ERROR, "metadata", {})
