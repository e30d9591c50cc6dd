"""Reconcile: find the accounts whose Stripe customer is missing or wrong, and queue their sync.

Salesforce drops an Outbound Message it could not deliver for 24 h, and accounts that existed before the sync
was installed never sent one. Reconcile reads every account that should have a customer in Id order, in
query batches of up to 2,000 rows streamed through ``nextRecordsUrl`` (never the whole org at once; a run can
stop after any batch and continue after its last Id), compares the mapped fields with the Stripe customer —
from Stripe's customer list, read once per invocation at 100 customers a call (``customer_index``) — and,
when applying, puts a sync request on the queue for each account that needs one.
The worker does the syncing with all its guarantees (lease, versions, idempotency): reconcile itself never
writes to Stripe. The command line (``ops.cli``) and the scheduled function (``functions.reconcile``) both
run ``run``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Protocol

from shared.errors import PermanentSyncError, SyncError, TransientSyncError
from shared.mapping import CustomerMapping, MappedCustomer
from shared.mapping.stripe_paths import ACCOUNT_ID_PATH
from shared.reconcile import identity
from shared.reconcile.customer_index import CustomerIndex
from shared.redaction import redact
from shared.salesforce.gateway import (
    AccountQuery,
    account_select,
    activated_order_condition,
    soql_quote,
)
from shared.settings import CreationMode
from shared.state.account_state import AccountState
from shared.state.reconcile_checkpoints import ReconcileStateStore
from shared.stripe.customer_diff import mapped_subset
from shared.stripe.gateway import CustomerGateway, CustomerGone
from shared.sync.account_snapshot import record_version
from shared.sync.customer_sync import Outcome
from shared.sync.models import SyncRequest, TriggerSource
from shared.sync.sync_queue import SyncQueue
from shared.sync.tax_id_sync import REFUSED, TAX_ID_DATA, tax_id_key, wanted_tax_id

_logger = logging.getLogger(__name__)

# Rows per query batch (Sforce-Query-Options batchSize: 200 to 2,000; a child order row counts as one, so
# accounts with an activated order come about 1,000 a batch). One Salesforce API call per batch.
PAGE_SIZE = 2000


class Verdict(StrEnum):
    """What reconcile found for one account."""

    OK = "ok"
    MISSING = "missing"  # no customer, although the account should have one
    DIFFERENT = "different"  # mapped fields differ in Stripe (e.g. edited there), or the id was never written back
    OUT_OF_DATE = "out_of_date"  # Salesforce holds newer data than the version applied (a change never arrived)
    DELETED_CUSTOMER = "deleted_customer"  # the id points at a deleted customer: never replaced silently (R10)
    INVALID = "invalid"  # the account's data can't be mapped: a permanent error to fix in Salesforce
    # The customer is right but Salesforce refused to take its id (a validation rule, no edit access).
    NOT_WRITTEN_BACK = "not_written_back"
    # Identity damage (shared.reconcile.identity): never repaired by a sync, shown with both ids.
    DUPLICATE_CUSTOMERS = "duplicate_customers"  # more than one customer names the account
    CLAIMED_BY_OTHER_CUSTOMER = "claimed_by_other_customer"  # a customer names it; the account names another
    CUSTOMER_OF_OTHER_ACCOUNT = "customer_of_other_account"  # the account's customer names another account
    # The account's customer names no Salesforce account (a web-shop sign-up typed in): the sync waits for it
    # to be adopted (``sfsync adopt``), so none is queued.
    UNCLAIMED_CUSTOMER = "unclaimed_customer"
    # This account could not be checked (e.g. a Stripe ID of the other Stripe mode); the run goes on.
    CHECK_FAILED = "check_failed"


IDENTITY_VERDICTS = frozenset(
    {Verdict.DUPLICATE_CUSTOMERS, Verdict.CLAIMED_BY_OTHER_CUSTOMER, Verdict.CUSTOMER_OF_OTHER_ACCOUNT}
)


@dataclass(frozen=True)
class AccountCheck:
    """One account's verdict; ``fields`` names what differs (Stripe paths or Salesforce fields), never values."""

    account_id: str
    verdict: Verdict
    version: int
    customer_id: str | None = None
    fields: tuple[str, ...] = ()
    last_outcome: str | None = None
    needs_sync: bool = False
    # Salesforce fields Stripe can't take as they are (field warnings): synced without them, shown to fix.
    warnings: tuple[str, ...] = ()
    # Why, for identity damage and a failed check (ids and Stripe's or our words, never field values).
    reason: str | None = None
    # The other side of identity damage: the other customers, or the other account.
    related: tuple[str, ...] = ()
    # The account the customer's metadata names, as reconcile read it (identity.judge compares it).
    customer_account: str | None = field(default=None, repr=False, compare=False)
    # For a customer changed in Stripe: the state seen and what Stripe holds, to re-base the state on.
    seen: AccountState | None = field(default=None, repr=False, compare=False)
    actual: dict[str, str] | None = field(default=None, repr=False, compare=False)


