"""Lambda: Salesforce Platform Events and Change Data Capture (Event Relay → EventBridge) → sync queue.

An EventBridge rule on the bus associated with the Salesforce partner event source invokes this function
with one event at a time. It normalises the event into the same sync requests the Outbound Message
receiver produces and puts them on the same queue. Stays light like the receiver: no stripe, no
simple-salesforce.

Failure handling: a failed enqueue raises, so the invocation is retried (EventBridge invokes Lambda
asynchronously; Lambda retries a failed invocation and then keeps the event in the function's on-failure
queue, see template.yaml). An event the function can't use (another org, a malformed body) is never
retried — a poison event fails the same way every time — and never dropped silently: it is logged with
the reason, counted, and put at once in that same on-failure queue (``FAILURE_QUEUE_URL``), in the shape of
Lambda's own on-failure records with the reason as ``responsePayload.errorMessage``, so an operator can
redrive it after a fix like any other failed event.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.redaction import RedactingFormatter
from shared.salesforce import NormalisedEvent, normalise_event
from shared.settings import PlatformEventSettings
from shared.sync import DeadLetters, EnqueueError, SyncQueue

logger = Logger(logger_formatter=RedactingFormatter())  # no personal data or secrets in logs
metrics = Metrics()
SETTINGS = PlatformEventSettings.from_env()


@cache
def _sqs() -> Any:
    return boto3.client("sqs")


def _queue() -> SyncQueue:
    return SyncQueue(SETTINGS.sync_queue_url, _sqs())


def _keep_unusable(event: Any, reason: str, context: LambdaContext) -> None:
    """Put an unusable event in the on-failure queue with the reason; raises when SQS refuses it (retried)."""
    if not SETTINGS.failure_queue_url:
        return  # not configured (a local run): the log line and the metric are all that is kept
    record = {
        "version": "1.0",
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "requestContext": {
            "requestId": getattr(context, "aws_request_id", None),
            "functionArn": getattr(context, "invoked_function_arn", None),
            "condition": "UnusableEvent",
            "approximateInvokeCount": 1,
        },
        "requestPayload": event,
        "responsePayload": {"errorType": "UnusableEvent", "errorMessage": reason},
    }
    # The same message shape as the sync DLQ's: the body, and the reason as a failure_reason attribute.
    DeadLetters(_sqs(), SETTINGS.failure_queue_url).send(json.dumps(record, default=str), reason)


def _count(name: str, value: int = 1) -> None:
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def _report(result: NormalisedEvent) -> dict[str, int]:
    """Log and count what became of the event; returns the invocation's summary."""
    if result.dropped:
        logger.warning("event kept in the on-failure queue", extra={"reason": result.dropped, **result.log})
        _count("dropped")
    elif result.ignored:
        logger.info("event ignored", extra={"reason": result.ignored, **result.log})
        _count("ignored")
    else:
        logger.info("event accepted", extra={"enqueued": len(result.requests), **result.log})
        _count("enqueued", len(result.requests))
    if result.metric:
        _count(result.metric)
    return {
        "enqueued": len(result.requests),
        "ignored": int(result.ignored is not None),
        "dropped": int(result.dropped is not None),
    }


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    """EventBridge rule target: one Salesforce event per invocation."""
    result = normalise_event(event, SETTINGS)
    if result.dropped:
        _keep_unusable(event, result.dropped, context)  # a refusal raises: Lambda retries, nothing is lost
    if result.requests:
        try:
            _queue().send(result.requests)
        except EnqueueError:
            logger.exception("enqueue failed; the event will be retried", extra=dict(result.log))
            _count("enqueue_failed")
            raise
    return _report(result)
