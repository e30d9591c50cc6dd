"""The worker never runs out of time: when Stripe slows down mid-batch it stops starting syncs before its
deadline and hands the messages it did not reach back to SQS (batch item failures).

A Lambda that reaches its timeout is stopped and its whole batch is retried (AWS Lambda developer guide,
"Using Lambda with Amazon SQS": "If your function times out ... Lambda considers the whole batch failed"),
each message counting a receive towards the DLQ; the local poller models that (``PollStats.timeouts``).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from devtools.local_runtime import SqsPoller

pytestmark = pytest.mark.integration

ACCOUNTS = 80
TIMEOUT_SECONDS = 16.0  # the worker function's timeout in this test (the template's is longer)


@pytest.mark.vendor_doc(
    "https://docs.aws.amazon.com/lambda/latest/dg/python-context.html",
    "the context tells the time left (get_remaining_time_in_millis); at the timeout the invocation is stopped",
)
def test_worker_stops_before_its_timeout_when_stripe_slows_down_mid_batch(stack_factory: Any) -> None:
    # Given a batch of 80 new accounts (every-account mode) waiting in the queue, and a worker with a 16 s
    # timeout that keeps 4 s free at the end
    stack = stack_factory(
        CREATION_MODE="every_account", STOP_BEFORE_TIMEOUT_SECONDS="4", STRIPE_MAX_REQUESTS_PER_SECOND="50"
    )
    stack.sim.outbound.pause()
    accounts = {stack.sim.create("Account", {"Name": f"Slow Stripe {n:02d} AG"}) for n in range(ACCOUNTS)}
    stack.sim.outbound.resume()
    assert stack.sim.outbound.wait_idle(timeout=30)
    poller = SqsPoller(
        stack.sqs,
        stack.queue_url,
        stack.worker.lambda_handler,
        batch_size=100,
        visibility_timeout=1,
        timeout_seconds=TIMEOUT_SECONDS,
    )
    # And Stripe answering every request 1.5 s late after the first ten (a degraded API, no errors)
    stack.stripe.slow_down(1.5, after=10, path_prefix="/v1/customers")

    # When the worker receives the whole batch
    received = poller.poll_once()
    # Then the invocation ends before its timeout, some accounts synced and the rest came back to the queue
    assert received > ACCOUNTS // 2  # (a loaded moto may hand over a few messages in the next batch)
    assert poller.stats.timeouts == 0 and poller.stats.handler_errors == 0
    assert 0 < poller.stats.succeeded < received and poller.stats.failed == received - poller.stats.succeeded

    # When the worker goes on receiving until the queue is empty (Stripe still slow)
    poller.drain(timeout=120)
    # Then every account has exactly one customer, created by exactly one create request (none replayed)
    stack.sim.outbound.wait_idle(timeout=30)
    poller.drain(timeout=60)  # the write-back's own echo messages
    owners = Counter(c["metadata"]["salesforce_account_id"] for c in stack.stripe.customers())
    assert set(owners) == accounts and set(owners.values()) == {1}
    creates = [r for r in stack.stripe.requests if r["method"] == "POST" and r["path"] == "/v1/customers"]
    assert len(creates) == ACCOUNTS and not any(r["replayed"] for r in creates)
    # And no invocation timed out and nothing reached the dead-letter queue
    assert poller.stats.timeouts == 0
    assert stack.dlq_messages() == []
    assert all(stack.sim.get("Account", a)["Stripe_Customer_ID__c"] for a in accounts)
