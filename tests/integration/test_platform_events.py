"""End to end: Salesforce Event Relay (CDC, platform event) → EventBridge → platform_event → SQS → worker → Stripe."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from devtools.salesforce_sim.event_rendering import RENDERINGS, STREAMING
from devtools.sam.lambda_events import change_event
from shared.salesforce.ids import to_18
from shared.sync.customer_sync import Outcome, SyncResult
from shared.sync.sync_queue import EnqueueError
from tests.integration.conftest import StackFactory
from tests.integration.stack import Stack

REPO = Path(__file__).parents[2]


@pytest.fixture(params=RENDERINGS)
def stack(stack_factory: StackFactory, request: pytest.FixtureRequest) -> Stack:
    """The stack with Event Relay feeding the platform_event function, in each JSON rendering Salesforce
    documents for events (Streaming API and Pub/Sub API; which one Event Relay writes is not stated)."""
    started = stack_factory(platform_events=True)
    assert started.relay is not None
    started.relay.rendering = request.param
    return started


@pytest.fixture
def events_only(stack: Stack) -> Stack:
    """The stack with every Outbound Message switched off: only Event Relay triggers syncs."""
    for definition in stack.sim.outbound.definitions:
        definition.active = False
    return stack


def body_index(payload: dict[str, Any], name: str) -> int:
    """The position of a field in a Pub/Sub-rendered body (every field present, in schema order)."""
    return [key for key in payload if key != "ChangeEventHeader"].index(name)


def failure_records(stack: Stack) -> list[dict[str, Any]]:
    """The on-failure records in the platform-event function's failure queue."""
    assert stack.failure_queue_url is not None
    got = stack.sqs.receive_message(QueueUrl=stack.failure_queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
    return [json.loads(m["Body"]) for m in got.get("Messages", [])]


def writes(stack: Stack) -> list[dict[str, Any]]:
    return list(stack.stripe.write_requests())


def relay(stack: Stack) -> Any:
    assert stack.relay is not None and stack.invoker is not None
    return stack.relay


def published(stack: Stack, detail_type: str) -> list[dict[str, Any]]:
    return [e for e in relay(stack).published if e["detail-type"] == detail_type]


def summaries(stack: Stack) -> list[dict[str, int]]:
    assert stack.invoker is not None
    return list(stack.invoker.stats.results)


def customer_for(stack: Stack, account_id: str) -> dict[str, Any]:
    (customer,) = [c for c in stack.stripe.customers() if c["metadata"]["salesforce_account_id"] == account_id]
    return customer


def activated_customer(stack: Stack, **account: Any) -> tuple[str, str, str]:
    """A customer created by an order activation; returns (account_id, contact_id, order_id)."""
    account_id, contact_id, order_id = stack.new_customer_account(**account)
    stack.sim.update("Order", order_id, {"Status": "Activated"})
    stack.settle()
    return account_id, contact_id, order_id


def held_back(stack: Stack) -> list[dict[str, Any]]:
    """Make EventBridge hold every event from now on (restore with ``deliver_again``); returns the holding list."""
    held: list[dict[str, Any]] = []
    relay(stack).callback = held.append
    return held


def deliver_again(stack: Stack) -> None:
    assert stack.invoker is not None
    relay(stack).callback = stack.invoker.submit


def test_platform_event_function_stays_light_it_imports_neither_stripe_nor_simple_salesforce() -> None:
    # Given a fresh interpreter (a Lambda cold start) with the function's environment
    code = (
        "import sys, functions.platform_event.app as a; "
        "print(sorted(m for m in ('stripe', 'simple_salesforce') if m in sys.modules))"
    )
    env = {**os.environ, "ORGANIZATION_IDS": "00D5g000004ABCD", "SYNC_QUEUE_URL": "http://127.0.0.1:1/q"}
    # When the handler module is imported
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=True)
    # Then neither heavy library was loaded
    assert out.stdout.strip() == "[]"


