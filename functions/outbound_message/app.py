"""Lambda: receive Salesforce Outbound Messages — authenticate, parse, enqueue, acknowledge.

Stays light so Salesforce gets its answer fast: no stripe, no simple-salesforce. The SOAP Ack is returned
only after every notification is on the queue; otherwise a SOAP fault with HTTP 5xx makes Salesforce retry.

A 4xx does not stop Salesforce either: anything but an Ack is retried for up to 24 hours, then the whole
message (up to 100 notifications) is dropped. So only an unauthentic or malformed envelope is refused; in
an authentic message a notification without a usable record (deleted or merged before delivery) is kept in
the DLQ with its reason, counted (``unusable_notification``) and logged by notification id, and the usable
notifications beside it are enqueued and acknowledged.
"""

from __future__ import annotations

import base64
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from shared.redaction import RedactingFormatter
from shared.salesforce import (
    MalformedMessage,
    OutboundMessage,
    UnusableNotification,
    from_outbound_message,
    parse_outbound_message,
    soap,
)
from shared.secrets import resolve_secret
from shared.settings import ReceiverSettings
from shared.sync import DeadLetters, EnqueueError, SyncQueue, poison_reason

logger = Logger(logger_formatter=RedactingFormatter())  # no personal data or secrets in logs
metrics = Metrics()
SETTINGS = ReceiverSettings.from_env()


@cache
def _sqs() -> Any:
    return boto3.client("sqs")


def _queue() -> SyncQueue:
    return SyncQueue(SETTINGS.sync_queue_url, _sqs())


def _dead_letters() -> DeadLetters | None:
    return DeadLetters(_sqs(), SETTINGS.sync_dlq_url) if SETTINGS.sync_dlq_url else None


def _expected_token() -> str:
    return str(resolve_secret(SETTINGS.outbound_token, SETTINGS.outbound_token_secret_name))


# The HTTP API routes only POST /outbound-message here (template.yaml). One route needs no router, and the
# four fields below need no event classes: Powertools' event handler (~30 ms) and data classes (~10 ms, the
# package imports every event type) would be most of this function's cold start beside boto3.
# The route key, not the raw path: a named stage or a custom domain's base path prefixes the raw path.
ROUTE_KEY = "POST /outbound-message"


@dataclass(frozen=True)
class HttpRequest:
    """What the receiver reads from an HTTP API (payload v2) event."""

    route_key: str
    token: str
    body: bytes

    @classmethod
    def from_event(cls, event: dict[str, Any]) -> HttpRequest:
        """The request as bytes: the XML declaration, not UTF-8, says how the body is encoded."""
        raw = event.get("body") or ""
        body = base64.b64decode(raw) if event.get("isBase64Encoded") else raw.encode("utf-8")
        query = event.get("queryStringParameters") or {}
        return cls(event.get("routeKey", ""), query.get("token") or "", body)


def _soap(status: int, body: str) -> dict[str, Any]:
    """An HTTP API (payload v2) response carrying a SOAP envelope."""
    headers = {"Content-Type": soap.CONTENT_TYPE}
    return {"statusCode": status, "headers": headers, "body": body, "isBase64Encoded": False}


def _reject(status: int, reason: str) -> dict[str, Any]:
    logger.warning("outbound message rejected", extra={"reason": reason, "status": status})
    metrics.add_metric(name="rejected_message", unit=MetricUnit.Count, value=1)
    return _soap(status, soap.fault(reason))


def receive(request: HttpRequest) -> dict[str, Any]:
    """Authenticate, parse and enqueue one Outbound Message."""
    if request.route_key != ROUTE_KEY:
        return _reject(404, "not found: POST /outbound-message is the only route")
    if not hmac.compare_digest(request.token.encode(), _expected_token().encode()):
        return _reject(401, "missing or wrong token")
    try:
        message = parse_outbound_message(request.body, max_bytes=SETTINGS.max_body_bytes)
        if not SETTINGS.is_allowed_org(message.organization_id):
            return _reject(403, "organization not allowed")
        normalised = from_outbound_message(message)
    except MalformedMessage as exc:
        return _reject(413 if "larger than" in str(exc) else 400, str(exc))
    except ValidationError as exc:
        # Whatever else the queue message refuses came from the message itself: a 400 with the reason (the
        # admin's Delivery Failure Reason). It does not stop Salesforce: any answer but an Ack is retried for
        # 24 hours, then dropped; a 5xx stays reserved for our outages (the 5xx alarm).
        return _reject(400, poison_reason(exc))
    try:
        _queue().send(normalised.requests)
        _keep_unusable(message, normalised.unusable)
    except (EnqueueError, ClientError, BotoCoreError):
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


def _keep_unusable(message: OutboundMessage, unusable: Sequence[UnusableNotification]) -> None:
    """Log, count and park (DLQ, with the reason) the notifications that carry no usable record.

    Only ids, the object type and the reason are kept, never field values. Raises the SQS client's error
    when the DLQ refuses (the message is then not acknowledged, and Salesforce delivers it again).
    """
    if not unusable:
        return
    dead_letters = _dead_letters()
    for item in unusable:
        logger.warning(
            "unusable notification kept for inspection",
            extra={"notification_id": item.notification_id, "sobject_type": item.sobject_type, "reason": item.reason},
        )
        if dead_letters is not None:
            body = {
                "unusable_notification": {
                    "organization_id": message.organization_id,
                    "action_id": message.action_id,
                    "notification_id": item.notification_id,
                    "sobject_type": item.sobject_type,
                }
            }
            dead_letters.send(json.dumps(body), f"unusable notification: {item.reason}")
    metrics.add_metric(name="unusable_notification", unit=MetricUnit.Count, value=len(unusable))


def _count(enqueued: int, ignored: int) -> None:
    metrics.add_metric(name="enqueued", unit=MetricUnit.Count, value=enqueued)
    if ignored:
        metrics.add_metric(name="ignored", unit=MetricUnit.Count, value=ignored)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """HTTP API (payload v2) entry point."""
    return receive(HttpRequest.from_event(event))
