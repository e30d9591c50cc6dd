"""Intake: Salesforce's notifications and events onto the sync queue (the two light receivers' logic).

``OutboundMessageIntake`` answers an Outbound Message (SOAP over an HTTP API, payload v2): authenticate,
parse, enqueue, Ack. ``PlatformEventIntake`` takes one Event Relay event from EventBridge: normalise,
enqueue. Both keep what they can't use, with the reason, where an operator can redrive it. Light like the
functions that use them: no stripe, no simple-salesforce.

Why a 4xx is not final: Salesforce retries anything but an Ack for up to 24 hours, then drops the whole
message (up to 100 notifications) — so only an unauthentic or malformed envelope is refused; in an authentic
message a notification without a usable record (deleted or merged before delivery) is parked in the DLQ
with its reason, counted (``unusable_notification``) and logged by notification id, and the usable ones
beside it are enqueued and acknowledged. (Salesforce, "Outbound Messaging": delivery retried for 24 h.)
"""

from __future__ import annotations

import base64
import hmac
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from shared.salesforce import (
    MalformedMessage,
    NormalisedEvent,
    OutboundMessage,
    UnusableNotification,
    from_outbound_message,
    normalise_event,
    parse_outbound_message,
    soap,
)
from shared.salesforce.ids import id_problem
from shared.settings import PlatformEventSettings, ReceiverSettings
from shared.sync.dead_letters import DeadLetters, poison_reason
from shared.sync.event_reference import event_reference
from shared.sync.sync_queue import EnqueueError, SyncQueue

# The HTTP API routes only POST /outbound-message to the receiver (template.yaml). One route needs no router,
# and the four fields read need no event classes: Powertools' event handler (~30 ms) and data classes (~10 ms)
# would be most of the receiver's cold start beside boto3. The route key, not the raw path: a named stage or
# a custom domain's base path prefixes the raw path.
ROUTE_KEY = "POST /outbound-message"


@dataclass(frozen=True)
class HttpRequest:
    """What the receiver reads from an HTTP API (payload v2) event."""

    route_key: str
    token: str
    body: bytes
    # The subject DN of the TLS client certificate, when the custom domain demands one (mutual TLS): API
    # Gateway passes it as requestContext.authentication.clientCert.subjectDN (payload format 2.0).
    client_certificate_subject: str | None = None

    @classmethod
    def from_event(cls, event: dict[str, Any]) -> HttpRequest:
        """The request as bytes: the XML declaration, not UTF-8, says how the body is encoded."""
        raw = event.get("body") or ""
        body = base64.b64decode(raw) if event.get("isBase64Encoded") else raw.encode("utf-8")
        query = event.get("queryStringParameters") or {}
        certificate = ((event.get("requestContext") or {}).get("authentication") or {}).get("clientCert") or {}
        return cls(event.get("routeKey", ""), query.get("token") or "", body, certificate.get("subjectDN"))


def soap_response(status: int, body: str) -> dict[str, Any]:
    """An HTTP API (payload v2) response carrying a SOAP envelope (Salesforce reads text/xml only)."""
    headers = {"Content-Type": soap.CONTENT_TYPE}
    return {"statusCode": status, "headers": headers, "body": body, "isBase64Encoded": False}


class OutboundMessageIntake:
    """Answers Outbound Messages: a SOAP Ack only once every usable notification is on the queue."""

    def __init__(
        self,
        settings: ReceiverSettings,
        queue: Callable[[], SyncQueue],
        dead_letters: Callable[[], DeadLetters | None],
        expected_token: Callable[[], str],
        *,
        logger: Logger,
        metrics: Metrics,
    ) -> None:
        self.settings = settings
        self.queue, self.dead_letters, self.expected_token = queue, dead_letters, expected_token
        self.logger, self.metrics = logger, metrics

    def receive(self, request: HttpRequest) -> dict[str, Any]:
        """Authenticate, parse and enqueue one Outbound Message; the HTTP response (Ack or SOAP fault)."""
        if request.route_key != ROUTE_KEY:
            return self._reject(404, "not found: POST /outbound-message is the only route")
        if not hmac.compare_digest(request.token.encode(), self.expected_token().encode()):
            return self._reject(401, "missing or wrong token")
        expected_subject = self.settings.client_certificate_subject
        if expected_subject and request.client_certificate_subject != expected_subject:
            # The truststore holds a certificate authority, which may have issued certificates to others too.
            return self._reject(403, "client certificate not allowed: not Salesforce's (ClientCertificateSubject)")
        try:
            message = parse_outbound_message(request.body, max_bytes=self.settings.max_body_bytes)
            if not self.settings.is_allowed_org(message.organization_id):
                # A wrong checksum suffix is named (typed or forged: Salesforce never sends one), so the admin
                # is not sent looking for a missing allow-list entry.
                if (problem := id_problem(message.organization_id)) is not None:
                    return self._reject(403, f"OrganizationId {problem}")
                return self._reject(403, "organization not allowed")
            normalised = from_outbound_message(message)
        except MalformedMessage as exc:
            return self._reject(413 if "larger than" in str(exc) else 400, str(exc))
        except ValidationError as exc:
            # Whatever else the queue message refuses came from the message itself: a 400 with the reason (the
            # admin's Delivery Failure Reason); a 5xx stays reserved for our outages (the 5xx alarm).
            return self._reject(400, poison_reason(exc))
        try:
            self.queue().send(normalised.requests)
            self._keep_unusable(message, normalised.unusable)
        except (EnqueueError, ClientError, BotoCoreError):
            self.logger.exception("enqueue failed; Salesforce will retry the message")
            self._count("enqueue_failed")
            return soap_response(503, soap.fault("temporarily unable to accept the message", server_side=True))
        self._count("enqueued", len(normalised.requests))
        if normalised.ignored:
            self._count("ignored", len(normalised.ignored))
        self.logger.info(
            "outbound message accepted",
            extra={
                "notification_ids": [n.notification_id for n in message.notifications],
                "enqueued": len(normalised.requests),
                "ignored_types": sorted({n.sobject_type for n in normalised.ignored}),
            },
        )
        return soap_response(200, soap.ACK)

    def _reject(self, status: int, reason: str) -> dict[str, Any]:
        self.logger.warning("outbound message rejected", extra={"reason": reason, "status": status})
        self._count("rejected_message")
        return soap_response(status, soap.fault(reason))

    def _count(self, name: str, value: int = 1) -> None:
        self.metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)

    def _keep_unusable(self, message: OutboundMessage, unusable: Sequence[UnusableNotification]) -> None:
        """Log, count and park the notifications that carry no usable record: ONE DLQ entry per message.

        One entry holds all of the message's unusable notifications (ids, object type, reason each), so a
        forged message of 100 unusable notifications costs one DLQ message, not 100. Only ids, the object
        type and the reason are kept, never field values. Raises the SQS client's error when the DLQ refuses
        (the message is then not acknowledged, and Salesforce delivers it again).
        """
        if not unusable:
            return
        # One log line per message too, listing every notification (ids and reasons: no field values).
        self.logger.warning(
            "unusable notifications kept for inspection",
            extra={
                "notifications": [
                    {"notification_id": n.notification_id, "sobject_type": n.sobject_type, "reason": n.reason}
                    for n in unusable
                ]
            },
        )
        dead_letters = self.dead_letters()
        if dead_letters is not None:
            dead_letters.send(*unusable_notifications_letter(message, unusable))
        self._count("unusable_notification", len(unusable))


