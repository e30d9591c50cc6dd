"""Ownership before any update, in ``CustomerSync``'s decision table (in-memory fakes, milliseconds).

A customer the state does not know is changed only when its metadata names this account
(``salesforce_account_id``, https://docs.stripe.com/api/metadata) or the admin consented in the adoption field;
merges (R9, R13: Salesforce keeps the master, deletes the losers with ``MasterRecordId`` set, and lets the admin
pick each field's value, the Stripe ID included) end in a defined outcome that never rewrites the loser's
customer with the master's data. End to end: tests/integration/test_customer_ownership.py.
"""

from __future__ import annotations

import pytest

from shared.mapping.stripe_paths import ACCOUNT_ID_METADATA_KEY
from shared.sync.customer_sync import Outcome
from tests.factories import ORG_ID
from tests.unit.sync.world import World

OTHER_ACCOUNT = "0015g00000OtHeRAAV"


def test_ownership_a_customer_naming_no_account_waits_for_adoption_and_is_not_changed() -> None:
    # Given a web-shop sign-up (no Salesforce reference in its metadata), its id typed into the account
    world = World()
    customer_id = world.stripe.create({"name": "Shop Buyer", "metadata": {"shop": "1"}}, "web-shop")
    world.record["Stripe_Customer_ID__c"] = customer_id
    # When the account is synced
    result = world.sync()
    # Then the account waits with an error that says how to adopt it, and the customer is untouched
    assert result.outcome is Outcome.PERMANENT_ERROR and result.customer_id == customer_id
    assert f"sfsync adopt {world.account_id} {customer_id}" in (result.error or "")
    assert "Stripe_Adopt_Customer_ID__c" in (result.error or "")
    assert [m for m, _ in world.stripe.writes()] == ["create"]  # the web shop's own create only
    assert world.customer(customer_id)["name"] == "Shop Buyer"
    assert world.state.get(ORG_ID, world.account_id).customer_id is None


def test_ownership_an_admins_consent_in_the_adoption_field_adopts_a_customer_naming_no_account() -> None:
    # Given a web-shop sign-up whose id an admin typed into both the Stripe ID field and the adoption field
    world = World()
    customer_id = world.stripe.create({"name": "Shop Buyer", "metadata": {"shop": "1"}}, "web-shop")
    world.record["Stripe_Customer_ID__c"] = customer_id
    # When the account is synced with that consent
    result = world.sync(world.snapshot(adopt_customer_id=customer_id))
    # Then the customer is adopted: updated, tagged as this account's, and known to the state
    assert (result.outcome, result.customer_id) == (Outcome.UPDATED, customer_id)
    assert world.customer(customer_id)["metadata"] == {"shop": "1", ACCOUNT_ID_METADATA_KEY: world.account_id}
    assert world.state.get(ORG_ID, world.account_id).customer_id == customer_id


@pytest.mark.parametrize("consent", [False, True], ids=["without-consent", "with-adoption-field"])
def test_ownership_a_customer_naming_another_account_is_never_changed(consent: bool) -> None:
    # Given another account's customer (its metadata names that account), its id typed into this account
    world = World()
    metadata = {ACCOUNT_ID_METADATA_KEY: OTHER_ACCOUNT}
    customer_id = world.stripe.create({"name": "Other GmbH", "metadata": metadata}, "other-account")
    world.record["Stripe_Customer_ID__c"] = customer_id
    # When the account is synced (even with the id in the adoption field)
    result = world.sync(world.snapshot(adopt_customer_id=customer_id if consent else None))
    # Then a permanent error names the other account and the customer; the customer is untouched
    assert result.outcome is Outcome.PERMANENT_ERROR
    assert OTHER_ACCOUNT in (result.error or "") and customer_id in (result.error or "")
    assert [m for m, _ in world.stripe.writes()] == ["create"]
    assert world.customer(customer_id)["name"] == "Other GmbH"


