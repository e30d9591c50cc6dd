"""What ``sfsync`` prints: tables, the progress line and summaries.

Only ids, verdicts, outcomes and field *names* are printed; field values (names, e-mails, phone numbers,
addresses) stay in Salesforce and Stripe, so a reconcile report can be pasted into a ticket.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, TextIO

from shared.mapping import warnings_text
from shared.reconcile import IDENTITY_VERDICTS, AccountCheck, RunResult, Verdict
from shared.redaction import redact
from shared.state import AccountState

# Verdicts in the order a summary lists them (most urgent first).
VERDICT_ORDER = (
    Verdict.CUSTOMER_OF_OTHER_ACCOUNT,
    Verdict.DUPLICATE_CUSTOMERS,
    Verdict.CLAIMED_BY_OTHER_CUSTOMER,
    Verdict.CHECK_FAILED,
    Verdict.MISSING,
    Verdict.OUT_OF_DATE,
    Verdict.DIFFERENT,
    Verdict.DELETED_CUSTOMER,
    Verdict.INVALID,
    Verdict.NOT_WRITTEN_BACK,
    Verdict.OK,
)


def table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A plain text table with a dashed rule under the headers."""
    body = [list(map(str, row)) for row in rows]
    widths = [max([len(h), *(len(row[i]) for row in body)]) for i, h in enumerate(headers)]
    lines = [headers, ["-" * w for w in widths], *body]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip() for line in lines)


def check_rows(checks: Iterable[AccountCheck], *, show_ok: bool) -> list[list[str]]:
    """Table rows for reconcile verdicts, most urgent first, then by account id."""
    rank = {verdict: i for i, verdict in enumerate(VERDICT_ORDER)}
    # An ok account with field warnings is listed too: its customer lacks what the admin has to fix.
    chosen = sorted(
        (c for c in checks if show_ok or c.verdict is not Verdict.OK or c.warnings),
        key=lambda c: (rank[c.verdict], c.account_id),
    )
    return [
        [
            c.account_id,
            c.verdict.value,
            c.customer_id or "-",
            c.last_outcome or "-",
            "yes" if c.needs_sync else "no",
            ", ".join(c.fields) or "-",
            ", ".join(c.warnings) or "-",
        ]
        for c in chosen
    ]


def reason_lines(checks: Iterable[AccountCheck]) -> list[str]:
    """``account  verdict: reason`` for each check that has one (identity damage, a failed check), in order."""
    rank = {verdict: i for i, verdict in enumerate(VERDICT_ORDER)}
    chosen = sorted((c for c in checks if c.reason), key=lambda c: (rank[c.verdict], c.account_id))
    return [f"{c.account_id}  {c.verdict.value}: {redact(c.reason or '')}" for c in chosen]


CHECK_HEADERS = ("account", "verdict", "customer", "last sync", "sync", "fields that differ", "field warnings")


def counts_text(counts: dict[str, int]) -> str:
    """``ok 3 · missing 1 ...`` in verdict order, leaving out zeros."""
    parts = [f"{verdict.value} {counts[verdict.value]}" for verdict in VERDICT_ORDER if counts.get(verdict.value)]
    return " · ".join(parts) or "nothing"


def summary(result: RunResult, *, apply: bool) -> str:
    """The closing lines of a reconcile run."""
    checkpoint = result.checkpoint
    total = sum(checkpoint.counts.values())
    rate = result.accounts / result.seconds if result.seconds else 0.0
    accounts = "account" if total == 1 else "accounts"
    lines = [
        f"checked {total} {accounts} ({result.accounts} in this run, {result.seconds:.1f} s, {rate:.1f}/s): "
        + counts_text(checkpoint.counts)
    ]
    failed = checkpoint.counts.get(Verdict.CHECK_FAILED.value, 0)
    if failed:
        lines.append(f"{failed} account(s) could not be checked (check_failed, reasons above); the others were")
    damaged = sum(checkpoint.counts.get(verdict.value, 0) for verdict in IDENTITY_VERDICTS)
    if damaged:
        lines.append(f"{damaged} account(s) with identity damage: no sync repairs it, see the ids above")
    warned = sum(1 for c in result.checks if c.warnings)
    if warned:
        lines.append(f"{warned} account(s) with field warnings: Stripe can't take those fields (docs: Field warnings)")
    if result.resumed_after:
        lines.append(f"resumed after account {result.resumed_after} (run {checkpoint.run_id})")
    due = sum(1 for c in result.checks if c.needs_sync)
    if apply:
        lines.append(f"queued {checkpoint.enqueued} sync request(s) (run {checkpoint.run_id})")
    else:
        lines.append(f"dry run: {due} account(s) of this run need a sync; nothing queued (queue them with --apply)")
    if not result.complete:
        lines.append(f"stopped after account {checkpoint.after}: continue with --resume")
    return "\n".join(lines)


