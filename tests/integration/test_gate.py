"""One gate for every pause, and the observe-only start, on the whole local stack.

The sync queue gets the template's own ``maxReceiveCount`` (10), so "never reaches the DLQ" is measured
against the deployed limit. SQS counts a receive on every delivery, visibility-timeout deferrals included
(https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html):
the poller here redelivers after 1 s, so a hold that only deferred would burn a message's receives within
seconds; a parked message is received once.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from devtools.local_runtime.stack import load_handler
from devtools.sam.lambda_events import FakeLambdaContext
from devtools.sam.template_tables import load_template
from ops.cli import main
from shared.state.holds import AutomaticReleaseRefused, HoldReason, HoldStore
from shared.sync.gate import redrive_held
from tests.integration.conftest import StackFactory
from tests.integration.stack import Stack

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
AUTOMATIC = [HoldReason.LIVE_SWITCH, HoldReason.API_BUDGET, HoldReason.CREDENTIALS]


def template_max_receive_count() -> int:
    """The sync queue's maxReceiveCount in template.yaml."""
    queue = load_template(TEMPLATE)["Resources"]["SyncQueue"]["Properties"]
    return int(queue["RedrivePolicy"]["maxReceiveCount"])


@pytest.fixture
def gated(stack_factory: StackFactory, monkeypatch: pytest.MonkeyPatch) -> StackFactory:
    """Starts stacks as deployed: in observe mode until go-live, the template's maxReceiveCount on the queue.

    Every stack started by one test shares its state table: a second one is a redeploy on the same tables.
    """

    def make(**env: str) -> Stack:
        stack = stack_factory(start_live=False, **env)
        dlq_arn = stack.sqs.get_queue_attributes(QueueUrl=stack.dlq_url, AttributeNames=["QueueArn"])["Attributes"]
        policy = {"deadLetterTargetArn": dlq_arn["QueueArn"], "maxReceiveCount": str(template_max_receive_count())}
        stack.sqs.set_queue_attributes(QueueUrl=stack.queue_url, Attributes={"RedrivePolicy": json.dumps(policy)})
        monkeypatch.setenv("SYNC_DLQ_URL", stack.dlq_url)  # sfsync reads the worker's environment
        return stack

    return make


