"""The local moto server reads SQS queue attributes in constant time and still answers as moto does.

``devtools.local_runtime.moto_server`` replaces two attribute reads of moto's SQS backend that scanned the
whole queue for every message sent or received. These tests hold it to moto's own answers: retention,
content-based deduplication of FIFO queues and the counts GetQueueAttributes reports are unchanged, and a
send or a receive no longer scans the queue.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from moto.sqs import models

from devtools.local_runtime import moto_server

ACCOUNT, REGION = "123456789012", "eu-central-1"
MOTO_RETENTION_CHECK = models.SQSBackend.is_message_valid_based_on_retention_period  # moto's, unpatched


@pytest.fixture
def backend() -> Iterator[Any]:
    """moto's SQS backend, in this process, with the launcher's patch applied (and moto's code restored after)."""
    saved = (
        models.SQSBackend.is_message_valid_based_on_retention_period,
        models.Queue.attributes,
        models.SQSBackend.send_message,
    )
    moto_server.patch()
    models.sqs_backends[ACCOUNT][REGION].reset()
    yield models.sqs_backends[ACCOUNT][REGION]
    models.sqs_backends[ACCOUNT][REGION].reset()
    models.SQSBackend.is_message_valid_based_on_retention_period = saved[0]  # type: ignore[method-assign]
    models.Queue.attributes = saved[1]  # type: ignore[method-assign]
    models.SQSBackend.send_message = saved[2]  # type: ignore[method-assign]


def _scans(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every scan of a queue's messages (moto's ``Queue.messages``), recorded."""
    scans: list[str] = []
    scan: Any = vars(models.Queue)["messages"].fget

    def counted(queue: models.Queue) -> list[models.Message]:
        scans.append(queue.name)
        return list(scan(queue))

    monkeypatch.setattr(models.Queue, "messages", property(counted))
    return scans


def test_sending_and_receiving_no_longer_scan_the_queue(backend: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a queue holding 100 messages
    backend.create_queue("sync")
    for i in range(100):
        backend.send_message("sync", f"message {i}")
    scans = _scans(monkeypatch)
    # When 10 more are sent and 10 received
    for i in range(10):
        backend.send_message("sync", f"more {i}")
    received = backend.receive_message("sync", 10, 0, None)
    # Then one scan found the visible messages (the receive's own); none came per message
    assert len(received) == 10
    assert len(scans) <= 1


def test_counts_are_the_ones_moto_reports(backend: Any) -> None:
    # Given 30 messages sent and 10 of them received (in flight)
    backend.create_queue("sync")
    for i in range(30):
        backend.send_message("sync", f"message {i}")
    backend.receive_message("sync", 10, 0, 30)
    # When the queue's attributes are read, as GetQueueAttributes does
    attributes = backend.get_queue_attributes("sync", ["All"])
    # Then the counts are moto's: 20 visible, 10 in flight
    assert (attributes["ApproximateNumberOfMessages"], attributes["ApproximateNumberOfMessagesNotVisible"]) == (20, 10)


def test_a_message_past_the_retention_period_is_not_received(backend: Any) -> None:
    # Given a queue keeping messages 60 s (SQS's least) and a message sent 61 s ago
    backend.create_queue("sync", MessageRetentionPeriod="60")
    old = backend.send_message("sync", "old")
    old.sent_timestamp -= 61_000
    new = backend.send_message("sync", "new")
    # When the queue is received from
    received = backend.receive_message("sync", 10, 0, None)
    # Then the old one is not handed out, and each message is judged as moto's own check judges it
    assert "old" not in [m.body for m in received]
    verdicts = [backend.is_message_valid_based_on_retention_period("sync", m) for m in (old, new)]
    assert verdicts == [MOTO_RETENTION_CHECK(backend, "sync", m) for m in (old, new)] == [False, True]


def test_a_fifo_queue_still_drops_a_content_duplicate(backend: Any) -> None:
    # Given a FIFO queue with content-based deduplication
    backend.create_queue("sync.fifo", FifoQueue="true", ContentBasedDeduplication="true")
    # When the same body is sent twice within the deduplication interval
    for _ in range(2):
        backend.send_message("sync.fifo", "same", group_id="account-1")
    # Then the queue holds it once
    assert backend.get_queue_attributes("sync.fifo", ["All"])["ApproximateNumberOfMessages"] == 1
