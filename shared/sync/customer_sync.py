"""The sync engine: make one account's Stripe customer right, exactly once, with the fewest calls.

Given an account just re-read from Salesforce, it resolves the customer (the Account's Stripe ID field
(R10) → the state store → create), sends only what changed since the last sync, never deletes (R12),
never overwrites newer data with older (version-conditional lease), and never touches Stripe for a deleted
or merged-away account (R9, R11, R13). The mapped tax ID is kept in step by ``tax_id_sync``.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, NamedTuple

from shared.errors import PermanentSyncError
from shared.mapping import TAX_ID_DATA, CustomerMapping, FieldWarning, MappedCustomer, left_out
from shared.state.account_item import AccountState, AlreadyApplied, Commit, StaleVersion
from shared.state.lease import AccountStates, Lease
from shared.stripe.customer_diff import flatten, update_params
from shared.stripe.gateway import CustomerGateway, CustomerInOtherMode
from shared.sync.customer_create import CustomerCreator
from shared.sync.refused_fields import RefusedFields
from shared.sync.stripe_baseline import stripe_baseline
from shared.sync.tax_id_sync import TaxIdSync


class Outcome(StrEnum):
    """What a sync did; also the metric names and the status written back to Salesforce."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    STALE = "stale"
    NO_CUSTOMER = "no_customer"
    SKIPPED_DELETED = "skipped_deleted"
    SKIPPED_MERGED = "skipped_merged"
    PERMANENT_ERROR = "permanent_error"
    CONTACT_UNUSED = "contact_unused"


@dataclass(frozen=True)
class AccountSnapshot:
    """An account as just read from Salesforce, with what the engine needs to decide."""

    org_id: str
    account_id: str
    record: dict[str, Any] | None
    version: int
    stripe_id: str | None = None
    has_activated_order: bool = False
    deleted: bool = False
    merged_into: str | None = None
    # The version the trigger itself carried (Outbound Message SystemModstamp, CDC commitTimestamp).
    event_version: int | None = None
    # The customer id an admin typed into the adoption field: consent to adopt that customer (``ownership``).
    adopt_customer_id: str | None = None
    # Compare with the customer Stripe holds before deciding "unchanged" (``stripe_baseline``): a forced
    # request (an admin's "Sync now"), or every sync when another writer may exist.
    force: bool = False


