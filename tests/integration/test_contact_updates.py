"""R7 for contacts: contact-derived customer fields follow the contact, end to end."""

from __future__ import annotations

from typing import Any

from tests.integration.stack import Stack


def activate(stack: Stack, order_id: str) -> None:
    stack.sim.update("Order", order_id, {"Status": "Activated"})
    stack.settle()


def writes_since(stack: Stack, count: int) -> list[dict[str, Any]]:
    return list(stack.stripe.write_requests())[count:]


def test_rule_r7_primary_contact_email_change_updates_the_customer_with_one_write(stack: Stack) -> None:
    # Given a customer whose email comes from the order's primary contact
    _, contact_id, order_id = stack.new_customer_account(email="old@muster.de")
    activate(stack, order_id)
    before = len(stack.stripe.write_requests())
    # When the contact's email changes in Salesforce
    stack.sim.update("Contact", contact_id, {"Email": "new@muster.de"})
    stack.settle()
    # Then the customer's email follows with exactly one Stripe write carrying just the email
    (customer,) = stack.stripe.customers()
    assert customer["email"] == "new@muster.de"
    assert [w["params"] for w in writes_since(stack, before)] == [{"email": "new@muster.de"}]


def test_contact_that_feeds_no_customer_makes_no_stripe_call(stack: Stack) -> None:
    # Given a contact on an account without any activated order
    account_id = stack.sim.create("Account", {"Name": "Prospect GmbH"})
    contact_id = stack.sim.create("Contact", {"AccountId": account_id, "LastName": "Nobody", "Email": "a@b.de"})
    stack.settle()
    # When the contact changes
    stack.sim.update("Contact", contact_id, {"Email": "c@d.de"})
    stack.settle()
    # Then Stripe was never called, and the notifications were acknowledged (not retried)
    assert stack.stripe.requests == []
    assert stack.poller.stats.failed == 0
    assert stack.sim.outbound.pending() == 0


def test_contact_shared_by_two_customers_updates_both(stack: Stack) -> None:
    # Given one contact is the primary contact on two accounts' activated orders
    _, contact_id, order_a = stack.new_customer_account(email="shared@group.de")
    account_b = stack.sim.create("Account", {"Name": "Schwester GmbH"})
    order_b = stack.new_order(account_b, contact_id)
    activate(stack, order_a)
    activate(stack, order_b)
    assert len(stack.stripe.customers()) == 2
    before = len(stack.stripe.write_requests())
    # When the contact's email changes
    stack.sim.update("Contact", contact_id, {"Email": "billing@group.de"})
    stack.settle()
    # Then both customers carry the new email, one write each
    assert sorted(c["email"] for c in stack.stripe.customers()) == ["billing@group.de", "billing@group.de"]
    updated = {w["path"] for w in writes_since(stack, before)}
    assert len(updated) == 2 and len(writes_since(stack, before)) == 2


def test_rule_r1_newer_order_with_another_primary_contact_takes_over(stack: Stack) -> None:
    # Given a customer created from an order whose primary contact is Ada
    account_id, ada, first_order = stack.new_customer_account(email="ada@muster.de")
    activate(stack, first_order)
    # When a newer order names Bob as primary contact and is activated
    bob = stack.sim.create("Contact", {"AccountId": account_id, "LastName": "Bob", "Email": "bob@muster.de"})
    activate(stack, stack.new_order(account_id, bob))
    # Then the customer follows Bob
    (customer,) = stack.stripe.customers()
    assert customer["email"] == "bob@muster.de"
    # And Ada's later changes no longer drive it
    before = len(stack.stripe.write_requests())
    stack.sim.update("Contact", ada, {"Email": "ada.new@muster.de"})
    stack.settle()
    assert writes_since(stack, before) == []
    assert stack.stripe.customers()[0]["email"] == "bob@muster.de"


def test_rule_r11_deleted_contact_never_clears_the_customers_email(stack: Stack) -> None:
    # Given a customer whose email comes from the primary contact
    account_id, contact_id, order_id = stack.new_customer_account(email="keep@muster.de")
    activate(stack, order_id)
    # When the contact is deleted in Salesforce (the quote's lookup is cleared) and the account changes later
    stack.sim.delete("Contact", contact_id)
    stack.sim.update("Account", account_id, {"Name": "Muster AG (neu)"})
    stack.settle()
    # Then the name follows but the email stays
    (customer,) = stack.stripe.customers()
    assert customer["name"] == "Muster AG (neu)"
    assert customer["email"] == "keep@muster.de"
    # And the state records which field was kept and why it no longer follows a contact
    state = stack.state.get(stack.sim.org_id, account_id)
    assert state is not None and state.kept_fields == ("email",) and state.contact_ids == ()