class AccountReader(Protocol):
    """The SOQL queries reconcile needs (``SimpleSalesforceGateway`` in production)."""

    def query(self, soql: str) -> list[dict[str, Any]]:
        """All records of a query (live records only)."""

    def query_batches(self, soql: str, batch_size: int) -> Iterator[list[dict[str, Any]]]:
        """The records of a query one batch (one API call) at a time."""


def page_soql(query: AccountQuery, mode: CreationMode, *, after: str | None, limit: int | None) -> str:
    """The accounts that should have a customer, after ``after`` in Id order (at most ``limit``).

    Selects what the worker's read selects (``account_select``: the mapping's fields, their SystemModstamps and
    the latest activated order), so the comparison sees exactly what a sync would map.
    """
    conditions = ["MasterRecordId = null"]  # merged-away accounts never get a customer (R9, R13)
    if mode is CreationMode.ORDER_ACTIVATION:
        # R1, R2 (category); the admin's start date and order filter too, so a backfill never syncs what they exclude
        conditions.append(f"Id IN (SELECT AccountId FROM Order WHERE {activated_order_condition(query)})")
    if after:
        conditions.append(f"Id > {soql_quote(after)}")
    where = " AND ".join(conditions)
    cap = f" LIMIT {int(limit)}" if limit is not None else ""
    return f"{account_select(query)} WHERE {where} ORDER BY Id{cap}"


def differing(actual: dict[str, str], mapped: dict[str, str]) -> tuple[str, ...]:
    """The paths whose values differ between Stripe and the mapping (names only)."""
    return tuple(sorted(path for path in actual.keys() | mapped.keys() if actual.get(path) != mapped.get(path)))


