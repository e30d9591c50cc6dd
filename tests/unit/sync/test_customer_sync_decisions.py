"""``CustomerSync``'s decision table on the in-memory fakes: every outcome and every error class, in milliseconds.

The end-to-end proof stays in tests/integration (dynalite, the Stripe emulator, the Salesforce simulator); the
fakes are held to the real adapters by tests/contract. Rules: seed/RULES.md (R1 create on an activated order,
R9/R11/R13 deleted and merged accounts, R10 the Stripe ID field, R12 never delete).
"""

from __future__ import annotations

from typing import Any

import pytest

from shared.errors import PermanentSyncError, TransientSyncError
from shared.mapping.stripe_paths import ACCOUNT_ID_METADATA_KEY
from shared.state.account_item import LeaseHeld
from shared.stripe.gateway import CreateOutcomeUnknown
from shared.sync.customer_create import KEY_WINDOW_SECONDS
from shared.sync.customer_sync import AccountSnapshot, Outcome
from tests.factories import ORG_ID
from tests.unit.sync.world import LEASE_SECONDS, World, refused


def _sync_dying_in(
    world: World, method: str, monkeypatch: pytest.MonkeyPatch, snapshot: AccountSnapshot | None = None
) -> None:
    """A sync of ``world`` (or of ``snapshot``) whose worker dies (SystemExit) in the state store's ``method``."""
    monkeypatch.setattr(world.state, method, _crash)
    with pytest.raises(SystemExit):
        world.sync(snapshot)
    monkeypatch.undo()


def _crash(*_: Any, **__: Any) -> None:
    raise SystemExit("killed")


# -- nothing to do in Stripe ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "outcome"),
    [
        ({"merged_into": "0015g00000AbCdEAAV"}, Outcome.SKIPPED_MERGED),
        ({"deleted": True}, Outcome.SKIPPED_DELETED),
        ({"record": None}, Outcome.SKIPPED_DELETED),
    ],
    ids=["merged", "deleted", "purged"],
)
def test_rule_r9_r11_r13_deleted_or_merged_accounts_never_reach_stripe(
    overrides: dict[str, Any], outcome: Outcome
) -> None:
    # Given an account merged away, deleted, or no longer returned by Salesforce
    world = World()
    # When it is synced
    result = world.sync(world.snapshot(**overrides))
    # Then Stripe and the state store are not touched
    assert result.outcome is outcome and result.customer_id is None
    assert world.stripe.calls == [] and world.state.calls == 0


def test_rule_r1_without_an_activated_order_no_customer_is_created() -> None:
    # Given an account that may not have a customer yet, and none is known
    world = World()
    # When it is synced
    result = world.sync(may_create=False)
    # Then nothing is created and nothing is leased (one state read)
    assert result.outcome is Outcome.NO_CUSTOMER
    assert world.stripe.calls == [] and world.state.get(ORG_ID, world.account_id) is None


def test_a_record_the_mapping_cannot_read_is_a_permanent_error_naming_the_field() -> None:
    # Given an account whose id is not a Salesforce id
    world = World(account_id="not-an-account-id")
    # When it is synced
    result = world.sync()
    # Then the sync refuses it for good, names the field, and records it without a lease
    assert (result.outcome, result.error_field) == (Outcome.PERMANENT_ERROR, "Id")
    assert world.stripe.calls == []
    assert world.state.get(ORG_ID, "not-an-account-id").outcome == Outcome.PERMANENT_ERROR


# -- create / update / unchanged / stale ---------------------------------------------------------------------


def test_rule_r1_a_new_account_gets_one_customer_recorded_at_once() -> None:
    # Given a new account with an activated order
    world = World(Phone="+49 30 1234")
    # When it is synced
    result = world.sync()
    # Then one customer holds the mapped fields and the state knows it
    assert result.outcome is Outcome.CREATED
    customer = world.customer(result.customer_id or "")
    assert (customer["name"], customer["phone"]) == ("Acme GmbH", "+49 30 1234")
    assert customer["metadata"] == {ACCOUNT_ID_METADATA_KEY: world.account_id}
    assert [m for m, _ in world.stripe.writes()] == ["create"]
    state = world.state.get(ORG_ID, world.account_id)
    assert state.customer_id == result.customer_id and state.lease_owner is None and state.pending_create is None


def test_an_unchanged_account_costs_one_state_call_and_no_stripe_call() -> None:
    # Given an account synced before
    world = World()
    customer_id = world.created()
    calls = world.state.calls
    # When the same data is synced again (a newer notification without a mapped change)
    result = world.sync(world.change(Industry="Retail"))
    # Then nothing is written anywhere: one conditional lease refused as "already applied"
    assert (result.outcome, result.customer_id) == (Outcome.UNCHANGED, customer_id)
    assert world.stripe.calls == [] and world.state.calls == calls + 1


