"""What the worker writes back to an Account: a pure function of the record as read and the sync's result.

The customer id goes to the Stripe ID field, and when configured the status (a picklist or text field:
``Synced``, ``Synced with warnings``, ``Error``) and the error text (a standard Text(255): the Salesforce
field to fix and the problem, or the field warnings). Only the values that differ from the record are
written: an unchanged write-back would bump ``SystemModstamp`` and trigger another notification.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from shared.mapping import warnings_text
from shared.sync.customer_sync import Outcome, SyncResult

MAX_ERROR_TEXT = 255  # a standard Text(255) field holds the last error
STATUS_SYNCED = "Synced"
STATUS_SYNCED_WITH_WARNINGS = "Synced with warnings"
STATUS_ERROR = "Error"
# Outcomes that say nothing new about the account's customer (deleted/merged accounts are never written).
NOTHING_TO_WRITE = frozenset({Outcome.SKIPPED_DELETED, Outcome.SKIPPED_MERGED, Outcome.STALE, Outcome.NO_CUSTOMER})


@dataclass(frozen=True)
class WriteBackFields:
    """Account fields the worker writes back (API names; status and error are optional)."""

    stripe_id: str
    status: str | None = None
    error: str | None = None
    # Read only: the admin's consent to adopt a customer that names no account (``shared.sync.ownership``).
    adopt: str | None = None

    def names(self) -> tuple[str, ...]:
        """The configured field names (read with the account, so the write-back can compare)."""
        return tuple(name for name in (self.stripe_id, self.status, self.error, self.adopt) if name)


def account_result(results: Iterable[SyncResult]) -> SyncResult | None:
    """Which of one account's results in a batch (in the order they ran) its write-back follows.

    The last that says something about the customer: a later "stale" or "no customer" for the same account (an
    older message in the same batch) must not hide an earlier "created". The first when none does.
    """
    chosen: SyncResult | None = None
    for result in results:
        if chosen is None or result.outcome not in NOTHING_TO_WRITE:
            chosen = result
    return chosen


def write_back_update(
    record: dict[str, Any] | None, result: SyncResult, fields: WriteBackFields
) -> dict[str, Any] | None:
    """The sObject Collections record (``{"Id": ..., field: value}``) for one account, or None: nothing to write.

    ``record`` is the Account as the batch read it (None when the query did not return it).
    """
    if record is None or result.outcome in NOTHING_TO_WRITE:
        return None
    wanted: dict[str, Any] = {}
    if result.customer_id:
        wanted[fields.stripe_id] = result.customer_id
    if fields.status:
        wanted[fields.status] = status_text(result)
    if fields.error:
        wanted[fields.error] = error_text(result)[:MAX_ERROR_TEXT] or None
    changes = {name: value for name, value in wanted.items() if (record.get(name) or None) != (value or None)}
    return {"Id": record["Id"], **changes} if changes else None


def status_text(result: SyncResult) -> str:
    """The status field's value for ``result``."""
    if result.outcome is Outcome.PERMANENT_ERROR:
        return STATUS_ERROR
    return STATUS_SYNCED_WITH_WARNINGS if result.warnings else STATUS_SYNCED


def error_text(result: SyncResult) -> str:
    """What the admin reads on the account: the Salesforce field to fix, then the problem (or the warnings)."""
    if result.outcome is not Outcome.PERMANENT_ERROR:
        return _whole_items_within([warnings_text([w]) for w in result.warnings], MAX_ERROR_TEXT)
    return f"{result.error_field}: {result.error}" if result.error_field else result.error or ""


def _whole_items_within(items: list[str], limit: int) -> str:
    """As many whole items as fit in ``limit`` characters, then how many more (all are in ``sfsync status``)."""
    for count in range(len(items), 0, -1):
        rest = len(items) - count
        text = "; ".join(items[:count]) + (f"; {rest} more: sfsync status" if rest else "")
        if len(text) <= limit:
            return text
    return items[0][:limit] if items else ""