class Reconciler:
    """Compares pages of accounts with their customers and turns the verdicts into sync requests."""

    def __init__(
        self,
        *,
        org_id: str,
        mapping: CustomerMapping,
        salesforce: AccountReader,
        stripe: CustomerGateway,
        state: ReconcileStateStore,
        creation_mode: CreationMode,
        stripe_id_field: str,
        concurrency: int = 5,
        order_conditions: Callable[[], tuple[str, ...]] = tuple,
    ) -> None:
        self.org_id = org_id
        self.creation_mode = creation_mode
        self._mapping = mapping
        self._salesforce = salesforce
        self._stripe = stripe
        self._state = state
        self._stripe_id_field = stripe_id_field
        self._concurrency = concurrency
        self._query = AccountQuery((*mapping.account_fields, stripe_id_field), mapping.order_fields)
        # The admin's start date and order filter (PreferencesReader.order_conditions), read for every run.
        self._order_conditions = order_conditions
        self._listing: Future[CustomerIndex] | None = None

    def run_key(self, apply: bool) -> str:
        """Which kind of run a checkpoint belongs to."""
        return f"{self.org_id}:{self.creation_mode.value}:{'apply' if apply else 'dry-run'}"

    def read_pages(self, after: str | None, limit: int | None, batch_size: int) -> Iterator[list[dict[str, Any]]]:
        """The accounts after ``after`` (at most ``limit``), one query batch at a time."""
        query = replace(self._query, order_conditions=self._order_conditions())
        soql = page_soql(query, self.creation_mode, after=after, limit=limit)
        return self._salesforce.query_batches(soql, batch_size)

    def start_listing(self) -> None:
        """Begin listing Stripe's customers in the background, once per reconciler (i.e. per invocation).

        The list is paced by the Stripe rate; the Salesforce reads and state reads of the first batch go on
        meanwhile.
        """
        if self._listing is None:
            pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="stripe-list")
            self._listing = pool.submit(
                lambda: CustomerIndex(self._mapping.stripe_paths).add_all(self._stripe.list_all())
            )
            pool.shutdown(wait=False)

    def customers(self) -> CustomerIndex:
        """Stripe's customers (waits for the listing; Stripe errors surface here)."""
        self.start_listing()
        assert self._listing is not None
        return self._listing.result()

    def check_page(self, records: Sequence[dict[str, Any]]) -> list[AccountCheck]:
        """Verdicts for a page: one state read for all, Stripe reads in parallel (the gateway's rate limit)."""
        live = [r for r in records if not r.get("IsDeleted") and not r.get("MasterRecordId")]
        states = self._state.get_many(self.org_id, [r["Id"] for r in live])
        self.customers()  # listed once, here, before the threads compare against it
        with ThreadPoolExecutor(max_workers=self._concurrency, thread_name_prefix="reconcile") as pool:
            return list(pool.map(lambda record: self.checked(record, states.get(record["Id"])), live))

    def checked(self, record: dict[str, Any], state: AccountState | None) -> AccountCheck:
        """``check``, where a failure that belongs to this account is its verdict (``check_failed``), not the run's.

        An outage (``TransientSyncError``: Stripe or Salesforce unreachable, rate limits past the retries) still
        stops the run — every account after it would fail the same way — and the run resumes from its
        checkpoint. Anything else raised for one account (a Stripe ID of the other Stripe mode, an id Stripe
        refuses, an unexpected answer) costs only that account.
        """
        try:
            return identity.judge(self.check(record, state), self.customers())
        except TransientSyncError:
            raise
        except Exception as exc:
            reason = redact(str(exc)) if isinstance(exc, SyncError) else f"unexpected {type(exc).__name__}"
            unexpected = not isinstance(exc, SyncError)  # a traceback only for what nobody foresaw
            _logger.warning("reconcile could not check %s: %s", record.get("Id"), reason, exc_info=unexpected)
            return AccountCheck(record["Id"], Verdict.CHECK_FAILED, _version_or_zero(record), reason=reason)

    def check(self, record: dict[str, Any], state: AccountState | None) -> AccountCheck:
        """One account's verdict (reads its customer from Stripe when it has one); raises what the gateways raise."""
        account_id, version = record["Id"], record_version(record)
        last = state.outcome if state else None
        linked = (record.get(self._stripe_id_field) or "").strip() or None
        customer_id = linked or (state.customer_id if state else None)
        try:
            mapped = self._mapping.map_account(record)
        except PermanentSyncError as exc:
            # Queued only when the error is not recorded yet: the sync writes it back to the account.
            known = last == Outcome.PERMANENT_ERROR and state is not None and state.error_field == exc.field
            bad = (exc.field or "?",)
            return AccountCheck(account_id, Verdict.INVALID, version, customer_id, bad, last, needs_sync=not known)
        warned = tuple(dict.fromkeys(warning.field for warning in mapped.warnings))
        if customer_id is None:
            # A customer carrying the account's id that nothing links to is named (the sync can't adopt it).
            unlinked = self.customers().customer_for_account(account_id)
            return AccountCheck(
                account_id, Verdict.MISSING, version, unlinked, last_outcome=last, needs_sync=True, warnings=warned
            )
        # The paths the worker keeps (a gone contact's, a left-out field's) are read too: the state holds only
        # their digests, so they keep what Stripe holds (an account with such paths is read singly).
        wanted = mapped.keeping(state.applied_fields) if state is not None else mapped
        try:
            actual = self._stripe_fields(customer_id, _without_tax_id(wanted.flat))
        except CustomerGone:
            return AccountCheck(account_id, Verdict.DELETED_CUSTOMER, version, customer_id, last_outcome=last)
        mapped = mapped.keeping(actual) if wanted is not mapped else mapped
        if not actual.get(ACCOUNT_ID_PATH) and (state is None or state.customer_id != customer_id):
            # Not the sync's own and naming no account: the worker refuses to change it until it is adopted.
            reason = f"customer {customer_id} names no Salesforce account: adopt it with sfsync adopt {account_id} "
            return AccountCheck(
                account_id,
                Verdict.UNCLAIMED_CUSTOMER,
                version,
                customer_id,
                last_outcome=last,
                reason=reason + customer_id,
            )
        # The account the customer names, for identity.judge (a customer of another account is never synced over).
        compared = self._compare(record, state, customer_id, mapped, actual, warned)
        return replace(compared, customer_account=actual.get(ACCOUNT_ID_PATH))

    def _compare(
        self,
        record: dict[str, Any],
        state: AccountState | None,
        customer_id: str,
        mapped: MappedCustomer,
        actual: dict[str, str],
        warned: tuple[str, ...],
    ) -> AccountCheck:
        """The verdict for an account whose customer exists: what differs, and whether a sync is due."""
        account_id, version = record["Id"], record_version(record)
        last = state.outcome if state else None
        linked = (record.get(self._stripe_id_field) or "").strip() or None
        # A field left out with a warning that was never applied keeps what Stripe holds (as the worker does).
        mapped = mapped.keeping(actual)
        stripe_fields = differing(actual, _without_tax_id(mapped.flat))
        stripe_fields += self._tax_id_missing(customer_id, mapped.flat, state)
        fields = stripe_fields + (() if linked else (f"Account.{self._stripe_id_field}",))
        if _newer_data_not_applied(state, version, self._state.digests.params_hash(mapped.content_hash)):
            return AccountCheck(
                account_id, Verdict.OUT_OF_DATE, version, customer_id, fields, last, needs_sync=True, warnings=warned
            )
        if not fields:
            return AccountCheck(account_id, Verdict.OK, version, customer_id, last_outcome=last, warnings=warned)
        if not stripe_fields and state is not None and state.write_back_error:
            # Queued again: once the admin fixed the cause, this sync writes the id.
            verdict = Verdict.NOT_WRITTEN_BACK
            return AccountCheck(
                account_id, verdict, version, customer_id, fields, last, needs_sync=True, warnings=warned
            )
        rebase = bool(stripe_fields) and state is not None and state.customer_id == customer_id
        return AccountCheck(
            account_id,
            Verdict.DIFFERENT,
            version,
            customer_id,
            fields,
            last,
            needs_sync=True,
            warnings=warned,
            seen=state if rebase else None,
            actual=actual if rebase else None,
        )

    def _stripe_fields(self, customer_id: str, mapped: dict[str, str]) -> dict[str, str]:
        """What the customer holds of the mapped fields: from the list, singly when the list can't tell.

        Read singly: a customer the list doesn't hold (deleted — CustomerGone — or created since), and one
        the list shows as different (it may have changed since it was listed; the rebase needs the truth).
        """
        listed = self.customers().fields(customer_id)
        if listed is not None:
            actual = mapped_subset(listed, mapped)
            if not differing(actual, mapped):
                return actual
        return mapped_subset(self.customers().comparable(self._stripe.retrieve(customer_id)), mapped)

    def _tax_id_missing(self, customer_id: str, flat: dict[str, str], state: AccountState | None) -> tuple[str, ...]:
        """``("tax_id_data",)`` when the mapped tax ID is not among the customer's (one list call)."""
        wanted = wanted_tax_id(flat)
        if wanted is None or (
            state is not None and state.tax_ids.get(self._state.digests.tax_id_name(tax_id_key(*wanted))) == REFUSED
        ):
            return ()  # no tax ID mapped, or one Stripe refused (a field warning, not a difference)
        return (TAX_ID_DATA,) if _tax_id_missing_in(self._stripe.tax_ids(customer_id), wanted) else ()

    def enqueue(self, checks: Sequence[AccountCheck], queue: SyncQueue, run_id: str) -> int:
        """Queue a sync for each account that needs one (state re-based first where Stripe was edited)."""
        due = [check for check in checks if check.needs_sync]
        for check in due:
            if check.seen is not None and check.actual is not None:
                self._state.rebase(self.org_id, check.account_id, seen=check.seen, actual=check.actual)
        queue.send([sync_request(self.org_id, check, run_id) for check in due])
        return len(due)


