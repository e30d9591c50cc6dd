"""The state store's contract, run on the in-memory fake and on ``AccountStateStore`` against dynalite.

The unit tests of the sync's decisions (tests/unit/sync) run on the fake; these cases prove it behaves as the
real store does wherever the sync relies on it: the lease, the version guard, the pending create, the
customer id kept at once, outcomes and the contact index. The dynalite half is marked ``integration``.
"""

from __future__ import annotations

from typing import Any

import pytest

from shared.mapping import FieldWarning
from shared.state.account_item import AlreadyApplied, Commit, LeaseHeld, StaleVersion
from shared.state.account_state import AccountStateStore
from tests.factories import ORG_ID, new_id
from tests.fakes import FakeClock, InMemoryStateStore

LEASE_SECONDS = 30


@pytest.fixture(params=["in_memory", pytest.param("dynamodb", marks=pytest.mark.integration)])
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(request: pytest.FixtureRequest, clock: FakeClock) -> Any:
    """The store under test, on ``clock``: the fake, or the real one on a fresh dynalite table."""
    if request.node.callspec.params["clock"] == "in_memory":
        return InMemoryStateStore(lease_seconds=LEASE_SECONDS, clock=clock)
    table = request.getfixturevalue("state_table")
    return AccountStateStore(table, request.getfixturevalue("dynamodb"), lease_seconds=LEASE_SECONDS, clock=clock)


def store_calls(store: Any, request: pytest.FixtureRequest) -> int:
    """Calls the store made: the in-memory fake counts them, DynamoDB's client (``dynamodb.counter``) the other's."""
    if isinstance(store, InMemoryStateStore):
        return store.calls
    return int(request.getfixturevalue("dynamodb").counter.total())


def _commit(customer_id: str = "cus_1", version: int = 10, **more: Any) -> Commit:
    return Commit(customer_id, version, {"name": "Acme"}, "hash-1", "created", **more)


def test_a_committed_sync_is_read_back_and_frees_the_account(store: Any) -> None:
    # Given a lease on a new account
    account_id = new_id("001")
    lease = store.acquire(ORG_ID, account_id, version=10, params_hash="hash-1")
    assert lease.state.customer_id is None and lease.owner
    # When the sync commits
    warning = FieldWarning("Phone", "phone", "is 24 characters long; cut", False)
    lease.commit(_commit(warnings=(warning,), tax_ids={"eu_vat:DE123456789": "txi_1"}))
    # Then the state holds what was applied (as keyed digests, never the value), and a newer version may lease
    # the account at once
    state = store.get(ORG_ID, account_id)
    assert (state.customer_id, state.applied_version) == ("cus_1", 10)
    assert state.applied_fields == {"name": store.digests.digest("name", "Acme")} != {"name": "Acme"}
    assert state.outcome == "created" and state.warnings == (warning,)
    assert state.tax_ids == {store.digests.tax_id_name("eu_vat:DE123456789"): "txi_1"} and state.lease_owner is None
    assert store.acquire(ORG_ID, account_id, version=11, params_hash="hash-2").state.customer_id == "cus_1"


def test_a_live_lease_is_refused_to_another_sync_until_it_lapses(store: Any, clock: FakeClock) -> None:
    # Given one sync holds the account's lease
    account_id = new_id("001")
    first = store.acquire(ORG_ID, account_id, version=10)
    # When another sync asks for it, then asks again after the lease ran out
    with pytest.raises(LeaseHeld):
        store.acquire(ORG_ID, account_id, version=10)
    clock.advance(LEASE_SECONDS + 1)
    second = store.acquire(ORG_ID, account_id, version=10)
    # Then the second sync holds it, and the first one's writes are refused
    assert second.owner != first.owner
    with pytest.raises(LeaseHeld):
        first.commit(_commit())
    with pytest.raises(LeaseHeld):
        first.release(outcome="retrying")
    second.commit(_commit())


