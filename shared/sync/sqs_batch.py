"""One SQS batch of sync requests through the engine, with partial batch failures (the worker's logic).

Per batch: parse the messages, read every account once from Salesforce, sync each request (idempotent per
event, leased per account), write customer ids and errors back to Salesforce in one call. Transient
failures are reported as batch item failures so SQS redelivers just those messages (AWS Lambda
"ReportBatchItemFailures"); a message that is not a sync request is parked in the DLQ with its reason.

The worker builds the answer itself (``{"batchItemFailures": [{"itemIdentifier": <message id>}, ...]}``):
a batch whose every message failed (a Stripe outage, a batch of one) is answered like any other, never
raised — a raised error skips nothing here but is a failed invocation, which WorkerErrorsAlarm (meant for
crashes) reports (what Powertools' BatchProcessor does by default: powertools-lambda-python#3716).

The worker never runs out of time: a Lambda that times out fails its whole batch, which SQS then redelivers
from the start (every message counting a receive towards the DLQ). So it stops starting syncs once the time
left (``context.get_remaining_time_in_millis()``) falls under its reserve, lets the ones in flight finish,
writes back, and reports the messages it did not reach as batch item failures.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from pydantic import ValidationError

from shared.errors import NotReached
from shared.sync.batch_sync import BatchOutcome, BatchSync
from shared.sync.customer_sync import Outcome, SyncResult
from shared.sync.dead_letters import DeadLetters, poison_reason
from shared.sync.models import SyncRequest

Parsed = dict[str, SyncRequest | ValidationError]


def parse_records(records: list[dict[str, Any]]) -> Parsed:
    """SQS message id → its sync request, or the validation error of a body that is not one."""
    parsed: Parsed = {}
    for record in records:
        try:
            parsed[record["messageId"]] = SyncRequest.model_validate_json(record["body"])
        except ValidationError as exc:
            parsed[record["messageId"]] = exc
    return parsed


@dataclass(frozen=True)
class BatchReport:
    """The partial batch response, and per failed message id the sync's error (transient, retried)."""

    response: PartialItemFailureResponse
    errors: dict[str, Exception]


