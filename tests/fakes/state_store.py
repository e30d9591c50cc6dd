"""The account state store in memory: ``AccountStateStore``'s conditions and effects without DynamoDB.

Every write mirrors the conditional update the real store sends (tests/contract/test_state_store_contract.py
runs the same scenarios on both): the lease is refused while another owner's is live or a newer version was
applied, writes under a lease fail with ``LeaseHeld`` once it lapsed, and nothing but ``record_customer``
touches an account without its lease.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from shared.state.account_item import AccountState, Commit, LeaseHeld, why_refused
from shared.state.field_digests import FieldDigests
from shared.state.items import from_attr, to_attr
from shared.state.lease import Lease

_NO_PENDING_CREATE: dict[str, Any] = {
    "pending_create": None,
    "pending_since": None,
    "create_attempt": 0,
    "create_unknown": False,
}


class FakeClock:
    """Seconds since 1970 that move only when told (``advance``)."""

    def __init__(self, now: float = 1_796_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward."""
        self.now += seconds


class InMemoryStateStore:
    """``AccountStateStore`` in a dict: account states, the contact index and write-back refusals."""

    def __init__(self, *, lease_seconds: int = 120, clock: Callable[[], float] | None = None) -> None:
        self.clock = clock or FakeClock()
        self._lease_ms = lease_seconds * 1000
        self._states: dict[tuple[str, str], AccountState] = {}
        self._contacts: dict[tuple[str, str], set[str]] = {}
        self._lock = threading.Lock()  # the batch syncs accounts on threads
        self.calls = 0  # like DynamoDB requests: one per method call (BatchGetItem pages aside)
        self.digests = FieldDigests.local()  # like the real store: applied fields and the hash kept keyed only

    def _now_ms(self) -> int:
        return int(self.clock() * 1000)

    # -- reads ---------------------------------------------------------------------------------------
    def get(self, org_id: str, account_id: str) -> AccountState | None:
        self.calls += 1
        return self._states.get((org_id, account_id))

    def accounts_for_contacts(self, org_id: str, contact_ids: list[str]) -> dict[str, tuple[str, ...]]:
        self.calls += 1
        known = [c for c in set(contact_ids) if (org_id, c) in self._contacts]
        return {c: tuple(sorted(self._contacts[(org_id, c)])) for c in known}

    # -- lease ---------------------------------------------------------------------------------------
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
        self.calls += 1
        owner, now = uuid.uuid4().hex, self._now_ms()
        with self._lock:
            current = self._states.get((org_id, account_id))
            keyed = None if params_hash is None else self.digests.params_hash(params_hash)
            if current is not None and not _may_lease(current, version, now, keyed, customer_id):
                raise why_refused(current, version, owner, now)
            state = current or AccountState(org_id, account_id)
            changes: dict[str, Any] = {"lease_owner": owner, "lease_until": now + self._lease_ms}
            if pending_create is not None and state.pending_create is None:
                changes["pending_create"] = _as_stored(pending_create)
            if pending_create is not None and state.pending_since is None:
                changes["pending_since"] = now
            state = self._states[(org_id, account_id)] = replace(state, org_id=org_id, account_id=account_id, **changes)
        return Lease(self, org_id, account_id, owner, state)

    def commit(self, lease: Lease, result: Commit, *, new_customer: bool = False) -> None:
        self.calls += 1
        current = self._states.get((lease.org_id, lease.account_id))
        if new_customer and current is not None and current.customer_id not in (None, result.customer_id):
            raise LeaseHeld("the lease on this account expired before the sync finished")
        before, after = set(lease.state.contact_ids), set(result.contact_ids)
        for contact_id in after - before:
            self._contacts.setdefault((lease.org_id, contact_id), set()).add(lease.account_id)
        for contact_id in before - after:
            self._contacts.setdefault((lease.org_id, contact_id), set()).discard(lease.account_id)
        self._update_owned(
            lease,
            customer_id=result.customer_id,
            applied_version=result.version,
            applied_fields=self.digests.of(result.applied_fields),
            params_hash=self.digests.params_hash(result.params_hash),
            outcome=str(result.outcome),
            updated_at=self._now_ms(),
            contact_ids=tuple(result.contact_ids),
            kept_fields=tuple(result.kept_fields),
            warnings=tuple(result.warnings),
            tax_ids=self.digests.tax_id_names(result.tax_ids),
            lease_owner=None,
            lease_until=None,
            error=None,
            error_field=None,
            write_back_error=None,
            write_back_error_at=None,
            **_NO_PENDING_CREATE,
        )

    def release(
        self,
        lease: Lease,
        *,
        outcome: str,
        error: str | None = None,
        error_field: str | None = None,
        drop_pending_create: bool = False,
    ) -> None:
        self.calls += 1
        changes: dict[str, Any] = {"outcome": str(outcome), "updated_at": self._now_ms(), "error": error or None}
        changes.update(error_field=error_field or None, lease_owner=None, lease_until=None)
        if drop_pending_create:
            changes.update(_NO_PENDING_CREATE)
        if error:
            changes["warnings"] = ()
        self._update_owned(lease, **changes)

    # -- the pending create ---------------------------------------------------------------------------------
    def record_customer(
        self, lease: Lease, *, customer_id: str, applied_fields: dict[str, str], tax_ids: dict[str, str]
    ) -> None:
        self.calls += 1
        key = (lease.org_id, lease.account_id)
        with self._lock:
            state = self._states.get(key) or AccountState(*key)
            if state.customer_id not in (None, customer_id):
                raise LeaseHeld("another Stripe customer id was recorded for this account meanwhile")
            self._states[key] = replace(
                state,
                customer_id=customer_id,
                applied_fields=self.digests.of(applied_fields),
                tax_ids=self.digests.tax_id_names(tax_ids),
                updated_at=self._now_ms(),
                params_hash=None,
                **_NO_PENDING_CREATE,
            )

    def record_tax_ids(self, lease: Lease, *, customer_id: str, tax_ids: dict[str, str]) -> None:
        self.calls += 1
        key = (lease.org_id, lease.account_id)
        with self._lock:
            state = self._states.get(key)
            if state is None or state.customer_id != customer_id:
                raise LeaseHeld("the account's Stripe customer changed while its tax ID was added")
            self._states[key] = replace(state, tax_ids=self.digests.tax_id_names(tax_ids), updated_at=self._now_ms())

    def restart_create(self, lease: Lease, *, params: dict[str, Any], attempt: int) -> None:
        self.calls += 1
        pending = {"pending_create": _as_stored(params), "pending_since": self._now_ms(), "create_attempt": attempt}
        self._update_owned(lease, **pending, create_unknown=False)

    def mark_create_unknown(self, lease: Lease) -> None:
        self.calls += 1
        self._update_owned(lease, create_unknown=True)

    # -- without a lease -------------------------------------------------------------------------------
    def record_outcome(
        self, org_id: str, account_id: str, *, outcome: str, error: str | None = None, error_field: str | None = None
    ) -> None:
        self.calls += 1
        with self._lock:
            state = self._states.get((org_id, account_id)) or AccountState(org_id, account_id)
            # DynamoDB keeps the empty strings the real store writes for "no error".
            self._states[(org_id, account_id)] = replace(
                state,
                org_id=org_id,
                account_id=account_id,
                outcome=str(outcome),
                updated_at=self._now_ms(),
                error=error or "",
                error_field=error_field or "",
                warnings=(),
            )

    def record_write_back_error(self, org_id: str, account_id: str, error: str | None) -> None:
        self.calls += 1
        with self._lock:
            state = self._states.get((org_id, account_id))
            if error is None:
                if state is not None and state.write_back_error is not None:
                    self._states[(org_id, account_id)] = replace(state, write_back_error=None, write_back_error_at=None)
                return
            self._states[(org_id, account_id)] = replace(
                state or AccountState(org_id, account_id),
                org_id=org_id,
                account_id=account_id,
                write_back_error=error[:1000],
                write_back_error_at=self._now_ms(),
            )

    def _update_owned(self, lease: Lease, **changes: Any) -> None:
        with self._lock:
            state = self._states.get((lease.org_id, lease.account_id))
            if state is None or state.lease_owner != lease.owner:
                raise LeaseHeld("the lease on this account expired before the sync finished")
            self._states[(lease.org_id, lease.account_id)] = replace(state, **changes)


def _may_lease(state: AccountState, version: int, now: int, params_hash: str | None, customer_id: str | None) -> bool:
    """The condition of the real store's acquire (a new owner never equals the holder's)."""
    lease_free = state.lease_until is None or state.lease_until < now
    not_older = state.applied_version is None or state.applied_version <= version
    if params_hash is None:
        return lease_free and not_older
    changed = state.params_hash is None or state.params_hash != params_hash or state.customer_id is None
    changed = changed or (customer_id is not None and state.customer_id != customer_id)
    return lease_free and not_older and changed


def _as_stored(params: dict[str, Any]) -> dict[str, Any]:
    """Params as they come back from the table (scalars stored as strings, see ``shared.state.items``)."""
    stored: dict[str, Any] = from_attr(to_attr(params))
    return stored
