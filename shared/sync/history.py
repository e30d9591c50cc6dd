"""The sync history in Salesforce: one ``Stripe_Sync_Record__c`` per sync that did something or failed.

Pure: which results become records (``HistoryLevel``), and each record's fields (the package's
``objects/Stripe_Sync_Record__c``: outcome, source, time, customer id, warnings, the error and its fix in an
admin's words). Names of Salesforce fields only, never their values: the history is no copy of the data. The
worker inserts the records in the same Composite call as the account write-back
(``SalesforceGateway.write_back``), so history costs no API call of its own; the daily reconcile deletes the
records older than ``retention_days`` (``expire_history``). Level and retention are the admin's
preferences in Salesforce (``shared.salesforce.preferences``: ``HistoryLevel`` is defined there).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, cast

from shared.mapping import warnings_text
from shared.salesforce.preferences import HistoryLevel, Preferences
from shared.sync.customer_sync import Outcome, SyncResult
from shared.sync.models import TriggerSource

if TYPE_CHECKING:
    from shared.sync.observe import ObservedSync

HISTORY_OBJECT = "Stripe_Sync_Record__c"
ACCOUNT_FIELD = "Account__c"  # master-detail to Account: the records follow the account (merge, delete)
SYNCED_AT_FIELD = "Synced_At__c"
DEFAULT_RETENTION_DAYS = 30
MAX_TEXT = 32768  # the package's Long Text Area(32768) fields
MAX_ID_TEXT = 255


# Outcome__c values (the package's restricted picklist).
_RECORDED = {Outcome.CREATED: "Created", Outcome.UPDATED: "Updated"}
_ON_REQUEST = {Outcome.UNCHANGED: "Unchanged", Outcome.STALE: "Stale"}
# Source__c values: what an admin calls the trigger.
SOURCE_LABELS = {
    TriggerSource.OUTBOUND_MESSAGE: "Outbound Message",
    TriggerSource.PLATFORM_EVENT: "Event Relay",
    TriggerSource.CHANGE_EVENT: "Event Relay",
    TriggerSource.RECONCILE: "Reconcile",
    TriggerSource.MANUAL: "Manual",
}
RETRY = "then press Sync to Stripe now on the account"
# Observe mode's would-do (``ObservedOutcome`` values) as Outcome__c values; unchanged only at level everything.
_OBSERVED = {"would_create": "Would Create", "would_update": "Would Update", "refused": "Would Refuse"}
OBSERVE_FIX = "Observe mode: nothing was written. Your Stripe sync operator applies it with sfsync go-live."


@dataclass(frozen=True)
class SyncHistory:
    """What the history keeps: ``level`` (see ``HistoryLevel``) and ``retention_days`` (records older than that
    are deleted by the daily reconcile; at least 1). Both come from the admin's preferences."""

    level: HistoryLevel = HistoryLevel.CHANGES
    retention_days: int = DEFAULT_RETENTION_DAYS

    def __post_init__(self) -> None:
        if self.retention_days < 1:
            raise ValueError(f"history retention must be at least 1 day, got {self.retention_days}")

    @property
    def enabled(self) -> bool:
        return self.level is not HistoryLevel.OFF

    @classmethod
    def of(cls, preferences: Preferences) -> SyncHistory:
        """What the admin's preferences ask the history to keep."""
        return cls(preferences.history_level, max(1, preferences.history_retention_days))

    def record(self, account_id: str, source: TriggerSource, result: SyncResult, at: datetime) -> dict[str, Any] | None:
        """The ``Stripe_Sync_Record__c`` to insert for one sync (sObject Collections shape), or None.

        ``at``: when the sync finished (aware datetime). A redelivery's replayed result (``duplicate``) was
        recorded the first time; deleted, merged-away accounts and syncs without a customer leave none.
        """
        outcome = self._outcome(source, result)
        if outcome is None:
            return None
        return {
            "attributes": {"type": HISTORY_OBJECT},
            ACCOUNT_FIELD: account_id,
            "Outcome__c": outcome,
            "Source__c": SOURCE_LABELS[source],
            SYNCED_AT_FIELD: at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "Stripe_Customer_ID__c": result.customer_id,
            "Changed_Fields__c": _clip(", ".join(result.changed_fields)) or None,
            "Warnings__c": _clip(warnings_text(result.warnings)) or None,
            "Error__c": _clip(error_text(result)) or None,
            "Fix__c": _clip(fix_text(result)) or None,
            "Stripe_Request_ID__c": (result.stripe_request_id or "")[:MAX_ID_TEXT] or None,
        }

    def _outcome(self, source: TriggerSource, result: SyncResult) -> str | None:
        if not self.enabled or result.duplicate:
            return None
        if result.outcome is Outcome.PERMANENT_ERROR:
            # A field to fix is a refusal of the account's data; anything else (another account's customer…)
            # is an error the admin must look into.
            return "Refused" if result.error_field else "Error"
        manual = source is TriggerSource.MANUAL
        if result.outcome in _RECORDED:
            wanted = self.level is not HistoryLevel.ERRORS or manual or bool(result.warnings)
            return _RECORDED[result.outcome] if wanted else None
        if result.outcome in _ON_REQUEST and (self.level is HistoryLevel.EVERYTHING or manual):
            return _ON_REQUEST[result.outcome]
        return None

    def observed(self, item: ObservedSync, at: datetime) -> dict[str, Any] | None:
        """The record of what observe mode *would* have done (``shared.sync.observe``; nothing was written), or
        None when the level keeps no record of it: names only, like every record."""
        outcome = _OBSERVED.get(item.outcome.value)
        if item.outcome.value == "unchanged" and self.level is HistoryLevel.EVERYTHING:
            outcome = "Unchanged"
        if not self.enabled or outcome is None:
            return None
        if self.level is HistoryLevel.ERRORS and outcome != "Would Refuse" and not item.warnings:
            return None
        # TriggerSource is a StrEnum: the stored value finds its label (an unknown one finds none).
        source = SOURCE_LABELS.get(cast(TriggerSource, item.source), "")
        return {
            "attributes": {"type": HISTORY_OBJECT},
            ACCOUNT_FIELD: item.account_id,
            "Outcome__c": outcome,
            "Source__c": source or None,
            SYNCED_AT_FIELD: at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "Stripe_Customer_ID__c": item.customer_id,
            "Changed_Fields__c": _clip(", ".join(item.fields)) or None,
            "Warnings__c": _clip(", ".join(item.warnings)) or None,
            "Error__c": _clip(item.reason or "") or None,
            "Fix__c": OBSERVE_FIX,
        }

    def cutoff(self, now: datetime) -> datetime:
        """Records synced before this are expired."""
        return now - timedelta(days=self.retention_days)