def test_a_changed_field_is_sent_alone() -> None:
    # Given an account synced before
    world = World(Phone="+49 30 1234")
    customer_id = world.created()
    # When its name changes
    result = world.sync(world.change(Name="Acme AG"))
    # Then only the name is updated
    assert (result.outcome, result.customer_id) == (Outcome.UPDATED, customer_id)
    assert world.stripe.writes() == [("update", customer_id)]
    assert world.customer(customer_id)["name"] == "Acme AG" and world.customer(customer_id)["phone"] == "+49 30 1234"


def test_a_cleared_field_is_unset_in_stripe_and_the_customer_is_never_deleted() -> None:
    # Given an account with a phone, synced
    world = World(Phone="+49 30 1234")
    customer_id = world.created()
    # When the phone is cleared in Salesforce
    result = world.sync(world.change(Phone=None))
    # Then Stripe's phone is unset; the customer stays (R12)
    assert result.outcome is Outcome.UPDATED
    assert "phone" not in world.customer(customer_id) and not world.customer(customer_id).get("deleted")


def test_an_older_version_than_the_one_applied_is_stale() -> None:
    # Given version 2 of the account was applied
    world = World()
    world.sync(world.change())
    applied = world.sync(world.change(Name="Acme AG")).customer_id
    older = world.snapshot(version=world.snapshot().version - 1000, record={**world.record, "Name": "Acme GmbH"})
    world.stripe.calls.clear()
    # When an older read arrives (a redelivered message overtaken by a newer one)
    result = world.sync(older)
    # Then it overwrites nothing
    assert result.outcome is Outcome.STALE and world.stripe.calls == []
    assert world.customer(applied or "")["name"] == "Acme AG"


def test_an_event_older_than_the_applied_change_is_stale_not_unchanged() -> None:
    # Given the account's current data was applied at its current version
    world = World()
    world.created()
    current = world.snapshot()
    # When a notification describing an older change arrives (the read returns today's data)
    result = world.sync(world.snapshot(event_version=current.version - 1))
    # Then it is counted as stale: its change was already overtaken
    assert result.outcome is Outcome.STALE and world.stripe.calls == []


def test_a_known_customer_is_updated_even_where_new_customers_may_not_be_created() -> None:
    # Given an account with a customer whose order is no longer activated
    world = World()
    customer_id = world.created()
    # When it changes and is synced without the right to create
    result = world.sync(world.change(Name="Acme AG"), may_create=False)
    # Then its customer is still kept in step
    assert (result.outcome, result.customer_id) == (Outcome.UPDATED, customer_id)


# -- the Stripe ID field (R10) ---------------------------------------------------------------------------------


def test_rule_r10_an_id_set_by_an_admin_naming_this_account_is_compared_with_stripe_and_adopted() -> None:
    # Given a customer made outside the sync whose metadata names this account (as Stripe's connector tags
    # its customers), its id typed into the account by an admin
    world = World()
    metadata = {"crm": "x", ACCOUNT_ID_METADATA_KEY: world.account_id}
    customer_id = world.stripe.create({"name": "Old Name", "metadata": metadata}, "made-by-hand")
    world.record["Stripe_Customer_ID__c"] = customer_id
    # When the account is synced
    result = world.sync()
    # Then that customer is updated with what differs; nothing is created and other metadata stays
    assert (result.outcome, result.customer_id) == (Outcome.UPDATED, customer_id)
    assert [m for m, _ in world.stripe.writes()] == ["create", "update"]  # the hand-made create, then ours
    assert world.customer(customer_id)["name"] == "Acme GmbH" and world.customer(customer_id)["metadata"]["crm"] == "x"
    assert world.state.get(ORG_ID, world.account_id).customer_id == customer_id


def test_rule_r10_a_customer_deleted_in_stripe_is_a_permanent_error_never_replaced() -> None:
    # Given the account names a customer deleted in Stripe
    world = World()
    customer_id = world.stripe.create({"name": "Gone"}, "made-by-hand")
    world.stripe.delete(customer_id)
    world.record["Stripe_Customer_ID__c"] = customer_id
    # When it is synced
    result = world.sync()
    # Then the error is reported with that id, and no customer is created in its place
    assert (result.outcome, result.customer_id) == (Outcome.PERMANENT_ERROR, customer_id)
    assert [m for m, _ in world.stripe.writes()] == ["create"]
    assert world.state.get(ORG_ID, world.account_id).lease_owner is None


