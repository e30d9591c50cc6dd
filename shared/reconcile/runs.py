"""A reconcile run: the accounts read in Id order, batch by batch, checked and (when applying) queued.

One run may take several invocations: the checkpoint (``shared.state.reconcile_checkpoints``) is saved after
every batch, so a run stopped by the cap, the Lambda's clock or an outage continues after its last finished
batch. The command line (``ops.cli``) and the scheduled function (``functions.reconcile``) both call ``run``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from shared.reconcile.reconciler import PAGE_SIZE, AccountCheck, Reconciler, Verdict
from shared.state.reconcile_checkpoints import Checkpoint, Checkpoints
from shared.sync.sync_queue import SyncQueue


class CheckpointMismatch(ValueError):
    """The saved checkpoint belongs to another kind of run (org, creation mode, dry-run or apply)."""


@dataclass
class RunResult:
    """A run (or the part of it done by this invocation)."""

    checkpoint: Checkpoint
    checks: list[AccountCheck] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # verdicts of this invocation (checkpoint: the run's)
    accounts: int = 0  # accounts read by this invocation
    complete: bool = False
    resumed_after: str | None = None
    seconds: float = 0.0


@dataclass(frozen=True)
class RunOptions:
    """How far one invocation goes: batch size, an account cap and a stop signal (the Lambda's clock)."""

    apply: bool = False
    resume: bool = False
    page_size: int = PAGE_SIZE  # rows per query batch (Salesforce takes 200 to 2,000)
    max_accounts: int | None = None
    should_stop: Callable[[], bool] = lambda: False
    keep_ok: bool = True  # keep the verdicts of accounts in step too (the CLI's --all); False bounds memory


def _read_ahead(pages: Iterator[list[dict[str, Any]]]) -> Iterator[list[dict[str, Any]]]:
    """Each batch while the next one is read (Salesforce's time overlaps the checks; two batches at most)."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="salesforce-read") as pool:
        pending = pool.submit(next, pages, None)
        while (batch := pending.result()) is not None:
            pending = pool.submit(next, pages, None)
            yield batch


def start_checkpoint(checkpoints: Checkpoints, run_key: str, *, resume: bool) -> Checkpoint:
    """The saved checkpoint when resuming (and it belongs to this kind of run), else a fresh one."""
    saved = checkpoints.load() if resume else None
    if saved is None:
        return Checkpoint(run=run_key)
    if saved.run != run_key:
        raise CheckpointMismatch(
            f"the checkpoint belongs to another kind of run ({saved.run}, not {run_key}): start over without --resume"
        )
    return saved


def run(
    reconciler: Reconciler,
    checkpoints: Checkpoints,
    options: RunOptions,
    *,
    queue: SyncQueue | None = None,
    on_page: Callable[[RunResult], None] | None = None,
) -> RunResult:
    """Check (and with ``options.apply`` queue) every account, saving the checkpoint after each batch.

    Returns when all accounts are done (the checkpoint is cleared), or incomplete when the cap or the stop
    signal was reached (the checkpoint stays). Errors propagate; the last saved checkpoint is where a resumed
    run continues, so no account is left out and none of a finished batch is queued twice. One query streams
    the accounts (at most the cap) batch by batch; only the verdicts that need attention are kept (all of
    them with ``options.keep_ok``), so memory doesn't grow with the org.
    """
    if options.apply and queue is None:
        raise ValueError("applying needs the sync queue")
    began = time.monotonic()
    checkpoint = start_checkpoint(checkpoints, reconciler.run_key(options.apply), resume=options.resume)
    result = RunResult(checkpoint, resumed_after=checkpoint.after)
    reconciler.start_listing()
    pages = _read_ahead(reconciler.read_pages(checkpoint.after, options.max_accounts, options.page_size))
    while not options.should_stop():
        records = next(pages, None)
        if records is None:
            # The query is exhausted: the run is complete unless it stopped at the cap (more may follow).
            result.complete = options.max_accounts is None or result.accounts < options.max_accounts
            break
        if not records:
            continue
        page = reconciler.check_page(records)
        if queue is not None and options.apply:
            checkpoint.enqueued += reconciler.enqueue(page, queue, checkpoint.run_id)
        checkpoint.after = records[-1]["Id"]
        for check in page:
            checkpoint.counts[check.verdict.value] = checkpoint.counts.get(check.verdict.value, 0) + 1
            result.counts[check.verdict.value] = result.counts.get(check.verdict.value, 0) + 1
        checkpoints.save(checkpoint)
        result.checks.extend(c for c in page if options.keep_ok or c.verdict is not Verdict.OK or c.warnings)
        result.accounts += len(records)
        result.seconds = time.monotonic() - began
        if on_page is not None:
            on_page(result)
    if result.complete:
        checkpoints.clear()
    result.seconds = time.monotonic() - began
    return result
