"""``sfsync mapping preview``: what a new mapping would change in Stripe, per account, without writing.

For each account read from Salesforce (the worker's own query, with the new mapping's fields) the new mapping
gives the customer's fields; the customer named by the Stripe ID field is read from Stripe and compared with
them: the fields the new mapping or the stack's current one owns (``shared.stripe.customer_diff.mapped_subset``), so a
field the new mapping drops shows as cleared. Nothing is written anywhere. Values are personal data: they are
only printed on the operator's terminal (``show_values``), never into a redirected output.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from shared.errors import SyncError
from shared.mapping import CustomerMapping, FieldWarning
from shared.reconcile.reconciler import differing
from shared.salesforce import AccountQuery
from shared.stripe.customer_diff import flatten, mapped_subset
from shared.stripe.gateway import CustomerGateway, CustomerGone

WOULD_CHANGE, UNCHANGED, WOULD_CREATE, CANT_READ = "would change", "unchanged", "would be created", "not readable"


def query_for(new: CustomerMapping, current: CustomerMapping, stripe_id_field: str) -> AccountQuery:
    """What to read of each account: the fields of both mappings (to map it both ways) and the Stripe ID field."""
    account = {*new.account_fields, *current.account_fields, stripe_id_field}
    return AccountQuery(tuple(sorted(account)), tuple(sorted({*new.order_fields, *current.order_fields})))


@dataclass(frozen=True)
class FieldChange:
    """One Stripe field: what the customer holds now and what the new mapping gives (None: empty)."""

    path: str
    now: str | None
    then: str | None


@dataclass(frozen=True)
class AccountPreview:
    """One account: its customer (None: none yet), the outcome, the changed fields and the field warnings."""

    account_id: str
    customer_id: str | None
    outcome: str
    changes: tuple[FieldChange, ...] = ()
    warnings: tuple[FieldWarning, ...] = ()
    reason: str | None = None


@dataclass
class Totals:
    """Counts per outcome and per changed Stripe field."""

    outcomes: Counter[str] = field(default_factory=Counter)
    fields: Counter[str] = field(default_factory=Counter)

    def add(self, preview: AccountPreview) -> None:
        self.outcomes[preview.outcome] += 1
        self.fields.update(change.path for change in preview.changes)


def preview_accounts(
    records: Iterable[dict[str, object]],
    new: CustomerMapping,
    current: CustomerMapping,
    stripe: CustomerGateway,
    stripe_id_field: str,
) -> Iterator[AccountPreview]:
    """One preview per Salesforce Account record (REST API shape, read with ``query_for``'s fields)."""
    for record in records:
        yield preview_account(record, new, current, stripe, stripe_id_field)


def preview_account(
    record: dict[str, object],
    new: CustomerMapping,
    current: CustomerMapping,
    stripe: CustomerGateway,
    stripe_id_field: str,
) -> AccountPreview:
    """The preview of one account; a customer Stripe can't give is reported, never raised."""
    account_id = str(record["Id"])
    mapped = new.map_account(record)
    warnings = tuple(mapped.warnings)
    customer_id = str(record.get(stripe_id_field) or "") or None
    if customer_id is None:
        return AccountPreview(account_id, None, WOULD_CREATE, warnings=warnings)
    try:
        customer = flatten(stripe.retrieve(customer_id))
    except CustomerGone:
        return AccountPreview(account_id, customer_id, CANT_READ, warnings=warnings, reason="deleted in Stripe")
    except SyncError as exc:
        return AccountPreview(account_id, customer_id, CANT_READ, warnings=warnings, reason=str(exc))
    # What either mapping owns: a field only the current mapping sets is cleared by the new one.
    previously = current.map_account(record).flat
    owned = mapped_subset(customer, {**previously, **mapped.flat})
    changes = tuple(FieldChange(p, owned.get(p), mapped.flat.get(p)) for p in differing(owned, mapped.flat))
    return AccountPreview(account_id, customer_id, WOULD_CHANGE if changes else UNCHANGED, changes, warnings)


def lines(preview: AccountPreview, *, show_values: bool) -> list[str]:
    """The account's lines for the terminal; values only with ``show_values``."""
    customer = f" → {preview.customer_id}" if preview.customer_id else ""
    head = f"account {preview.account_id}{customer}: {preview.outcome}"
    if preview.reason:
        head += f" ({preview.reason})"
    out = [head]
    for change in preview.changes:
        if show_values:
            out.append(f"  {change.path}: {_shown(change.now)} → {_shown(change.then)}")
        else:
            out.append(f"  {change.path}")
    for warning in preview.warnings:  # a problem may quote the value: only with the values
        problem = f": {warning.problem}" if show_values else ""
        out.append(f"  warning: Salesforce field {warning.field} → {warning.stripe_path}{problem}")
    return out


def summary(totals: Totals) -> str:
    """One line: accounts per outcome, and how often each Stripe field would change."""
    counts = ", ".join(f"{totals.outcomes[o]} {o}" for o in (WOULD_CHANGE, UNCHANGED, WOULD_CREATE, CANT_READ))
    read = sum(totals.outcomes.values())
    fields = ", ".join(f"{path} ×{n}" for path, n in sorted(totals.fields.items()))
    return f"{read} accounts read: {counts}" + (f"; fields that would change: {fields}" if fields else "")


def _shown(value: str | None) -> str:
    return "(empty)" if value is None else repr(value)
