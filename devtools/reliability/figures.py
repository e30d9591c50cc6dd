"""What a scenario reports, the table the runner prints, and ``RELIABILITY.md``."""

from __future__ import annotations

import os
import platform
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HEADER = ("scenario", "size", "lost", "duplicates", "leaks", "notes / other figures", "seconds")


@dataclass
class Figures:
    """One scenario's result: the three headline counts, other counts, and which of them must be 0."""

    scenario: str
    size: str = ""
    lost: int = 0
    duplicates: int = 0
    leaks: int = 0
    # Further counts that must be 0 (e.g. 5xx answers, messages left in the DLQ), shown first in the notes.
    zero: dict[str, int] = field(default_factory=dict)
    # Informational figures (injected faults, outcomes, retries…).
    other: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    error: str | None = None  # the scenario itself failed (an exception or a timeout)

    def failures(self) -> list[str]:
        """Every figure that must be 0 and is not (empty when the scenario passed)."""
        required = {"lost": self.lost, "duplicates": self.duplicates, "leaks": self.leaks, **self.zero}
        failed = [f"{name}={value}" for name, value in required.items() if value != 0]
        if self.error:
            failed.append(f"error: {self.error}")
        return failed

    def notes(self) -> str:
        """The notes column: required zeros, then the other figures."""
        required = ", ".join(f"{name}={value}" for name, value in self.zero.items())
        informational = ", ".join(f"{name}={_number(value)}" for name, value in self.other.items())
        text = " · ".join(part for part in (required, informational) if part)
        return f"ERROR: {self.error} · {text}" if self.error else text

    def row(self) -> tuple[str, ...]:
        """The table row."""
        return (
            self.scenario,
            self.size,
            str(self.lost),
            str(self.duplicates),
            str(self.leaks),
            self.notes(),
            f"{self.seconds:.1f}",
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON form (``--json``), with the failures spelled out."""
        return {**asdict(self), "failures": self.failures()}


def _number(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, int) and abs(value) >= 10_000:
        return f"{value:,}"
    return str(value)


def table(figures: list[Figures]) -> str:
    """A Markdown table (readable as plain text too)."""
    rows = [HEADER, *(f.row() for f in figures)]
    cells = [[" ".join(cell.replace("|", "/").split()) for cell in row] for row in rows]
    lines = ["| " + " | ".join(row) + " |" for row in cells]
    lines.insert(1, "|" + "|".join("---" for _ in HEADER) + "|")
    return "\n".join(lines)


def machine() -> str:
    """Where the figures were measured."""
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def write_report(path: Path, figures: list[Figures], *, size: str, total_seconds: float, partial: bool = False) -> None:
    """``RELIABILITY.md``: machine, date, the table and what each scenario asserts.

    ``partial`` (a ``--only`` run): the existing report keeps its other rows and notes; only the scenarios run
    are replaced or added (``_merged``).
    """
    failed = [f for f in figures if f.failures()]
    verdict = "every required figure is 0" if not failed else f"{len(failed)} scenario(s) failed"
    text = f"""# Reliability figures

Measured by `make reliability` (`python -m devtools.reliability --size {size}`) on {machine()},
{time.strftime("%Y-%m-%d")}, in {total_seconds:.0f} s: {verdict}. CI runs the same scenarios at `--size ci`
(`tests/integration/test_reliability.py`).

Everything runs against the real local stack (`devtools/local_runtime/stack.py`): dynalite, moto server SQS with a
DLQ (maxReceiveCount 10, as in `template.yaml`), the Stripe emulator, the Salesforce org simulator, the
receiver behind the HTTP gateway and the worker driven like Lambda's SQS event source mapping
(visibility timeout shortened to 3 s). moto's SQS scans every message on each call, so the storm is posted
in waves of one message per client and drained in between.

{table(figures)}

`lost`, `duplicates`, `leaks` and the notes' figures before the ` · ` must be 0; the rest is informational.

- **duplicate storm**: notifications (several changes per account) each delivered several times, shuffled,
  posted by parallel clients as SOAP messages of ≤ 100 notifications → exactly one customer per account,
  equal to the latest Salesforce state (name, phone, description, address).
- **reordering**: notifications carrying an older `SystemModstamp` delivered after the newest → never
  applied (no Stripe write), reported `stale`.
- **faults**: ~20 % Stripe 429 / 5xx / timeouts, Salesforce session expiry and REST 503s between rounds,
  DynamoDB throttling of the worker's calls (20 % answered on the wire, where botocore's retries absorb it
  as in AWS, plus 5 % answered before botocore sends, which reaches the product code: `surfaced`) →
  everything applied, nothing lost or duplicated, DLQ empty.
- **crash**: the worker process killed (`os._exit(137)`) right after a Stripe create, before the
  bookkeeping → the retry replays the create: one customer per account.
- **poison**: bodies that are not sync requests → DLQ at the first receive with a `failure_reason`;
  transient failures → DLQ through the redrive policy; both redriven (`shared.sync.dead_letters.redrive`) succeed.
- **hostile input**: generated hostile bodies (hypothesis) through the receiver → no 5xx, no unhandled
  exception, nothing enqueued.