@dataclass(frozen=True)
class SyncResult:
    """The outcome for one account."""

    account_id: str
    outcome: Outcome
    customer_id: str | None = None
    error: str | None = None
    error_field: str | None = None
    # Stripe fields kept because the contact they come from is gone in Salesforce (R11, R13).
    kept_fields: tuple[str, ...] = ()
    # Fields Stripe could not take as they are (left out or sent adjusted): the customer was synced anyway.
    warnings: tuple[FieldWarning, ...] = ()
    # True when this is the stored result of an event processed before (a redelivery).
    duplicate: bool = False
    # What a create or update sent, by name only (``BillingCity → address.city``): the sync history's record.
    changed_fields: tuple[str, ...] = ()
    # Stripe's id (req_…) of the request that refused the sync, when Stripe answered: found in its request logs.
    stripe_request_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (stored by the idempotency layer)."""
        return {
            "account_id": self.account_id,
            "outcome": self.outcome.value,
            "customer_id": self.customer_id,
            "error": self.error,
            "error_field": self.error_field,
            "kept_fields": list(self.kept_fields),
            "warnings": [warning.to_dict() for warning in self.warnings],
            "changed_fields": list(self.changed_fields),
            "stripe_request_id": self.stripe_request_id,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SyncResult:
        """Inverse of ``to_dict``."""
        return cls(
            **{
                **data,
                "outcome": Outcome(data["outcome"]),
                "kept_fields": tuple(data.get("kept_fields", ())),
                "warnings": tuple(FieldWarning.from_dict(w) for w in data.get("warnings", ())),
                "duplicate": bool(data.get("duplicate", False)),
                "changed_fields": tuple(data.get("changed_fields", ())),
            }
        )


class CustomerSync:
    """Upserts the Stripe customer of one account."""

    def __init__(
        self,
        mapping: CustomerMapping,
        stripe: CustomerGateway,
        state: AccountStates,
        *,
        replace_other_mode_ids: bool = False,
        look_before_create: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._mapping = mapping
        self._stripe = stripe
        self._state = state
        self._creator = CustomerCreator(stripe, clock=clock)
        # Sandbox stacks (STRIPE_REPLACE_OTHER_MODE_IDS): an id of the other Stripe mode counts as no id.
        self._replace_other_mode_ids = replace_other_mode_ids
        # Migrating from Stripe's connector: its customers name their accounts; adopt one rather than create.
        self._look_before_create = look_before_create
        self._tax_ids = TaxIdSync(stripe, state.digests.tax_id_name)
        self._refused = RefusedFields(stripe, mapping.source_of)  # a field Stripe refuses costs only that field

    def sync(self, snapshot: AccountSnapshot, *, may_create: bool) -> SyncResult:
        """Bring the account's customer in step with ``snapshot``; transient failures raise."""
        if snapshot.merged_into:
            return SyncResult(snapshot.account_id, Outcome.SKIPPED_MERGED)
        if snapshot.deleted or snapshot.record is None:
            return SyncResult(snapshot.account_id, Outcome.SKIPPED_DELETED)
        try:
            mapped = self._mapping.map_account(snapshot.record)
        except PermanentSyncError as exc:
            self._state.record_outcome(
                snapshot.org_id,
                snapshot.account_id,
                outcome=Outcome.PERMANENT_ERROR,
                error=exc.message,
                error_field=exc.field,
            )
            return _error_result(snapshot, exc, customer_id=snapshot.stripe_id)
        if not snapshot.stripe_id and not may_create:
            known = self._state.get(snapshot.org_id, snapshot.account_id)
            if not (known and known.customer_id):
                return SyncResult(snapshot.account_id, Outcome.NO_CUSTOMER)
        return self._sync_leased(snapshot, mapped, may_create=may_create)

    def _lease(self, snapshot: AccountSnapshot, mapped: MappedCustomer) -> Lease | SyncResult:
        """Take the account's lease, or the result when there is nothing to do."""
        try:
            return self._state.acquire(
                snapshot.org_id,
                snapshot.account_id,
                version=snapshot.version,
                pending_create=None if snapshot.stripe_id else mapped.params,
                # Forced: no "already applied" shortcut, Stripe is compared with whatever the state remembers.
                params_hash=None if snapshot.force else mapped.content_hash,
                customer_id=snapshot.stripe_id,
            )
        except StaleVersion:
            return SyncResult(snapshot.account_id, Outcome.STALE)
        except AlreadyApplied as applied:
            # Nothing to write and no lease was taken: one DynamoDB call for the most common event.
            stale = _event_older_than_applied(snapshot, applied.state)
            outcome = Outcome.STALE if stale else Outcome.UNCHANGED
            # The warnings recorded when this very data was applied: they include what Stripe refused.
            warnings = tuple(applied.state.warnings) or mapped.warnings
            return SyncResult(snapshot.account_id, outcome, customer_id=applied.state.customer_id, warnings=warnings)

    def _sync_leased(self, snapshot: AccountSnapshot, mapped: MappedCustomer, *, may_create: bool) -> SyncResult:
        lease = self._lease(snapshot, mapped)
        if isinstance(lease, SyncResult):
            return lease
        state = lease.state
        kept = tuple(path for path in mapped.orphaned_paths if path in state.applied_fields)
        try:
            mapped = self._keeping(snapshot, mapped, state)
            done = self._apply(snapshot, mapped, lease, may_create=may_create)
            customer_id, outcome, mapped = done.customer_id, done.outcome, done.mapped
            if outcome is Outcome.UNCHANGED and _event_older_than_applied(snapshot, state):
                # The event describes an older change than the one already applied: nothing to overwrite.
                outcome = Outcome.STALE
        except PermanentSyncError as exc:
            # Once Stripe answered with a customer id, it is kept (already stored) whatever failed next.
            known_id = exc.customer_id or snapshot.stripe_id or state.customer_id
            lease.release(
                outcome=Outcome.PERMANENT_ERROR,
                error=exc.message,
                error_field=exc.field,
                drop_pending_create=known_id is None,
            )
            return _error_result(snapshot, exc, customer_id=known_id)
        except BaseException:
            # Transient: keep pending_create (the retry must replay the same create) but free the account.
            _release_quietly(lease)
            raise
        if customer_id is None:
            lease.release(outcome=outcome)
            return SyncResult(snapshot.account_id, outcome)
        lease.commit(
            Commit(
                customer_id,
                snapshot.version,
                mapped.flat,
                mapped.content_hash,
                outcome,
                mapped.contact_ids,
                kept,
                mapped.warnings,
                done.tax_ids,
            )
        )
        # The state keeps keyed digests: stand-ins that differ from the values exactly where the values changed.
        same = customer_id == state.customer_id
        before = self._state.digests.baseline(state.applied_fields, mapped.flat) if same else {}
        return SyncResult(
            snapshot.account_id,
            outcome,
            customer_id=customer_id,
            kept_fields=kept,
            warnings=mapped.warnings,
            changed_fields=_changed_fields(self._mapping, before, mapped.flat) if outcome in _WROTE else (),
        )

    def _apply(self, snapshot: AccountSnapshot, mapped: MappedCustomer, lease: Lease, *, may_create: bool) -> _Applied:
        """Create or update in Stripe, then its tax ID (see ``_Applied``)."""
        state = lease.state
        customer_id, outcome, mapped, created_tax_ids = self._apply_customer(
            snapshot, mapped, lease, may_create=may_create
        )
        if customer_id is None or (outcome is Outcome.UNCHANGED and self._applied_hash(state, mapped)):
            return _Applied(customer_id, outcome, mapped, state.tax_ids)
        # The tax IDs the sync added before (to this customer), or what the create just added (and recorded).
        recorded = state.tax_ids if customer_id == state.customer_id else {}
        if created_tax_ids is not None:
            recorded = created_tax_ids
        scope = f"{snapshot.org_id}-{snapshot.account_id}-{snapshot.version}"
        known = customer_id  # bound for the callback: the tax IDs are recorded for this customer only

        def record(tax_ids: dict[str, str]) -> None:
            lease.record_tax_ids(known, tax_ids)

        tax = self._tax_ids.apply(customer_id, mapped.flat, recorded, scope, record)
        if tax.changed and outcome is Outcome.UNCHANGED:
            outcome = Outcome.UPDATED
        if tax.refused:
            warning = left_out(self._mapping.source_of(TAX_ID_DATA), TAX_ID_DATA, tax.refused)
            mapped = replace(mapped, warnings=(*mapped.warnings, warning))
        return _Applied(customer_id, outcome, mapped, tax.tax_ids)

    def _apply_customer(
        self, snapshot: AccountSnapshot, mapped: MappedCustomer, lease: Lease, *, may_create: bool
    ) -> _Customer:
        """Create or update in Stripe (see ``_Customer``)."""
        state = lease.state
        customer_id = snapshot.stripe_id or state.customer_id
        if customer_id is None:
            return self._create(mapped, lease, may_create=may_create)
        if customer_id != state.customer_id or snapshot.force:
            # An id we never synced (set by an admin or Stripe's connector), or another writer may have changed
            # the customer: compare with Stripe itself, which also proves the customer exists (R10).
            try:
                mapped, baseline = stripe_baseline(
                    self._stripe,
                    customer_id,
                    mapped,
                    account_id=snapshot.account_id,
                    own_customer=state.customer_id,
                    adopt_customer=snapshot.adopt_customer_id,
                )
            except CustomerInOtherMode:
                if not self._replace_other_mode_ids:
                    raise
                # A refreshed sandbox holds production's live-mode ids: as if the field were empty.
                return self._create(mapped, lease, may_create=may_create)
        elif self._applied_hash(state, mapped):
            return _Customer(customer_id, Outcome.UNCHANGED, mapped)
        else:
            # The state keeps keyed digests, not values: stand-ins that differ exactly where the values did.
            baseline = self._state.digests.baseline(state.applied_fields, mapped.flat)
        changes = update_params(baseline, mapped.flat)
        if not changes:
            return _Customer(customer_id, Outcome.UNCHANGED, mapped)
        mapped = self._refused.update(customer_id, changes, mapped)
        return _Customer(customer_id, Outcome.UPDATED, mapped)

    def _applied_hash(self, state: AccountState, mapped: MappedCustomer) -> bool:
        """True when ``mapped`` is what was applied last (the state keeps the content hash keyed)."""
        return state.params_hash == self._state.digests.params_hash(mapped.content_hash)

    def _keeping(self, snapshot: AccountSnapshot, mapped: MappedCustomer, state: AccountState) -> MappedCustomer:
        """``mapped`` with the values of its kept paths (orphaned, left out) as the account's customer has them.

        The state keeps no values, so they are read from Stripe — one retrieve, only when a kept path was
        applied before and the customer is the one the state knows, unforced (another id, or a forced request,
        is compared with Stripe by ``_apply_customer``, which keeps them from that same retrieve). Raises what
        ``retrieve`` raises (CustomerGone is permanent).
        """
        customer_id = snapshot.stripe_id or state.customer_id
        if customer_id is None or customer_id != state.customer_id or snapshot.force:
            return mapped
        if mapped.keeping(state.applied_fields) is mapped:
            return mapped
        return mapped.keeping(flatten(self._stripe.retrieve(customer_id)))

    def _create(self, mapped: MappedCustomer, lease: Lease, *, may_create: bool) -> _Customer:
        """Create (or find and adopt) the customer, its id held by the lease (stored by the commit, or at once
        when an update follows), then update what changed since."""
        if not may_create:
            return _Customer(None, Outcome.NO_CUSTOMER, mapped)
        created = self._creator.create(lease, mapped, look_first=self._look_before_create)
        mapped = self._refused.left_out(mapped, list(created.refused))
        changes = update_params(created.applied_fields, mapped.flat)
        if changes:  # the data changed since a crashed create was first sent, or the adopted customer differs
            lease.record_held()  # another Stripe write follows: the id is stored before it
            try:
                mapped = self._refused.update(created.customer_id, changes, mapped)
            except PermanentSyncError as exc:
                exc.customer_id = created.customer_id  # kept: _sync_leased reports (and writes back) it
                raise
        return _Customer(created.customer_id, Outcome.CREATED, mapped, created.tax_ids)


