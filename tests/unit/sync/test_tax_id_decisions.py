"""``CustomerSync``'s tax-ID decisions on the in-memory fakes: a refused number costs only itself, and every
tax ID the sync adds is recorded at once (https://docs.stripe.com/api/tax_ids), so no retry adds a second copy.
End to end on the Stripe emulator: tests/integration/test_tax_ids_recorded.py and test_tax_ids_and_lists.py.
"""

from __future__ import annotations

import pytest

from shared.errors import TransientSyncError
from shared.mapping import CustomerMapping
from shared.sync.customer_sync import Outcome
from tests.factories import ORG_ID
from tests.unit.sync.world import VAT_MAPPING, World


def test_a_tax_id_stripe_refuses_costs_only_the_tax_id() -> None:
    # Given an account whose VAT number has no VAT number's format
    world = World(CustomerMapping.from_dict(VAT_MAPPING), VAT_Number__c="not a VAT number")
    # When it is synced
    result = world.sync()
    # Then the customer is created without it, with a warning naming the field
    assert result.outcome is Outcome.CREATED
    assert [w.field for w in result.warnings] == ["VAT_Number__c"]
    assert world.stripe.tax_ids(result.customer_id or "") == []


def test_a_changed_vat_number_replaces_the_tax_id_the_sync_added() -> None:
    # Given a customer created with a VAT number, plus a tax ID someone added by hand in Stripe
    world = World(CustomerMapping.from_dict(VAT_MAPPING), VAT_Number__c="DE123456789")
    customer_id = world.created()
    world.stripe.add_tax_id(customer_id, "eu_vat", "FRAB123456789", idempotency_key="by-hand")
    # When the VAT number changes
    result = world.sync(world.change(VAT_Number__c="DE999999999"))
    # Then the new tax ID is added, the old one the sync added is deleted, the hand-made one stays
    assert result.outcome is Outcome.UPDATED
    values = sorted(t["value"] for t in world.stripe.tax_ids(customer_id))
    assert values == ["DE999999999", "FRAB123456789"]


def test_a_tax_id_the_create_added_is_not_added_again_when_its_read_back_failed() -> None:
    # Given a new account with a VAT number, and Stripe failing the read-back of the create's tax IDs
    world = World(CustomerMapping.from_dict(VAT_MAPPING), VAT_Number__c="DE123456789")
    world.stripe.fail_next("tax_ids", TransientSyncError("Stripe unavailable: APIError (500)"))
    with pytest.raises(TransientSyncError):
        world.sync()
    # When the message is retried, then the VAT number changes
    customer_id = world.sync().customer_id or ""
    first = [t["value"] for t in world.stripe.tax_ids(customer_id)]
    world.sync(world.change(VAT_Number__c="DE999999999"))
    # Then the number was on the customer once, and the change left only the new one
    assert first == ["DE123456789"]
    assert [t["value"] for t in world.stripe.tax_ids(customer_id)] == ["DE999999999"]


def test_a_tax_id_added_before_a_failure_is_known_to_the_next_sync() -> None:
    # Given a customer with VAT number A, changed to B, and Stripe failing the delete of A once B was added
    world = World(CustomerMapping.from_dict(VAT_MAPPING), VAT_Number__c="DE111111111")
    customer_id = world.created()
    world.stripe.fail_next("delete_tax_id", TransientSyncError("Stripe unavailable: APIError (500)"))
    with pytest.raises(TransientSyncError):
        world.sync(world.change(VAT_Number__c="DE222222222"))
    # When the account changes to C before the retry
    result = world.sync(world.change(VAT_Number__c="DE333333333"))
    # Then only C is left, and the state names it alone
    assert result.outcome is Outcome.UPDATED
    assert [t["value"] for t in world.stripe.tax_ids(customer_id)] == ["DE333333333"]
    kept = world.state.get(ORG_ID, world.account_id).tax_ids  # type: ignore[union-attr]
    assert set(kept) == {world.state.digests.tax_id_name("eu_vat:DE333333333")}


def test_state_written_before_tax_ids_were_recorded_at_once_keeps_working() -> None:
    # Given a state item as the previous release wrote it: the tax ID's id known, no marker
    world = World(CustomerMapping.from_dict(VAT_MAPPING), VAT_Number__c="DE111111111")
    customer_id = world.created()
    state = world.state.get(ORG_ID, world.account_id)
    name = world.state.digests.tax_id_name("eu_vat:DE111111111")  # the number keyed, never in clear
    assert state is not None and state.tax_ids == {name: world.stripe.tax_ids(customer_id)[0]["id"]}
    # When the VAT number changes
    world.sync(world.change(VAT_Number__c="DE222222222"))
    # Then the old number the sync added is replaced, as before
    assert [t["value"] for t in world.stripe.tax_ids(customer_id)] == ["DE222222222"]