- **lost reply, key expired**: every create runs at Stripe but every reply is lost, so the messages reach the
  DLQ; a day later (Stripe's clock +25 h: Idempotency-Keys pruned; the pending creates dated 25 h back) the
  accounts change and the DLQ is redriven → each customer the lost create made is found (Search, list of
  customers created since) and adopted, then updated: no create, no second customer.
- **event relay fuzz**: generated EventBridge events (hypothesis, `devtools/reliability/hostile_events.py`)
  delivered to the Event Relay (platform-event) function like a rule target (Lambda's async retries, on-failure
  destination), enqueuing on the real SQS queue: valid change and order-activation events in both JSON
  renderings (Streaming API: ISO dates, field names; Pub/Sub API: epoch-ms dates, hex-bitmap `changedFields`),
  and hostile ones (wrong source or org, wrong or missing detail-type, payload or header missing or not an
  object, bad `recordIds` — one bad id in a list of up to 20,000 —, wrong types, oversized values, no usable
  event id, not a JSON object) → no crash, nothing enqueued from a hostile event, the queue holds exactly what
  the function reported, every refused event has its reason and is parked in the function's on-failure queue
  (`FAILURE_QUEUE_URL`) with it (`failure_reason` attribute); `valid_not_enqueued` lists valid events the
  function did not enqueue.
- **rotation**: the outside world changes under the running worker, each change while account changes flow
  (the worker reads both secrets from Secrets Manager, as deployed): the Stripe key rolled with the old key
  expiring at once; a restricted key missing Write on Customers, given it 2 s later; the Salesforce JWT
  certificate rotated (sessions expired); My Domain renamed with the old host answering a web page → no sync
  lost or duplicated, nothing dead-lettered, no sync failing once the fix is in place (`_refused`: the
  syncs refused before it, retried).
- **identity**: forged org-id aliases (the org's 15 characters with another suffix, and the 15-character form)
  beside the genuine id, in one batch and one at a time with the write-back refused; another account's
  customer and web-shop sign-ups (no Salesforce reference) typed into Stripe ID fields; merges whose master
  takes the loser's Stripe ID; accounts with a VAT number whose tax-ID read-back after the create fails once
  (a 500), then a VAT change → one customer per account, every alias refused (403), no customer that is not
  the account's own written to or changed (`foreign_customers_modified`), no tax ID added twice or left
  behind after the change (`duplicate_tax_ids`).
- **log leaks**: the whole run's handler output scanned for every email, phone, street line, token, key
  and session id the scenarios used; then, once everything settled, every item of the state and idempotency
  tables (`values_in_tables`: the state keeps keyed digests, no value) and every message of the dead-letter,
  held and on-failure queues (`personal_data_in_failure_queues`).
"""
    if partial and path.exists():
        text = _merged(path.read_text(), text, figures, size=size, total_seconds=total_seconds)
    path.write_text(text)


def _merged(existing: str, fresh: str, figures: list[Figures], *, size: str, total_seconds: float) -> str:
    """``existing`` with the rows of ``figures`` replaced or added, a line saying they were measured on their
    own, and the description of any scenario it lacks (taken from ``fresh``): a ``--only`` run keeps the
    other scenarios' figures and notes."""
    lines = existing.splitlines()
    rows = [i for i, line in enumerate(lines) if line.startswith("| ") and not line.startswith("| scenario |")]
    if not rows:
        return fresh
    new_rows = {f.scenario: table([f]).splitlines()[2] for f in figures}
    for index in rows:
        name = lines[index][2:].split(" |", 1)[0]
        if name in new_rows:
            lines[index] = new_rows.pop(name)
    at = rows[-1] + 1
    lines[at:at] = list(new_rows.values())
    names = ", ".join(f"`{f.scenario}`" for f in figures)
    only = " ".join(f"--only {f.scenario}" for f in figures)
    note = (
        f"The {names} row(s) were measured on their own (`python -m devtools.reliability --size {size} {only}`, "
        f"{total_seconds:.0f} s, {machine()}, {time.strftime('%Y-%m-%d')}); the other rows are from the runs "
        "described here."
    )
    stale = f"The {names} row(s) were measured on their own"
    if any(line.startswith(stale) for line in lines):  # measured on its own before: that note is replaced
        lines = [note if line.startswith(stale) else line for line in lines]
    else:
        after = at + len(new_rows)
        lines[after:after] = ["", note]
    text = "\n".join(lines) + "\n"
    for f in figures:
        bullet, present = _bullet(fresh, f.scenario), _bullet(text, f.scenario)
        if bullet and present:
            text = text.replace(present, bullet, 1)
        elif bullet:
            text = text.replace("- **log leaks**", bullet + "\n- **log leaks**", 1)
    return text


def _bullet(text: str, scenario: str) -> str:
    """The description list item of ``scenario`` in ``text`` (its continuation lines too), or ""."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if line.startswith(f"- **{scenario}**"):
            end = index + 1
            while end < len(lines) and lines[end].startswith("  "):
                end += 1
            return "\n".join(lines[index:end])
    return ""