def test_rule_r1_order_activation_through_event_relay_creates_one_customer(events_only: Stack) -> None:
    stack = events_only
    # Given an account, contact and draft order created in Salesforce (their CDC CREATE events create nothing)
    account_id, _, order_id = stack.new_customer_account(email="ap@muster.de")
    stack.settle()
    assert stack.stripe.customers() == []
    # When the order is activated (an OrderChangeEvent and the Flow's platform event are published)
    stack.sim.update("Order", order_id, {"Status": "Activated"})
    stack.settle()
    # Then one customer exists, created once, with the primary contact's email, and its id is written back
    customer = customer_for(stack, account_id)
    assert customer["email"] == "ap@muster.de"
    assert len([w for w in writes(stack) if w["path"] == "/v1/customers"]) == 1
    assert stack.sim.get("Account", account_id)["Stripe_Customer_ID__c"] == customer["id"]
    assert len(published(stack, "OrderChangeEvent")) == 2  # CREATE (draft) and UPDATE (activated)
    assert len(published(stack, "Stripe_Order_Activated__e")) == 1


def test_rule_r7_account_change_event_updates_the_customer(events_only: Stack) -> None:
    stack = events_only
    account_id, _, _ = activated_customer(stack)
    before = len(writes(stack))
    # When the account's name changes
    stack.sim.update("Account", account_id, {"Name": "Muster AG & Co."})
    stack.settle()
    # Then the customer follows with one write of just the name
    assert customer_for(stack, account_id)["name"] == "Muster AG & Co."
    assert [w["params"] for w in writes(stack)[before:]] == [{"name": "Muster AG & Co."}]


def test_compound_address_change_updates_the_customers_address(events_only: Stack) -> None:
    stack = events_only
    account_id, _, _ = activated_customer(stack, BillingStreet="Alte Str. 1", BillingCity="Berlin")
    # When only the billing street changes
    stack.sim.update("Account", account_id, {"BillingStreet": "Neue Str. 2"})
    stack.settle()
    # Then the change event named the compound field part, and Stripe has the new street
    (payload,) = [
        e["detail"]["payload"]
        for e in published(stack, "AccountChangeEvent")
        if (e["detail"]["payload"].get("BillingAddress") or {}).get("Street") == "Neue Str. 2"
    ]
    if relay(stack).rendering == STREAMING:
        assert payload["ChangeEventHeader"]["changedFields"] == ["BillingAddress.Street", "LastModifiedDate"]
        assert payload["BillingAddress"] == {"Street": "Neue Str. 2"}
    else:  # a bitmap of top-level fields, then one of the parts inside BillingAddress
        top, nested = payload["ChangeEventHeader"]["changedFields"]
        assert top.startswith("0x") and nested == f"{body_index(payload, 'BillingAddress')}-0x1"  # part 0: Street
        assert payload["BillingAddress"]["City"] is None  # unchanged parts are null
    address = customer_for(stack, account_id)["address"]
    assert (address["line1"], address["city"]) == ("Neue Str. 2", "Berlin")


@pytest.mark.vendor_doc(
    "https://developer.salesforce.com/docs/atlas.en-us.change_data_capture.meta/change_data_capture/cdc_event_fields_header.htm",
    "one change event can name several records (recordIds) changed the same way in one transaction",
)
def test_change_event_with_several_record_ids_syncs_each_account(events_only: Stack) -> None:
    stack = events_only
    # Given three customers
    accounts = [activated_customer(stack, Name=f"Kunde {i}")[0] for i in range(3)]
    before = len(writes(stack))
    # When one transaction makes the same change on all three (Salesforce merges it into one event)
    with relay(stack).transaction():
        for account_id in accounts:
            stack.sim.update("Account", account_id, {"Description": "Key account"})
    stack.settle()
    # Then one event carried the three record ids, and every customer was updated once
    merged = [
        e
        for e in published(stack, "AccountChangeEvent")
        if len(e["detail"]["payload"]["ChangeEventHeader"]["recordIds"]) == 3
    ]
    assert len(merged) == 1
    assert merged[0]["detail"]["payload"]["ChangeEventHeader"]["recordIds"] == accounts
    assert {3} <= {s["enqueued"] for s in summaries(stack)}
    assert all(customer_for(stack, a)["description"] == "Key account" for a in accounts)
    assert len(writes(stack)[before:]) == 3


