"""One SQS batch of sync requests: resolve accounts, read them once, sync each, write back once.

Salesforce is read with one SOQL for the whole batch (plus one small lookup for Order notifications that
did not carry their AccountId, and one for CPQ Quote notifications: quote → activated orders → accounts)
and written back with one sObject Collections call, so a batch of 100 notifications costs two to four
Salesforce API calls, not hundreds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from shared.errors import NotReached, SyncError, TransientSyncError
from shared.mapping import CustomerMapping
from shared.salesforce.gateway import AccountQuery, RecordError, SalesforceGateway, WriteResult
from shared.settings import CreationMode, OtherStripeWriters
from shared.sync.account_snapshot import missing_snapshot, snapshot_from_record
from shared.sync.customer_sync import AccountSnapshot, Outcome, SyncResult
from shared.sync.history import SyncHistory
from shared.sync.models import SObjectType, SyncRequest
from shared.sync.stripe_baseline import compares_with_stripe, may_create
from shared.sync.write_back import WriteBackFields, account_result, write_back_update


class RequestProcessor(Protocol):
    """Syncs one (request, account): ``EventProcessor`` (once per event, Powertools idempotency) in production."""

    def process(self, request: SyncRequest, snapshot: AccountSnapshot, *, may_create: bool) -> SyncResult:
        """The account's result for this request; transient failures raise."""

    def register_lambda_context(self, context: Any) -> None:
        """The invocation's Lambda context (its remaining time)."""


# (org id, contact ids) → for each contact, the accounts whose customers draw on it.
ContactIndex = Callable[[str, list[str]], dict[str, tuple[str, ...]]]
# (org id, account id, Salesforce's permanent refusal of the write-back, or None once it was written).
WriteBackLog = Callable[[str, str, str | None], None]
# A sync that committed to the state store has already cleared an earlier write-back error there.
_COMMITTED = (Outcome.CREATED, Outcome.UPDATED)
# What one (request, account) pair came to: its result, or the error that fails the request's message.
_Done = dict[tuple[SyncRequest, str], SyncResult | Exception]


@dataclass(frozen=True)
class BatchOutcome:
    """What one batch did, for the worker to report and answer SQS with.

    ``results``: per request, its accounts' results, or the error that fails its message (transient, so SQS
    redelivers it; ``NotReached`` when the invocation's deadline came first). ``retry``: accounts whose
    write-back must be retried (a transient refusal, or a refusal that could not be recorded): their
    messages fail too, and the redelivery replays the sync from the idempotency store. ``write_back_errors``:
    Salesforce's permanent refusals by account id, for the worker to log and count. ``write_back_refusals``:
    every per-record refusal of the write-back by account id, transient ones included, for the worker to log
    and count by Salesforce's status code. ``not_reached``: the
    accounts whose syncs were not started before the deadline. ``history_refused``: Salesforce's refusals of
    sync history records (``shared.sync.history``), for the worker to log and count; never retried.
    """

    results: dict[SyncRequest, list[SyncResult] | Exception]
    accounts_of: dict[SyncRequest, tuple[str, ...]] = field(default_factory=dict)
    retry: frozenset[str] = frozenset()
    write_back_errors: dict[str, str] = field(default_factory=dict)
    write_back_refusals: dict[str, RecordError] = field(default_factory=dict)
    not_reached: tuple[str, ...] = ()
    history_refused: tuple[RecordError, ...] = ()

    def failed(self, request: SyncRequest) -> bool:
        """True when the request's message must be redelivered."""
        outcome = self.results[request]
        return isinstance(outcome, Exception) or not self.retry.isdisjoint(self.accounts_of.get(request, ()))