def test_an_older_version_is_stale_and_the_same_data_is_already_applied(store: Any) -> None:
    # Given version 10 was applied with hash-1 to cus_1
    account_id = new_id("001")
    store.acquire(ORG_ID, account_id, version=10, params_hash="hash-1").commit(_commit())
    # When version 9 asks for the lease, and version 10 again with the same data
    with pytest.raises(StaleVersion) as stale:
        store.acquire(ORG_ID, account_id, version=9, params_hash="hash-0")
    with pytest.raises(AlreadyApplied) as applied:
        store.acquire(ORG_ID, account_id, version=10, params_hash="hash-1", customer_id="cus_1")
    # Then neither takes the lease, and each says why
    assert stale.value.applied_version == 10
    assert applied.value.state.customer_id == "cus_1"
    assert store.get(ORG_ID, account_id).lease_owner is None
    # And another customer id for the same data is something to write
    assert store.acquire(ORG_ID, account_id, version=10, params_hash="hash-1", customer_id="cus_2").owner


def test_the_pending_create_is_kept_from_the_first_attempt(store: Any, clock: FakeClock) -> None:
    # Given a create was recorded as pending, then the sync died
    account_id = new_id("001")
    first = store.acquire(ORG_ID, account_id, version=10, pending_create={"name": "Acme"})
    since = first.state.pending_since
    clock.advance(LEASE_SECONDS + 1)
    # When the retry leases the account with other params
    retry = store.acquire(ORG_ID, account_id, version=11, pending_create={"name": "Acme AG"})
    # Then the first params and their time are kept (the retry replays the same create)
    assert retry.state.pending_create == {"name": "Acme"}
    assert retry.state.pending_since == since == int(first.state.pending_since)


def test_restart_and_unknown_create_are_recorded_under_the_lease(store: Any, clock: FakeClock) -> None:
    # Given a pending create whose outcome became unknown
    account_id = new_id("001")
    lease = store.acquire(ORG_ID, account_id, version=10, pending_create={"name": "Acme"})
    lease.mark_create_unknown()
    assert store.get(ORG_ID, account_id).create_unknown
    # When it is restarted with new params (attempt 1) later
    clock.advance(60)
    lease.restart_create({"name": "Acme AG"}, 1)
    # Then the new create is pending, from now, no longer unknown
    state = store.get(ORG_ID, account_id)
    assert (state.pending_create, state.create_attempt, state.create_unknown) == ({"name": "Acme AG"}, 1, False)
    assert state.pending_since == int(clock() * 1000)


def test_a_customer_id_is_kept_at_once_and_never_replaced_by_another(store: Any, clock: FakeClock) -> None:
    # Given a create pending under a lease
    account_id = new_id("001")
    lease = store.acquire(ORG_ID, account_id, version=10, pending_create={"name": "Acme"})
    # When Stripe's id is recorded, even after the lease lapsed
    clock.advance(LEASE_SECONDS + 1)
    lease.record_customer("cus_1", {"name": "Acme"}, {"eu_vat:DE123456789": "?"})
    # Then it is kept with the create's tax ID and the pending create is over; another id is refused
    state = store.get(ORG_ID, account_id)
    assert (state.customer_id, state.pending_create) == ("cus_1", None)
    assert state.applied_fields == store.digests.of({"name": "Acme"})
    assert state.tax_ids == {store.digests.tax_id_name("eu_vat:DE123456789"): "?"}
    with pytest.raises(LeaseHeld):
        lease.record_customer("cus_2", {"name": "Acme"})
    lease.record_customer("cus_1", {"name": "Acme"})  # the same id again is fine


def test_a_held_customer_is_kept_by_the_commit_itself(store: Any, request: pytest.FixtureRequest) -> None:
    # Given a create pending under a lease, Stripe's answer held by the lease
    account_id = new_id("001")
    lease = store.acquire(ORG_ID, account_id, version=10, pending_create={"name": "Acme"})
    lease.hold_customer("cus_1", {"name": "Acme"})
    calls = store_calls(store, request)
    # When the sync commits
    lease.commit(_commit("cus_1"))
    # Then that one write kept the id and ended the pending create
    assert store_calls(store, request) - calls == 1
    state = store.get(ORG_ID, account_id)
    assert (state.customer_id, state.pending_create, state.lease_owner) == ("cus_1", None, None)