def test_ownership_a_foreign_customer_typed_over_the_accounts_own_names_both_customers() -> None:
    # Given an account with its own customer, whose Stripe ID field is then typed over with another account's
    world = World()
    own = world.created()
    other = world.stripe.create({"name": "Other", "metadata": {ACCOUNT_ID_METADATA_KEY: OTHER_ACCOUNT}}, "o")
    world.record["Stripe_Customer_ID__c"] = other
    # When the account changes and is synced
    result = world.sync(world.change(Name="Acme AG"))
    # Then the error names both customers, and neither is changed
    assert result.outcome is Outcome.PERMANENT_ERROR and own in (result.error or "") and other in (result.error or "")
    assert world.customer(other)["name"] == "Other" and world.customer(own)["name"] == "Acme GmbH"


# -- merges (R9, R13) ------------------------------------------------------------------------------------------


def _loser_customer(world: World) -> str:
    """The loser's customer, made by the sync for the loser: its metadata names the loser."""
    return world.stripe.create({"name": "Verlierer AG", "metadata": {ACCOUNT_ID_METADATA_KEY: OTHER_ACCOUNT}}, "l")


def test_rule_r13_a_master_that_took_the_losers_stripe_id_never_rewrites_the_losers_customer() -> None:
    # Given a synced master whose Stripe ID field took the loser's customer in the merge wizard
    world = World()
    own = world.created()
    loser_customer = _loser_customer(world)
    world.record["Stripe_Customer_ID__c"] = loser_customer
    # When the master is synced
    result = world.sync(world.change(Name="Gewinner AG"))
    # Then a permanent error names the loser and both customers; neither customer is written to
    assert result.outcome is Outcome.PERMANENT_ERROR
    assert all(i in (result.error or "") for i in (OTHER_ACCOUNT, loser_customer, own))
    assert [m for m, _ in world.stripe.writes()] == ["create"]  # the loser's customer's own create only
    assert world.state.get(ORG_ID, world.account_id).customer_id == own


def test_rule_r13_a_master_without_a_customer_that_took_the_losers_id_creates_nothing_and_changes_nothing() -> None:
    # Given a master that never had a customer, whose Stripe ID field took the loser's in the merge
    world = World()
    loser_customer = _loser_customer(world)
    world.record["Stripe_Customer_ID__c"] = loser_customer
    # When the master is synced
    result = world.sync()
    # Then the loser's customer stays the loser's, and no customer is created for the master meanwhile
    assert result.outcome is Outcome.PERMANENT_ERROR and "no customer of its own yet" in (result.error or "")
    assert [m for m, _ in world.stripe.writes()] == ["create"]
    assert world.customer(loser_customer)["name"] == "Verlierer AG"


def test_rule_r13_a_master_that_kept_its_own_stripe_id_is_synced_as_before() -> None:
    # Given a synced master that kept its own Stripe ID in the merge (the loser's customer stays the loser's)
    world = World()
    own = world.created()
    loser_customer = _loser_customer(world)
    world.stripe.calls.clear()
    # When the master changes and is synced
    result = world.sync(world.change(Name="Gewinner AG"))
    # Then only its own customer is updated
    assert (result.outcome, result.customer_id) == (Outcome.UPDATED, own)
    assert world.stripe.writes() == [("update", own)]
    assert world.customer(loser_customer)["name"] == "Verlierer AG"


def test_rule_r13_a_master_without_a_customer_that_did_not_take_the_losers_id_gets_its_own() -> None:
    # Given a master without a customer, the loser's customer left with the loser
    world = World()
    loser_customer = _loser_customer(world)
    # When the master is synced
    result = world.sync()
    # Then the master gets a customer of its own; the loser's is not touched
    assert result.outcome is Outcome.CREATED and result.customer_id != loser_customer
    assert world.customer(loser_customer)["name"] == "Verlierer AG"
