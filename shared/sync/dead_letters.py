"""Dead letters: park what can never succeed in the DLQ with the reason; move dead letters back when fixed.

A queue message whose body is not a sync request fails the same way on every receive: left to the queue's
redrive policy it costs ``maxReceiveCount`` receives and reaches the DLQ without a word on why. The worker
sends it to the DLQ at once with a ``failure_reason`` message attribute and acknowledges it. Transient
failures (Stripe or Salesforce down) still rely on the redrive policy: they may succeed on a later receive.

``redrive`` moves dead letters back to the queue (optionally repaired), for an operator once the cause is
fixed. It sends before it deletes, so a crash in between leaves a copy in both queues — at least once,
which the worker's per-event idempotency turns into exactly once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

REASON_ATTRIBUTE = "failure_reason"
SOURCE_ATTRIBUTE = "source_message_id"
_MAX_REASON = 1000  # a message attribute may hold 256 KiB; a reason is for people
_MAX_ERRORS = 5
_MAX_LOCATION = 80
# A loop that drains a queue (this redrive, the gate's release of the held queue) long-polls: a short poll
# (WaitTimeSeconds 0, the queues' default) samples some of SQS's servers and "might not receive any messages"
# while some are visible (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ReceiveMessage.html),
# so "no message" would end the drain early; a long poll queries every server and answers as soon as one is
# there (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-short-and-long-polling.html).
# The drain's last, empty receive waits this long: 1 s, the shortest long poll.
DRAIN_WAIT_SECONDS = 1


@dataclass(frozen=True)
class DeadLetter:
    """A message in the DLQ: its body, the reason (None when SQS's redrive policy moved it) and its handle."""

    message_id: str
    body: str
    reason: str | None
    receipt_handle: str
    receive_count: int = 1


@dataclass
class RedriveReport:
    """What a redrive did: messages moved back to the queue, and messages left in the DLQ."""

    moved: int = 0
    kept: int = 0


def poison_reason(error: ValidationError) -> str:
    """Why a body is not a sync request: field paths and pydantic's messages, never the input values."""
    parts = []
    for item in error.errors(include_url=False, include_input=False)[:_MAX_ERRORS]:
        # Field names of a poison body are the sender's text: bounded, so the reason stays readable.
        location = ".".join(str(part) for part in item["loc"])[:_MAX_LOCATION]
        parts.append(f"{location}: {item['msg']}" if location else str(item["msg"]))
    more = error.error_count() - len(parts)
    suffix = f" (+{more} more)" if more > 0 else ""
    return f"not a sync request: {'; '.join(parts)}"[: _MAX_REASON - len(suffix)] + suffix


class DeadLetters:
    """The dead-letter queue of the sync queue (an SQS client and the DLQ's URL)."""

    def __init__(self, client: Any, dlq_url: str) -> None:
        self._client = client
        self._url = dlq_url

    def send(self, body: str, reason: str, *, source_message_id: str | None = None) -> None:
        """Park ``body`` in the DLQ with ``reason``; raises the client's error when SQS refuses it."""
        attributes = {REASON_ATTRIBUTE: {"DataType": "String", "StringValue": reason[:_MAX_REASON] or "unknown"}}
        if source_message_id:
            attributes[SOURCE_ATTRIBUTE] = {"DataType": "String", "StringValue": source_message_id}
        self._client.send_message(QueueUrl=self._url, MessageBody=body, MessageAttributes=attributes)

    def receive(self, *, max_messages: int = 10, visibility_seconds: int = 30) -> list[DeadLetter]:
        """Up to ``max_messages`` (≤ 10) dead letters, hidden from other readers for ``visibility_seconds``;
        none only when no letter is visible (a long poll: waits ``DRAIN_WAIT_SECONDS`` when there is none)."""
        response = self._client.receive_message(
            QueueUrl=self._url,
            MaxNumberOfMessages=max_messages,
            VisibilityTimeout=visibility_seconds,
            WaitTimeSeconds=DRAIN_WAIT_SECONDS,
            AttributeNames=["ApproximateReceiveCount"],
            MessageAttributeNames=["All"],
        )
        return [_dead_letter(message) for message in response.get("Messages", [])]

    def delete(self, letter: DeadLetter) -> None:
        """Remove a dead letter for good."""
        self._client.delete_message(QueueUrl=self._url, ReceiptHandle=letter.receipt_handle)

    def release(self, letter: DeadLetter) -> None:
        """Make a received dead letter visible again at once (it stays in the DLQ)."""
        self._client.change_message_visibility(
            QueueUrl=self._url, ReceiptHandle=letter.receipt_handle, VisibilityTimeout=0
        )


def redrive(
    client: Any,
    dlq_url: str,
    queue_url: str,
    *,
    repair: Callable[[DeadLetter], str | None] | None = None,
    limit: int = 10_000,
    visibility_seconds: int = 60,
) -> RedriveReport:
    """Move dead letters back to ``queue_url`` (SendMessage, then DeleteMessage).

    ``repair(letter)`` returns the body to send (e.g. a fixed one) or None to keep the letter in the DLQ;
    without it every letter goes back as it is. Letters are hidden while the redrive runs, so each is seen
    once; kept letters are made visible again at the end. Stops after ``limit`` letters.
    """
    letters = DeadLetters(client, dlq_url)
    report = RedriveReport()
    kept: list[DeadLetter] = []
    while report.moved + report.kept < limit:
        batch = letters.receive(
            max_messages=min(10, limit - report.moved - report.kept), visibility_seconds=visibility_seconds
        )
        if not batch:
            break
        for letter in batch:
            body = repair(letter) if repair else letter.body
            if body is None:
                kept.append(letter)
                report.kept += 1
                continue
            client.send_message(QueueUrl=queue_url, MessageBody=body)
            letters.delete(letter)
            report.moved += 1
    for letter in kept:
        letters.release(letter)
    return report


def _dead_letter(message: dict[str, Any]) -> DeadLetter:
    reason = (message.get("MessageAttributes") or {}).get(REASON_ATTRIBUTE, {}).get("StringValue")
    return DeadLetter(
        message_id=message["MessageId"],
        body=message["Body"],
        reason=reason,
        receipt_handle=message["ReceiptHandle"],
        receive_count=int((message.get("Attributes") or {}).get("ApproximateReceiveCount", "1")),
    )