@pytest.mark.parametrize(("replace", "outcome"), [(False, Outcome.PERMANENT_ERROR), (True, Outcome.CREATED)])
def test_an_id_of_the_other_stripe_mode_counts_as_none_only_in_sandboxes(replace: bool, outcome: Outcome) -> None:
    # Given a refreshed sandbox whose account holds production's live-mode customer id
    world = World()
    world.stripe.add_other_mode_customer("cus_live000001")
    world.record["Stripe_Customer_ID__c"] = "cus_live000001"
    # When it is synced, with and without STRIPE_REPLACE_OTHER_MODE_IDS
    result = world.sync(replace_other_mode_ids=replace)
    # Then production refuses it; the sandbox creates its own customer
    assert result.outcome is outcome
    assert len(world.stripe.customers) == (1 if replace else 0)


# -- failures --------------------------------------------------------------------------------------------------


def test_a_transient_stripe_failure_raises_and_frees_the_account_for_the_retry() -> None:
    # Given an account synced before, and Stripe unavailable for one request
    world = World()
    customer_id = world.created()
    world.stripe.fail_next("update", TransientSyncError("Stripe unavailable: APIConnectionError"))
    changed = world.change(Name="Acme AG")
    # When it changes and is synced
    with pytest.raises(TransientSyncError):
        world.sync(changed)
    # Then the message is retried (raised), the lease released: the retry works at once
    assert world.state.get(ORG_ID, world.account_id).lease_owner is None
    assert world.sync(changed).outcome is Outcome.UPDATED
    assert world.customer(customer_id)["name"] == "Acme AG"


def test_a_sync_in_progress_elsewhere_makes_this_one_retry_until_its_lease_lapses() -> None:
    # Given another worker holds the account's lease
    world = World()
    world.state.acquire(ORG_ID, world.account_id, version=0)
    # When this worker syncs the account
    with pytest.raises(LeaseHeld):
        world.sync()
    # Then it is retried; once the other lease lapsed (its worker died), the sync goes through
    world.clock.advance(LEASE_SECONDS + 1)
    assert world.sync().outcome is Outcome.CREATED


def test_a_second_refusal_of_the_same_update_fails_the_account_for_good_and_names_the_field() -> None:
    # Given an account synced before, and Stripe refusing its new phone, then its new name in the retry without it
    world = World()
    customer_id = world.created()
    world.stripe.fail_next("update", refused("phone"))
    world.stripe.fail_next("update", refused("name"))
    # When both change in one edit and it is synced
    result = world.sync(world.change(Phone="+49 30 9", Name="Acme AG"))
    # Then the result names the field, keeps the customer id, and the state says so
    assert (result.outcome, result.customer_id, result.error_field) == (Outcome.PERMANENT_ERROR, customer_id, "name")
    state = world.state.get(ORG_ID, world.account_id)
    assert (state.outcome, state.error_field, state.lease_owner) == (Outcome.PERMANENT_ERROR, "name", None)


def test_a_refusal_that_names_no_field_sent_fails_the_account_for_good() -> None:
    # Given an account synced before, and Stripe refusing its update for a param the sync did not send
    world = World()
    customer_id = world.created()
    world.stripe.fail_next("update", refused("invoice_settings[default_payment_method]"))
    # When it is synced after a change
    result = world.sync(world.change(Phone="+49 30 9"))
    # Then nothing can be left out in its place: the account fails, its customer id kept
    assert (result.outcome, result.customer_id) == (Outcome.PERMANENT_ERROR, customer_id)
    assert result.error_field == "invoice_settings[default_payment_method]"


# -- the create's outcome (exactly once) ------------------------------------------------------------------------


