"""Lambda: sync SQS batches of Salesforce changes to Stripe customers (partial batch responses).

Behind the gate (``shared.sync.gate``): while any hold is in place (``sfsync status``), a batch is parked in
the held queue instead of being synced. A schedule also invokes it every 5 minutes (``{"gate_probe": true}``)
to release the holds the sync placed itself (refused credentials, the API budget) once their cause is gone.

The work is ``shared.sync.SqsBatchWorker``: batched Salesforce read, idempotent per-event sync, one
write-back, and the failed messages reported back to SQS. This module wires Powertools and the components.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.components import Components
from shared.errors import ConfigurationError, CredentialsRefused, TransientSyncError
from shared.redaction import RedactingFormatter
from shared.settings import WorkerSettings
from shared.state.holds import HoldReason
from shared.sync import SqsBatchWorker
from shared.sync.gate import GatedWorker, redrive_held
from shared.sync.sqs_batch import BatchReport

logger = Logger(logger_formatter=RedactingFormatter())  # no personal data or secrets in logs
metrics = Metrics()
tracer = Tracer()
MAPPING_REFUSED_METRIC = "mapping_refused"  # template.yaml's MappingRefusedAlarm watches it
SETTINGS = WorkerSettings.from_env()
COMPONENTS = Components(SETTINGS)


@cache
def worker() -> SqsBatchWorker:
    """The instance's worker, built on the first invocation and reused by the ones after.

    The mapping is checked against the org first (describes, once per cold start): a mapped field the
    org lacks or hides, or one whose type can't give the Stripe field's values, stops the function here
    with a ConfigurationError naming the entry, instead of failing batch after batch. Nothing is cached
    on failure: the next invocation checks again (after the admin's fix). A mapping published to SSM that
    does not fit never stops the sync: the newest earlier version that fits is used, and the
    ``mapping_refused`` metric raises the configuration alarm.
    """
    try:
        refused = COMPONENTS.validate_against_org()
    except ConfigurationError as exc:
        logger.error(
            "configuration error: the worker refuses to start",
            extra={"error": str(exc), "error_type": type(exc).__name__},
        )
        named = getattr(exc, "metric", None)  # refused credentials at cold start: CredentialsRefusedAlarm too
        if named:
            metrics.add_metric(name=named, unit=MetricUnit.Count, value=1)
        raise
    if refused:
        # The sync goes on with the last published mapping that fits; MappingRefusedAlarm tells the operator.
        logger.error("configuration error: published mapping refused", extra={"error": refused})
        metrics.add_metric(name=MAPPING_REFUSED_METRIC, unit=MetricUnit.Count, value=1)
    return SqsBatchWorker(
        COMPONENTS.batch_sync,
        COMPONENTS.dead_letters,
        # Twice as many threads as Stripe requests in flight: DynamoDB and mapping work of some accounts
        # overlaps the Stripe calls of others, while the gateway keeps Stripe at its concurrency and rate.
        concurrency=2 * SETTINGS.stripe_concurrency,
        logger=logger,
        metrics=metrics,
        reserve_seconds=SETTINGS.stop_before_timeout_seconds,
    )


class WorkerOnFirstOpenBatch:
    """The worker, built (the mapping checked against the org) for the first batch the gate lets through.

    A held batch is parked without any Salesforce call: a cold start while Salesforce refuses requests (the
    concurrent or daily REQUEST_LIMIT_EXCEEDED, an outage) would otherwise fail every delivery and spend the
    held messages' receives to the DLQ, which the gate exists to prevent. A transient failure to build it
    fails the batch's messages (retried, counted); refused credentials fail them with ``CredentialsRefused``,
    and the daily allowance with ``RequestLimitExceeded``, so the gate holds for them and parks the batch
    (``AutomaticHolds``); any other configuration error stops the function, as before.
    """

    def handle(self, event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
        """The worker's partial batch response; every message failed when Salesforce was unavailable."""
        return self.run_batch(event, context).response

    def run_batch(self, event: dict[str, Any], context: Any) -> BatchReport:
        """``handle``'s answer with each failed message's error (the gate's automatic holds read them)."""
        try:
            ready = worker()
        except CredentialsRefused as exc:  # logged and counted by worker(); the gate holds for it
            return _every_message_failed(event, exc)
        except ConfigurationError:
            raise  # logged and counted by worker()
        except TransientSyncError as exc:
            logger.warning("Salesforce unavailable at cold start, batch retried", extra={"error": str(exc)})
            records = event["Records"]
            metrics.add_metric(name="transient_error", unit=MetricUnit.Count, value=len(records))
            named = getattr(exc, "metric", None)  # the concurrent request limit, the daily allowance…
            if named:
                metrics.add_metric(name=named, unit=MetricUnit.Count, value=len(records))
            return _every_message_failed(event, exc)
        return ready.run_batch(event, context)


def _every_message_failed(event: dict[str, Any], error: Exception) -> BatchReport:
    ids = [record["messageId"] for record in event["Records"]]
    return BatchReport({"batchItemFailures": [{"itemIdentifier": i} for i in ids]}, dict.fromkeys(ids, error))


@cache
def gated_worker() -> SqsBatchWorker | GatedWorker:
    """The worker behind the gate; the worker itself when HELD_QUEUE_URL is unset (a stack from before it)."""
    held = COMPONENTS.held_queue
    if held is None:
        return worker()
    # The holds are read once per batch (one GetItem): a pause takes effect from the next batch; the admin's
    # Live Sync preference within 5 minutes (read from Salesforce at most once per 5 minutes).
    return GatedWorker(
        WorkerOnFirstOpenBatch(),
        COMPONENTS.live_switch.holds,
        held,
        logger=logger,
        metrics=metrics,
        automatic=COMPONENTS.automatic_holds(logger, metrics),
        observer=COMPONENTS.observer(),
        observed_history=COMPONENTS.record_observed,
    )


def probe_gate() -> dict[str, Any]:
    """The schedule's probe (template.yaml ``GateProbe``, every 5 minutes): release the sync's own holds whose
    cause is gone (shared/sync/gate_probe.py) and the admin's live switch once Live Sync is ticked again
    (``LiveSwitch``: the preferences read at most once per 5 minutes), and, when the gate is then open, redrive
    the held queue."""
    held = COMPONENTS.held_queue
    if held is None:
        return {"released": [], "redriven": 0}
    released = COMPONENTS.gate_probe(logger, metrics).run()
    # The admin's Live Sync too: a stack held by it receives no batch that could notice it was ticked again.
    switched = any(h.reason is HoldReason.LIVE_SWITCH for h in COMPONENTS.holds.holds(consistent=True))
    if switched and all(h.reason is not HoldReason.LIVE_SWITCH for h in COMPONENTS.live_switch.holds(True)):
        released.append(HoldReason.LIVE_SWITCH)
    moved = 0
    if released and not COMPONENTS.holds.holds(consistent=True):
        moved = redrive_held(COMPONENTS.sqs, held.url, SETTINGS.sync_queue_url).moved
        logger.info("held messages redriven", extra={"moved": moved})
    return {"released": [reason.value for reason in released], "redriven": moved}


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    """SQS event source entry point (ReportBatchItemFailures); the gate's scheduled probe (``gate_probe``)."""
    if event.get("gate_probe"):
        return probe_gate()  # type: ignore[return-value]
    if COMPONENTS.mapping_outdated():
        # A mapping was published (sfsync mapping publish) since this instance started: check it against the
        # org and use it, as a cold start would; warm instances would otherwise keep the old one for hours.
        COMPONENTS.forget_mapping()
        worker.cache_clear()
        gated_worker.cache_clear()  # it holds the worker built with the old mapping
    return gated_worker().handle(event, context)
