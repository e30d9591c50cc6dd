"""One writer among several: the sync beside (and after) Stripe's CPQ connector, on the whole local stack.

The connector is emulated from its documentation and source (devtools/salesforce_sim/connector.py: it creates a
customer when its own Stripe ID field ``stripeConnector__Stripe_ID__c`` is empty, without looking for one, and
with its flag ``update_customer_on_order_creation`` rewrites its mapped fields on every order sync —
https://docs.stripe.com/connectors/salesforce-cpq/accounts-contacts, ``lib/stripe-force/translate/customer.rb``
in https://github.com/stripe/stripe-go). Beside it (``OTHER_STRIPE_WRITERS=connector``) the sync is update-only
and compares with the customer in Stripe; migrating from it (``migrating_from_connector``) the sync adopts
the connector's customers. docs/with-or-instead-of-the-connector.md is the matrix these tests hold true.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from devtools.salesforce_sim.connector import STRIPE_ID_FIELD, StripeConnector
from tests.integration.conftest import StackFactory
from tests.integration.stack import Stack
from tests.integration.test_operations import messages_dropped, sfsync

BESIDE = {"OTHER_STRIPE_WRITERS": "connector", "SALESFORCE_STRIPE_ID_FIELD": STRIPE_ID_FIELD}
ACCOUNT = {
    "Name": "Nebenbei GmbH",
    "BillingStreet": "Hauptstr. 1\nHinterhaus",
    "BillingCity": "Berlin",
    "BillingPostalCode": "10115",
    "BillingCountry": "Germany",
}
# What this sync's standard mapping makes of ACCOUNT: the street split into two lines, the country as ISO code.
OURS = {"line1": "Hauptstr. 1", "line2": "Hinterhaus", "city": "Berlin", "country": "DE"}


@pytest.fixture
def beside(stack_factory: StackFactory) -> Stack:
    """A stack beside the connector: update-only, comparing with Stripe, the connector's Stripe ID field."""
    return stack_factory(**BESIDE)


def connector_for(stack: Stack, **flags: Any) -> StripeConnector:
    return StripeConnector(stack.sim, stack.stripe.base_url, **flags)


def naming(stack: Stack, account_id: str) -> list[dict[str, Any]]:
    """The live customers whose metadata names the account."""
    return [c for c in stack.stripe.customers() if c["metadata"].get("salesforce_account_id") == account_id]


def activated(stack: Stack, **account: Any) -> tuple[str, str]:
    """An account (with contact, primary quote) whose order was just activated; (account id, order id)."""
    account_id, _, order_id = stack.new_customer_account(**{**ACCOUNT, **account})
    stack.settle()
    stack.sim.update("Order", order_id, {"Status": "Activated"})
    return account_id, order_id


def customer_writes(stack: Stack) -> int:
    """Customer creates and updates Stripe received so far, from every writer."""
    return sum(1 for w in stack.stripe.write_requests() if w["path"].startswith("/v1/customers"))


def test_beside_the_connector_both_seeing_an_empty_field_at_once_make_one_customer(beside: Stack) -> None:
    # Given an account whose order was just activated: the sync's message is on its way, and the connector
    # reads the account with its Stripe ID field empty
    account_id, order_id = activated(beside)
    connector = connector_for(beside)
    # When the sync handles the activation in the window between the connector's read and its create
    connector.sync_order(order_id, before_create=beside.settle)
    beside.settle()  # the connector's Stripe ID lands in Salesforce: the account's Flow tells the sync
    # Then exactly one customer names the account: the connector's, in its field
    (customer,) = naming(beside, account_id)
    assert customer["id"] == connector.customers_created[0]
    assert beside.sim.get("Account", account_id)[STRIPE_ID_FIELD] == customer["id"]
    # And this sync created nothing, waited ("no_customer"), then updated the fields of its mapping
    creates = [w for w in beside.stripe.write_requests() if w["path"] == "/v1/customers"]
    assert len(creates) == 1 and "no_customer" in beside.outcomes and "updated" in beside.outcomes
    assert customer["email"] == "buyer@example.com"
    assert {k: customer["address"].get(k) for k in OURS} == OURS
    assert beside.sim.get("Account", account_id)["Stripe_Sync_Status__c"] == "Synced"


