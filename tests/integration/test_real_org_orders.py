"""Real orgs' orders: org-defined statuses in the category Activated, undated and simultaneous activations.

Salesforce documents, and the simulator models: ``Order.StatusCode`` is the status *category* of the org's
own ``Status`` value (Object Reference, Order; Salesforce Help "Set Up Order Status Values"); SOQL sorts
nulls first by default in both directions and returns ties in no fixed order (SOQL reference, ORDER BY).
"""

from __future__ import annotations

from typing import Any

import pytest

from devtools.local_runtime.stack import load_handler
from devtools.sam.lambda_events import FakeLambdaContext
from shared.salesforce import AccountQuery, SimpleSalesforceGateway
from tests.integration.stack import Stack


def set_status(stack: Stack, order_id: str, status: str) -> None:
    stack.sim.update("Order", order_id, {"Status": status})
    stack.settle()


def test_rule_r1_order_in_an_org_defined_activated_status_creates_the_customer(stack: Stack) -> None:
    # Given an org whose admins activate orders as "Provisioned", a value in the status category Activated
    stack.sim.add_order_status("Provisioned", "Activated")
    account_id, _, order_id = stack.new_customer_account(email="ap@muster.de")
    # When an order moves from Draft to "Provisioned"
    set_status(stack, order_id, "Provisioned")
    # Then the customer is created once and its id is written back
    (customer,) = stack.stripe.customers()
    assert customer["email"] == "ap@muster.de"
    assert stack.sim.get("Account", account_id)["Stripe_Customer_ID__c"] == customer["id"]


def test_customer_whose_order_moved_on_to_fulfilled_keeps_receiving_contact_updates(stack: Stack) -> None:
    # Given a customer whose order then moved from "Activated" to "Fulfilled" (same category)
    stack.sim.add_order_status("Fulfilled", "Activated")
    _, contact_id, order_id = stack.new_customer_account(email="old@muster.de")
    set_status(stack, order_id, "Activated")
    set_status(stack, order_id, "Fulfilled")
    # When the order's primary contact changes their email
    stack.sim.update("Contact", contact_id, {"Email": "new@muster.de"})
    stack.settle()
    # Then the customer follows
    (customer,) = stack.stripe.customers()
    assert customer["email"] == "new@muster.de"


def test_rule_r1_reconcile_checks_accounts_whose_orders_are_in_any_activated_status(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a customer whose order is now "Fulfilled" (category Activated)
    stack.sim.add_order_status("Fulfilled", "Activated")
    _, _, order_id = stack.new_customer_account()
    set_status(stack, order_id, "Activated")
    set_status(stack, order_id, "Fulfilled")
    # When the scheduled reconcile runs
    reconcile = load_handler("functions.reconcile.app", monkeypatch, {})
    result = reconcile.lambda_handler({}, FakeLambdaContext("reconcile", timeout_ms=900_000))
    # Then it checked that account and found it in step
    assert result["checked"] == 1 and result.get("ok") == 1


def test_rule_r1_latest_dated_order_wins_over_a_migrated_order_without_activated_date(stack: Stack) -> None:
    # Given a customer from an old order that a data migration left without ActivatedDate
    account_id, _, old_order = stack.new_customer_account(email="old@muster.de")
    set_status(stack, old_order, "Activated")
    stack.sim.load_system_fields("Order", old_order, {"ActivatedDate": None})
    # When a newer order, naming another primary contact, is activated
    bob = stack.sim.create("Contact", {"AccountId": account_id, "LastName": "Bob", "Email": "bob@muster.de"})
    set_status(stack, stack.new_order(account_id, bob), "Activated")
    # Then the customer follows the newer (dated) order, not the undated one SOQL sorts first by default
    (customer,) = stack.stripe.customers()
    assert customer["email"] == "bob@muster.de"


def test_orders_activated_at_the_same_moment_always_give_the_same_latest_order(stack: Stack) -> None:
    # Given two orders activated in the same millisecond (SOQL returns ties in no fixed order)
    stack.sim.rest.engine.tie_rng.seed(15)
    account_id, contact_id, first = stack.new_customer_account()
    second = stack.new_order(account_id, contact_id)
    for order_id in (first, second):
        stack.sim.update("Order", order_id, {"Status": "Activated"})
    when = stack.sim.get("Order", first)["ActivatedDate"]
    stack.sim.load_system_fields("Order", second, {"ActivatedDate": when})
    gateway = SimpleSalesforceGateway(lambda: _client(stack))
    # When the worker's read runs again and again
    chosen = set()
    for _ in range(12):
        record = gateway.read_accounts([account_id], AccountQuery(("Name",), ("Status",)))[account_id]
        chosen.add(record["Orders"]["records"][0]["Id"])
    # Then it always picks the same order
    assert len(chosen) == 1


def _client(stack: Stack) -> Any:
    from simple_salesforce import Salesforce

    return Salesforce(instance_url=stack.sim.instance_url, session_id=stack.sim.issue_token())
