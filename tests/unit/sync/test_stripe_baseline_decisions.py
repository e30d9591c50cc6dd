"""Where another writer may exist, the sync compares with the customer Stripe holds (``stripe_baseline``).

On the in-memory fakes (held to the real adapters by tests/contract). The second writer is Stripe's Salesforce
CPQ connector: it writes name, description and billing address when it creates a customer and, with its flag
``update_customer_on_order_creation``, on every order sync ("Accounts and contacts",
https://docs.stripe.com/connectors/salesforce-cpq/accounts-contacts; ``translate_account`` in
https://github.com/stripe/stripe-go ``lib/stripe-force/translate/customer.rb``). Rules: R10 (a customer
synced must have a valid id in the Stripe ID field), R12 (never delete).
"""

from __future__ import annotations

from shared.mapping import CustomerMapping, load_mapping
from shared.settings import CreationMode, OtherStripeWriters
from shared.sync.batch_sync import BatchSync
from shared.sync.customer_sync import CustomerSync, Outcome
from tests.factories import ORG_ID
from tests.unit.sync.world import FIELDS, BatchWorld, DirectProcessor, World, request_for


def _another_writer_changed(world: World, customer_id: str, **fields: str) -> None:
    """The connector (or anyone) writes the customer; the sync's memory of what it sent is not told."""
    world.stripe.update(customer_id, dict(fields))
    world.stripe.calls.clear()


def test_a_forced_sync_sets_back_a_field_another_writer_changed_and_only_that_field() -> None:
    # Given a synced account whose customer's name another writer changed in Stripe
    world = World(Phone="+49 30 1234")
    customer_id = world.created()
    _another_writer_changed(world, customer_id, name="ACME (from the connector)")
    # When the same Salesforce data is synced without force
    plain = world.sync(world.change(Industry="Retail"))
    # Then the sync's memory says "unchanged" and Stripe keeps the other writer's name (the old behaviour)
    assert plain.outcome is Outcome.UNCHANGED and world.customer(customer_id)["name"] == "ACME (from the connector)"
    # When it is synced with force (an admin's "Sync now", or every sync beside the connector)
    forced = world.sync(world.snapshot(force=True))
    # Then one retrieve, one update of the name alone: Salesforce wins for the mapped fields
    assert forced.outcome is Outcome.UPDATED
    assert world.stripe.calls == [("retrieve", customer_id), ("update", customer_id)]
    assert world.customer(customer_id)["name"] == "Acme GmbH" and world.customer(customer_id)["phone"] == "+49 30 1234"


def test_a_forced_sync_of_a_customer_in_step_costs_one_retrieve_and_writes_nothing() -> None:
    # Given a synced account whose customer nobody changed
    world = World()
    customer_id = world.created()
    # When it is synced with force
    result = world.sync(world.snapshot(force=True))
    # Then it is unchanged after one Stripe read
    assert (result.outcome, result.customer_id) == (Outcome.UNCHANGED, customer_id)
    assert world.stripe.calls == [("retrieve", customer_id)]


def test_a_field_outside_the_mapping_stays_the_other_writers() -> None:
    # Given a customer whose description (not in this mapping) the connector wrote
    world = World(mapping=CustomerMapping.from_dict({"fields": {"name": "Name"}}))
    customer_id = world.created()
    _another_writer_changed(world, customer_id, description="Set by the connector")
    # When it is synced with force
    result = world.sync(world.snapshot(force=True))
    # Then the description is the connector's still: the split gives it the fields this mapping leaves out
    assert result.outcome is Outcome.UNCHANGED and world.customer(customer_id)["description"] == "Set by the connector"


def test_rule_r10_a_customer_deleted_in_stripe_never_reads_unchanged_on_a_forced_sync() -> None:
    # Given a synced account whose customer was deleted in Stripe
    world = World()
    customer_id = world.created()
    world.stripe.delete(customer_id)
    # When the same data is synced with force
    result = world.sync(world.snapshot(force=True))
    # Then the sync reports the deleted customer (written back to the account) instead of "unchanged",
    # and creates no replacement (R10, R12)
    assert result.outcome is Outcome.PERMANENT_ERROR and customer_id in str(world.stripe.calls)
    assert "deleted" in (result.error or "") and [m for m, _ in world.stripe.writes()] == []


