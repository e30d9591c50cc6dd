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
from typing import Any

from shared.errors import NotReached, SyncError, TransientSyncError
from shared.mapping import CustomerMapping, warnings_text
from shared.salesforce.gateway import AccountQuery, RecordError, SalesforceGateway
from shared.settings import CreationMode
from shared.sync.account_snapshot import missing_snapshot, snapshot_from_record
from shared.sync.customer_sync import Outcome, SyncResult
from shared.sync.event_idempotency import EventProcessor
from shared.sync.models import SObjectType, SyncRequest

# (org id, contact ids) → for each contact, the accounts whose customers draw on it.
ContactIndex = Callable[[str, list[str]], dict[str, tuple[str, ...]]]
# (org id, account id, Salesforce's permanent refusal of the write-back, or None once it was written).
WriteBackLog = Callable[[str, str, str | None], None]
# A sync that committed to the state store has already cleared an earlier write-back error there.
_COMMITTED = (Outcome.CREATED, Outcome.UPDATED)
_MAX_ERROR_TEXT = 255  # a standard Text(255) field holds the last error
# The status field's values (a picklist or text field on Account: README "Write-back").
STATUS_SYNCED = "Synced"
STATUS_SYNCED_WITH_WARNINGS = "Synced with warnings"
STATUS_ERROR = "Error"
# Outcomes that say nothing new about the account's customer (deleted/merged accounts are never written).
_NOTHING_TO_WRITE = (Outcome.SKIPPED_DELETED, Outcome.SKIPPED_MERGED, Outcome.STALE, Outcome.NO_CUSTOMER)


@dataclass(frozen=True)
class WriteBackFields:
    """Account fields the worker writes back (API names; status and error are optional)."""

    stripe_id: str
    status: str | None = None
    error: str | None = None


@dataclass
class PreparedBatch:
    """A batch whose Salesforce data has been read; sync its requests one by one, then write back."""

    processor: EventProcessor
    creation_mode: CreationMode
    fields: WriteBackFields
    salesforce: SalesforceGateway
    account_of: dict[SyncRequest, tuple[str, ...]]
    records: dict[str, dict[str, Any]]
    read_error: SyncError | None = None
    writeback_log: WriteBackLog | None = None
    results: dict[str, SyncResult] = field(default_factory=dict)
    write_back_errors: dict[str, str] = field(default_factory=dict)
    # Every per-record refusal of the last write-back, transient ones included (logged and counted by code).
    write_back_refusals: dict[str, RecordError] = field(default_factory=dict)
    org_of: dict[str, str] = field(default_factory=dict)
    _done: dict[tuple[SyncRequest, str], SyncResult | Exception] = field(default_factory=dict)

    def sync_all(
        self, requests: Sequence[SyncRequest], *, concurrency: int, should_stop: Callable[[], bool] = lambda: False
    ) -> None:
        """Sync every request now: different accounts in parallel, one account's requests in order.

        Stripe's latency dominates a batch; ``concurrency`` threads keep that many accounts in flight, while
        the per-account grouping means no two threads ever work on the same account (the lease would make
        the second one retry for nothing). ``handle`` then returns the stored outcomes. Once ``should_stop``
        says so (the invocation's deadline is near), no further request is started: each one left is
        ``NotReached`` (retried by SQS), while the ones in flight finish.
        """
        if self.read_error is not None:
            return
        by_account: dict[str, list[SyncRequest]] = {}
        for request in dict.fromkeys(requests):
            for account_id in self.account_of.get(request, ()):
                by_account.setdefault(account_id, []).append(request)

        def run(account_id: str) -> None:
            for request in by_account[account_id]:
                if should_stop():
                    self._done[(request, account_id)] = NotReached("not started before the invocation's deadline")
                    continue
                try:
                    self._done[(request, account_id)] = self._sync_account(request, account_id)
                except Exception as exc:  # kept and raised by handle(), which fails just that message
                    self._done[(request, account_id)] = exc

        with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="sync") as pool:
            list(pool.map(run, by_account))

    def not_reached(self) -> list[str]:
        """Accounts whose syncs were not started before the deadline."""
        return sorted({account for (_, account), done in self._done.items() if isinstance(done, NotReached)})

    def handle(self, request: SyncRequest) -> list[SyncResult]:
        """The account results of one request; raises a transient error to have its message retried."""
        if self.read_error is not None:
            raise self.read_error
        accounts = self.account_of.get(request, ())
        if not accounts:
            # An order without an account, or a contact that feeds no customer: acknowledged and counted.
            unused = Outcome.CONTACT_UNUSED if request.object_type is SObjectType.CONTACT else Outcome.NO_CUSTOMER
            return [SyncResult(request.record_id, unused)]
        results = []
        for account_id in accounts:
            done = self._done.get((request, account_id)) or self._sync_account(request, account_id)
            if isinstance(done, Exception):
                raise done
            results.append(done)
        return results

    def _sync_account(self, request: SyncRequest, account_id: str) -> SyncResult:
        record = self.records.get(account_id)
        snapshot = replace(
            snapshot_from_record(request.org_id, record, stripe_id_field=self.fields.stripe_id)
            if record
            else missing_snapshot(request.org_id, account_id),
            event_version=request.version,
        )
        may_create = self.creation_mode is CreationMode.EVERY_ACCOUNT or snapshot.has_activated_order
        # One idempotency record per account: a contact shared by two customers syncs both.
        per_account = request.model_copy(update={"account_id": account_id})
        result = self.processor.process(per_account, snapshot, may_create=may_create)
        self.org_of[account_id] = request.org_id
        previous = self.results.get(account_id)
        # The write-back follows what the batch did to the account: a later "stale" or "no customer" for the
        # same account (an older message in the same batch) must not hide an earlier "created".
        if previous is None or result.outcome not in _NOTHING_TO_WRITE:
            self.results[account_id] = result
        return result

    def write_back(self) -> list[str]:
        """Write customer ids / status / errors to the accounts that need it; returns accounts to retry.

        sObject Collections answers per record. A transient refusal (``UNABLE_TO_LOCK_ROW``) is retried:
        the caller fails the account's messages, the redelivery replays the sync from the idempotency store
        (Stripe is not called again) and writes back again, until the id lands. A permanent one (a
        validation rule, no edit access, a deleted account…) needs the admin: it is kept in
        ``write_back_errors`` for the caller to log and count, and recorded in the account's state
        (``sfsync status``) — a validation rule refuses the status and error fields too, so Salesforce
        can't show it.
        """
        updates = [u for u in (self._update_for(a, r) for a, r in self.results.items()) if u]
        if not updates:
            return []
        try:
            errors = self.salesforce.update_accounts(updates)
        except TransientSyncError:
            return [update["Id"] for update in updates]
        retry = {account for account, error in errors.items() if error is not None and error.transient}
        self.write_back_errors = {a: str(e) for a, e in errors.items() if e is not None and not e.transient}
        self.write_back_refusals = {a: e for a, e in errors.items() if e is not None}  # logged, counted by code
        return sorted(retry | self._remember(errors))

    def _remember(self, errors: dict[str, RecordError | None]) -> set[str]:
        """Record permanent refusals (and clear them once written) in the state; accounts where that failed."""
        failed: set[str] = set()
        if self.writeback_log is None:
            return failed
        for account_id, error in errors.items():
            result = self.results.get(account_id)
            if (error is not None and error.transient) or (error is None and result and result.outcome in _COMMITTED):
                continue
            try:
                self.writeback_log(self.org_of.get(account_id, ""), account_id, None if error is None else str(error))
            except TransientSyncError:
                failed.add(account_id)  # retried, so the refusal is not lost
        return failed

    def _update_for(self, account_id: str, result: SyncResult) -> dict[str, Any] | None:
        record = self.records.get(account_id)
        if record is None or result.outcome in _NOTHING_TO_WRITE:
            return None
        wanted: dict[str, Any] = {}
        if result.customer_id:
            wanted[self.fields.stripe_id] = result.customer_id
        if self.fields.status:
            wanted[self.fields.status] = _status(result)
        if self.fields.error:
            wanted[self.fields.error] = _error_text(result)[:_MAX_ERROR_TEXT] or None
        # Only what differs: an unchanged write-back would bump SystemModstamp and trigger another message.
        changes = {name: value for name, value in wanted.items() if (record.get(name) or None) != (value or None)}
        return {"Id": account_id, **changes} if changes else None


