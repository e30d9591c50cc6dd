"""Lambda: the scheduled reconcile — the safety net for changes whose messages Salesforce dropped.

Runs ``sfsync reconcile --apply`` on a schedule (template parameter ``ReconcileSchedule``): compares the
accounts that should have a customer with Stripe and queues a sync for each one that needs it — only while
the gate is open; with any hold (observe mode on a new stack, a pause) it reports and queues nothing. One invocation
checks at most ``RECONCILE_MAX_ACCOUNTS`` accounts and stops a minute before its timeout; the checkpoint is
an item in the state table, so the next invocation continues where this one stopped, and a run that reached
the last account starts over on the next schedule. An account that can't be checked is counted
(``reconcile_check_failed``) and logged with its reason; it never stops the run.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.components import Components
from shared.errors import SyncError
from shared.reconcile import IDENTITY_VERDICTS, RunOptions, Verdict, run
from shared.redaction import RedactingFormatter
from shared.settings import ReconcileSettings
from shared.state import TableCheckpoints
from shared.sync.gate import redrive_held
from shared.sync.history import expire_history

logger = Logger(logger_formatter=RedactingFormatter())
metrics = Metrics()
tracer = Tracer()
SETTINGS = ReconcileSettings.from_env()
# Stop starting pages this long before the timeout (a page of 200 customers at 4 Stripe reads/s takes 50 s);
# a quarter of the time left at the start when that is less (short test timeouts).
_SPARE_MS = 60_000
# Accounts with identity damage this invocation (template.yaml's ReconcileIdentityAlarm watches it).
IDENTITY_DAMAGE_METRIC = "reconcile_identity_damage"


@cache
def components() -> Components:
    """Clients and gateways, built once per Lambda instance."""
    return Components(SETTINGS)


def _gate_open(parts: Components) -> bool:
    """Whether to queue syncs (apply): only with the gate open; then held messages are redriven first.

    With any hold (observe mode until ``sfsync go-live``, a pause, …) the run only reports: what it would
    queue is logged per account, and queueing would only park it. Without HELD_QUEUE_URL there is no gate.
    """
    held = parts.held_queue
    if held is None:
        return True
    holds = parts.live_switch.holds(consistent=True)  # the admin's Live Sync preference applied first
    if holds:
        logger.info("gate held: reconcile reports only", extra={"holds": ",".join(h.reason.value for h in holds)})
        return False
    # An automatic release (credentials fixed, budget refilled) needs nobody: the next schedule redrives.
    moved = redrive_held(parts.sqs, held.url, SETTINGS.sync_queue_url)
    if moved.moved:
        logger.info("held messages redriven", extra={"moved": moved.moved, "reasons": moved.reasons})
    metrics.add_metric(name="held_redriven", unit=MetricUnit.Count, value=moved.moved)
    return True


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """EventBridge schedule entry point (the event itself carries nothing reconcile needs)."""
    parts = components()
    org_id = parts.org_id(SETTINGS.reconcile_organization_id)
    apply = _gate_open(parts)
    spare_ms = min(_SPARE_MS, context.get_remaining_time_in_millis() // 4)
    options = RunOptions(
        apply=apply,
        resume=True,  # always continue a run in progress; a finished run left no checkpoint
        max_accounts=SETTINGS.reconcile_max_accounts,
        should_stop=lambda: context.get_remaining_time_in_millis() < spare_ms,
        keep_ok=False,  # only the accounts that need attention are kept: memory stays flat at 100,000
    )
    checkpoints = TableCheckpoints(SETTINGS.state_table_name, parts.dynamodb, org_id)
    result = run(parts.reconciler(org_id), checkpoints, options, queue=parts.queue)
    found = result.counts
    for verdict, count in found.items():
        metrics.add_metric(name=f"reconcile_{verdict}", unit=MetricUnit.Count, value=count)
    # Published on every invocation, zero included, so ReconcileIdentityAlarm always has a datapoint.
    damaged = sum(found.get(verdict.value, 0) for verdict in IDENTITY_VERDICTS)
    metrics.add_metric(name=IDENTITY_DAMAGE_METRIC, unit=MetricUnit.Count, value=damaged)
    queued = sum(1 for check in result.checks if check.needs_sync)
    metrics.add_metric(name="reconcile_queued", unit=MetricUnit.Count, value=queued)
    summary = {
        "apply": apply,
        "run_id": result.checkpoint.run_id,
        "checked": result.accounts,
        "queued": queued,
        "complete": result.complete,
        "after": result.checkpoint.after,
        **found,
    }
    # Account ids of what needs attention, so "why is this customer wrong?" starts from the log.
    attention = [f"{c.account_id}:{c.verdict.value}" for c in result.checks if c.verdict is not Verdict.OK][:100]
    # Identity damage and failed checks with their reasons (ids and error words only, never field values).
    reasons = [f"{c.account_id}: {c.reason}" for c in result.checks if c.reason][:100]
    if result.complete:
        summary["history_expired"] = _expire_history(parts)
    logger.info("reconcile done", extra={**summary, "accounts": attention or None, "reasons": reasons or None})
    return summary


def _expire_history(parts: Components) -> int:
    """Once per complete run: delete the sync history records older than the retention (``expire_history``:
    1 query + 1 call per 200 records). A failure (the history object not deployed…) is logged, never fatal."""
    try:
        deleted = expire_history(parts.salesforce, parts.sync_history)
    except SyncError as exc:
        logger.warning("sync history retention skipped", extra={"error": str(exc)[:300]})
        return 0
    metrics.add_metric(name="history_expired", unit=MetricUnit.Count, value=deleted)
    return deleted
