"""A worker "Lambda instance" in its own process, so its CPU time and memory are measured alone.

Reads the stack's environment (JSON in BENCH_WORKER_ENV), polls the sync queue for ``--batches`` batches
and prints one JSON line per batch: messages, CPU seconds, wall seconds, peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from typing import Any


def main() -> int:
    """Process batches and report figures on stdout (handler logs go to stderr)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=100)
    args = parser.parse_args()
    os.environ.update(json.loads(os.environ["BENCH_WORKER_ENV"]))
    report = sys.stdout
    sys.stdout = sys.stderr  # Powertools logs and metrics must not mix with the figures
    import boto3

    from devtools.lambda_events import FakeLambdaContext, sqs_event, sqs_record
    from functions.sync_worker import app

    sqs = boto3.client("sqs")
    queue_url = os.environ["SYNC_QUEUE_URL"]
    for _ in range(args.batches):
        messages = _receive(sqs, queue_url, args.batch_size)
        records = [
            sqs_record(m["Body"], message_id=m["MessageId"], receipt_handle=m["ReceiptHandle"]) for m in messages
        ]
        cpu, wall = time.process_time(), time.perf_counter()
        response: Any = app.lambda_handler(sqs_event(records), FakeLambdaContext("worker"))
        figures = {
            "messages": len(messages),
            "failed": len(response["batchItemFailures"]),
            "cpu_seconds": time.process_time() - cpu,
            "wall_seconds": time.perf_counter() - wall,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }
        for start in range(0, len(messages), 10):
            entries = [
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages[start : start + 10])
            ]
            sqs.delete_message_batch(QueueUrl=queue_url, Entries=entries)
        print(json.dumps(figures), file=report, flush=True)
    return 0


def _receive(sqs: Any, queue_url: str, size: int) -> list[dict[str, Any]]:
    """Wait for the first message, then gather up to ``size`` (like a batching window)."""
    messages: list[dict[str, Any]] = []
    deadline = time.monotonic() + 120
    while len(messages) < size and time.monotonic() < deadline:
        got = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=min(10, size - len(messages)),
            WaitTimeSeconds=1,
            VisibilityTimeout=60,
        ).get("Messages", [])
        if not got and messages:
            break
        messages.extend(got)
    return messages


if __name__ == "__main__":
    sys.exit(main())
