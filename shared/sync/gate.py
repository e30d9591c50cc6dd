"""One gate for every pause: held messages are parked in the held queue and redriven when the gate opens.

Why parking, not deferring or disabling the event source (AWS documents both limits):

- A message left on the sync queue counts a receive on every delivery, a visibility-timeout deferral
  included ("ApproximateReceiveCount"; the redrive policy moves it to the DLQ after ``maxReceiveCount``:
  https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html),
  so 10 deliveries × 900 s ≈ 2.5 h of pause would burn it to the DLQ; the sync queue keeps messages 4 days.
- A disabled event source mapping stops the worker, so nothing runs that could notice the cause is gone,
  and a later ``sam deploy`` sets ``Enabled`` back to the template's value (true), silently resuming.

So the worker keeps running: per batch it reads the holds (one GetItem, ``HoldStore``) and, when there
is any, sends every message of the batch unchanged to the held queue (SendMessageBatch, 10 a call) and
reports it done on the sync queue. That is one receive per message, never more, whatever the pause length.
The held queue keeps messages 14 days (SQS's maximum retention:
https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html), longer
than any pause the docs describe; an alarm on its oldest message's age fires after 3 days. When the gate
is open again, ``redrive_held`` moves them back to the sync queue (``sfsync resume`` / ``go-live`` at once,
and the scheduled reconcile on every run, so an automatic release needs nobody), where they arrive with a
fresh receive count. A message the held queue refuses stays on the sync queue (a batch item failure): it is
never dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse

from shared.state.holds import Hold

REASON_ATTRIBUTE = "hold_reason"
_BATCH = 10  # SendMessageBatch / ReceiveMessage take at most 10 messages


class HeldQueue:
    """The held queue (``HELD_QUEUE_URL``): where a held batch's messages wait for the gate to open."""

    def __init__(self, client: Any, url: str) -> None:
        self._client = client
        self.url = url

    def park(self, records: list[dict[str, Any]], reason: str) -> tuple[set[str], str | None]:
        """Send the SQS records' bodies here: the message ids (of ``records``) parked, and the error of a
        SendMessageBatch call that failed as a whole (None when every call was answered)."""
        parked: set[str] = set()
        error: str | None = None
        for start in range(0, len(records), _BATCH):
            chunk = records[start : start + _BATCH]
            entries = [
                {
                    "Id": str(n),
                    "MessageBody": record["body"],
                    "MessageAttributes": {REASON_ATTRIBUTE: {"DataType": "String", "StringValue": reason}},
                }
                for n, record in enumerate(chunk)
            ]
            try:
                answer = self._client.send_message_batch(QueueUrl=self.url, Entries=entries)
            except Exception as exc:  # the held queue is unreachable: these stay on the sync queue (one receive)
                error = f"{type(exc).__name__}: {exc}"
                continue  # reported to the caller, which logs it
            parked.update(chunk[int(ok["Id"])]["messageId"] for ok in answer.get("Successful", []))
        return parked, error


@dataclass
class RedriveCount:
    """What ``redrive_held`` moved back to the sync queue."""

    moved: int = 0
    reasons: dict[str, int] = field(default_factory=dict)


def redrive_held(client: Any, held_url: str, queue_url: str, *, limit: int = 100_000) -> RedriveCount:
    """Move held messages back to ``queue_url`` (SendMessageBatch, then DeleteMessageBatch: at least once,
    which the worker's idempotency makes exactly once). Call it only when the gate is open."""
    count = RedriveCount()
    while count.moved < limit:
        answer = client.receive_message(
            QueueUrl=held_url, MaxNumberOfMessages=_BATCH, VisibilityTimeout=60, MessageAttributeNames=["All"]
        )
        messages = answer.get("Messages") or []
        if not messages:
            break
        entries = [{"Id": str(n), "MessageBody": m["Body"]} for n, m in enumerate(messages)]
        sent = client.send_message_batch(QueueUrl=queue_url, Entries=entries).get("Successful", [])
        done = [messages[int(ok["Id"])] for ok in sent]
        if done:
            client.delete_message_batch(
                QueueUrl=held_url,
                Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(done)],
            )
        for message in done:
            reason = (message.get("MessageAttributes") or {}).get(REASON_ATTRIBUTE, {}).get("StringValue", "?")
            count.reasons[reason] = count.reasons.get(reason, 0) + 1
        count.moved += len(done)
        if len(done) < len(messages):  # the sync queue refused some: they reappear here after 60 s
            break
    return count


class GatedWorker:
    """Wraps the batch worker: runs the batch when the gate is open, parks it while any hold is in place.

    ``worker`` is anything with ``handle(event, context)`` (``SqsBatchWorker``); ``holds`` reads the holds
    (``HoldStore.holds``: one GetItem per batch, a few milliseconds, measured in tests/unit/test_gate.py).
    """

    def __init__(
        self,
        worker: Any,
        holds: Callable[[], list[Hold]],
        held: HeldQueue,
        *,
        logger: Logger,
        metrics: Metrics,
    ) -> None:
        self._worker = worker
        self._holds = holds
        self._held = held
        self._logger = logger
        self._metrics = metrics

    def handle(self, event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
        """The partial batch response: the worker's when open; else the messages the held queue refused."""
        try:
            holds = self._holds()
        except Exception as exc:  # DynamoDB unreachable: nothing is known, nothing is done; SQS redelivers
            self._logger.warning("gate unreadable, batch retried", extra={"error": f"{type(exc).__name__}: {exc}"})
            self._metrics.add_metric(name="transient_error", unit=MetricUnit.Count, value=len(event["Records"]))
            return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"]]}
        if not holds:
            return self._worker.handle(event, context)
        reasons = ",".join(hold.reason.value for hold in holds)
        records = event["Records"]
        parked, error = self._held.park(records, reasons)
        failed = [record["messageId"] for record in records if record["messageId"] not in parked]
        self._metrics.add_metric(name="held", unit=MetricUnit.Count, value=len(parked))
        extra = {"holds": reasons, "parked": len(parked), "failed": len(failed), "error": error}
        self._logger.info("batch held", extra=extra)
        return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed]}