def test_rule_r7_contact_change_event_updates_the_customers_email(events_only: Stack) -> None:
    stack = events_only
    account_id, contact_id, _ = activated_customer(stack, email="old@muster.de")
    before = len(writes(stack))
    # When the primary contact's email changes
    stack.sim.update("Contact", contact_id, {"Email": "new@muster.de"})
    stack.settle()
    # Then the customer's email follows with one write
    assert customer_for(stack, account_id)["email"] == "new@muster.de"
    assert [w["params"] for w in writes(stack)[before:]] == [{"email": "new@muster.de"}]


@pytest.mark.parametrize("sobject", ["Account", "Contact"])
def test_rule_r11_delete_change_events_leave_stripe_alone(events_only: Stack, sobject: str) -> None:
    stack = events_only
    account_id, contact_id, _ = activated_customer(stack, email="keep@muster.de")
    customer = customer_for(stack, account_id)
    before = len(stack.stripe.requests)
    # When the account (or the primary contact) is deleted in Salesforce
    stack.sim.delete(sobject, account_id if sobject == "Account" else contact_id)
    stack.settle()
    # Then the DELETE event was relayed and ignored: Stripe was not even asked, the customer is unchanged
    (event,) = [
        e
        for e in relay(stack).published
        if e["detail"]["payload"].get("ChangeEventHeader", {}).get("changeType") == "DELETE"
    ]
    assert event["detail-type"] == f"{sobject}ChangeEvent"
    assert summaries(stack)[-1] == {"enqueued": 0, "ignored": 1, "dropped": 0}
    assert len(stack.stripe.requests) == before
    assert customer_for(stack, account_id) == customer


def test_gap_event_makes_the_worker_re_read_the_account(events_only: Stack) -> None:
    stack = events_only
    account_id, _, _ = activated_customer(stack)
    # Given a change Salesforce could not publish as a change event (e.g. applied directly in the database)
    relay(stack).active = False
    stack.sim.update("Account", account_id, {"Phone": "+49 30 999"})
    relay(stack).active = True
    assert stack.stripe.customers()[0].get("phone") in (None, "")
    # When the gap event for it arrives (no field values, just the record id)
    stamp = stack.sim.get("Account", account_id)["SystemModstamp"]
    gap = change_event(
        "Account",
        "GAP_UPDATE",
        [account_id],
        org_id=stack.sim.org_id,
        commit_ms=int(stamp.timestamp() * 1000),
        transaction_key="0000aaaa-gap-test",
    )
    assert stack.invoker is not None
    stack.invoker.submit(gap)
    stack.settle()
    # Then the worker re-read the account and the customer has the phone
    assert customer_for(stack, account_id)["phone"] == "+49 30 999"


