"""The CPQ quote as a trigger: switching its primary contact re-syncs the customer, end to end.

Salesforce CPQ keeps the primary contact on the quote (``SBQQ__Quote__c.SBQQ__PrimaryContact__c``); the
customer's email comes from it through the account's latest activated order. Without a quote trigger the
switch changed nothing in Stripe and the new contact's edits were ignored (the contact index only knew the
old contact) until the daily reconcile.
"""

from __future__ import annotations

import pytest

from tests.integration.conftest import StackFactory
from tests.integration.stack import Stack


def customer_email_after_switch(stack: Stack) -> tuple[Stack, str, str]:
    """Given a customer whose email comes from Ada, the quote's primary contact; When Bob replaces her."""
    account_id, _, order_id = stack.new_customer_account(email="ada@muster.de")
    stack.sim.update("Order", order_id, {"Status": "Activated"})
    stack.settle()
    assert stack.stripe.customers()[0]["email"] == "ada@muster.de"
    bob = stack.sim.create("Contact", {"AccountId": account_id, "LastName": "Bob", "Email": "bob@muster.de"})
    stack.settle()
    quote_id = stack.sim.get("Order", order_id)["SBQQ__Quote__c"]  # type: ignore[index]
    stack.sim.update("SBQQ__Quote__c", quote_id, {"SBQQ__PrimaryContact__c": bob})
    stack.settle()
    return stack, bob, quote_id


def assert_email_follows_bob(stack: Stack, bob: str) -> None:
    # Then the customer's email is Bob's
    (customer,) = stack.stripe.customers()
    assert customer["email"] == "bob@muster.de"
    # And Bob's later edits flow (the contact index follows the new primary contact)
    stack.sim.update("Contact", bob, {"Email": "bob.new@muster.de"})
    stack.settle()
    assert stack.stripe.customers()[0]["email"] == "bob.new@muster.de"
    assert stack.poller.stats.failed == 0 and stack.dlq_messages() == []


def test_quote_primary_contact_switch_by_outbound_message(stack: Stack) -> None:
    stack, bob, _ = customer_email_after_switch(stack)
    assert_email_follows_bob(stack, bob)


@pytest.fixture
def relay_stack(stack_factory: StackFactory) -> Stack:
    stack = stack_factory(platform_events=True)
    for definition in stack.sim.outbound.definitions:
        definition.active = False  # Event Relay only: no Outbound Messages
    return stack


def test_quote_primary_contact_switch_by_change_event(relay_stack: Stack) -> None:
    stack, bob, quote_id = customer_email_after_switch(relay_stack)
    assert stack.relay is not None
    quote_events = [e for e in stack.relay.published if e["detail-type"] == "SBQQ__Quote__ChangeEvent"]
    assert quote_events and quote_events[-1]["detail"]["payload"]["ChangeEventHeader"]["recordIds"] == [quote_id]
    assert_email_follows_bob(stack, bob)


def test_a_quote_without_an_activated_order_changes_nothing_in_stripe(stack: Stack) -> None:
    # Given a draft order's quote (no customer yet)
    account_id, _, order_id = stack.new_customer_account(email="ada@muster.de")
    other = stack.sim.create("Contact", {"AccountId": account_id, "LastName": "Other", "Email": "o@muster.de"})
    stack.settle()
    quote_id = stack.sim.get("Order", order_id)["SBQQ__Quote__c"]  # type: ignore[index]
    # When its primary contact changes
    stack.sim.update("SBQQ__Quote__c", quote_id, {"SBQQ__PrimaryContact__c": other})
    stack.settle()
    # Then nothing is written to Stripe and the notification is acknowledged, not retried
    assert stack.stripe.write_requests() == []
    assert stack.poller.stats.failed == 0 and stack.sim.outbound.pending() == 0
