"""A worker "Lambda instance" in its own process, so its CPU time and memory are measured alone.

Runs in a Lambda-sized environment that holds the stack's settings (``throughput.lambda_environment``).
First it measures the CPU floor of the SDK calls an event is made of (one DynamoDB call, one Stripe call,
each alone on one thread, with the worker's own clients) and prints it as a JSON line; then it polls the
sync queue for ``--batches`` batches and prints one JSON line per batch: messages, CPU seconds, DynamoDB
calls, wall seconds, peak RSS. It receives each batch (through the local runtime's SQS poller) when a line
on stdin says the batch is queued.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
from typing import Any


def main() -> int:
    """Process batches and report figures on stdout (handler logs go to stderr)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=100)
    args = parser.parse_args()
    report = sys.stdout
    sys.stdout = sys.stderr  # Powertools logs and metrics must not mix with the figures
    import boto3

    from devtools.bench.process_memory import peak_rss_mb
    from devtools.local_runtime import SqsPoller
    from functions.sync_worker import app

    dynamodb_calls = _count_dynamodb_calls(boto3)
    print(json.dumps(_sdk_floor(app)), file=report, flush=True)
    figures: dict[str, Any] = {}

    def measured(event: dict[str, Any], context: Any) -> Any:
        """The worker's handler, with this invocation's CPU, calls and memory recorded."""
        dynamodb_calls.clear()
        cpu, wall = time.process_time(), time.perf_counter()
        response: Any = app.lambda_handler(event, context)
        figures.update(
            messages=len(event["Records"]),
            failed=len(response["batchItemFailures"]),
            cpu_seconds=time.process_time() - cpu,
            dynamodb_calls=len(dynamodb_calls),
            wall_seconds=time.perf_counter() - wall,
            peak_rss_mb=peak_rss_mb(),
        )
        return response

    # Like the event source mapping: one batch of up to --batch-size, successes deleted afterwards.
    poller = SqsPoller(
        boto3.client("sqs"), os.environ["SYNC_QUEUE_URL"], measured, batch_size=args.batch_size, visibility_timeout=60
    )
    for _ in range(args.batches):
        # Receive only when told the batch is on the queue: polling earlier would mix in the write-back
        # echoes of the previous batch, which the harness drains with its own worker.
        sys.stdin.readline()
        figures.clear()  # a batch that never comes reports nothing, not the previous batch's figures
        deadline = time.monotonic() + 120
        while not poller.poll_once(wait_seconds=1) and time.monotonic() < deadline:
            pass
        print(json.dumps(figures), file=report, flush=True)
    return 0


def _count_dynamodb_calls(boto3: Any) -> list[str]:
    """A list that gets one entry per DynamoDB call made through the default session (the worker's)."""
    calls: list[str] = []
    boto3.setup_default_session()
    boto3.DEFAULT_SESSION.events.register(
        "before-call.dynamodb.*", lambda model, **_: calls.append(model.name), unique_id="bench-count"
    )
    return calls


def _sdk_floor(app: Any, rounds: int = 5) -> dict[str, float]:
    """CPU ms of one DynamoDB call and one Stripe call, each measured alone, with the worker's own clients.

    The DynamoDB figure averages the two kinds an event makes: a conditional UpdateItem (lease, commit,
    idempotency records) and a GetItem. The Stripe figure is a customer update. One thread, so no
    contention, and the cheapest of ``rounds`` rounds: what an event can't go below with these SDKs here.
    """
    from shared.stripe.gateway import StripeCustomerGateway

    dynamodb = app.COMPONENTS.dynamodb
    table, key = app.SETTINGS.state_table_name, {"pk": {"S": "bench#sdk-floor"}}
    stripe = StripeCustomerGateway.from_settings(app.SETTINGS)  # built like the worker's
    customer = stripe.create({"name": "SDK floor calibration"}, idempotency_key=f"bench-floor-{os.getpid()}")
    for _ in range(10):  # warm: connections open, models loaded
        dynamodb.get_item(TableName=table, Key=key)
        stripe.update(customer, {"description": "warm"})
    counter = itertools.count()

    def dynamodb_pair() -> None:
        dynamodb.update_item(
            TableName=table,
            Key=key,
            UpdateExpression="SET #n = :n",
            ConditionExpression="attribute_not_exists(#n) OR #n < :n",
            ExpressionAttributeNames={"#n": "calibration"},
            ExpressionAttributeValues={":n": {"N": str(next(counter))}},
        )
        dynamodb.get_item(TableName=table, Key=key)

    dynamodb_ms = _cheapest_round(dynamodb_pair, calls_per_run=2, runs=20, rounds=rounds)
    stripe_ms = _cheapest_round(
        lambda: stripe.update(customer, {"description": f"calibration {next(counter)}"}), 1, 10, rounds
    )
    dynamodb.delete_item(TableName=table, Key=key)
    return {"dynamodb_cpu_ms": dynamodb_ms, "stripe_cpu_ms": stripe_ms}


def _cheapest_round(run: Any, calls_per_run: int, runs: int, rounds: int) -> float:
    """CPU ms per call of the cheapest of ``rounds`` rounds of ``runs`` runs (this thread's CPU only)."""
    per_call = []
    for _ in range(rounds):
        started = time.thread_time()
        for _ in range(runs):
            run()
        per_call.append((time.thread_time() - started) * 1000 / (runs * calls_per_run))
    return min(per_call)


if __name__ == "__main__":
    sys.exit(main())