def test_beside_the_connector_no_flapping_over_a_day_of_alternating_edits(
    beside: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a customer the connector created, with its flag to rewrite customers on every order sync on and
    # its default mapping (billing street and country as Salesforce holds them: they differ from ours)
    connector = connector_for(beside, update_customer_on_order_creation=True)
    account_id, order_id = activated(beside)
    beside.settle()
    customer_id = connector.sync_order(order_id)
    beside.settle()
    sim = beside.sim
    expected = dict(OURS)

    def stripe_right() -> None:
        customer = beside.stripe.customer(customer_id)
        assert {k: customer["address"].get(k) for k in expected} == expected
        assert customer["email"] == "buyer@example.com"

    def salesforce_edit(**fields: Any) -> None:
        sim.update("Account", account_id, fields)
        beside.settle()

    def connector_order_sync() -> None:
        contact = sim.create("Contact", {"AccountId": account_id, "LastName": "Buyer", "Email": "buyer@example.com"})
        order = beside.new_order(account_id, contact)
        with messages_dropped(beside):  # the next order's activation message is not what is tested here
            sim.update("Order", order, {"Status": "Activated"})
        connector.sync_order(order)

    stripe_right()
    writes_at_start = customer_writes(beside)
    # When a day passes: Salesforce edits, connector order syncs (each rewrites street and country), the
    # sync's own syncs after each edit, and the nightly reconcile
    steps: list[Callable[[], None]] = [
        lambda: salesforce_edit(BillingCity="Potsdam"),
        connector_order_sync,
        lambda: salesforce_edit(Phone="+49 331 1"),
        connector_order_sync,
        lambda: salesforce_edit(Description="Großkunde"),
        lambda: salesforce_edit(BillingCity="Berlin"),
        connector_order_sync,
        lambda: salesforce_edit(Phone="+49 331 2"),
    ]
    for step in steps:
        step()
    expected["city"] = "Berlin"
    # Then after the last edit Stripe holds this sync's values for the fields of its mapping
    stripe_right()
    assert beside.stripe.customer(customer_id)["phone"] == "+49 331 2"
    # And the writes are bounded: each Salesforce edit and each connector sync cost at most one write back
    edits, connector_syncs = 5, 3
    ours = customer_writes(beside) - writes_at_start - len(connector.customers_updated)
    assert ours <= edits + connector_syncs
    # When the nightly reconcile runs after a last connector sync
    connector_order_sync()
    code, out, _ = sfsync(capsys, "reconcile", "--apply")
    beside.settle()
    # Then it found that one difference and its sync set it back; a second reconcile finds none (no flapping)
    assert code == 0 and "different 1" in out
    stripe_right()
    code, out, _ = sfsync(capsys, "reconcile", "--apply")
    assert code == 0 and "ok 1" in out and "different 1" not in out


def test_migrating_from_the_connector_adopts_its_customers_and_never_duplicates_one(
    stack_factory: StackFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given accounts the connector served before this sync was deployed: their customers name them, their ids
    # are in the connector's field (nothing reached the sync: it was not there yet)
    stack = stack_factory(OTHER_STRIPE_WRITERS="migrating_from_connector")
    connector = connector_for(stack)
    accounts = []
    with messages_dropped(stack):
        for name in ("Alt Eins AG", "Alt Zwei AG", "Alt Drei AG"):
            account_id, order_id = activated(stack, Name=name)
            connector.sync_order(order_id)
            accounts.append(account_id)
    copied, uncopied, _untouched = accounts
    before = {c["id"] for c in stack.stripe.customers()}
    creates_before = len([w for w in stack.stripe.write_requests() if w["path"] == "/v1/customers"])
    assert len(before) == 3
    # When the admin copies the connector's field into the sync's for the first account (the docs' step 1),
    # forgets it for the second, which is then edited, and reconcile applies for every account
    stack.sim.update("Account", copied, {"Stripe_Customer_ID__c": stack.sim.get("Account", copied)[STRIPE_ID_FIELD]})
    stack.sim.update("Account", uncopied, {"Phone": "+49 30 2"})
    stack.settle()
    code, _, _ = sfsync(capsys, "reconcile", "--apply")
    stack.settle()
    # Then every account has the connector's customer, updated in place with this sync's mapping; none was added
    assert code == 0 and {c["id"] for c in stack.stripe.customers()} == before
    for account_id in accounts:
        (customer,) = naming(stack, account_id)
        assert stack.sim.get("Account", account_id)["Stripe_Customer_ID__c"] == customer["id"]
        assert customer["email"] == "buyer@example.com" and customer["address"]["country"] == "DE"
    assert len([w for w in stack.stripe.write_requests() if w["path"] == "/v1/customers"]) == creates_before
