"""The lease one sync holds on an account: the handle through which everything it writes goes.

``AccountStateStore.acquire`` (or the in-memory store of the unit tests) returns a ``Lease``: the account's
state as it was when the lease was taken, and the writes only the holder may make — commit the sync,
release it with an outcome, keep the customer id Stripe answered with, restart or mark a create unknown.
The sync passes this one value instead of the org id, the account id, the owner token and the state.

A customer id Stripe answered with is *held* (``hold_customer``) until the lease's next state write, which
records it: the commit in the common case, so a create costs one state write after Stripe's answer instead of
two (lease, commit: two DynamoDB calls, the idempotency records two more). Whatever else comes first records
it before it runs — another Stripe write (``record_held``), a tax ID added (``record_tax_ids``), a release
with an error — so no outcome after Stripe's answer can lose the id. A crash before the commit loses only
the held value; the pending create stays stored, and the retry replays it under the same Idempotency-Key
(``customer_create``): Stripe answers with the same customer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from shared.state.account_item import AccountState, Commit
from shared.state.field_digests import FieldDigests


class LeasedWrites(Protocol):
    """What a state store does for the holder of a lease (``AccountStateStore`` and the unit tests' fake).

    Every write but ``record_customer`` and ``record_tax_ids`` is conditional on ``lease.owner`` still holding
    the account and raises ``LeaseHeld`` (transient) once the lease lapsed and another sync took over.
    """

    def commit(self, lease: Lease, result: Commit, *, new_customer: bool = False) -> None:
        """Record a successful sync and release the lease. ``new_customer``: ``result.customer_id`` is the one
        Stripe just answered with (created or adopted), recorded by this write: it never replaces another id
        stored meanwhile (``LeaseHeld`` then, like ``record_customer``)."""

    def release(
        self,
        lease: Lease,
        *,
        outcome: str,
        error: str | None = None,
        error_field: str | None = None,
        drop_pending_create: bool = False,
    ) -> None:
        """Release the lease, recording an outcome that changed nothing in Stripe."""

    def record_customer(
        self, lease: Lease, *, customer_id: str, applied_fields: dict[str, str], tax_ids: dict[str, str]
    ) -> None:
        """Keep the customer id Stripe answered with and the tax IDs its create added, at once (not
        conditional on the lease; never replaces another customer id)."""

    def record_tax_ids(self, lease: Lease, *, customer_id: str, tax_ids: dict[str, str]) -> None:
        """Keep the tax IDs the sync added to ``customer_id``, at once (only while that customer is the
        account's; not conditional on the lease)."""

    def restart_create(self, lease: Lease, *, params: dict[str, Any], attempt: int) -> None:
        """Start a new create (new params, new key ``attempt``, new key window)."""

    def mark_create_unknown(self, lease: Lease) -> None:
        """Stripe answered the pending create with a 500: its outcome is unknown until looked for."""


@dataclass(frozen=True)
class HeldCustomer:
    """A customer id Stripe answered with, the fields it has and the tax IDs its create added: not stored yet."""

    customer_id: str
    applied_fields: dict[str, str]
    tax_ids: dict[str, str]


@dataclass
class Lease:
    """One sync's hold on one account (``owner`` is a random token) and the state read when it was taken.

    One sync (one thread) uses a lease: ``held`` is that sync's customer id not yet stored (see the module).
    """

    store: LeasedWrites
    org_id: str
    account_id: str
    owner: str
    state: AccountState
    held: HeldCustomer | None = field(default=None, compare=False)

    def commit(self, result: Commit) -> None:
        """Record the sync (customer id, version, fields, contacts…) and end the lease; see ``LeasedWrites``.
        The held customer, when it is the committed one, is recorded by this same write."""
        held, self.held = self.held, None  # only a create holds one, and it commits that very id
        self.store.commit(self, result, new_customer=held is not None)

    def release(
        self,
        *,
        outcome: str,
        error: str | None = None,
        error_field: str | None = None,
        drop_pending_create: bool = False,
    ) -> None:
        """End the lease with an outcome that wrote nothing more to Stripe (a permanent error, no customer…);
        a held customer is recorded first (a permanent error right after a create keeps the id)."""
        self.record_held()
        self.store.release(
            self, outcome=outcome, error=error, error_field=error_field, drop_pending_create=drop_pending_create
        )

    def record_customer(
        self, customer_id: str, applied_fields: dict[str, str], tax_ids: dict[str, str] | None = None
    ) -> None:
        """Keep the id Stripe just answered with (created or adopted), the fields the customer now has and the
        tax IDs the create added (``tax_id_sync.ADDED_ID_UNKNOWN`` until read back): one write, now."""
        self.held = None
        self._record(HeldCustomer(customer_id, dict(applied_fields), dict(tax_ids or {})))

    def hold_customer(
        self, customer_id: str, applied_fields: dict[str, str], tax_ids: dict[str, str] | None = None
    ) -> None:
        """Like ``record_customer``, but stored by the lease's next state write (the commit, usually)."""
        self.held = HeldCustomer(customer_id, dict(applied_fields), dict(tax_ids or {}))

    def record_held(self) -> None:
        """Store the held customer now (before another Stripe write): nothing after it may lose the id."""
        held, self.held = self.held, None
        if held is not None:
            self._record(held)

    def _record(self, held: HeldCustomer) -> None:
        self.store.record_customer(
            self, customer_id=held.customer_id, applied_fields=held.applied_fields, tax_ids=held.tax_ids
        )

    def record_tax_ids(self, customer_id: str, tax_ids: dict[str, str]) -> None:
        """Keep the tax IDs the sync added to the customer, the moment Stripe answered an add (with the held
        customer, when that is the one: one write)."""
        held = self.held
        if held is not None and held.customer_id == customer_id:
            self.held = None
            self._record(HeldCustomer(customer_id, held.applied_fields, dict(tax_ids)))
            return
        self.record_held()
        self.store.record_tax_ids(self, customer_id=customer_id, tax_ids=tax_ids)

    def restart_create(self, params: dict[str, Any], attempt: int) -> None:
        """A new create after an unknown-outcome create was looked for and not found."""
        self.store.restart_create(self, params=params, attempt=attempt)

    def mark_create_unknown(self) -> None:
        """Remember that the pending create's outcome is unknown (the retry looks before creating)."""
        self.store.mark_create_unknown(self)


class AccountStates(Protocol):
    """The state store as the customer sync uses it (``AccountStateStore``, or the unit tests' fake)."""

    # The keyed digests the store keeps applied fields and content hashes as (compared by the sync).
    digests: FieldDigests

    def get(self, org_id: str, account_id: str) -> AccountState | None:
        """The account's state (strongly consistent), or None when the account was never seen."""

    def acquire(
        self,
        org_id: str,
        account_id: str,
        *,
        version: int,
        pending_create: dict[str, Any] | None = None,
        params_hash: str | None = None,
        customer_id: str | None = None,
    ) -> Lease:
        """Lease the account; raises LeaseHeld (transient), StaleVersion or AlreadyApplied."""

    def record_outcome(
        self, org_id: str, account_id: str, *, outcome: str, error: str | None = None, error_field: str | None = None
    ) -> None:
        """Record an outcome without a lease (a mapping error found before any Stripe work)."""
