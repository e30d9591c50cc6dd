"""The safety net and the backfill: compare the accounts that should have a customer with Stripe, and queue
a sync for each one that needs it.

Names are loaded on first use (PEP 562), so a light Lambda importing one of them never imports the
heavy SDKs behind the others (``tests/hygiene/test_package_exports.py`` keeps this list true)."""

from typing import TYPE_CHECKING

from shared._exports import lazy_exports

if TYPE_CHECKING:
    from shared.reconcile.reconciler import (
        IDENTITY_VERDICTS,
        PAGE_SIZE,
        AccountCheck,
        Reconciler,
        Verdict,
        differing,
        page_soql,
    )
    from shared.reconcile.runs import CheckpointMismatch, RunOptions, RunResult, run, start_checkpoint

EXPORTS = {
    "reconciler": (
        "Reconciler",
        "Verdict",
        "IDENTITY_VERDICTS",
        "AccountCheck",
        "PAGE_SIZE",
        "differing",
        "page_soql",
    ),
    "runs": ("RunOptions", "RunResult", "CheckpointMismatch", "run", "start_checkpoint"),
}
__getattr__, __dir__ = lazy_exports(__name__, EXPORTS)
