"""End to end: Salesforce outbound messages → receiver → SQS → worker → Stripe, with write-back."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.integration.stack import Stack


def stripe_writes(stack: Stack) -> list[dict[str, Any]]:
    return list(stack.stripe.write_requests())


def test_rule_r1_order_activation_creates_one_customer_with_contact_email_and_writes_id_back(
    stack: Stack,
) -> None:
    # Given an account whose draft order's quote names a primary contact
    account_id, _, order_id = stack.new_customer_account(email="ap@muster.de", Phone="+49 30 555")
    stack.settle()
    assert stack.stripe.customers() == []  # R1: no customer before the order is activated
    # When the order is activated
    stack.sim.update("Order", order_id, {"Status": "Activated"})
    stack.settle()
    # Then one customer carries the account's data and the primary contact's email
    (customer,) = stack.stripe.customers()
    assert customer["name"] == "Muster AG"
    assert customer["email"] == "ap@muster.de"
    assert customer["phone"] == "+49 30 555"
    assert customer["metadata"]["salesforce_account_id"] == account_id
    # And (R10) its id is written back to the Account, with the sync status
    account = stack.sim.get("Account", account_id)
    assert account["Stripe_Customer_ID__c"] == customer["id"]
    assert account["Stripe_Sync_Status__c"] == "Synced"


def test_rule_r7_account_update_updates_the_customer(stack: Stack) -> None:
    # Given a customer created by an order activation
    account_id, _, order_id = stack.new_customer_account()
    stack.sim.update("Order", order_id, {"Status": "Activated"})
    stack.settle()
    writes_before = len(stripe_writes(stack))
    # When the account's name and billing city change in Salesforce
    stack.sim.update("Account", account_id, {"Name": "Muster AG & Co.", "BillingCity": "Hamburg"})
    stack.settle()
    # Then the customer follows with one update of just those fields
    (customer,) = stack.stripe.customers()
    assert customer["name"] == "Muster AG & Co."
    assert customer["address"]["city"] == "Hamburg"
    updates = stripe_writes(stack)[writes_before:]
    assert len(updates) == 1
    assert set(updates[0]["params"]) == {"name", "address"}


def test_duplicate_delivery_makes_no_extra_stripe_write(stack: Stack) -> None:
    # Given Salesforce re-delivers every acknowledged message once more (at-least-once delivery)
    stack.sim.outbound.duplicate_rate = 1.0
    _, _, order_id = stack.new_customer_account()
    # When the order is activated
    stack.sim.update("Order", order_id, {"Status": "Activated"})
    stack.settle()
    stack.sim.outbound.duplicate_rate = 0.0
    stack.settle()
    # Then there is one customer and one create, however often the notification arrived
    assert len(stack.stripe.customers()) == 1
    creates = [w for w in stripe_writes(stack) if w["path"] == "/v1/customers"]
    assert len(creates) == 1
    # And the same notification really did arrive more than once
    duplicates = [d for d in stack.sim.outbound.deliveries if d["duplicate"]]
    assert duplicates and all(d["acked"] for d in duplicates)


def test_rule_r3_default_mode_account_update_without_customer_creates_nothing(stack: Stack) -> None:
    # Given an account without any activated order (default order-activation mode)
    account_id = stack.sim.create("Account", {"Name": "Prospect GmbH"})
    # When it is updated
    stack.sim.update("Account", account_id, {"Phone": "+49 40 1"})
    stack.settle()
    # Then Stripe has no customer and was not even asked
    assert stack.stripe.customers() == []
    assert stripe_writes(stack) == []


def test_rule_r3_every_account_mode_creates_a_customer_for_any_account(stack_factory: Any) -> None:
    # Given the every-account creation mode
    stack = stack_factory(CREATION_MODE="every_account")
    # When a plain account (no order, no contact) is created
    account_id = stack.sim.create("Account", {"Name": "Any Account Ltd"})
    stack.settle()
    # Then it has a customer, written back to the account
    (customer,) = stack.stripe.customers()
    assert customer["name"] == "Any Account Ltd"
    assert "email" not in customer or customer["email"] is None
    assert stack.sim.get("Account", account_id)["Stripe_Customer_ID__c"] == customer["id"]


@pytest.mark.parametrize("removal", ["merge", "delete"])
def test_rule_r9_r11_r13_merged_or_deleted_account_never_touches_stripe(stack: Stack, removal: str) -> None:
    # Given an activation notification for an account is still waiting in Salesforce's queue
    account_id, _, _ = stack.new_customer_account()
    winner_id = stack.sim.create("Account", {"Name": "Winner AG"})
    stack.settle()
    stack.sim.outbound.pause()
    stack.sim.update("Account", account_id, {"Phone": "+1 555"})
    # When the account is merged into another (or deleted) before the message is processed
    if removal == "merge":
        stack.sim.merge("Account", winner_id, [account_id])
    else:
        stack.sim.delete("Account", account_id)
    stack.sim.outbound.resume()
    stack.settle()
    # Then Stripe was never called
    assert stack.stripe.requests == []


def test_invalid_email_is_a_warning_written_back_and_the_customer_is_created(stack: Stack) -> None:
    # Given the primary contact's email is malformed (Salesforce's own check is looser than Stripe's)
    account_id, _, order_id = stack.new_customer_account(email="ap@muster")
    # When the order is activated
    stack.sim.update("Order", order_id, {"Status": "Activated"})
    stack.settle()
    # Then the customer exists without an email, and nothing is retried
    (customer,) = stack.stripe.customers()
    assert customer["email"] is None
    assert stack.poller.stats.failed == 0
    assert stack.dlq_messages() == []
    # And the account says so: synced with warnings, the warning naming the field, not the value
    account = stack.sim.get("Account", account_id)
    assert account["Stripe_Customer_ID__c"] == customer["id"]
    assert account["Stripe_Sync_Status__c"] == "Synced with warnings"
    assert account["Stripe_Sync_Error__c"] == (
        "Order.SBQQ__Quote__r.SBQQ__PrimaryContact__r.Email: is not a valid email address; left out"
    )
    assert "ap@muster" not in account["Stripe_Sync_Error__c"]


def test_fixing_the_field_clears_the_warning_on_the_account(stack: Stack) -> None:
    # Given an account synced with a warning (a billing country Stripe can't take)
    account_id, _, order_id = stack.new_customer_account()
    stack.sim.update("Account", account_id, {"BillingCountry": "Atlantis", "BillingCity": "Paris"})
    stack.sim.update("Order", order_id, {"Status": "Activated"})
    stack.settle()
    assert stack.sim.get("Account", account_id)["Stripe_Sync_Status__c"] == "Synced with warnings"
    # When the admin fixes the field
    stack.sim.update("Account", account_id, {"BillingCountry": "France"})
    stack.settle()
    # Then the customer gets the country, and the status and error field are back to normal
    account = stack.sim.get("Account", account_id)
    assert stack.stripe.customer(account["Stripe_Customer_ID__c"])["address"]["country"] == "FR"
    assert account["Stripe_Sync_Status__c"] == "Synced"
    assert not account["Stripe_Sync_Error__c"]


def test_stripe_outage_fails_the_item_not_the_invocation_then_succeeds_with_one_customer(stack: Stack) -> None:
    # Given Stripe answers 500 to the next four requests (more than the SDK's own retries)
    _, _, order_id = stack.new_customer_account()
    stack.settle()
    stack.stripe.inject("server_error", count=4)
    # When the order is activated (its message alone in the worker's batch, which fails whole)
    stack.sim.update("Order", order_id, {"Status": "Activated"})
    stack.sim.outbound.wait_idle(timeout=10)
    stack.poller.drain()
    # Then the message was reported as a batch item failure, not lost
    assert stack.poller.stats.failed >= 1
    # And the invocation answered instead of raising: in Lambda a raised error is a failed invocation, which
    # WorkerErrorsAlarm (meant for crashes) reports. Powertools' BatchProcessor raises when every record of a
    # batch failed unless told not to (https://github.com/aws-powertools/powertools-lambda-python/issues/3716).
    assert stack.poller.stats.handler_errors == 0
    # And after the visibility timeout it succeeds, with exactly one customer
    time.sleep(1.2)
    stack.poller.drain()
    assert len(stack.stripe.customers()) == 1


def _wait_visible(stack: Any, count: int, timeout: float = 10.0) -> None:
    """Until SQS reports ``count`` messages visible (the receiver's batch sends may still be landing)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        attributes = stack.sqs.get_queue_attributes(
            QueueUrl=stack.queue_url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        if int(attributes["ApproximateNumberOfMessages"]) >= count:
            return
        time.sleep(0.1)
    raise AssertionError(f"fewer than {count} messages visible after {timeout} s")


def test_batch_of_100_notifications_costs_one_read_and_one_write_back(stack_factory: Any) -> None:
    # Given 100 new accounts in every-account mode, delivered as one outbound message of 100 notifications
    # (gathering 100 messages can take over the tests' usual 1 s visibility timeout on a loaded machine; then the
    # first ones come back as redeliveries and the batch is cut short — nothing here is meant to be redelivered)
    stack = stack_factory(CREATION_MODE="every_account", visibility_timeout=30)
    stack.sim.outbound.pause()
    for i in range(100):
        stack.sim.create("Account", {"Name": f"Batch {i:03d}"})
    stack.sim.outbound.resume()
    assert stack.sim.outbound.wait_idle(timeout=20)
    assert max(len(d["notification_ids"]) for d in stack.sim.outbound.deliveries) == 100
    stack.sim.outbound.pause()  # keep the write-back's own notifications out of the measurement
    _wait_visible(stack, 100)
    before = dict(stack.sim.api_calls)
    # When the worker processes them as one batch
    stack.poller.poll_once()
    calls = {k: v - before.get(k, 0) for k, v in stack.sim.api_calls.items() if v - before.get(k, 0)}
    # Then Salesforce was read once and written once (plus what a cold start costs once: the login, one
    # describe per object the mapping reads, for the worker's check of the mapping against the org, and the
    # admin's sync preferences, read once per 5 minutes)
    assert stack.poller.stats.batch_sizes == [100]
    assert len(stack.stripe.customers()) == 100
    assert calls.get("queryAll", 0) == 1
    assert calls.get("query", 0) <= 1  # the admin's preferences, read once per instance per 5 minutes
    assert calls.get("composite", 0) == 1  # the write-back and the sync history, one Composite call
    assert set(calls) <= {"queryAll", "query", "composite", "token", "describe"}
    assert calls.get("describe", 0) <= 4
    print(f"\nSalesforce API calls for one batch of 100 notifications: {calls}")


def test_rule_r10_id_is_written_back_even_when_an_older_message_shares_the_batch(stack: Stack) -> None:
    # Given an account message that is already older than the applied state, queued with an order activation
    account_id, _, order_id = stack.new_customer_account()
    stack.settle()
    stack.sim.outbound.pause()
    stack.sim.update("Order", order_id, {"Status": "Activated"})
    stale_account_message = {
        "org_id": stack.sim.org_id,
        "object_type": "Account",
        "record_id": account_id,
        "event_id": "04l5g00000OLDMSGAA",
        "source": "outbound_message",
        "version": 1,
        "account_id": account_id,
    }
    stack.sim.outbound.resume()
    assert stack.sim.outbound.wait_idle(timeout=10)
    stack.sqs.send_message(QueueUrl=stack.queue_url, MessageBody=json.dumps(stale_account_message))
    # When both land in one batch (the activation creates the customer, the old message is then stale)
    stack.poller.poll_once()
    stack.settle()
    # Then the customer's id is on the account all the same
    (customer,) = stack.stripe.customers()
    assert stack.sim.get("Account", account_id)["Stripe_Customer_ID__c"] == customer["id"]