_WROTE = (Outcome.CREATED, Outcome.UPDATED)


def _changed_fields(mapping: CustomerMapping, before: dict[str, Any], after: dict[str, Any]) -> tuple[str, ...]:
    """The mapped paths whose value differs from what was applied before, as ``Salesforce field → Stripe path``
    (names only: the sync history holds no values)."""
    paths = sorted(p for p in {*before, *after} if before.get(p) != after.get(p))
    return tuple(f"{mapping.source_of(p)} → {p}" if mapping.source_of(p) != p else p for p in paths)


def _release_quietly(lease: Lease) -> None:
    # If even the release fails, the lease expires by itself; the original error matters more.
    with contextlib.suppress(Exception):
        lease.release(outcome="retrying")


class _Customer(NamedTuple):
    """What ``_apply_customer`` did: the customer id (None when none may exist), the outcome, the fields applied
    (``mapped`` with the values of its kept paths: orphaned or left out with a warning) and, after a create,
    the tax IDs it added (recorded with the customer id)."""

    customer_id: str | None
    outcome: Outcome
    mapped: MappedCustomer
    created_tax_ids: dict[str, str] | None = None


@dataclass(frozen=True)
class _Applied:
    """What ``_apply`` did: the customer id (None when none may exist), the outcome, the fields applied
    (with the values of kept paths, and a warning for a tax ID Stripe refused) and the tax IDs to remember."""

    customer_id: str | None
    outcome: Outcome
    mapped: MappedCustomer
    tax_ids: dict[str, str]


def _event_older_than_applied(snapshot: AccountSnapshot, state: AccountState) -> bool:
    return bool(snapshot.event_version and state.applied_version and snapshot.event_version < state.applied_version)


def _error_result(snapshot: AccountSnapshot, exc: PermanentSyncError, *, customer_id: str | None) -> SyncResult:
    return SyncResult(
        snapshot.account_id,
        Outcome.PERMANENT_ERROR,
        customer_id=customer_id,
        error=exc.message,
        error_field=exc.field,
        stripe_request_id=_stripe_request_id(exc),
    )


def _stripe_request_id(exc: BaseException) -> str | None:
    """The ``Request-Id`` of Stripe's answer behind ``exc`` (stripe-python's ``StripeError.request_id``, along
    the chain of causes), when Stripe answered (https://docs.stripe.com/api/request_ids)."""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return None
        request_id = getattr(seen, "request_id", None)
        if isinstance(request_id, str) and request_id:
            return request_id
        seen = seen.__cause__ or seen.__context__
    return None