class Progress:
    """A one-line progress display on stderr, rewritten in place with ``\\r``."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream or sys.stderr
        self._width = 0
        self._shown = False

    def update(self, result: RunResult) -> None:
        """Show the counts so far and the rate."""
        rate = result.accounts / result.seconds if result.seconds else 0.0
        text = f"reconcile: {sum(result.checkpoint.counts.values())} accounts · {rate:.1f}/s · " + counts_text(
            result.checkpoint.counts
        )
        self._stream.write("\r" + text.ljust(self._width))
        self._stream.flush()
        self._width = max(self._width, len(text))
        self._shown = True

    def finish(self) -> None:
        """End the progress line, so what follows starts on a fresh one."""
        if self._shown:
            self._stream.write("\n")
            self._stream.flush()
            self._shown = False


def when(epoch_ms: int | None) -> str:
    """Epoch milliseconds as an ISO datetime in UTC (``-`` when unknown)."""
    if not epoch_ms:
        return "-"
    return datetime.fromtimestamp(epoch_ms / 1000, tz=UTC).isoformat(timespec="milliseconds")


def lease_text(state: AccountState, now_ms: int | None = None) -> str:
    """Who holds the account's lease and until when, or ``none``."""
    if not state.lease_until:
        return "none"
    now = now_ms if now_ms is not None else int(time.time() * 1000)
    live = "live" if state.lease_until >= now else "expired"
    return f"{state.lease_owner or '?'} until {when(state.lease_until)} ({live})"


def state_lines(state: AccountState | None) -> list[tuple[str, str]]:
    """What the state store knows, as (label, value) pairs."""
    if state is None:
        return [("state", "never synced (no item in the state table)")]
    return [
        ("customer id", state.customer_id or "-"),
        ("last outcome", f"{state.outcome or '-'} at {when(state.updated_at)}"),
        ("last error", redact(state.error) if state.error else "-"),
        ("error field", state.error_field or "-"),
        (
            "write-back refused",
            f"{redact(state.write_back_error)} at {when(state.write_back_error_at)}" if state.write_back_error else "-",
        ),
        ("applied version", f"{when(state.applied_version)} ({state.applied_version or '-'})"),
        ("contacts drawn on", ", ".join(state.contact_ids) or "-"),
        ("kept fields", ", ".join(state.kept_fields) or "-"),
        ("field warnings", warnings_text(state.warnings) or "-"),
        ("tax IDs added", tax_ids_text(state.tax_ids) or "-"),
        ("mapped fields", ", ".join(sorted(state.applied_fields)) or "-"),
        ("pending create", "yes (a create is being retried)" if state.pending_create else "no"),
        ("lease", lease_text(state)),
    ]


def stripe_tax_text(tax: dict[str, Any] | None) -> str:
    """Stripe Tax's view of a customer: ``supported, US OR (billing_address)``; ``-`` when unknown.

    ``unrecognized_location``: Stripe Tax can't place the customer — its invoices lose tax
    (https://docs.stripe.com/tax/customer-locations).
    """
    if not tax:
        return "-"
    location = tax.get("location") or {}
    place = " ".join(str(part) for part in (location.get("country"), location.get("state")) if part)
    where = f", {place} ({location.get('source')})" if place else ", no location"
    return f"{tax.get('automatic_tax') or '-'}{where}"


def tax_ids_text(tax_ids: dict[str, str]) -> str:
    """The tax IDs the sync added (``txi_… (eu_vat)``; refused types marked), without their values."""
    return ", ".join(
        f"{tax_id} ({key.split(':', 1)[0]})" if tax_id else f"refused ({key.split(':', 1)[0]})"
        for key, tax_id in sorted(tax_ids.items())
    )


def labelled(title: str, pairs: Sequence[tuple[str, str]]) -> str:
    """A titled block of aligned ``label  value`` lines."""
    width = max((len(label) for label, _ in pairs), default=0)
    return "\n".join([title, *(f"  {label.ljust(width)}  {value}" for label, value in pairs)])
