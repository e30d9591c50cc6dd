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

Three refinements: with the gate open, the batch's failures and the org's API usage may place a hold
(``AutomaticHolds``: refused credentials, the API budget), and the messages that failed for it are parked at
once; held only by the admin's live switch, manual syncs still run; in observe mode the batch's would-do is
recorded (``Observer``, reads only) before it is parked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from pydantic import ValidationError

from shared.state.holds import Hold, HoldReason
from shared.sync.automatic_holds import AutomaticHolds
from shared.sync.dead_letters import DRAIN_WAIT_SECONDS
from shared.sync.models import SyncRequest, TriggerSource
from shared.sync.observe import ObservedSync, Observer

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
    which the worker's idempotency makes exactly once), until a long poll finds none (``DRAIN_WAIT_SECONDS``).
    Call it only when the gate is open."""
    count = RedriveCount()
    while count.moved < limit:
        answer = client.receive_message(  # a long poll: a short one may answer none while some wait
            QueueUrl=held_url,
            MaxNumberOfMessages=_BATCH,
            VisibilityTimeout=60,
            WaitTimeSeconds=DRAIN_WAIT_SECONDS,
            MessageAttributeNames=["All"],
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
        automatic: AutomaticHolds | None = None,
        observer: Observer | None = None,
        observed_history: Callable[[list[ObservedSync]], None] | None = None,
    ) -> None:
        self._worker = worker
        self._holds = holds
        # Where observe mode's would-do also goes: the admin's sync history in Salesforce (one Composite call).
        self._observed_history = observed_history
        self._held = held
        self._logger = logger
        self._metrics = metrics
        self._automatic = automatic
        self._observer = observer

    def handle(self, event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
        """The partial batch response: the worker's when open; else the messages the held queue refused.

        Held only by the admin's live switch, an admin's "Sync now" (``TriggerSource.MANUAL``) still runs. In
        observe mode (with or without the live switch) the batch's would-do is recorded before it is parked.
        """
        try:
            holds = self._holds()
        except Exception as exc:  # DynamoDB unreachable: nothing is known, nothing is done; SQS redelivers
            self._logger.warning("gate unreadable, batch retried", extra={"error": f"{type(exc).__name__}: {exc}"})
            self._metrics.add_metric(name="transient_error", unit=MetricUnit.Count, value=len(event["Records"]))
            return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"]]}
        if not holds:
            return self._run_open(event, context)
        reasons = {hold.reason for hold in holds}
        records = event["Records"]
        if reasons == {HoldReason.LIVE_SWITCH}:
            manual = [record for record in records if _source(record) is TriggerSource.MANUAL]
            if manual:
                ran = self._run_open({**event, "Records": manual}, context)["batchItemFailures"]
                rest = [record for record in records if record not in manual]
                return {"batchItemFailures": [*ran, *self._park(rest, holds)["batchItemFailures"]]}
        elif HoldReason.OBSERVE in reasons and reasons <= _OBSERVING and self._observer is not None:
            self._observe(records)
            if self._automatic is not None:  # observing reads Salesforce too: the budget holds it as well
                self._automatic.after_batch({})
        return self._park(records, holds)

    def _park(self, records: list[dict[str, Any]], holds: list[Hold]) -> PartialItemFailureResponse:
        """Park ``records``; the answer fails only the messages the held queue refused."""
        if not records:
            return {"batchItemFailures": []}
        reasons = ",".join(hold.reason.value for hold in holds)
        parked, error = self._held.park(records, reasons)
        failed = [record["messageId"] for record in records if record["messageId"] not in parked]
        self._metrics.add_metric(name="held", unit=MetricUnit.Count, value=len(parked))
        extra = {"holds": reasons, "parked": len(parked), "failed": len(failed), "error": error}
        self._logger.info("batch held", extra=extra)
        return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed]}

    def _run_open(self, event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
        """Run the batch; then place the holds its failures or the org's API usage call for, and park the
        messages that failed for such a cause at once (one receive each, never the DLQ)."""
        run_batch = getattr(self._worker, "run_batch", None)
        if self._automatic is None or run_batch is None:
            return dict(self._worker.handle(event, context))  # type: ignore[return-value]
        report = run_batch(event, context)
        park = self._automatic.after_batch(report.errors)
        if not park:
            return dict(report.response)  # type: ignore[return-value]
        records = [record for record in event["Records"] if record["messageId"] in park]
        refused = self._park_for(records, park)["batchItemFailures"]
        failed = [item for item in report.response["batchItemFailures"] if item["itemIdentifier"] not in park]
        return {"batchItemFailures": [*failed, *refused]}

    def _park_for(self, records: list[dict[str, Any]], park: dict[str, HoldReason]) -> PartialItemFailureResponse:
        return self._park(records, [Hold(reason) for reason in sorted(set(park.values()))])

    def _observe(self, records: list[dict[str, Any]]) -> None:
        """Record the would-do of the batch's accounts; a failure costs only the record, never the parking."""
        requests = [request for request in parse_requests(records) if request is not None]
        try:
            observed = self._observer.observe(requests) if self._observer is not None else []
        except Exception as exc:  # Salesforce unreachable, a state write refused: the messages still wait
            self._logger.warning("observe mode: would-do not recorded", extra={"error": f"{type(exc).__name__}: {exc}"})
            return
        counts: dict[str, int] = {}
        for item in observed:
            counts[item.outcome.value] = counts.get(item.outcome.value, 0) + 1
        self._logger.info("observe mode: would-do recorded", extra={"accounts": len(observed), **counts})
        if self._observed_history is not None and observed:
            try:
                self._observed_history(observed)
            except Exception as exc:  # the history is a view: a refusal never costs the parking
                self._logger.warning("observe mode: history not written", extra={"error": type(exc).__name__})


# Holds under which the worker still decides (read-only) what it would do: observe mode, with or without the
# admin's live switch off. With any other (operator, API budget, credentials) it spends no API call at all.
_OBSERVING = frozenset({HoldReason.OBSERVE, HoldReason.LIVE_SWITCH})


def parse_requests(records: list[dict[str, Any]]) -> list[SyncRequest | None]:
    """Each SQS record's sync request, None for a body that is not one (the worker dead-letters those)."""
    parsed: list[SyncRequest | None] = []
    for record in records:
        try:
            parsed.append(SyncRequest.model_validate_json(record["body"]))
        except ValidationError:
            parsed.append(None)
    return parsed


def _source(record: dict[str, Any]) -> TriggerSource | None:
    (request,) = parse_requests([record])
    return request.source if request is not None else None
