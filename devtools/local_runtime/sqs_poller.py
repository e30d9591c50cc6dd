"""Invoke an SQS-triggered Lambda handler like the event source mapping does.

Receives up to ``batch_size`` messages, invokes the handler with an SQS event, deletes the messages that
succeeded (all of them, unless the response lists ``batchItemFailures``), and leaves the failed ones to
reappear after the visibility timeout. A handler exception fails the whole batch, as in Lambda: it is
logged with its traceback (never swallowed) and reported to ``on_batch``, like every batch with failures.
So does an invocation that runs past the function's timeout (Lambda stops it: "Task timed out after N
seconds", and the event source mapping retries the whole batch). The queue's own redrive policy moves a
message to the DLQ after ``maxReceiveCount`` receives.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from devtools.sam.lambda_events import FakeLambdaContext, sqs_event, sqs_record

Handler = Callable[[dict[str, Any], Any], Any]
_EMPTY_ROUNDS = 3  # empty parallel receives in a row that end the gathering of a batch
logger = logging.getLogger(__name__)
WORKER_TIMEOUT_SECONDS = 150.0  # the worker's Timeout in template.yaml (tests/hygiene/test_template.py checks)


@dataclass(frozen=True)
class BatchReport:
    """One invocation: messages handed over, how many failed, and the handler's error when it raised."""

    messages: int
    failed: int
    error: str | None = None


@dataclass
class PollStats:
    """What the poller did so far."""

    invocations: int = 0
    received: int = 0
    succeeded: int = 0
    failed: int = 0
    handler_errors: int = 0
    timeouts: int = 0  # invocations that ran past the function's timeout (their whole batch failed)
    batch_sizes: list[int] = field(default_factory=list)