def sfsync(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """Run the command line; its stdout (exit status 0 asserted)."""
    code = main(list(args))
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def holds(stack: Stack) -> HoldStore:
    """The holds in the stack's state table, as the worker reads them."""
    store: HoldStore = stack.worker.COMPONENTS.holds
    return store


def held_count(stack: Stack) -> int:
    attrs = stack.sqs.get_queue_attributes(
        QueueUrl=stack.held_queue_url, AttributeNames=["ApproximateNumberOfMessages"]
    )
    return int(attrs["Attributes"]["ApproximateNumberOfMessages"])


def salesforce_writes(stack: Stack) -> list[dict[str, Any]]:
    """The simulator's API requests that write (the worker's write-back), not logins or queries."""
    _, log = stack.sim.snapshot()
    return [r for r in log if r["method"] in ("POST", "PATCH", "DELETE") and "/services/data/" in r["path"]]


def go_live(stack: Stack, capsys: pytest.CaptureFixture[str]) -> str:
    return sfsync(capsys, "go-live")


def test_a_new_stack_observes_writes_nothing_then_goes_live(gated: StackFactory, capsys: Any) -> None:
    # Given a new deployment (a fresh state table) and an account whose order is activated
    stack = gated()
    account_id, _, order_id = stack.new_customer_account(Name="Beobachtet AG")
    stack.settle()
    stack.sim.update("Order", order_id, {"Status": "Activated"})
    stack.settle()
    # Then nothing was written: no Stripe write, no write-back (only the would-do into the sync history); the
    # messages wait in the held queue
    assert stack.stripe.write_requests() == []
    assert all(r["path"].endswith("/composite") for r in salesforce_writes(stack))
    assert not (stack.sim.get("Account", account_id) or {}).get("Stripe_Customer_ID__c")
    assert held_count(stack) >= 1 and stack.dlq_messages() == []
    # And sfsync status names the observe hold
    assert "observe" in sfsync(capsys, "status")
    # When the operator goes live
    out = go_live(stack, capsys)
    stack.settle()
    # Then the held changes are redriven and synced, and nothing reached the DLQ
    assert "gate: open" in out and "redriven:" in out
    customers = [c for c in stack.stripe.customers() if c["metadata"].get("salesforce_account_id") == account_id]
    assert len(customers) == 1
    assert stack.dlq_messages() == [] and held_count(stack) == 0


def test_the_scheduled_reconcile_only_reports_in_observe_mode(
    gated: StackFactory, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a new deployment with an activated order whose messages were held
    stack = gated()
    _, _, order_id = stack.new_customer_account(Name="Nur Bericht AG")
    stack.sim.update("Order", order_id, {"Status": "Activated"})
    stack.settle()
    reconcile = load_handler("functions.reconcile.app", monkeypatch, {})
    # When the schedule runs the reconcile
    summary = reconcile.lambda_handler({}, FakeLambdaContext("reconcile", timeout_ms=900_000))
    # Then it found the missing customer but queued nothing and wrote nothing to Stripe
    assert summary["apply"] is False and summary.get("missing", 0) == 1
    assert summary["queued"] >= 0 and stack.stripe.write_requests() == []
    assert stack.poller.poll_once() == 0
    # When the operator goes live without redriving (as if `go-live` had been cut short), then the schedule runs
    holds(stack).release(HoldReason.OBSERVE)
    summary = reconcile.lambda_handler({}, FakeLambdaContext("reconcile", timeout_ms=900_000))
    stack.settle()
    # Then the reconcile redrove the held messages, applied, and the customer exists
    assert summary["apply"] is True and held_count(stack) == 0
    assert len(stack.stripe.customers()) == 1 and stack.dlq_messages() == []


def change_many_times(stack: Stack, account_id: str, times: int) -> None:
    """``times`` edits of the account, each a message, each left to the worker before the next."""
    for n in range(times):
        stack.sim.update("Account", account_id, {"Name": f"Geändert {n}"})
        stack.settle()


@pytest.mark.parametrize("reason", [HoldReason.OPERATOR, *AUTOMATIC])
def test_every_hold_reason_holds_and_releases_without_the_dlq(
    gated: StackFactory, capsys: Any, reason: HoldReason
) -> None:
    # Given a live stack with a synced customer
    stack = gated()
    go_live(stack, capsys)
    account_id, _, order_id = stack.new_customer_account(Name="Gehalten AG")
    stack.settle()
    stack.sim.update("Order", order_id, {"Status": "Activated"})
    stack.settle()
    writes = len(stack.stripe.write_requests())
    # When a hold is placed for this reason and the account changes more often than maxReceiveCount
    if reason is HoldReason.OPERATOR:
        sfsync(capsys, "pause", "--note", "Wartung")
    else:
        holds(stack).place(reason, by="sync")
    change_many_times(stack, account_id, template_max_receive_count() + 1)
    # Then nothing is written, every message waits in the held queue, none in the DLQ
    assert len(stack.stripe.write_requests()) == writes
    assert held_count(stack) == template_max_receive_count() + 1 and stack.dlq_messages() == []
    status = sfsync(capsys, "status")
    assert reason.value in status and f"{template_max_receive_count() + 1} message(s) wait" in status
    # When the hold is released: by the operator, or automatically (cause gone) and the next schedule redrives
    if reason is HoldReason.OPERATOR:
        sfsync(capsys, "resume")
    else:
        holds(stack).release(reason, automatic=True)
        redrive_held(stack.sqs, stack.held_queue_url, stack.queue_url)
    stack.settle()
    # Then the last change reached Stripe and nothing went to the DLQ
    (customer,) = stack.stripe.customers()
    assert customer["name"] == f"Geändert {template_max_receive_count()}"
    assert held_count(stack) == 0 and stack.dlq_messages() == []


def test_an_automatic_release_never_overrides_the_operators_hold(gated: StackFactory, capsys: Any) -> None:
    # Given a live stack held by the operator and by refused credentials
    stack = gated()
    go_live(stack, capsys)
    sfsync(capsys, "pause")
    holds(stack).place(HoldReason.CREDENTIALS, by="sync")
    # When the credentials work again and the sync releases its hold
    holds(stack).release(HoldReason.CREDENTIALS, automatic=True)
    stack.new_customer_account(Name="Noch Gehalten AG")
    stack.settle()
    # Then the operator's hold remains: the change waits, nothing is written
    assert [h.reason for h in holds(stack).holds()] == [HoldReason.OPERATOR]
    assert stack.stripe.write_requests() == [] and held_count(stack) >= 1
    # And no component can release it automatically
    with pytest.raises(AutomaticReleaseRefused):
        holds(stack).release(HoldReason.OPERATOR, automatic=True)
    with pytest.raises(AutomaticReleaseRefused):
        holds(stack).release(HoldReason.OBSERVE, automatic=True)


def test_a_redeploy_keeps_a_hold(gated: StackFactory, capsys: Any) -> None:
    # Given a live stack paused by the operator
    first = gated()
    go_live(first, capsys)
    sfsync(capsys, "pause", "--note", "Migration")
    # When the stack is deployed again (new functions, queues and settings on the same retained state table)
    second = gated()
    _, _, order_id = second.new_customer_account(Name="Nach Deploy AG")
    second.settle()
    second.sim.update("Order", order_id, {"Status": "Activated"})
    second.settle()
    # Then the hold is still in place, with its note, and nothing was written
    out = sfsync(capsys, "status")
    assert "operator" in out and "Migration" in out and "observe" not in out
    assert second.stripe.write_requests() == [] and held_count(second) >= 1
