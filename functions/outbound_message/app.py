"""Lambda: receive Salesforce Outbound Messages — authenticate, parse, enqueue, acknowledge.

Stays light so Salesforce gets its answer fast: no stripe, no simple-salesforce. The work is
``shared.sync.OutboundMessageIntake``: a SOAP Ack only after every usable notification is on the queue,
otherwise a SOAP fault (HTTP 5xx for our outages, so Salesforce retries). This module wires Powertools, the
queue, the DLQ and the endpoint token.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.redaction import RedactingFormatter
from shared.secrets import resolve_secret
from shared.settings import ReceiverSettings
from shared.sync import DeadLetters, HttpRequest, OutboundMessageIntake, SyncQueue

logger = Logger(logger_formatter=RedactingFormatter())  # no personal data or secrets in logs
metrics = Metrics()
SETTINGS = ReceiverSettings.from_env()


@cache
def _sqs() -> Any:
    return boto3.client("sqs")


@cache
def intake() -> OutboundMessageIntake:
    """The instance's intake; the token is resolved per request (cached by ``resolve_secret``)."""
    return OutboundMessageIntake(
        SETTINGS,
        queue=lambda: SyncQueue(SETTINGS.sync_queue_url, _sqs()),
        dead_letters=lambda: DeadLetters(_sqs(), SETTINGS.sync_dlq_url) if SETTINGS.sync_dlq_url else None,
        expected_token=lambda: str(resolve_secret(SETTINGS.outbound_token, SETTINGS.outbound_token_secret_name)),
        logger=logger,
        metrics=metrics,
    )


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """HTTP API (payload v2) entry point."""
    return intake().receive(HttpRequest.from_event(event))