def _status(result: SyncResult) -> str:
    if result.outcome is Outcome.PERMANENT_ERROR:
        return STATUS_ERROR
    return STATUS_SYNCED_WITH_WARNINGS if result.warnings else STATUS_SYNCED


def _error_text(result: SyncResult) -> str:
    """What the admin reads on the account: the Salesforce field to fix, then the problem (or the warnings)."""
    if result.outcome is not Outcome.PERMANENT_ERROR:
        return _whole_items_within([warnings_text([w]) for w in result.warnings], _MAX_ERROR_TEXT)
    return f"{result.error_field}: {result.error}" if result.error_field else result.error or ""


def _whole_items_within(items: list[str], limit: int) -> str:
    """As many whole items as fit in ``limit`` characters, then how many more (all are in ``sfsync status``)."""
    for count in range(len(items), 0, -1):
        rest = len(items) - count
        text = "; ".join(items[:count]) + (f"; {rest} more: sfsync status" if rest else "")
        if len(text) <= limit:
            return text
    return items[0][:limit] if items else ""


class BatchSync:
    """Prepares batches: resolves each request's account and reads all accounts in one query."""

    def __init__(
        self,
        *,
        processor: EventProcessor,
        salesforce: SalesforceGateway,
        mapping: CustomerMapping,
        creation_mode: CreationMode,
        fields: WriteBackFields,
        contacts: ContactIndex,
        writeback_log: WriteBackLog | None = None,
    ) -> None:
        self._processor = processor
        self._contacts = contacts
        self._writeback_log = writeback_log
        self._salesforce = salesforce
        self._creation_mode = creation_mode
        self._fields = fields
        extra = tuple(name for name in (fields.stripe_id, fields.status, fields.error) if name)
        self._query = AccountQuery(account_fields=(*mapping.account_fields, *extra), order_fields=mapping.order_fields)

    def register_lambda_context(self, context: Any) -> None:
        """Pass the Lambda context on to the idempotency layer (in-progress expiry on timeouts)."""
        self._processor.register_lambda_context(context)

    def prepare(self, requests: Sequence[SyncRequest]) -> PreparedBatch:
        """Read everything the batch needs from Salesforce (errors are kept and raised per request)."""
        batch = PreparedBatch(
            self._processor,
            self._creation_mode,
            self._fields,
            self._salesforce,
            account_of={},
            records={},
            writeback_log=self._writeback_log,
        )
        try:
            batch.account_of = self._resolve_accounts(requests)
            wanted = sorted({account for accounts in batch.account_of.values() for account in accounts})
            batch.records = self._salesforce.read_accounts(wanted, self._query) if wanted else {}
        except SyncError as exc:
            batch.read_error = exc if not exc.permanent else TransientSyncError(str(exc))
        return batch

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
