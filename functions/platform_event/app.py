"""Lambda: Salesforce Platform Events and Change Data Capture (Event Relay → EventBridge) → sync queue.

An EventBridge rule on the bus associated with the Salesforce partner event source invokes this function
with one event at a time; ``shared.sync.PlatformEventIntake`` normalises it into the same sync requests the
Outbound Message receiver produces and puts them on the same queue, or keeps an unusable event with its
reason in the function's on-failure queue (``FAILURE_QUEUE_URL``). Stays light like the receiver: no stripe,
no simple-salesforce.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.redaction import RedactingFormatter
from shared.settings import PlatformEventSettings
from shared.sync import DeadLetters, PlatformEventIntake, SyncQueue

logger = Logger(logger_formatter=RedactingFormatter())  # no personal data or secrets in logs
metrics = Metrics()
SETTINGS = PlatformEventSettings.from_env()


@cache
def _sqs() -> Any:
    return boto3.client("sqs")


@cache
def intake() -> PlatformEventIntake:
    """The instance's intake, built on the first invocation."""
    failure_url = SETTINGS.failure_queue_url
    return PlatformEventIntake(
        SETTINGS,
        queue=lambda: SyncQueue(SETTINGS.sync_queue_url, _sqs()),
        failure_queue=lambda: DeadLetters(_sqs(), failure_url) if failure_url else None,
        logger=logger,
        metrics=metrics,
    )


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    """EventBridge rule target: one Salesforce event per invocation."""
    return intake().handle(event, context)
