"""``BatchSync.run`` on the fakes: what one SQS batch reads, syncs and writes back, and which messages it fails.

The worker answers SQS from ``BatchOutcome`` alone (``failed`` → a batch item failure, redelivered). Salesforce's
per-record answers are those of sObject Collections (SOAP API Developer Guide, "StatusCode": UNABLE_TO_LOCK_ROW
is transient, a validation rule is not). End-to-end: tests/integration/test_write_back_errors.py and
test_worker_deadline.py.
"""

from __future__ import annotations

from shared.errors import NotReached, TransientSyncError
from shared.settings import CreationMode
from shared.stripe.gateway import StripeRefusal
from shared.sync.customer_sync import Outcome
from tests.factories import ORG_ID, new_id
from tests.unit.sync.world import BatchWorld, request_for


def test_a_batch_reads_once_syncs_each_account_and_writes_back_once() -> None:
    # Given two new accounts, one message each
    world = BatchWorld()
    first, second = world.account(), world.account(Name="Beta AG")
    # When the batch runs
    outcome = world.run(request_for(first), request_for(second, event="2"))
    # Then both customers were created, their ids and status written back, in one read and one write
    assert [r.outcome for results in outcome.results.values() for r in results] == [Outcome.CREATED] * 2  # type: ignore[union-attr]
    assert world.salesforce.calls == {"read_accounts": 1, "update_accounts": 1}
    for account_id in (first, second):
        written = world.salesforce.accounts[account_id]
        assert written["Stripe_Customer_ID__c"].startswith("cus_") and written["Stripe_Sync_Status__c"] == "Synced"
    assert not any(outcome.failed(r) for r in outcome.results) and outcome.retry == frozenset()


def test_a_locked_account_fails_its_message_and_the_redelivery_writes_the_id_without_a_second_create() -> None:
    # Given an account whose row another transaction holds during the first write-back
    world = BatchWorld()
    account_id = world.account()
    world.salesforce.lock_row(account_id)
    request = request_for(account_id)
    # When the batch runs, then the message is redelivered
    first = world.run(request)
    again = world.run(request)
    # Then the first answer retries the message (the customer was created), the second writes the id
    assert first.failed(request) and first.retry == {account_id}
    assert not again.failed(request)
    assert world.salesforce.accounts[account_id]["Stripe_Customer_ID__c"] in world.stripe.customers
    assert len(world.stripe.customers) == 1


def test_a_validation_rule_is_reported_and_kept_but_costs_no_retry() -> None:
    # Given an account a validation rule keeps from being written
    world = BatchWorld()
    account_id = world.account()
    world.salesforce.validation_rule(account_id, "Billing data is locked")
    request = request_for(account_id)
    # When the batch runs
    outcome = world.run(request)
    # Then the refusal is returned to be logged, recorded in the state, and the message is done
    assert outcome.write_back_errors == {account_id: "FIELD_CUSTOM_VALIDATION_EXCEPTION: Billing data is locked"}
    assert not outcome.failed(request)
    assert world.state.get(ORG_ID, account_id).write_back_error == outcome.write_back_errors[account_id]  # type: ignore[union-attr]


def test_a_salesforce_outage_fails_every_message_and_touches_nothing() -> None:
    # Given Salesforce unavailable for the batch's read
    world = BatchWorld()
    requests = [request_for(world.account()), request_for(world.account(), event="2")]
    world.salesforce.fail_next("read_accounts", TransientSyncError("Salesforce unavailable: ConnectionError"))
    # When the batch runs
    outcome = world.run(*requests)
    # Then each message is retried and nothing reached Stripe or the write-back
    assert all(outcome.failed(r) and isinstance(outcome.results[r], TransientSyncError) for r in requests)
    assert world.stripe.calls == [] and "update_accounts" not in world.salesforce.calls


def test_one_accounts_stripe_failure_never_costs_the_account_beside_it() -> None:
    # Given two accounts, and Stripe failing the first create it receives
    world = BatchWorld()
    requests = [request_for(world.account()), request_for(world.account(), event="2")]
    world.stripe.fail_next("create", TransientSyncError("Stripe unavailable: APIConnectionError"))
    # When the batch runs one account at a time
    outcome = world.run(*requests, concurrency=1)
    # Then exactly one message is retried; the other account was created and written back
    assert [outcome.failed(r) for r in requests] == [True, False]
    assert world.salesforce.calls["update_accounts"] == 1 and len(world.stripe.customers) == 1