def test_a_crash_after_stripes_create_replays_the_same_create_within_the_key_window(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given the worker died after Stripe created the customer, before the commit that keeps its id
    world = World()
    _sync_dying_in(world, "commit", monkeypatch)
    # When the message is retried after the lease lapsed, with the account renamed meanwhile
    world.clock.advance(LEASE_SECONDS + 1)
    result = world.sync(world.change(Name="Acme AG"))
    # Then the same key replayed the first create and the rename became an update: one customer
    assert result.outcome is Outcome.CREATED and len(world.stripe.customers) == 1
    assert world.customer(result.customer_id or "")["name"] == "Acme AG"


def test_a_pending_create_older_than_the_key_window_is_looked_for_and_adopted(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a create whose outcome was lost more than Stripe's key window ago
    world = World()
    _sync_dying_in(world, "commit", monkeypatch)
    [customer_id] = world.stripe.customers
    world.clock.advance(KEY_WINDOW_SECONDS + 1)
    world.stripe.calls.clear()
    # When the sync runs again
    result = world.sync()
    # Then the customer is found by its account id and adopted; no create is sent
    assert (result.outcome, result.customer_id) == (Outcome.CREATED, customer_id)
    assert "create" not in [m for m, _ in world.stripe.calls] and len(world.stripe.customers) == 1


def test_a_create_answered_with_a_500_is_looked_for_before_creating_anew() -> None:
    # Given Stripe answered the create with a 500 (its outcome unknown) and had not created it
    world = World()
    world.stripe.fail_next("create", CreateOutcomeUnknown("Stripe answered the create with 500: outcome unknown"))
    with pytest.raises(CreateOutcomeUnknown):
        world.sync()
    assert world.state.get(ORG_ID, world.account_id).create_unknown
    # When the message is retried
    world.clock.advance(LEASE_SECONDS + 1)
    result = world.sync()
    # Then nothing was found, so a create with a new key made the one customer
    assert result.outcome is Outcome.CREATED and len(world.stripe.customers) == 1
    assert [m for m, _ in world.stripe.calls] == ["create", "find_by_metadata", "create"]


def test_a_create_answered_with_a_500_that_did_happen_is_adopted() -> None:
    # Given Stripe answered the create with a 500, though the customer was made
    world = World()
    world.stripe.fail_next("create", CreateOutcomeUnknown("Stripe answered the create with 500: outcome unknown"))
    with pytest.raises(CreateOutcomeUnknown):
        world.sync()
    made = world.stripe.create(world.mapping.map_account(world.record).params, "what-stripe-did")
    # When the message is retried
    world.clock.advance(LEASE_SECONDS + 1)
    result = world.sync()
    # Then that customer is adopted, not doubled
    assert (result.outcome, result.customer_id) == (Outcome.CREATED, made)
    assert len(world.stripe.customers) == 1


def test_a_crash_after_the_id_was_kept_updates_that_customer(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a create lost before its commit, replayed with the account renamed (its id stored before the
    # rename's update), the worker dying before that commit too
    world = World()
    _sync_dying_in(world, "commit", monkeypatch)
    world.clock.advance(LEASE_SECONDS + 1)
    _sync_dying_in(world, "commit", monkeypatch, world.change(Name="Acme AG"))
    [customer_id] = world.stripe.customers
    assert world.state.get(ORG_ID, world.account_id).customer_id == customer_id
    # When the retry runs after that lease lapsed too
    world.clock.advance(LEASE_SECONDS + 1)
    result = world.sync()
    # Then the kept customer is updated: no create is sent again
    assert (result.outcome, result.customer_id) == (Outcome.UPDATED, customer_id)
    assert "create" not in [m for m, _ in world.stripe.calls[-2:]]


def test_a_plain_create_keeps_its_customer_id_with_the_commit() -> None:
    # Given an account without a customer, nothing to update after the create
    world = World()
    # When it is synced
    result = world.sync()
    # Then the id Stripe answered with is stored by the commit itself: lease and commit, two state writes
    assert result.outcome is Outcome.CREATED and world.state.calls == 2
    assert world.state.get(ORG_ID, world.account_id).customer_id == result.customer_id


# -- field warnings and tax IDs ----------------------------------------------------------------------------------


def test_a_value_stripe_cannot_take_is_left_out_with_a_warning_naming_the_salesforce_field() -> None:
    # Given an account whose billing country is no country Stripe knows
    world = World(BillingCountry="Narnia", BillingCity="Cair Paravel")
    # When it is synced
    result = world.sync()
    # Then the customer is created without the country, with a warning naming BillingCountry
    assert result.outcome is Outcome.CREATED
    assert [w.field for w in result.warnings] == ["BillingCountry"]
    assert "country" not in world.customer(result.customer_id or "").get("address", {})


def test_a_refused_update_right_after_the_create_keeps_the_customer_id(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a create whose id was lost in a crash before its commit, then the account renamed
    world = World()
    _sync_dying_in(world, "commit", monkeypatch)
    [customer_id] = world.stripe.customers
    world.clock.advance(LEASE_SECONDS + 1)
    world.stripe.fail_next("update", PermanentSyncError("Stripe rejected name (invalid)", field="name"))
    # When the retry replays the create and Stripe refuses the follow-up update
    result = world.sync(world.change(Name="Acme AG"))
    # Then the error is reported with the customer's id, which the state keeps (written back, never lost)
    assert (result.outcome, result.customer_id) == (Outcome.PERMANENT_ERROR, customer_id)
    assert world.state.get(ORG_ID, world.account_id).customer_id == customer_id
