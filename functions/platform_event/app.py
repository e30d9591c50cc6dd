"""Lambda: Salesforce Platform Events and Change Data Capture (Event Relay → EventBridge) → sync queue.

An EventBridge rule on the bus associated with the Salesforce partner event source invokes this function
with one event at a time. It normalises the event into the same sync requests the Outbound Message
receiver produces and puts them on the same queue. Stays light like the receiver: no stripe, no
simple-salesforce.

Failure handling: a failed enqueue raises, so the invocation is retried (EventBridge invokes Lambda
asynchronously; Lambda retries a failed invocation and then keeps the event in the function's on-failure
queue, see template.yaml). A bad event (another org, a malformed body) is dropped with a logged reason and
a metric, never raised: retrying a poison event would only delay it to the dead-letter queue.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.redaction import RedactingFormatter
from shared.salesforce import NormalisedEvent, normalise_event
from shared.settings import PlatformEventSettings
from shared.sync import EnqueueError, SyncQueue

logger = Logger(logger_formatter=RedactingFormatter())  # no personal data or secrets in logs
metrics = Metrics()
SETTINGS = PlatformEventSettings.from_env()


@cache
def _queue() -> SyncQueue:
    return SyncQueue(SETTINGS.sync_queue_url, boto3.client("sqs"))


def _count(name: str, value: int = 1) -> None:
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def _report(result: NormalisedEvent) -> dict[str, int]:
    """Log and count what became of the event; returns the invocation's summary."""
    if result.dropped:
        logger.warning("event dropped", extra={"reason": result.dropped, **result.log})
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
    if result.requests:
        try:
            _queue().send(result.requests)
        except EnqueueError:
            logger.exception("enqueue failed; the event will be retried", extra=dict(result.log))
            _count("enqueue_failed")
            raise
    return _report(result)