def test_change_event_older_than_an_applied_outbound_message_overwrites_nothing(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a customer, kept in step by Outbound Messages and Event Relay alike
    account_id, _, _ = activated_customer(stack)
    results: list[SyncResult] = []
    batch_worker = stack.worker.worker()
    report = batch_worker._report_result
    monkeypatch.setattr(
        batch_worker, "_report_result", lambda result, request: (results.append(result), report(result, request))
    )
    # And a rename whose change event EventBridge is still holding back
    held = held_back(stack)
    stack.sim.update("Account", account_id, {"Name": "Zwischenname"})
    (late,) = [e for e in held if e["detail-type"] == "AccountChangeEvent"]
    deliver_again(stack)
    # And a newer rename already applied through its Outbound Message
    stack.sim.update("Account", account_id, {"Name": "Endname"})
    stack.settle()
    assert customer_for(stack, account_id)["name"] == "Endname"
    before = len(writes(stack))
    results.clear()
    # When the late change event finally arrives
    assert stack.invoker is not None
    stack.invoker.submit(late)
    stack.settle()
    # Then it is recognised as stale: no Stripe write, and Stripe keeps the newer data
    assert [r.outcome for r in results] == [Outcome.STALE]
    assert writes(stack)[before:] == []
    assert customer_for(stack, account_id)["name"] == "Endname"


def test_platform_event_delivered_twice_makes_one_stripe_write(events_only: Stack) -> None:
    stack = events_only
    account_id, _, order_id = stack.new_customer_account()
    stack.settle()
    # Given the order-activation platform event (the order's change event is not delivered here)
    held = held_back(stack)
    stack.sim.update("Order", order_id, {"Status": "Activated"})
    deliver_again(stack)
    (event,) = [e for e in held if e["detail-type"] == "Stripe_Order_Activated__e"]
    assert stack.invoker is not None
    # When EventBridge delivers it twice (at-least-once)
    stack.invoker.submit(event)
    stack.settle()
    requests_after_first = len(stack.stripe.requests)
    stack.invoker.submit(event)
    stack.settle()
    # Then there is one customer from one Stripe write, and the redelivery did not reach Stripe at all
    assert customer_for(stack, account_id)["metadata"]["salesforce_account_id"] == account_id
    assert len(writes(stack)) == 1
    assert len(stack.stripe.requests) == requests_after_first
    assert summaries(stack)[-1] == {"enqueued": 1, "ignored": 0, "dropped": 0}


def test_event_from_an_org_outside_the_allow_list_is_kept_in_the_failure_queue_counted_and_not_enqueued(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert stack.platform_event is not None and stack.invoker is not None
    counted: list[str] = []
    intake = stack.platform_event.intake()
    count = intake.count
    monkeypatch.setattr(intake, "count", lambda name, value=1: (counted.append(name), count(name, value)))
    # Given a change event from an org that is not in ORGANIZATION_IDS, carrying an account's personal data
    other_org = to_18("00D5g000004OTHR")
    personal = {"Name": "Privat GmbH", "Phone": "+49 30 9876543", "BillingAddress": {"Street": "Geheimweg 1"}}
    event = change_event(
        "Account",
        "UPDATE",
        [to_18("0015g00000ACCT1")],
        org_id=other_org,
        commit_ms=1793611920000,
        changed=sorted(personal),
        body=personal,
    )
    # When EventBridge delivers it
    summary = stack.invoker.invoke(event)
    # Then it is refused and counted, without an error (no retry) and without a sync queue message
    assert summary == {"enqueued": 0, "ignored": 0, "dropped": 1}
    assert counted == ["dropped", "org_not_allowed"]
    assert stack.invoker.stats.handler_errors == 0 and stack.invoker.dead_letters == []
    # And it is kept, with the reason, in the function's on-failure queue (an on-failure record to redrive),
    # as a reference: the event's id, source and header (record ids, changed field names), no field value
    (kept,) = failure_records(stack)
    assert kept["requestPayload"]["id"] == event["id"] and kept["requestPayload"]["source"] == event["source"]
    assert (
        kept["requestPayload"]["detail"]["payload"]["ChangeEventHeader"]
        == event["detail"]["payload"]["ChangeEventHeader"]
    )
    assert sorted(kept["requestPayload"]["detail"]["payload"]) == sorted(event["detail"]["payload"])
    raw = json.dumps(kept)
    assert not [value for value in ("Privat GmbH", "9876543", "Geheimweg") if value in raw]
    assert kept["responsePayload"]["errorMessage"] == "organization not allowed"
    attributes = stack.sqs.get_queue_attributes(
        QueueUrl=stack.queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    assert attributes == {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"}


@pytest.mark.vendor_doc(
    "https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html",
    "an asynchronous invocation that fails is retried, then its event goes to the on-failure destination",
)
def test_enqueue_failure_raises_so_eventbridge_retries_then_dead_letters_the_event(
    events_only: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = events_only
    assert stack.platform_event is not None and stack.invoker is not None
    account_id, _, _ = activated_customer(stack)

    class BrokenQueue:
        def send(self, requests: Any) -> None:
            raise EnqueueError("SQS SendMessageBatch failed: EndpointConnectionError")

    # Given SQS refuses every message
    intake = stack.platform_event.intake()
    working_queue = intake.queue
    monkeypatch.setattr(intake, "queue", BrokenQueue)
    held = held_back(stack)
    stack.sim.update("Account", account_id, {"Name": "Später AG"})
    deliver_again(stack)
    (event,) = held
    # When EventBridge delivers the change event
    assert stack.invoker.invoke(event) is None
    # Then every attempt failed and the event is in the rule's dead-letter queue
    assert stack.invoker.stats.handler_errors == 3
    assert stack.invoker.dead_letters == [event]
    # And once SQS is back, redriving the dead letter syncs the change
    monkeypatch.setattr(intake, "queue", working_queue)
    stack.invoker.submit(stack.invoker.dead_letters.pop())
    stack.settle()
    assert customer_for(stack, account_id)["name"] == "Später AG"


def test_malformed_event_is_kept_in_the_failure_queue_with_the_reason(events_only: Stack) -> None:
    stack = events_only
    assert stack.invoker is not None
    # Given an order-activation platform event whose order id is not an Order id
    event = stack.sim.event_relays[0]._order_activated_event(
        {"Id": to_18("0015g00000ACCT1"), "AccountId": None, "SystemModstamp": _now()}
    )
    # When EventBridge delivers it
    summary = stack.invoker.invoke(event)
    # Then nothing is enqueued, and the event waits in the failure queue with why
    assert summary is not None and summary["dropped"] == 1
    (kept,) = failure_records(stack)
    assert kept["requestPayload"]["id"] == event["id"]
    assert kept["responsePayload"]["errorMessage"] == "payload field OrderId__c is not an Order id"


def _now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


@pytest.mark.vendor_doc(
    "https://developer.salesforce.com/docs/atlas.en-us.change_data_capture.meta/change_data_capture/"
    "cdc_event_fields_header.htm",
    "changeOrigin names the client id the call set (Sforce-Call-Options: client=…): an app skips its own changes",
)
def test_the_write_backs_own_change_event_costs_no_salesforce_read(events_only: Stack) -> None:
    stack = events_only
    # Given an account with its contact and draft order, synced (nothing to create yet)
    _, _, order_id = stack.new_customer_account()
    stack.settle()
    outcomes_before, queries_before = len(stack.outcomes), stack.sim.snapshot()[0].get("queryAll", 0)
    # When the order is activated: a customer is created and its id written back to the account
    stack.sim.update("Order", order_id, {"Status": "Activated"})
    stack.settle()
    # Then the write-back's change event names the sync as its client
    (echo,) = [
        e["detail"]["payload"]["ChangeEventHeader"]
        for e in published(stack, "AccountChangeEvent")
        if e["detail"]["payload"]["ChangeEventHeader"]["changeType"] == "UPDATE"
    ]
    assert echo["changeOrigin"].endswith(";client=salesforce-stripe-sync")
    syncs = len(stack.outcomes) - outcomes_before
    reads = stack.sim.snapshot()[0].get("queryAll", 0) - queries_before
    if relay(stack).rendering == STREAMING:
        # And, its changedFields naming only the written-back fields, it is ignored without a read: the worker
        # synced only the activation's two requests (the order's change event and its platform event), reading
        # Salesforce twice (the order, then its account)
        assert (syncs, reads) == (2, 2)
    else:
        # A Pub/Sub bitmap does not say which fields changed: the echo is read, as any change (one sync more)
        assert (syncs, reads) == (3, 3)
