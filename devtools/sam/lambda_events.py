"""Build the events AWS hands to the Lambda functions, for tests and the local runtime.

The shapes follow API Gateway HTTP API (payload format 2.0) and the SQS event source mapping, so the same
handler code runs locally and in AWS.
"""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from typing import Any
from urllib.parse import parse_qsl


def http_api_event(
    body: bytes,
    *,
    path: str = "/outbound-message",
    query: str = "",
    method: str = "POST",
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An HTTP API (v2) event for a request; binary-safe (the body is base64-encoded like API Gateway does)."""
    headers = {k.lower(): v for k, v in (headers or {"content-type": "text/xml; charset=UTF-8"}).items()}
    params = dict(parse_qsl(query, keep_blank_values=True))
    now = time.time()
    return {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "queryStringParameters": params or None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": "127.0.0.1",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": uuid.uuid4().hex,
            "routeKey": f"{method} {path}",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "body": base64.b64encode(body).decode("ascii"),
        "isBase64Encoded": True,
    }


def sqs_record(
    body: str,
    *,
    message_id: str | None = None,
    receive_count: int = 1,
    queue_arn: str = "arn:aws:sqs:us-east-1:123456789012:sync-queue",
    receipt_handle: str = "",
) -> dict[str, Any]:
    """One record of an SQS event."""
    return {
        "messageId": message_id or str(uuid.uuid4()),
        "receiptHandle": receipt_handle or uuid.uuid4().hex,
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": str(receive_count),
            "SentTimestamp": str(int(time.time() * 1000)),
            "SenderId": "AIDAEXAMPLE",
            "ApproximateFirstReceiveTimestamp": str(int(time.time() * 1000)),
        },
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(body.encode(), usedforsecurity=False).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": "us-east-1",
    }


def sqs_event(records: list[dict[str, Any]]) -> dict[str, Any]:
    """An SQS event (what the event source mapping passes to the worker)."""
    return {"Records": records}


class FakeLambdaContext:
    """The attributes of a Lambda context object that Powertools reads."""

    def __init__(self, function_name: str = "local", timeout_ms: int = 60_000) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
        self.memory_limit_in_mb = 512
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + timeout_ms / 1000

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the (simulated) timeout."""
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def eventbridge_event(
    detail_type: str,
    payload: dict[str, Any],
    *,
    org_id: str,
    channel_id: str = "0YLxx0000000001AAA",
    event_id: str | None = None,
) -> dict[str, Any]:
    """An EventBridge event as Salesforce Event Relay delivers it (body in ``detail.payload``)."""
    return {
        "version": "0",
        "id": event_id or str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": f"aws.partner/salesforce.com/{org_id}/{channel_id}",
        "account": "123456789012",
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "region": "us-east-1",
        "resources": [],
        "detail": {"payload": payload},
    }


def change_event_name(sobject: str) -> str:
    """``AccountChangeEvent``; a custom object drops the ``c`` of ``__c``: ``SBQQ__Quote__ChangeEvent``.

    Change Data Capture Developer Guide, "Change Event Object Name": <Standard>ChangeEvent, <Custom>__ChangeEvent.
    """
    return f"{sobject[:-1]}ChangeEvent" if sobject.endswith("__c") else f"{sobject}ChangeEvent"


def change_event(
    entity: str,
    change_type: str,
    record_ids: list[str],
    *,
    org_id: str,
    commit_ms: int,
    event_id: str | None = None,
    changed: list[str] | None = None,
    body: dict[str, Any] | None = None,
    transaction_key: str | None = None,
    sequence: int = 1,
) -> dict[str, Any]:
    """An EventBridge event carrying a ``<entity>ChangeEvent`` (CDC) as Event Relay delivers it."""
    header = {
        "entityName": entity,
        "recordIds": record_ids,
        "changeType": change_type,
        "changedFields": changed or [],
        "nulledFields": [],
        "diffFields": [],
        "changeOrigin": "com/salesforce/api/rest/59.0",
        "transactionKey": transaction_key or f"0005{commit_ms:x}-sample-{entity.lower()}",
        "sequenceNumber": sequence,
        "commitTimestamp": commit_ms,
        "commitNumber": 10 * commit_ms + 1,
        "commitUser": "0055g0000000001AAA",
    }
    event = eventbridge_event(
        change_event_name(entity), {"ChangeEventHeader": header, **(body or {})}, org_id=org_id, event_id=event_id
    )
    event["time"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(commit_ms // 1000))
    return event
