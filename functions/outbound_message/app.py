"""Lambda: receive Salesforce Outbound Messages — authenticate, parse, enqueue, acknowledge.

Stays light so Salesforce gets its answer fast: no stripe, no simple-salesforce. The SOAP Ack is returned
only after every notification is on the queue; otherwise a SOAP fault with HTTP 5xx makes Salesforce retry.
"""

from __future__ import annotations

import base64
import hmac
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from shared import soap
from shared.dead_letters import poison_reason
from shared.outbound_message import MalformedMessage, parse_outbound_message
from shared.redaction import RedactingFormatter
from shared.secrets import resolve_secret
from shared.settings import ReceiverSettings
from shared.sync_queue import EnqueueError, SyncQueue
from shared.sync_requests import from_outbound_message

logger = Logger(logger_formatter=RedactingFormatter())  # no personal data or secrets in logs
metrics = Metrics()
app = APIGatewayHttpResolver()
SETTINGS = ReceiverSettings.from_env()


@cache
def _queue() -> SyncQueue:
    return SyncQueue(SETTINGS.sync_queue_url, boto3.client("sqs"))


def _expected_token() -> str:
    return str(resolve_secret(SETTINGS.outbound_token, SETTINGS.outbound_token_secret_name))


def _soap(status: int, body: str) -> Response:
    return Response(status_code=status, content_type=soap.CONTENT_TYPE, body=body)


def _reject(status: int, reason: str) -> Response:
    logger.warning("outbound message rejected", extra={"reason": reason, "status": status})
    metrics.add_metric(name="rejected_message", unit=MetricUnit.Count, value=1)
    return _soap(status, soap.fault(reason))


def _body_bytes() -> bytes:
    event = app.current_event
    raw = event.body or ""
    return base64.b64decode(raw) if event.is_base64_encoded else raw.encode("utf-8")


@app.post("/outbound-message")
def receive() -> Response:
    """Authenticate, parse and enqueue one Outbound Message."""
    token = app.current_event.get_query_string_value("token") or ""
    if not hmac.compare_digest(token.encode(), _expected_token().encode()):
        return _reject(401, "missing or wrong token")
    try:
        message = parse_outbound_message(_body_bytes(), max_bytes=SETTINGS.max_body_bytes)
        if not SETTINGS.is_allowed_org(message.organization_id):
            return _reject(403, "organization not allowed")
        normalised = from_outbound_message(message)
    except MalformedMessage as exc:
        return _reject(413 if "larger than" in str(exc) else 400, str(exc))
    except ValidationError as exc:
        # Whatever else the queue message refuses came from the message itself: a 400, never a 500 that
        # makes Salesforce send the same message again for 24 hours.
        return _reject(400, poison_reason(exc))
    try:
        _queue().send(normalised.requests)
    except EnqueueError:
        logger.exception("enqueue failed; Salesforce will retry the message")
        metrics.add_metric(name="enqueue_failed", unit=MetricUnit.Count, value=1)
        return _soap(503, soap.fault("temporarily unable to accept the message", server_side=True))
    _count(len(normalised.requests), len(normalised.ignored))
    logger.info(
        "outbound message accepted",
        extra={
            "notification_ids": [n.notification_id for n in message.notifications],
            "enqueued": len(normalised.requests),
            "ignored_types": sorted({n.sobject_type for n in normalised.ignored}),
        },
    )
    return _soap(200, soap.ACK)


def _count(enqueued: int, ignored: int) -> None:
    metrics.add_metric(name="enqueued", unit=MetricUnit.Count, value=enqueued)
    if ignored:
        metrics.add_metric(name="ignored", unit=MetricUnit.Count, value=ignored)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """HTTP API (payload v2) entry point."""
    return app.resolve(event, context)
