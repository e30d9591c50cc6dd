"""The local Lambda runtime behaves like Lambda's SQS event source mapping and API Gateway."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
import uuid
from typing import Any

import boto3
import pytest

from devtools.local_runtime import HttpGateway, SqsPoller


@pytest.fixture
def queues(moto_endpoint: str) -> tuple[Any, str, str]:
    sqs = boto3.client("sqs", endpoint_url=moto_endpoint)
    suffix = uuid.uuid4().hex[:8]
    dlq = sqs.create_queue(QueueName=f"dlq-{suffix}")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"})
    queue = sqs.create_queue(QueueName=f"q-{suffix}", Attributes={"RedrivePolicy": policy})["QueueUrl"]
    return sqs, queue, dlq


def bodies(sqs: Any, url: str) -> list[str]:
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
    return sorted(m["Body"] for m in got.get("Messages", []))


@pytest.mark.vendor_doc(
    "https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html",
    "with ReportBatchItemFailures only failed messages return to the queue; after maxReceiveCount, the DLQ",
    model="the local runtime's SQS poller (`devtools/local_runtime`) on moto server",
)
def test_partial_batch_failure_redelivers_only_the_failed_item_then_redrives_it_to_the_dlq(queues: Any) -> None:
    # Given a queue (maxReceiveCount 2) with two messages and a handler that always fails "bad"
    sqs, queue, dlq = queues
    for body in ("good", "bad"):
        sqs.send_message(QueueUrl=queue, MessageBody=body)
    seen: list[list[str]] = []

    def handler(event: dict[str, Any], _: Any) -> dict[str, Any]:
        seen.append(sorted(r["body"] for r in event["Records"]))
        return {
            "batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"] if r["body"] == "bad"]
        }

    poller = SqsPoller(sqs, queue, handler, batch_size=10, visibility_timeout=1)
    # When the poller runs, waits out the visibility timeout, and runs again (twice)
    poller.poll_once()
    for _ in range(2):
        time.sleep(1.1)
        poller.poll_once()
    # Then "good" was handled once and deleted, "bad" came back alone until SQS moved it to the DLQ
    assert seen == [["bad", "good"], ["bad"]]
    assert bodies(sqs, queue) == []
    assert bodies(sqs, dlq) == ["bad"]
    assert (poller.stats.succeeded, poller.stats.failed) == (1, 2)


@pytest.mark.vendor_doc(
    "https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html",
    "a function error returns the whole batch to the queue",
    model="the local runtime's SQS poller (`devtools/local_runtime`) on moto server",
)
def test_handler_exception_fails_the_whole_batch(queues: Any) -> None:
    # Given a handler that raises
    sqs, queue, _ = queues
    for body in ("a", "b"):
        sqs.send_message(QueueUrl=queue, MessageBody=body)

    def handler(event: dict[str, Any], _: Any) -> dict[str, Any]:
        raise RuntimeError("boom")

    poller = SqsPoller(sqs, queue, handler, visibility_timeout=1)
    # When it is invoked
    poller.poll_once()
    time.sleep(1.1)
    # Then every message of the batch is delivered again
    assert bodies(sqs, queue) == ["a", "b"]
    assert poller.stats.handler_errors == 1


@pytest.mark.vendor_doc(
    "https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html",
    "the event source mapping gathers up to BatchSize messages within the batching window",
    model="the local runtime's SQS poller (`devtools/local_runtime`)",
)
def test_batches_gather_up_to_the_batch_size_like_a_batching_window(queues: Any) -> None:
    sqs, queue, _ = queues
    for start in range(0, 25, 10):
        entries = [{"Id": str(i), "MessageBody": f"m{i}"} for i in range(start, min(start + 10, 25))]
        sqs.send_message_batch(QueueUrl=queue, Entries=entries)
    sizes: list[int] = []
    poller = SqsPoller(sqs, queue, lambda event, _: sizes.append(len(event["Records"])) or {}, batch_size=20)
    poller.drain()
    assert sizes == [20, 5]


@pytest.mark.vendor_doc(
    "https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html",
    "MaximumBatchingWindowInSeconds: the maximum time Lambda spends gathering records before invoking the function",
    model="the local runtime's SQS poller (`devtools/local_runtime`)",
)
def test_a_batching_window_gathers_messages_that_arrive_while_it_is_open(queues: Any) -> None:
    # Given a poller with a 1 s batching window, 3 messages queued and 2 more arriving 0.4 s later
    sqs, queue, _ = queues
    sqs.send_message_batch(QueueUrl=queue, Entries=[{"Id": str(i), "MessageBody": f"m{i}"} for i in range(3)])
    late = threading.Timer(
        0.4,
        lambda: sqs.send_message_batch(
            QueueUrl=queue, Entries=[{"Id": str(i), "MessageBody": f"m{i}"} for i in range(3, 5)]
        ),
    )
    sizes: list[int] = []
    poller = SqsPoller(
        sqs,
        queue,
        lambda event, _: sizes.append(len(event["Records"])) or {},
        batch_size=100,
        batching_window_seconds=1.0,
    )
    # When it polls once
    late.start()
    started = time.monotonic()
    poller.poll_once()
    late.join()
    # Then the late messages are in the same invocation, handed over once the window closed (as Lambda does)
    assert sizes == [5]
    assert time.monotonic() - started >= 0.9


@pytest.mark.vendor_doc(
    "https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html",
    "an HTTP API passes a payload format 2.0 event (body base64-encoded when binary) and reads the function's response",
    model="the local runtime's HTTP gateway (`devtools/local_runtime`)",
)
def test_http_gateway_turns_requests_into_http_api_events_and_back() -> None:
    # Given a handler echoing what it got
    def handler(event: dict[str, Any], _: Any) -> dict[str, Any]:
        assert event["version"] == "2.0" and event["isBase64Encoded"]
        return {
            "statusCode": 202,
            "headers": {"Content-Type": "text/plain"},
            "body": f"{event['requestContext']['http']['method']} {event['rawPath']} {event['rawQueryString']}",
        }

    with HttpGateway(handler) as gateway:
        request = urllib.request.Request(f"{gateway.url}/outbound-message?token=x", data=b"<x/>", method="POST")
        with urllib.request.urlopen(request, timeout=5) as response:
            # Then status, headers and body come back as the handler set them
            assert response.status == 202
            assert response.headers["Content-Type"] == "text/plain"
            assert response.read() == b"POST /outbound-message token=x"
