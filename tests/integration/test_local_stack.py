"""The one local stack (devtools/local_runtime/stack.py) on parts that are already running, as the tests use it.

`make run`, `make serve`, the bench and the reliability suite start it with their own dynalite, moto server
and emulators; the integration tests start it on the session's (``RunningParts``). Either way it stops
everything it started, leaves alone what it did not, and gives the process its environment back.
"""

from __future__ import annotations

import os
import urllib.request
from typing import Any

from devtools.local_runtime.stack import LocalStack, RunningParts, StackOptions
from devtools.sam.template_tables import queue_attributes


def test_a_stack_on_running_parts_uses_them_and_leaves_them_running_and_the_environment_as_it_was(
    stripe_emulator: Any, dynamodb_endpoint: str, moto_endpoint: str, state_table: str, idempotency_table: str
) -> None:
    # Given the session's dynalite, moto server, Stripe emulator and fresh tables
    running = RunningParts(moto_endpoint, dynamodb_endpoint, stripe_emulator, state_table, idempotency_table)
    environment_before = dict(os.environ)
    # When a stack starts on them
    stack = LocalStack(StackOptions(running=running)).start()
    try:
        # Then its handlers are configured with those parts, the queues are the template's, and nothing else
        # was started
        assert stack.stripe is stripe_emulator and stack.child_pids == []
        assert os.environ["STATE_TABLE_NAME"] == state_table and os.environ["AWS_ENDPOINT_URL_SQS"] == moto_endpoint
        attributes = stack.sqs.get_queue_attributes(QueueUrl=stack.queue_url, AttributeNames=["All"])["Attributes"]
        assert attributes["VisibilityTimeout"] == queue_attributes("SyncQueue")["VisibilityTimeout"]
        assert stack.function_env["FAILURE_QUEUE_URL"] == stack.failure_queue_url
    finally:
        stack.stop()
    # And once it stopped, the process's environment is what it was, and the emulator still answers
    assert dict(os.environ) == environment_before
    with urllib.request.urlopen(f"{stripe_emulator.base_url}/_emulator/stats", timeout=5) as response:
        assert response.status == 200