def error_text(result: SyncResult) -> str:
    """The refusal: the Salesforce field, then the problem."""
    if result.outcome is not Outcome.PERMANENT_ERROR:
        return ""
    return f"{result.error_field}: {result.error}" if result.error_field else result.error or ""


def fix_text(result: SyncResult) -> str:
    """What to do about ``result``, in an admin's words (empty when nothing needs doing)."""
    if result.outcome is Outcome.PERMANENT_ERROR:
        if result.error_field:
            return f"Correct {result.error_field} (or the record it comes from), {RETRY}."
        return f"Read the error and remove its cause (your Stripe sync operator can help: sfsync status), {RETRY}."
    if result.warnings:
        fields = ", ".join(dict.fromkeys(w.field for w in result.warnings))
        named = f" ({fields})" if fields else ""
        return f"The rest was synced. Correct the fields named in Warnings{named}, {RETRY} to send them."
    return ""


def _clip(text: str) -> str:
    return text[:MAX_TEXT]


class HistoryStore(Protocol):
    """The Salesforce calls retention needs (``SimpleSalesforceGateway`` has them)."""

    def query_batches(self, soql: str, batch_size: int) -> Iterator[list[dict[str, Any]]]:
        """Records of a SOQL query, page by page."""

    def delete_records(self, record_ids: list[str]) -> int:
        """Delete (≤ 200 a call); how many were deleted."""


def expire_history(
    salesforce: HistoryStore, history: SyncHistory, now: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> int:
    """Delete the history records synced before ``retention_days`` ago; how many were deleted.

    Costs 1 query call per 2,000 expired records and 1 sObject Collections delete per 200: for a day's
    worth of 1,000 records, 1 + 5 = 6 API calls a day — fewer than any per-batch scheme, whose query would
    repeat in every batch. Nothing when the history is off.
    """
    if not history.enabled:
        return 0
    cutoff = history.cutoff(now()).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    soql = f"SELECT Id FROM {HISTORY_OBJECT} WHERE {SYNCED_AT_FIELD} < {cutoff}"  # noqa: S608 - constants and a date
    deleted = 0
    for page in salesforce.query_batches(soql, 2000):
        ids = [str(row["Id"]) for row in page]
        for start in range(0, len(ids), 200):
            deleted += salesforce.delete_records(ids[start : start + 200])
    return deleted
