"""``sfsync`` against the whole local stack: reconcile, resync, status and redrive.

Messages Salesforce "drops" are made by switching its Outbound Messages off while a change happens — what an
admin sees when a message gave up after 24 h of retries.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from ops.cli import main
from shared.stripe.gateway import StripeCustomerGateway
from shared.sync.dead_letters import DeadLetters
from tests.integration.conftest import StackFactory
from tests.integration.stack import Stack


@pytest.fixture
def stack(stack_factory: StackFactory, monkeypatch: pytest.MonkeyPatch) -> Stack:
    started = stack_factory()
    # The command line reads the worker's environment (set by the stack), plus the DLQ for redrive.
    monkeypatch.setenv("SYNC_DLQ_URL", started.dlq_url)
    return started


def sfsync(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the command line; returns (exit status, stdout, stderr)."""
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def verdicts(out: str) -> dict[str, tuple[str, str, str]]:
    """The reconcile table: account id -> (verdict, needs a sync, fields that differ)."""
    found = {}
    for line in out.splitlines():
        cells = re.split(r"\s{2,}", line.strip())
        if len(cells) == 7 and cells[0].startswith("001"):
            found[cells[0]] = (cells[1], cells[4], cells[5])
    return found


def customer_account(stack: Stack, **account: Any) -> str:
    """An account whose order is activated (R1) and synced; returns its id."""
    account_id, _, order_id = stack.new_customer_account(**account)
    # The account's own message first: in one batch with the order's, its "stale" result would keep the
    # customer id from being written back (the worker keeps the last result per account).
    stack.settle()
    stack.sim.update("Order", order_id, {"Status": "Activated"})
    stack.settle()
    return account_id


def customer_of(stack: Stack, account_id: str) -> dict[str, Any]:
    (customer,) = [c for c in stack.stripe.customers() if c["metadata"]["salesforce_account_id"] == account_id]
    return customer


@contextlib.contextmanager
def messages_dropped(stack: Stack) -> Iterator[None]:
    """Changes made inside never reach the receiver (Salesforce gave up on them)."""
    for definition in stack.sim.outbound.definitions:
        definition.active = False
    try:
        yield
    finally:
        for definition in stack.sim.outbound.definitions:
            definition.active = True


def peek(stack: Stack, queue_url: str) -> list[dict[str, Any]]:
    """A queue's messages, left visible (one receive: each counts towards the redrive policy's limit)."""
    got = stack.sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0)
    return [json.loads(m["Body"]) for m in got.get("Messages", [])]


def queued(stack: Stack) -> list[dict[str, Any]]:
    """The sync queue's messages, left in the queue."""
    return peek(stack, stack.queue_url)


def drifted_org(stack: Stack) -> tuple[str, str, str, str, str]:
    """Accounts in step, edited in Stripe, out of date, missing, and one without an activated order."""
    in_step = customer_account(stack, Name="Im Takt AG")
    edited = customer_account(stack, Name="Bearbeitet GmbH")
    out_of_date = customer_account(stack, Name="Veraltet KG", BillingCity="Berlin")
    StripeCustomerGateway("sk_test_x", api_base=stack.stripe.base_url).update(
        customer_of(stack, edited)["id"], {"name": "Edited in Stripe", "email": "someone@else.example"}
    )
    missing, _, order_id = stack.new_customer_account(Name="Fehlt AG")
    stack.settle()
    with messages_dropped(stack):
        stack.sim.update("Account", out_of_date, {"BillingCity": "Hamburg"})
        stack.sim.update("Order", order_id, {"Status": "Activated"})
    prospect, _, _ = stack.new_customer_account(Name="Interessent AG")  # no customer wanted (R1)
    stack.settle()
    return in_step, edited, out_of_date, missing, prospect