class SqsBatchWorker:
    """Runs one SQS event through ``engine`` and answers with the messages to redeliver."""

    def __init__(
        self,
        engine: BatchSync,
        dead_letters: DeadLetters | None,
        *,
        concurrency: int,
        logger: Logger,
        metrics: Metrics,
        reserve_seconds: float = 0.0,
    ) -> None:
        self.engine = engine
        # Time kept free at the end of an invocation: the syncs in flight, the write-back and the answer.
        self.reserve_seconds = reserve_seconds
        self.dead_letters = dead_letters
        self.concurrency = concurrency
        self.logger = logger
        self.metrics = metrics

    def handle(self, event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
        """The partial batch response for ``event`` (an SQS event of sync requests): parse, run, report."""
        return self.run_batch(event, context).response

    def run_batch(self, event: dict[str, Any], context: Any) -> BatchReport:
        """``handle``'s answer, with the error of each message that failed (for the gate's automatic holds)."""
        records = {record["messageId"]: record for record in event["Records"]}
        parsed = parse_records(event["Records"])
        self.engine.register_lambda_context(context)
        requests = [r for r in parsed.values() if isinstance(r, SyncRequest)]
        outcome = self.engine.run(requests, concurrency=self.concurrency, should_stop=self._deadline(context))
        failed = [
            message_id
            for message_id, request in parsed.items()
            if not self._report(message_id, request, outcome, records[message_id]["body"])
        ]
        for account_id, error in outcome.write_back_errors.items():
            self.logger.error("write-back refused by Salesforce", extra={"account_id": account_id, "error": error})
            self.metrics.add_metric(name="writeback_error", unit=MetricUnit.Count, value=1)
        for account_id, refusal in outcome.write_back_refusals.items():
            # Every refusal by its Salesforce code, transient ones too: a row lock or a maintenance window that
            # outlasts the retries reaches the DLQ with its cause in the log and the metrics.
            extra = {"account_id": account_id, "code": refusal.status_code, "transient": refusal.transient}
            self.logger.warning("write-back record refused", extra=extra)
            self.metrics.add_metric(name=f"writeback_refused_{refusal.status_code}", unit=MetricUnit.Count, value=1)
        if outcome.history_refused:
            # The sync history is a convenience: its refusal (the object not deployed, a missing permission)
            # is counted and logged by code, never retried, and costs the sync nothing.
            codes = sorted({refusal.status_code for refusal in outcome.history_refused})
            self.logger.warning(
                "sync history records refused", extra={"count": len(outcome.history_refused), "codes": codes}
            )
            self.metrics.add_metric(name="history_refused", unit=MetricUnit.Count, value=len(outcome.history_refused))
        self.logger.info(
            "batch done",
            extra={"messages": len(parsed), "failed": len(failed), "not_reached": len(outcome.not_reached) or None},
        )
        errors = {
            message_id: result
            for message_id, request in parsed.items()
            if isinstance(request, SyncRequest) and isinstance(result := outcome.results[request], Exception)
        }
        return BatchReport({"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed]}, errors)

    def _report(
        self, message_id: str, request: SyncRequest | ValidationError, outcome: BatchOutcome, body: str
    ) -> bool:
        """Log and count what became of one message; False when SQS must redeliver it."""
        if isinstance(request, ValidationError):
            return self._dead_letter(message_id, body, request)
        self.logger.append_keys(event_id=request.event_id, record_id=request.record_id)
        results = outcome.results[request]
        if isinstance(results, NotReached):
            # Retried by SQS: the invocation's deadline came first, nothing was done for it.
            self.metrics.add_metric(name="not_reached", unit=MetricUnit.Count, value=1)
            return False
        if isinstance(results, Exception):
            # Retried by SQS (batch item failure); the DLQ catches what never succeeds.
            self.logger.warning(
                "sync failed, will retry", extra={"error": str(results), "error_type": type(results).__name__}
            )
            self.metrics.add_metric(name="transient_error", unit=MetricUnit.Count, value=1)
            named = getattr(results, "metric", None)  # a named kind (credentials refused…): its own alarm
            if named:
                self.metrics.add_metric(name=named, unit=MetricUnit.Count, value=1)
            return False
        for result in results:
            self._report_result(result, request)
        # A write-back to retry: the sync replays from the idempotency store, then the write-back again.
        return not outcome.failed(request)

    def _deadline(self, context: Any) -> Callable[[], bool]:
        """True once the time left is under the reserve (a quarter of the time at the start, if less)."""
        remaining = getattr(context, "get_remaining_time_in_millis", None)
        if remaining is None or self.reserve_seconds <= 0:
            return lambda: False
        reserve_ms = min(self.reserve_seconds * 1000, remaining() / 4)
        return lambda: bool(remaining() < reserve_ms)

    def _report_result(self, result: SyncResult, request: SyncRequest) -> None:
        # A redelivered event returns its stored result without any work: counted as a duplicate.
        name = "duplicate" if result.duplicate else result.outcome.value
        self.metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
        if result.warnings and not result.duplicate:
            # One per field Stripe could not take as it is; the customer itself was synced
            # (docs/configure/field-warnings.md).
            self.metrics.add_metric(name="field_warning", unit=MetricUnit.Count, value=len(result.warnings))
        self.logger.info(
            "synced",
            extra={
                "account_id": result.account_id,
                "customer_id": result.customer_id,
                "outcome": result.outcome.value,
                "error_field": result.error_field,
                "error": result.error if result.outcome is Outcome.PERMANENT_ERROR else None,
                "kept_fields": list(result.kept_fields) or None,
                # Field names and problems only, never values (FieldWarning.problem holds none).
                "warnings": [str(warning) for warning in result.warnings] or None,
                "duplicate": result.duplicate or None,
                "source": request.source.value,
                "object_type": request.object_type.value,
            },
        )

    def _dead_letter(self, message_id: str, body: str, error: ValidationError) -> bool:
        """A body that is not a sync request fails on every receive: park it in the DLQ now, with the reason.

        False (redeliver) when there is no DLQ (SYNC_DLQ_URL unset: the queue's redrive policy moves it after
        maxReceiveCount) or the DLQ refused it (retried, so it is never lost).
        """
        reason = poison_reason(error)
        if self.dead_letters is None:
            extra = {"message_id": message_id, "reason": reason}
            self.logger.warning("poison message left to the queue's redrive policy", extra=extra)
            return False
        try:
            self.dead_letters.send(body, reason, source_message_id=message_id)
        except Exception as exc:
            self.logger.warning("DLQ refused the poison message", extra={"message_id": message_id, "error": str(exc)})
            return False
        self.logger.warning("poison message moved to the DLQ", extra={"message_id": message_id, "reason": reason})
        self.metrics.add_metric(name="dead_lettered", unit=MetricUnit.Count, value=1)
        return True
