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
from botocore.config import Config

from shared.redaction import RedactingFormatter
from shared.secrets import resolve_secret
from shared.settings import ReceiverSettings
from shared.sync import DeadLetters, HttpRequest, OutboundMessageIntake, SyncQueue

logger = Logger(logger_formatter=RedactingFormatter())  # no personal data or secrets in logs
metrics = Metrics()
SETTINGS = ReceiverSettings.from_env()
# API Gateway waits 30 s for the function ("Amazon API Gateway quotas": integration timeout 30 s for HTTP APIs,
# https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html); past it Salesforce gets
# API Gateway's own 503, not the SOAP fault it is documented to retry on. botocore's defaults wait 60 s to
# connect and 60 s to read, up to 5 times: a stalled SQS would hold the request minutes. Here a stalled call
# gives up after 2 attempts of at most 2 s to connect + 4 s to read (≈ 12 s with the backoff), so even
# the queue and then the DLQ stalling in one request leave the fault time to reach Salesforce.
AWS_CALL_CONFIG = Config(connect_timeout=2, read_timeout=4, retries={"mode": "standard", "total_max_attempts": 2})


@cache
def _sqs() -> Any:
    return boto3.client("sqs", config=AWS_CALL_CONFIG)


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