def test_reconcile_finds_missing_different_stale_and_ok_and_apply_repairs_them(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given four accounts with activated orders: one in step, one whose customer was edited in Stripe (R8),
    # one changed in Salesforce while messages were dropped, one activated while messages were dropped; and
    # an account without an activated order
    in_step, edited, out_of_date, missing, prospect = drifted_org(stack)
    writes_before = len(stack.stripe.write_requests())
    reads_before = len(stack.stripe.requests)

    # When reconcile runs as a dry run
    code, out, err = sfsync(capsys, "reconcile", "--dry-run", "--all")
    # Then it read Stripe's customer list once, and singly only the customers the list shows as different
    # (the list may be minutes old in a big org)
    reads = [(r["method"], r["path"]) for r in stack.stripe.requests[reads_before:]]
    assert reads.count(("GET", "/v1/customers")) == 1
    singly = {path.rsplit("/", 1)[-1] for _, path in reads if path != "/v1/customers"}
    assert singly == {customer_of(stack, edited)["id"], customer_of(stack, out_of_date)["id"]}

    # Then each account has its verdict, naming fields but never their values
    assert code == 0, err
    found = verdicts(out)
    assert found[in_step] == ("ok", "no", "-")
    assert found[edited] == ("different", "yes", "email, name")
    assert found[out_of_date] == ("out_of_date", "yes", "address.city")
    assert found[missing] == ("missing", "yes", "-")
    assert prospect not in found and len(found) == 4
    assert "Edited in Stripe" not in out and "Hamburg" not in out and "@" not in out
    assert "checked 4 accounts" in out and "ok 1" in out and "missing 1" in out
    # And the progress line went to stderr; nothing was written or queued
    assert "\rreconcile: 4 accounts" in err
    assert len(stack.stripe.write_requests()) == writes_before and queued(stack) == []

    # When it runs with --apply
    code, out, _ = sfsync(capsys, "reconcile", "--apply")
    # Then exactly the three accounts that need it are queued, from reconcile, with their versions
    assert code == 0 and "queued 3 sync request(s)" in out
    requests = queued(stack)
    assert sorted(r["account_id"] for r in requests) == sorted([edited, out_of_date, missing])
    assert {r["source"] for r in requests} == {"reconcile"} and all(r["version"] for r in requests)

    # When the worker drains the queue
    stack.settle()
    # Then the customers are right again: the Stripe edit overwritten (R8), the dropped changes applied
    assert customer_of(stack, edited)["name"] == "Bearbeitet GmbH"
    assert customer_of(stack, edited)["email"] == "buyer@example.com"
    assert customer_of(stack, out_of_date)["address"]["city"] == "Hamburg"
    assert stack.sim.get("Account", missing)["Stripe_Customer_ID__c"] == customer_of(stack, missing)["id"]
    # And the next dry run finds every account ok
    code, out, _ = sfsync(capsys, "reconcile", "--dry-run", "--all")
    assert code == 0 and {verdict for verdict, _, _ in verdicts(out).values()} == {"ok"}
    assert "checked 4 accounts" in out and "ok 4" in out


def test_reconcile_reports_a_deleted_customer_without_queueing_it(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a synced account whose customer was deleted in Stripe
    account_id = customer_account(stack)
    stack.stripe.delete_customer(customer_of(stack, account_id)["id"])
    # When reconcile applies
    code, out, _ = sfsync(capsys, "reconcile", "--apply")
    # Then it is reported (R10) but not queued: a second customer is never made behind the admin's back
    assert code == 0
    assert verdicts(out)[account_id][:2] == ("deleted_customer", "no")
    assert queued(stack) == []


def test_every_account_mode_expects_a_customer_for_accounts_without_orders(
    stack: Stack, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an account without any order, and one merged away into it (R13)
    prospect = stack.sim.create("Account", {"Name": "Interessent AG"})
    merged = stack.sim.create("Account", {"Name": "Interessent (alt)"})
    stack.sim.merge("Account", prospect, [merged])
    stack.settle()
    # When reconcile runs with the worker in every-account mode (R3)
    monkeypatch.setenv("CREATION_MODE", "every_account")
    code, out, _ = sfsync(capsys, "reconcile", "--all")
    # Then the account is missing its customer, and the merged-away one is not expected to have one
    assert code == 0
    assert verdicts(out) == {prospect: ("missing", "yes", "-")}


def test_interrupted_reconcile_resumes_after_the_last_finished_page(
    stack: Stack, capsys: pytest.CaptureFixture[str], tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given five accounts that should have customers, none synced (their messages were dropped)
    with messages_dropped(stack):
        accounts = {customer_account(stack, Name=f"Konto {i}") for i in range(5)}
    checkpoint = str(tmp_path / "checkpoint.json")
    # And Salesforce goes down right after the first batch of two is shown (the batch after it may already
    # have been read ahead)
    from ops import report

    shown = report.Progress.update

    def outage_after_first_page(self: report.Progress, result: Any) -> None:
        shown(self, result)
        if result.accounts == 2:
            stack.sim.fail_next("query", 503)

    monkeypatch.setattr(report.Progress, "update", outage_after_first_page)
    # When reconcile runs with query batches of four rows: two accounts, each with its activated order (child
    # rows count; Salesforce's minimum batch is 200 rows: lowered here for five accounts)
    monkeypatch.setattr("devtools.salesforce_sim.rest.MIN_BATCH_SIZE", 4)
    code, first_out, err = sfsync(capsys, "reconcile", "--all", "--page-size", "4", "--checkpoint", checkpoint)
    # Then it stops with an error, after showing the first page and where to continue
    assert code == 1 and "Salesforce unavailable" in err and "continue with --resume" in err
    first = set(verdicts(first_out))
    assert len(first) in (2, 4)
    # When it is resumed (Salesforce back)
    monkeypatch.setattr(report.Progress, "update", shown)
    code, out, _ = sfsync(capsys, "reconcile", "--all", "--page-size", "4", "--checkpoint", checkpoint, "--resume")
    # Then it continues after the last finished account: together the runs saw every account exactly once
    assert code == 0
    rest = set(verdicts(out))
    assert first.isdisjoint(rest) and first | rest == accounts
    assert f"checked 5 accounts ({5 - len(first)} in this run" in out and "missing 5" in out and "resumed after" in out
    # And a finished run leaves no checkpoint
    assert not (tmp_path / "checkpoint.json").exists()


def test_resync_queues_one_account_and_the_worker_applies_its_dropped_change(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a synced account whose change in Salesforce never arrived
    account_id = customer_account(stack, BillingCity="Berlin")
    with messages_dropped(stack):
        stack.sim.update("Account", account_id, {"BillingCity": "Köln"})
    # When an operator resyncs it
    code, out, _ = sfsync(capsys, "resync", account_id[:15])  # the 15-char form as copied from a URL
    # Then one request for the account is queued
    assert code == 0 and f"queued a sync of account {account_id}" in out
    (request,) = queued(stack)
    assert request["record_id"] == account_id and request["source"] == "reconcile"
    # And once the worker drained it, the customer has the change
    stack.settle()
    assert customer_of(stack, account_id)["address"]["city"] == "Köln"


def test_reconcile_lists_accounts_with_field_warnings_as_ok_without_a_sync(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an account synced with a billing country Stripe can't take (left out with a warning)
    account_id = customer_account(stack, Name="Warnung AG", BillingCity="Paris", BillingCountry="Atlantis")
    # When reconcile runs as a dry run, without --all
    code, out, err = sfsync(capsys, "reconcile", "--dry-run")
    # Then the account is listed as ok, needing no sync, with the field to fix named (not its value)
    assert code == 0, err
    found = {line.split()[0]: line for line in out.splitlines() if line.startswith("001")}
    assert account_id in found, out + err
    assert re.search(r"\bok\b.*\bno\s+-\s+BillingCountry$", found[account_id])
    assert "Atlantis" not in out
    assert "1 account(s) with field warnings" in out


def test_status_shows_the_state_and_the_accounts_sync_fields(stack: Stack, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a synced account and one whose primary contact's email is invalid (a field warning)
    account_id = customer_account(stack, Name="Status AG")
    broken = customer_account(stack, Name="Kaputt KG", email="not-an-email")
    customer_id = customer_of(stack, account_id)["id"]
    # When an operator asks for the status of the first
    code, out, _ = sfsync(capsys, "status", account_id)
    # Then the state store's view and Salesforce's fields are shown
    assert code == 0
    assert re.search(rf"customer id\s+{customer_id}", out)
    assert re.search(r"last outcome\s+created at \d{4}-\d\d-\d\dT", out)
    assert re.search(r"applied version\s+\d{4}-\d\d-\d\dT[\d:.]+\+00:00 \(\d{13}\)", out)
    assert re.search(r"contacts drawn on\s+003", out) and re.search(r"lease\s+none", out)
    assert re.search(rf"Stripe_Customer_ID__c\s+{customer_id}", out)
    assert re.search(r"Stripe_Sync_Status__c\s+Synced", out)
    assert re.search(r"latest activated order\s+801", out)
    # And for the other one, the field warning naming the field to fix
    code, out, _ = sfsync(capsys, "status", broken)
    assert code == 0 and re.search(r"last outcome\s+created", out)
    assert re.search(r"field warnings\s+Order\.SBQQ__Quote__r\.SBQQ__PrimaryContact__r\.Email: is not a valid", out)
    assert re.search(r"Stripe_Sync_Status__c\s+Synced with warnings", out)


def test_redrive_moves_back_what_can_succeed_and_keeps_poison_apart(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a poison message parked by the worker and a sync request that exhausted its receives
    letters = DeadLetters(stack.sqs, stack.dlq_url)
    letters.send('{"hello": "world"}', "not a sync request: org_id: Field required")
    request = {
        "org_id": stack.sim.org_id,
        "object_type": "Account",
        "record_id": "001000000000001AAA",
        "event_id": "04l000000000001AAA",
        "source": "outbound_message",
    }
    stack.sqs.send_message(QueueUrl=stack.dlq_url, MessageBody=json.dumps(request))
    # When the operator looks first (dry run)
    code, out, _ = sfsync(capsys, "redrive", "--dry-run")
    # Then the sync request counts as movable, the poison one apart, both by object type and reason
    assert code == 0 and "would move 1 message(s)" in out
    assert "1 poison message(s) stay in the DLQ: not a sync request, they can never succeed" in out
    assert "by object type: (no object_type) 1, Account 1" in out
    assert "not a sync request: org_id: Field required" in out and "failed on every receive" in out
    assert len(peek(stack, stack.dlq_url)) == 2
    # When the operator redrives
    code, out, _ = sfsync(capsys, "redrive")
    # Then the sync request is back on the sync queue and the poison one is still in the DLQ
    assert code == 0 and "moved 1 message(s) back to the sync queue" in out and "1 poison message(s)" in out
    assert [json.dumps(body, sort_keys=True) for body in queued(stack)] == [json.dumps(request, sort_keys=True)]
    assert peek(stack, stack.dlq_url) == [{"hello": "world"}]