class SqsPoller:
    """Polls ``queue_url`` and feeds batches to ``handler``."""

    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        handler: Handler,
        *,
        batch_size: int = 10,
        visibility_timeout: int | None = None,
        function_name: str = "worker",
        timeout_seconds: float = WORKER_TIMEOUT_SECONDS,
        batching_window_seconds: float = 0.0,
    ) -> None:
        """``batching_window_seconds``: the event source mapping's ``MaximumBatchingWindowInSeconds`` — once a
        first message is received, keep gathering until the batch is full or the window has passed ("the maximum
        amount of time, in seconds, that Lambda spends gathering records before invoking the function":
        https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html). 0 (the default)
        gathers only what the queue gives right now, which keeps the tests fast."""
        self._sqs = sqs
        self._queue_url = queue_url
        self._handler = handler
        self._batch_size = batch_size
        self._visibility = visibility_timeout
        self._function_name = function_name
        self._timeout_ms = int(timeout_seconds * 1000)
        self._window = batching_window_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.stats = PollStats()
        # Called after every invocation (e.g. ``make serve`` prints the batches that failed).
        self.on_batch: Callable[[BatchReport], None] | None = None

    def poll_once(self, wait_seconds: int = 0) -> int:
        """Gather one batch (up to ``batch_size``, 10 per receive) and invoke the handler once.

        Like the event source mapping's batching window, it keeps receiving until the batch is full or the
        queue has nothing more to give right now. Returns how many messages were received.
        """
        # Keyed by message id: concurrent receives may return one message twice (SQS is at-least-once, and
        # moto's receive is not atomic across threads), and a batch must hold each message once.
        messages = {m["MessageId"]: m for m in self._receive(min(self._batch_size, 10), wait_seconds)}
        window_ends = time.monotonic() + self._window
        empty_rounds = 0
        while (
            messages
            and len(messages) < self._batch_size
            and (empty_rounds <= _EMPTY_ROUNDS or time.monotonic() < window_ends)
        ):
            # Like the event source mapping's several pollers: the rest of the batch is fetched in parallel.
            wanted = self._batch_size - len(messages)
            with ThreadPoolExecutor(max_workers=max(1, -(-wanted // 10))) as pool:
                rounds = list(
                    pool.map(lambda n: self._receive(n, 0), [min(10, wanted - i) for i in range(0, wanted, 10)])
                )
            new = {m["MessageId"]: m for batch in rounds for m in batch if m["MessageId"] not in messages}
            # A receive may come back empty while messages wait (SQS samples servers on a short poll; moto's
            # receive is not atomic across threads): a few more rounds before the batch counts as complete.
            empty_rounds = 0 if new else empty_rounds + 1
            if not new:
                time.sleep(max(0.0, min(0.05, window_ends - time.monotonic())) if self._window else 0.05)
            messages.update(new)
        if messages:
            self._invoke(list(messages.values()))
        return len(messages)

    def _delete(self, messages: list[dict[str, Any]]) -> None:
        entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
        self._sqs.delete_message_batch(QueueUrl=self._queue_url, Entries=entries)

    def _receive(self, count: int, wait_seconds: int) -> list[dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "QueueUrl": self._queue_url,
            "MaxNumberOfMessages": count,
            "WaitTimeSeconds": wait_seconds,
            "AttributeNames": ["All"],
        }
        if self._visibility is not None:
            kwargs["VisibilityTimeout"] = self._visibility
        return list(self._sqs.receive_message(**kwargs).get("Messages", []))

    def _invoke(self, messages: list[dict[str, Any]]) -> None:
        records = [
            sqs_record(
                m["Body"],
                message_id=m["MessageId"],
                receipt_handle=m["ReceiptHandle"],
                receive_count=int(m.get("Attributes", {}).get("ApproximateReceiveCount", "1")),
            )
            for m in messages
        ]
        self.stats.invocations += 1
        self.stats.received += len(messages)
        self.stats.batch_sizes.append(len(messages))
        context = FakeLambdaContext(self._function_name, timeout_ms=self._timeout_ms)
        try:
            response = self._handler(sqs_event(records), context) or {}
        except Exception as exc:
            # Lambda would fail the whole batch and log the error: so does this runtime, loudly.
            logger.exception(
                "the %s handler raised; all %d message(s) will be retried", self._function_name, len(records)
            )
            self.stats.handler_errors += 1
            self.stats.failed += len(messages)
            self._report(BatchReport(len(messages), len(messages), f"{type(exc).__name__}: {exc}"))
            return
        if context.get_remaining_time_in_millis() <= 0:
            # Lambda would have stopped it at the timeout: no response, the whole batch comes back.
            self.stats.timeouts += 1
            self.stats.failed += len(messages)
            timed_out = f"Task timed out after {self._timeout_ms / 1000:.2f} seconds"
            self._report(BatchReport(len(messages), len(messages), timed_out))
            return
        failed = {item["itemIdentifier"] for item in response.get("batchItemFailures", [])}
        done = [m for m in messages if m["MessageId"] not in failed]
        chunks = [done[start : start + 10] for start in range(0, len(done), 10)]
        with ThreadPoolExecutor(max_workers=max(1, len(chunks))) as pool:
            list(pool.map(self._delete, chunks))
        self.stats.succeeded += len(done)
        self.stats.failed += len(failed)
        self._report(BatchReport(len(messages), len(failed)))

    def _report(self, report: BatchReport) -> None:
        if self.on_batch is not None:
            try:
                self.on_batch(report)
            except Exception:  # a listener's fault must not stop the polling
                logger.exception("on_batch listener failed")

    def drain(self, timeout: float = 30.0, idle_rounds: int = 2) -> None:
        """Poll until the queue yields nothing ``idle_rounds`` times in a row (or ``timeout`` passes)."""
        deadline = time.monotonic() + timeout
        idle = 0
        while idle < idle_rounds and time.monotonic() < deadline:
            idle = 0 if self.poll_once() else idle + 1
            if idle:
                time.sleep(0.05)

    def start(self) -> SqsPoller:
        """Poll continuously in a background thread (long polling, like the event source mapping)."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="sqs-poller", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once(wait_seconds=1)
            except Exception:  # keep polling through transient SQS errors, like the managed poller
                logger.warning("receiving from the queue failed; retrying", exc_info=True)
                time.sleep(0.5)

    def stop(self) -> None:
        """Stop the background thread."""
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)