def _without_tax_id(flat: dict[str, str]) -> dict[str, str]:
    # The tax ID is an object of its own, not a customer field: compared by Reconciler._tax_id_missing.
    return {path: value for path, value in flat.items() if not path.startswith(f"{TAX_ID_DATA}.")}


def _tax_id_missing_in(tax_ids: Sequence[dict[str, Any]], wanted: tuple[str, str]) -> bool:
    return all((tax_id.get("type"), tax_id.get("value")) != wanted for tax_id in tax_ids)


def _newer_data_not_applied(state: AccountState | None, version: int, content_hash: str) -> bool:
    """Salesforce changed since the applied version *and* maps to other data than was applied.

    The version alone is not enough: the worker's own write-back (Stripe ID, status) bumps the account's
    SystemModstamp after every sync without changing what the customer is made of.
    """
    applied = state.applied_version if state else None
    return bool(state and applied and applied < version and state.params_hash != content_hash)


def _version_or_zero(record: dict[str, Any]) -> int:
    try:
        return record_version(record)
    except (KeyError, TypeError, ValueError):
        return 0


def sync_request(org_id: str, check: AccountCheck, run_id: str) -> SyncRequest:
    """The sync request for one account: a fresh event id per run, the version reconcile saw."""
    return SyncRequest.for_account(
        org_id,
        check.account_id,
        event_id=f"reconcile:{run_id}:{check.account_id}",
        source=TriggerSource.RECONCILE,
        version=check.version,
    )