def test_beside_the_connector_the_batch_never_creates_and_compares_every_sync_with_stripe() -> None:
    # Given a batch beside the connector: an account with an activated order and no customer yet
    world = BatchWorld(CreationMode.ORDER_ACTIVATION)
    mapping = load_mapping("standard")
    world.batch = BatchSync(
        processor=DirectProcessor(CustomerSync(mapping, world.stripe, world.state, clock=world.clock)),
        salesforce=world.salesforce,
        mapping=mapping,
        creation_mode=CreationMode.ORDER_ACTIVATION,
        fields=FIELDS,
        contacts=world.state.accounts_for_contacts,
        other_writers=OtherStripeWriters.CONNECTOR,
    )
    account_id = world.account()
    # When it is synced
    outcome = world.run(request_for(account_id))
    # Then no customer is created: it waits for the connector's
    results = outcome.results[request_for(account_id)]
    assert isinstance(results, list) and [r.outcome for r in results] == [Outcome.NO_CUSTOMER]
    assert world.stripe.writes() == []
    # When the connector created the customer and filled the Stripe ID field, and the account is synced twice
    customer_id = world.stripe.create(
        {"name": "Acme GmbH", "metadata": {"salesforce_account_id": account_id}}, "connector-key"
    )
    world.salesforce.accounts[account_id] = {
        **world.salesforce.accounts[account_id],
        "Stripe_Customer_ID__c": customer_id,
    }
    world.stripe.calls.clear()
    world.run(request_for(account_id, event="2"))
    world.run(request_for(account_id, event="3"))
    # Then each sync read the customer from Stripe (no "already applied" shortcut); none created one
    assert world.stripe.calls.count(("retrieve", customer_id)) == 2
    assert "create" not in [m for m, _ in world.stripe.writes()]


def test_migrating_from_the_connector_adopts_a_customer_naming_the_account_instead_of_creating() -> None:
    # Given the connector's customer naming an account whose Stripe ID field was never copied
    world = World()
    connector_customer = world.stripe.create(
        {"name": "Acme GmbH", "metadata": {"salesforce_account_id": world.account_id}}, "connector-key"
    )
    world.stripe.calls.clear()
    # When the account's first sync may create, on a stack migrating from the connector
    result = world.sync(look_before_create=True)
    # Then the connector's customer is the account's: found, adopted, updated, and no second one made
    assert (result.outcome, result.customer_id) == (Outcome.CREATED, connector_customer)
    assert "create" not in [m for m, _ in world.stripe.writes()]
    assert world.state.get(ORG_ID, world.account_id).customer_id == connector_customer
    assert len(world.stripe.customers) == 1


def test_without_looking_first_the_same_account_gets_a_second_customer() -> None:
    # Given the same connector customer, on a stack that does not look first (OTHER_STRIPE_WRITERS=none)
    world = World()
    world.stripe.create({"name": "Acme GmbH", "metadata": {"salesforce_account_id": world.account_id}}, "k")
    # When the account's first sync creates
    world.sync()
    # Then two customers name the account: why a migration sets migrating_from_connector
    assert len(world.stripe.customers) == 2


def test_a_forced_request_is_compared_with_stripe_by_the_batch_on_a_stack_alone() -> None:
    # Given a stack alone (OTHER_STRIPE_WRITERS=none) and a synced account whose customer's name was changed in Stripe
    world = BatchWorld(CreationMode.EVERY_ACCOUNT)
    account_id = world.account()
    world.run(request_for(account_id))
    (customer_id,) = world.stripe.customers
    world.stripe.update(customer_id, {"name": "Changed in Stripe"})
    # When the same account is synced by an ordinary request
    world.run(request_for(account_id, event="2"))
    # Then the sync's memory says "unchanged": Stripe keeps the other value
    assert world.stripe.customers[customer_id]["name"] == "Changed in Stripe"
    # When an admin's forced request (SyncRequest.force: "Sync now") syncs it
    world.run(request_for(account_id, event="3", force=True))
    # Then Stripe holds Salesforce's value again
    assert world.stripe.customers[customer_id]["name"] == "Acme GmbH"