class BatchSync:
    """Runs batches: resolves each request's account, reads all accounts in one query, syncs, writes back."""

    def __init__(
        self,
        *,
        processor: RequestProcessor,
        salesforce: SalesforceGateway,
        mapping: CustomerMapping,
        creation_mode: CreationMode,
        fields: WriteBackFields,
        contacts: ContactIndex,
        write_back_log: WriteBackLog | None = None,
        other_writers: OtherStripeWriters = OtherStripeWriters.NONE,
        history: SyncHistory | Callable[[], SyncHistory] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        order_conditions: Callable[[], tuple[str, ...]] = tuple,
    ) -> None:
        self._processor = processor
        self._other_writers = other_writers
        # A SyncHistory, or what to ask for the one in force each batch (the admin's preferences, kept 5 minutes).
        self._history = history
        self._clock = clock
        # The admin's start date and order filter (PreferencesReader.order_conditions: kept 5 minutes).
        self._order_conditions = order_conditions
        self._contacts = contacts
        self._write_back_log = write_back_log
        self._salesforce = salesforce
        self._creation_mode = creation_mode
        self._fields = fields
        self._query = AccountQuery(
            account_fields=(*mapping.account_fields, *fields.names()), order_fields=mapping.order_fields
        )

    def register_lambda_context(self, context: Any) -> None:
        """Pass the Lambda context on to the idempotency layer (in-progress expiry on timeouts)."""
        self._processor.register_lambda_context(context)

    def run(
        self,
        requests: Sequence[SyncRequest],
        *,
        concurrency: int,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> BatchOutcome:
        """Read what the batch needs from Salesforce, sync every request, write back; never raises a sync error.

        Different accounts sync in parallel (``concurrency`` threads: Stripe's latency dominates a batch),
        one account's requests in order in one thread, so no two threads ever work on the same account (the
        lease would make the second one retry for nothing). Once ``should_stop`` says so (the invocation's
        deadline is near) no further request is started: each one left is ``NotReached``, while the ones in
        flight finish. A failed read fails every request (transient: Salesforce's answer is retried).
        """
        unique = list(dict.fromkeys(requests))
        try:
            accounts_of, records = self.read(unique)
        except SyncError as exc:
            error = exc if not exc.permanent else TransientSyncError(str(exc))
            return BatchOutcome({request: error for request in unique})
        done = self._sync_all(unique, accounts_of, records, concurrency, should_stop)
        by_account = _by_account(unique, accounts_of, done)
        history = self._history_records(records, done)
        retry, refusals, written = self._write_back(records, by_account, {a: r.org_id for (r, a) in done}, history)
        return BatchOutcome(
            results={request: _request_results(request, accounts_of.get(request, ()), done) for request in unique},
            accounts_of=accounts_of,
            retry=frozenset(retry),
            write_back_errors={a: str(e) for a, e in refusals.items() if not e.transient},
            write_back_refusals=refusals,
            not_reached=tuple(sorted({a for (_, a), d in done.items() if isinstance(d, NotReached)})),
            history_refused=written.history_refused,
        )

    def read(
        self, requests: Sequence[SyncRequest]
    ) -> tuple[dict[SyncRequest, tuple[str, ...]], dict[str, dict[str, Any]]]:
        """The batch's Salesforce reads only: each request's accounts, and their records by account id (REST
        shape, with the mapped fields, the write-back fields and the latest activated order). Raises SyncError."""
        accounts_of = self._resolve_accounts(requests)
        wanted = sorted({account for accounts in accounts_of.values() for account in accounts})
        query = replace(self._query, order_conditions=self._order_conditions())
        return accounts_of, (self._salesforce.read_accounts(wanted, query) if wanted else {})

    def _history_records(self, records: dict[str, dict[str, Any]], done: _Done) -> list[dict[str, Any]]:
        """One ``Stripe_Sync_Record__c`` per sync that did something or failed (``SyncHistory.record``), for the
        accounts the batch read and that still exist (a history record belongs to its account); identical
        records of one batch once."""
        keeps = self._history() if callable(self._history) else self._history
        if keeps is None or not keeps.enabled:
            return []
        now = self._clock()
        history: dict[str, dict[str, Any]] = {}
        for (request, account_id), result in done.items():
            record = records.get(account_id)
            if not isinstance(result, SyncResult) or record is None or record.get("IsDeleted"):
                continue
            if entry := keeps.record(account_id, request.source, result, now):
                # Two messages of one change in a batch (the order's and the account's) say the same: one record.
                history.setdefault(repr(sorted(entry.items())), entry)
        return list(history.values())

    def _sync_all(
        self,
        requests: list[SyncRequest],
        accounts_of: dict[SyncRequest, tuple[str, ...]],
        records: dict[str, dict[str, Any]],
        concurrency: int,
        should_stop: Callable[[], bool],
    ) -> _Done:
        queued: dict[str, list[SyncRequest]] = {}
        for request in requests:
            for account_id in accounts_of.get(request, ()):
                queued.setdefault(account_id, []).append(request)
        done: _Done = {}

        def sync_account(account_id: str) -> None:
            for request in queued[account_id]:
                if should_stop():
                    done[(request, account_id)] = NotReached("not started before the invocation's deadline")
                    continue
                try:
                    done[(request, account_id)] = self._sync_one(request, account_id, records.get(account_id))
                except Exception as exc:  # fails just that request's message
                    done[(request, account_id)] = exc

        with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="sync") as pool:
            list(pool.map(sync_account, queued))
        return done

    def _sync_one(self, request: SyncRequest, account_id: str, record: dict[str, Any] | None) -> SyncResult:
        snapshot = replace(
            snapshot_from_record(
                request.org_id, record, stripe_id_field=self._fields.stripe_id, adopt_field=self._fields.adopt
            )
            if record
            else missing_snapshot(request.org_id, account_id),
            event_version=request.version,
            force=compares_with_stripe(forced=request.force, other_writers=self._other_writers),
        )
        creates = may_create(
            creation_mode=self._creation_mode,
            has_activated_order=snapshot.has_activated_order,
            other_writers=self._other_writers,
        )
        # One idempotency record per account: a contact shared by two customers syncs both.
        per_account = request.model_copy(update={"account_id": account_id})
        return self._processor.process(per_account, snapshot, may_create=creates)

    def _write_back(
        self,
        records: dict[str, dict[str, Any]],
        results: dict[str, SyncResult],
        org_of: dict[str, str],
        history: list[dict[str, Any]],
    ) -> tuple[set[str], dict[str, RecordError], WriteResult]:
        """Write customer ids / status / errors where they changed, and the batch's history records, in one
        call; (accounts to retry, per-record refusals, what was written).

        sObject Collections answers per record. A transient refusal (``UNABLE_TO_LOCK_ROW``) is retried: the
        worker fails the account's messages, the redelivery replays the sync from the idempotency store
        (Stripe is not called again) and writes back again, until the id lands. A permanent one (a
        validation rule, no edit access, a deleted account…) needs the admin: it is returned (with the
        transient ones, which the worker logs and counts by code too) and recorded in the account's state
        (``sfsync status``) — a validation rule refuses the status and error fields too, so Salesforce can't
        show it.
        """
        updates = [u for a, r in results.items() if (u := write_back_update(records.get(a), r, self._fields))]
        if not updates and not history:
            return set(), {}, WriteResult({})
        try:
            if history:  # one Composite call: accounts and history together
                written = self._salesforce.write_back(updates, history)
            else:
                written = WriteResult(self._salesforce.update_accounts(updates))
        except TransientSyncError:
            return {update["Id"] for update in updates}, {}, WriteResult({})
        errors = written.accounts
        retry = {account for account, error in errors.items() if error is not None and error.transient}
        refusals = {a: e for a, e in errors.items() if e is not None}
        return retry | self._remember(errors, results, org_of), refusals, written

    def _remember(
        self, errors: dict[str, RecordError | None], results: dict[str, SyncResult], org_of: dict[str, str]
    ) -> set[str]:
        """Record permanent refusals (and clear them once written) in the state; accounts where that failed."""
        failed: set[str] = set()
        if self._write_back_log is None:
            return failed
        for account_id, error in errors.items():
            result = results.get(account_id)
            if (error is not None and error.transient) or (error is None and result and result.outcome in _COMMITTED):
                continue
            try:
                self._write_back_log(org_of.get(account_id, ""), account_id, None if error is None else str(error))
            except TransientSyncError:
                failed.add(account_id)  # retried, so the refusal is not lost
        return failed

    def _resolve_accounts(self, requests: Sequence[SyncRequest]) -> dict[SyncRequest, tuple[str, ...]]:
        account_of: dict[SyncRequest, tuple[str, ...]] = {}
        orders: list[SyncRequest] = []
        contacts: list[SyncRequest] = []
        quotes: list[SyncRequest] = []
        for request in requests:
            if request.account_id:
                account_of[request] = (request.account_id,)
            elif request.object_type is SObjectType.ORDER:
                orders.append(request)
            elif request.object_type is SObjectType.CONTACT:
                contacts.append(request)
            elif request.object_type is SObjectType.QUOTE:
                quotes.append(request)
        if quotes:
            # A quote (its primary contact switched) feeds the customers of the accounts with an activated
            # order on it; after their re-sync the contact index follows the new contact.
            by_quote = self._salesforce.quote_accounts([r.record_id for r in quotes])
            for request in quotes:
                account_of[request] = by_quote.get(request.record_id, ())
        if orders:
            found = self._salesforce.order_accounts([r.record_id for r in orders])
            for request in orders:
                account = found.get(request.record_id)
                account_of[request] = (account,) if account else ()
        for org_id in sorted({r.org_id for r in contacts}):
            in_org = [r for r in contacts if r.org_id == org_id]
            # Which customers draw on each contact: remembered at sync time, no Salesforce call needed.
            index = self._contacts(org_id, [r.record_id for r in in_org])
            for request in in_org:
                account_of[request] = index.get(request.record_id, ())
        return account_of


def _request_results(request: SyncRequest, accounts: tuple[str, ...], done: _Done) -> list[SyncResult] | Exception:
    """One request's account results, or the first error among them (which fails its message)."""
    if not accounts:
        # An order without an account, or a contact that feeds no customer: acknowledged and counted.
        unused = Outcome.CONTACT_UNUSED if request.object_type is SObjectType.CONTACT else Outcome.NO_CUSTOMER
        return [SyncResult(request.record_id, unused)]
    results = [done[(request, account_id)] for account_id in accounts]
    error = next((result for result in results if isinstance(result, Exception)), None)
    return error if error is not None else [r for r in results if isinstance(r, SyncResult)]


def _by_account(
    requests: list[SyncRequest], accounts_of: dict[SyncRequest, tuple[str, ...]], done: _Done
) -> dict[str, SyncResult]:
    """Per account, the result its write-back follows (see ``account_result``), over requests in batch order."""
    ran: dict[str, list[SyncResult]] = {}
    for request in requests:
        for account_id in accounts_of.get(request, ()):
            result = done.get((request, account_id))
            if isinstance(result, SyncResult):
                ran.setdefault(account_id, []).append(result)
    return {account_id: chosen for account_id, results in ran.items() if (chosen := account_result(results))}
