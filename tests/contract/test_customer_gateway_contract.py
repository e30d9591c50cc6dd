"""The Stripe customer port's contract, run on the in-memory fake and on ``StripeCustomerGateway`` against
the Stripe emulator (the emulator's half is marked ``integration``).

What the sync relies on: an Idempotency-Key replays its create (https://docs.stripe.com/api/idempotent_requests);
an update leaves other fields, ``""`` unsets, metadata merges key by key
(https://docs.stripe.com/api/customers/update); a deleted customer is gone for good; tax IDs are objects of
their own, refused with ``tax_id_invalid`` when the value does not fit the type
(https://docs.stripe.com/api/tax_ids/create); customers are found by their account-id metadata.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from shared.errors import PermanentSyncError
from shared.mapping.stripe_paths import ACCOUNT_ID_METADATA_KEY
from shared.stripe.customer_diff import flatten
from shared.stripe.gateway import CustomerGateway, CustomerGone, StripeCustomerGateway
from shared.stripe.refusals import refused_part
from tests.fakes import FakeStripe


@dataclass
class Side:
    """The gateway under test, how to delete a customer behind its back (as the Dashboard does), and how to
    let Stripe's clock run on (``created`` is whole seconds: two creates in one second have no order)."""

    gateway: CustomerGateway
    delete_customer: Callable[[str], None]
    advance_clock: Callable[[float], None]


@pytest.fixture(params=["in_memory", pytest.param("emulator", marks=pytest.mark.integration)])
def side(request: pytest.FixtureRequest) -> Side:
    if request.param == "in_memory":
        fake = FakeStripe()
        return Side(fake, fake.delete, fake.clock.advance)
    emulator = request.getfixturevalue("stripe_emulator")
    gateway = StripeCustomerGateway(
        "sk_test_contract", api_base=emulator.base_url, timeout_seconds=5, backoff_base_seconds=0.01
    )
    return Side(gateway, emulator.delete_customer, emulator.advance_clock)


PARAMS = {"name": "Acme GmbH", "email": "billing@acme.example", "metadata": {ACCOUNT_ID_METADATA_KEY: "001A"}}


def test_a_create_is_replayed_for_its_key(side: Side) -> None:
    # Given a customer created under a key
    first = side.gateway.create(PARAMS, "contract-key-1")
    # When the same create is sent again with the same key, and once with another key
    again = side.gateway.create(PARAMS, "contract-key-1")
    other = side.gateway.create(PARAMS, "contract-key-2")
    # Then the key replays the first customer; the other key makes a second
    assert again == first != other
    assert flatten(side.gateway.retrieve(first)).items() >= flatten(PARAMS).items()
    # And the key with other params is refused for good (Stripe compares them: idempotency_error)
    with pytest.raises(PermanentSyncError):
        side.gateway.create({**PARAMS, "name": "Other GmbH"}, "contract-key-1")


def test_an_update_changes_what_it_names_and_unsets_empty_strings(side: Side) -> None:
    # Given a customer with a name, an email, a phone and two metadata keys
    params = {**PARAMS, "phone": "+49 30 1", "metadata": {**PARAMS["metadata"], "other_tool": "x"}}
    customer_id = side.gateway.create(params, "contract-key-3")
    # When the name changes, the phone is unset and one metadata key is set
    side.gateway.update(customer_id, {"name": "Acme AG", "phone": "", "metadata": {"sfsync_note": "y"}})
    # Then the rest is as before and the metadata keys were merged
    flat = flatten(side.gateway.retrieve(customer_id))
    assert flat["name"] == "Acme AG" and flat["email"] == "billing@acme.example" and "phone" not in flat
    assert flat["metadata.other_tool"] == "x" and flat["metadata.sfsync_note"] == "y"


def test_a_deleted_customer_is_gone(side: Side) -> None:
    # Given a customer deleted in Stripe
    customer_id = side.gateway.create(PARAMS, "contract-key-4")
    side.delete_customer(customer_id)
    # When it is read or updated
    # Then the gateway says it is gone (a permanent error)
    with pytest.raises(CustomerGone):
        side.gateway.retrieve(customer_id)
    with pytest.raises(CustomerGone):
        side.gateway.update(customer_id, {"name": "x"})


def test_customers_are_found_by_their_account_id_oldest_first(side: Side) -> None:
    # Given two customers carrying the same account id, created a second apart, and one of another account
    first = side.gateway.create(PARAMS, "contract-key-5")
    side.advance_clock(1)
    second = side.gateway.create(PARAMS, "contract-key-6")
    side.gateway.create({**PARAMS, "metadata": {ACCOUNT_ID_METADATA_KEY: "001B"}}, "contract-key-7")
    # When they are looked for (created since long ago)
    found = side.gateway.find_by_metadata(ACCOUNT_ID_METADATA_KEY, "001A", created_since=0)
    # Then both are found, oldest first
    assert [c["id"] for c in found] == [first, second]


def test_tax_ids_are_added_once_per_key_listed_and_deleted(side: Side) -> None:
    # Given a customer
    customer_id = side.gateway.create(PARAMS, "contract-key-8")
    # When a tax ID is added twice with one key, then deleted twice
    tax_id = side.gateway.add_tax_id(customer_id, "eu_vat", "DE123456789", idempotency_key="contract-txi-1")
    again = side.gateway.add_tax_id(customer_id, "eu_vat", "DE123456789", idempotency_key="contract-txi-1")
    listed = side.gateway.tax_ids(customer_id)
    side.gateway.delete_tax_id(customer_id, tax_id)
    side.gateway.delete_tax_id(customer_id, tax_id)  # already gone counts as deleted
    # Then one tax ID existed, and none is left
    assert again == tax_id and [(t["id"], t["type"], t["value"]) for t in listed] == [(tax_id, "eu_vat", "DE123456789")]
    assert side.gateway.tax_ids(customer_id) == []


def test_a_tax_id_stripe_refuses_is_a_permanent_error_naming_the_param(side: Side) -> None:
    # Given a customer
    customer_id = side.gateway.create(PARAMS, "contract-key-9")
    # When a value that is no VAT number is added, or sent with a create
    with pytest.raises(PermanentSyncError) as added:
        side.gateway.add_tax_id(customer_id, "eu_vat", "not a vat", idempotency_key="contract-txi-2")
    with_tax_id = {**PARAMS, "tax_id_data": [{"type": "eu_vat", "value": "nope"}]}
    with pytest.raises(PermanentSyncError) as created:
        side.gateway.create(with_tax_id, "contract-key-10")
    # Then Stripe's refusal names the param (the create's as a tax ID refusal), and nothing was created
    assert added.value.field == "value"
    part = refused_part(created.value, with_tax_id)
    assert part is not None and part.root == "tax_id_data" and created.value.field == "tax_id_data[0][value]"
    assert side.gateway.tax_ids(customer_id) == []