def test_past_the_deadline_no_sync_starts_and_every_message_is_retried() -> None:
    # Given a batch whose invocation is already at its deadline
    world = BatchWorld()
    requests = [request_for(world.account()), request_for(world.account(), event="2")]
    # When it runs
    outcome = world.run(*requests, should_stop=lambda: True)
    # Then nothing was synced, each message is retried as not reached, and the accounts are named
    assert all(isinstance(outcome.results[r], NotReached) and outcome.failed(r) for r in requests)
    assert len(outcome.not_reached) == 2 and world.stripe.calls == []


def test_an_order_without_its_account_id_is_resolved_and_one_without_an_account_is_acknowledged() -> None:
    # Given an order message that did not carry AccountId, and one for an order with no account
    world = BatchWorld(CreationMode.ORDER_ACTIVATION)
    account_id = world.account()
    order_id = world.salesforce.accounts[account_id]["Orders"]["records"][0]["Id"]
    orphan = new_id("801")
    world.salesforce.order_account[orphan] = None
    requests = [request_for(order_id, "Order"), request_for(orphan, "Order", event="2")]
    # When the batch runs
    outcome = world.run(*requests)
    # Then the first syncs its account (created: its order is activated); the second is done, no customer
    assert [[r.outcome for r in outcome.results[q]] for q in requests] == [[Outcome.CREATED], [Outcome.NO_CUSTOMER]]  # type: ignore[union-attr]
    assert not any(outcome.failed(r) for r in requests)


def test_the_write_back_follows_what_the_batch_did_not_a_later_stale_message() -> None:
    # Given a new account, and an older message about it later in the same batch
    world = BatchWorld()
    account_id = world.account()
    newer = request_for(account_id)
    older = request_for(account_id, event="2", version=1)
    # When the batch runs (one account's messages in batch order)
    outcome = world.run(newer, older)
    # Then the older one is stale, and the created customer's id is still written back
    assert [r.outcome for r in outcome.results[older]] == [Outcome.STALE]  # type: ignore[union-attr]
    assert world.salesforce.accounts[account_id]["Stripe_Customer_ID__c"] in world.stripe.customers


def test_every_write_back_refusal_is_returned_with_its_salesforce_code_transient_ones_too() -> None:
    # Given one account whose row is locked and one a validation rule keeps from being written
    world = BatchWorld()
    locked, ruled = world.account(), world.account(Name="Beta AG")
    world.salesforce.lock_row(locked)
    world.salesforce.validation_rule(ruled, "Billing data is locked")
    # When the batch runs
    outcome = world.run(request_for(locked), request_for(ruled, event="2"))
    # Then both refusals come back by Salesforce's status code (for the worker to log and count), the lock as
    # transient (retried), the validation rule as permanent (reported)
    codes = {a: (e.status_code, e.transient) for a, e in outcome.write_back_refusals.items()}
    assert codes == {locked: ("UNABLE_TO_LOCK_ROW", True), ruled: ("FIELD_CUSTOM_VALIDATION_EXCEPTION", False)}
    assert outcome.retry == {locked} and set(outcome.write_back_errors) == {ruled}


def test_a_field_stripe_refuses_is_written_back_as_synced_with_warnings_naming_the_salesforce_field() -> None:
    # Given a new account whose phone Stripe refuses (https://docs.stripe.com/api/errors: a 4xx names its param)
    world = BatchWorld()
    account_id = world.account(Phone="+49 30 9")
    world.stripe.fail_next(
        "create", StripeRefusal("Stripe rejected phone (invalid_phone)", code="invalid_phone", param="phone")
    )
    request = request_for(account_id)
    # When the batch runs
    outcome = world.run(request)
    # Then the customer exists, the message is done, and the account reads the warning naming Phone
    written = world.salesforce.accounts[account_id]
    assert written["Stripe_Customer_ID__c"] in world.stripe.customers and not outcome.failed(request)
    assert written["Stripe_Sync_Status__c"] == "Synced with warnings"
    assert written["Stripe_Sync_Error__c"].startswith("Phone")