def unusable_notifications_letter(
    message: OutboundMessage, unusable: Sequence[UnusableNotification]
) -> tuple[str, str]:
    """The DLQ body and reason for a message's unusable notifications (ids and reasons, no field values).

    Body: ``{"unusable_notifications": {"organization_id", "action_id", "notifications": [{"notification_id",
    "sobject_type", "reason"}, ...]}}``; reason: ``unusable notifications (N): <distinct reasons>``.
    """
    notifications = [
        {"notification_id": item.notification_id, "sobject_type": item.sobject_type, "reason": item.reason}
        for item in unusable
    ]
    body = {
        "unusable_notifications": {
            "organization_id": message.organization_id,
            "action_id": message.action_id,
            "notifications": notifications,
        }
    }
    reasons = "; ".join(dict.fromkeys(item.reason for item in unusable))
    return json.dumps(body), f"unusable notifications ({len(unusable)}): {reasons}"


class PlatformEventIntake:
    """One Event Relay event (EventBridge → Lambda, asynchronous) onto the sync queue.

    A failed enqueue raises, so Lambda retries the invocation and then keeps the event in the function's
    on-failure queue (template.yaml). An event the function can't use (another org, a malformed body) is
    never retried — it fails the same way every time — and never dropped silently: it is logged with the
    reason, counted, and put at once in that same on-failure queue (``FAILURE_QUEUE_URL``), in the shape of
    Lambda's own on-failure records with the reason as ``responsePayload.errorMessage``, to redrive after a fix.
    Its ``requestPayload`` is a reference (``event_reference``): metadata, ids, field names, values redacted.
    """

    def __init__(
        self,
        settings: PlatformEventSettings,
        queue: Callable[[], SyncQueue],
        failure_queue: Callable[[], DeadLetters | None],
        *,
        logger: Logger,
        metrics: Metrics,
    ) -> None:
        self.settings, self.queue, self.failure_queue = settings, queue, failure_queue
        self.logger, self.metrics = logger, metrics

    def handle(self, event: dict[str, Any], context: Any) -> dict[str, int]:
        """Normalise, park or enqueue; the invocation's summary (enqueued, ignored, dropped)."""
        result = normalise_event(event, self.settings)
        if result.dropped:
            self._keep_unusable(event, result.dropped, context)  # a refusal raises: retried, nothing lost
        if result.requests:
            try:
                self.queue().send(result.requests)
            except EnqueueError:
                self.logger.exception("enqueue failed; the event will be retried", extra=dict(result.log))
                self.count("enqueue_failed")
                raise
        return self._report(result)

    def count(self, name: str, value: int = 1) -> None:
        """Add to one of the function's metrics."""
        self.metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)

    def _keep_unusable(self, event: Any, reason: str, context: Any) -> None:
        """Put an unusable event in the on-failure queue with the reason; raises when SQS refuses it."""
        failure_queue = self.failure_queue()
        if failure_queue is None:
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
            # A reference, not the record: metadata, ids and field names; other values redacted.
            "requestPayload": event_reference(event),
            "responsePayload": {"errorType": "UnusableEvent", "errorMessage": reason},
        }
        # The same message shape as the sync DLQ's: the body, and the reason as a failure_reason attribute.
        failure_queue.send(json.dumps(record, default=str), reason)

    def _report(self, result: NormalisedEvent) -> dict[str, int]:
        """Log and count what became of the event; returns the invocation's summary."""
        if result.dropped:
            self.logger.warning("event kept in the on-failure queue", extra={"reason": result.dropped, **result.log})
            self.count("dropped")
        elif result.ignored:
            self.logger.info("event ignored", extra={"reason": result.ignored, **result.log})
            self.count("ignored")
        else:
            self.logger.info("event accepted", extra={"enqueued": len(result.requests), **result.log})
            self.count("enqueued", len(result.requests))
        if result.metric:
            self.count(result.metric)
        return {
            "enqueued": len(result.requests),
            "ignored": int(result.ignored is not None),
            "dropped": int(result.dropped is not None),
        }