def test_a_held_customer_never_replaces_an_id_recorded_meanwhile(store: Any) -> None:
    # Given a create pending under a lease, while another id was recorded for the account meanwhile
    account_id = new_id("001")
    lease = store.acquire(ORG_ID, account_id, version=10, pending_create={"name": "Acme"})
    store.record_customer(lease, customer_id="cus_theirs", applied_fields={"name": "Acme"}, tax_ids={})
    # When the sync commits the customer Stripe answered it with
    lease.hold_customer("cus_mine", {"name": "Acme"})
    with pytest.raises(LeaseHeld):
        lease.commit(_commit("cus_mine"))
    # Then the other id stays; the retry re-reads it
    assert store.get(ORG_ID, account_id).customer_id == "cus_theirs"


def test_a_permanent_error_is_released_with_its_field(store: Any) -> None:
    # Given a lease with a pending create
    account_id = new_id("001")
    lease = store.acquire(ORG_ID, account_id, version=10, pending_create={"name": "Acme"})
    # When the sync fails for good on a field, dropping the pending create
    lease.release(outcome="permanent_error", error="too long", error_field="Phone", drop_pending_create=True)
    # Then the state says so and the account is free
    state = store.get(ORG_ID, account_id)
    assert (state.outcome, state.error, state.error_field) == ("permanent_error", "too long", "Phone")
    assert state.pending_create is None and state.lease_owner is None
    store.acquire(ORG_ID, account_id, version=10)


def test_outcomes_and_write_back_refusals_need_no_lease(store: Any) -> None:
    # Given an account never seen
    account_id = new_id("001")
    # When a mapping error and a write-back refusal are recorded, then the refusal is cleared
    store.record_outcome(ORG_ID, account_id, outcome="permanent_error", error="bad", error_field="BillingCountry")
    store.record_write_back_error(ORG_ID, account_id, "FIELD_CUSTOM_VALIDATION_EXCEPTION: no")
    refused = store.get(ORG_ID, account_id)
    store.record_write_back_error(ORG_ID, account_id, None)
    store.record_write_back_error(ORG_ID, new_id("001"), None)  # nothing recorded: nothing to clear
    # Then each was kept, and the clearing removed the refusal only
    assert (refused.outcome, refused.error, refused.error_field) == ("permanent_error", "bad", "BillingCountry")
    assert refused.write_back_error == "FIELD_CUSTOM_VALIDATION_EXCEPTION: no"
    cleared = store.get(ORG_ID, account_id)
    assert cleared.write_back_error is None and cleared.outcome == "permanent_error"


def test_the_contact_index_follows_the_committed_contacts(store: Any) -> None:
    # Given an account whose customer draws on contact A
    account_id, contact_a, contact_b = new_id("001"), new_id("003"), new_id("003")
    store.acquire(ORG_ID, account_id, version=10).commit(_commit(contact_ids=(contact_a,)))
    assert store.accounts_for_contacts(ORG_ID, [contact_a, contact_b]) == {contact_a: (account_id,)}
    # When a later sync draws on contact B instead
    store.acquire(ORG_ID, account_id, version=11, params_hash="hash-2").commit(
        _commit(version=11, contact_ids=(contact_b,))
    )
    # Then contact B leads to the account and contact A to none
    assert store.accounts_for_contacts(ORG_ID, [contact_a, contact_b]) == {contact_a: (), contact_b: (account_id,)}


def test_tax_ids_are_kept_for_the_accounts_customer_only(store: Any, clock: FakeClock) -> None:
    # Given an account whose customer is cus_1, its lease lapsed
    account_id = new_id("001")
    lease = store.acquire(ORG_ID, account_id, version=10)
    lease.record_customer("cus_1", {"name": "Acme"})
    clock.advance(LEASE_SECONDS + 1)
    # When a tax ID added to cus_1 is recorded, then one for another customer
    lease.record_tax_ids("cus_1", {"eu_vat:DE123456789": "txi_1"})
    with pytest.raises(LeaseHeld):
        lease.record_tax_ids("cus_2", {"eu_vat:DE999999999": "txi_2"})
    # Then cus_1's is kept (whatever the lease), the other refused
    assert store.get(ORG_ID, account_id).tax_ids == {store.digests.tax_id_name("eu_vat:DE123456789"): "txi_1"}
