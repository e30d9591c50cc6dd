"""The org's concurrent long-running requests at their limit, end to end: the sync waits, is not dead-lettered,
and the worker's metric is not the daily allowance's; a held batch is parked by a cold worker without asking
Salesforce (the gate's promise: one receive per held message, whatever Salesforce answers meanwhile).

Salesforce, "API Request Limits and Allocations" (Concurrent API Request Limits): 25 requests of 20 s or longer
at a time in production; beyond, new requests get REQUEST_LIMIT_EXCEEDED until fewer run — the same code as the
spent daily allocation (mautic/mautic#5006 shows the confusion).
"""

from __future__ import annotations

import time

import pytest

from devtools.salesforce_sim.api_limits import PRODUCTION_LIMIT
from tests.integration.conftest import StackFactory
from tests.integration.stack import Stack
from tests.integration.test_gate import gated, held_count  # noqa: F401 (gated: the fixture)
from tests.integration.test_reconcile_identity import published_metrics


@pytest.mark.vendor_doc(
    "https://developer.salesforce.com/docs/platform/salesforce-app-limits-cheatsheet/guide/"
    "salesforce-app-limits-platform-api.html",
    "concurrent long-running requests at the limit answer REQUEST_LIMIT_EXCEEDED until fewer run",
)
def test_a_sync_refused_by_the_concurrent_request_limit_is_retried_and_counted_apart_from_the_daily_allowance(
    stack_factory: StackFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a stack creating a customer for every account, and other integrations running the org's 25
    # long-running requests at once
    stack = stack_factory(CREATION_MODE="every_account")
    stack.sim.concurrency.occupy(PRODUCTION_LIMIT)
    capsys.readouterr()
    # When an account is created and the worker tries to read it
    stack.sim.create("Account", {"Name": "Geduld GmbH"})
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not [e for e in stack.sim.request_log if e["status"] == 403]:
        stack.poller.poll_once()
        time.sleep(0.1)
    # Then the worker counted the concurrent limit, not the daily allowance
    metrics = published_metrics(capsys.readouterr().out)
    assert metrics.get("concurrent_request_limit_exceeded", 0) >= 1
    assert "request_limit_exceeded" not in metrics
    # And once the long-running requests finish, the retried message syncs the account; nothing was dead-lettered
    stack.sim.concurrency.release()
    deadline = time.monotonic() + 20  # the failed message is invisible for its visibility timeout (1 s) first
    while time.monotonic() < deadline and not stack.stripe.customers():
        stack.settle()
        time.sleep(0.2)
    assert [c["name"] for c in stack.stripe.customers()] == ["Geduld GmbH"]
    assert stack.dlq_messages() == []


def test_a_held_sync_is_parked_by_a_cold_worker_while_salesforce_refuses_requests(
    gated: StackFactory,  # noqa: F811
) -> None:
    # Given a new deployment, held in observe mode, whose worker has not started yet (a cold start)
    stack = gated(CREATION_MODE="every_account")
    # And Salesforce refusing every new request (the org's long-running requests at their limit)
    stack.sim.concurrency.occupy(PRODUCTION_LIMIT)
    # When an account changes and SQS delivers its message again and again (1 s visibility here)
    stack.sim.create("Account", {"Name": "Wartet AG"})
    assert stack.sim.outbound.wait_idle(timeout=10)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and held_count(stack) == 0 and dead_lettered(stack) == 0:
        stack.poller.poll_once()
        time.sleep(0.2)
    # Then the held message waits in the held queue: the gate needs no Salesforce call to park it, so its
    # receives are not spent to the DLQ while Salesforce refuses
    assert (held_count(stack), dead_lettered(stack)) == (1, 0)


def dead_lettered(stack: Stack) -> int:
    """Messages in the DLQ (visible or not), without receiving them."""
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    attributes = stack.sqs.get_queue_attributes(QueueUrl=stack.dlq_url, AttributeNames=names)["Attributes"]
    return sum(int(attributes[name]) for name in names)
