"""Stripe Tax can place every customer the sync writes when Salesforce holds an address it can use.

Against the Stripe emulator's Stripe Tax model (https://docs.stripe.com/tax/customer-locations: the shipping
address first when present; a US address needs a postal code) and dynalite.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from ops.cli import main
from shared.mapping import load_mapping
from shared.state.account_state import AccountStateStore
from shared.stripe.gateway import StripeCustomerGateway
from shared.sync.account_snapshot import snapshot_from_record
from shared.sync.customer_sync import CustomerSync, Outcome
from tests.factories import ORG_ID, account_record, new_id, sf_datetime

US_BILLING = {
    "BillingStreet": "27 Fredrick Ave",
    "BillingCity": "Brothers",
    "BillingState": "OR",
    "BillingPostalCode": "97712",
    "BillingCountry": "US",
}


ACCOUNT_ID = new_id("001")


@pytest.fixture
def engine(stripe_emulator: Any, dynamodb: Any, state_table: str) -> CustomerSync:
    stripe = StripeCustomerGateway("sk_test_tax", api_base=stripe_emulator.base_url, timeout_seconds=5)
    state = AccountStateStore(state_table, dynamodb, lease_seconds=30)
    return CustomerSync(load_mapping("standard"), stripe, state)


def sync(engine: CustomerSync, version: int, **fields: Any) -> Any:
    record = account_record(account_id=ACCOUNT_ID, Name="Acme Inc", SystemModstamp=sf_datetime(version), **fields)
    return engine.sync(snapshot_from_record(ORG_ID, record, stripe_id_field="Stripe_Customer_ID__c"), may_create=True)


def test_a_country_only_shipping_address_never_hides_a_complete_billing_address(
    engine: CustomerSync, stripe_emulator: Any
) -> None:
    # Given an account with a complete US billing address and ShippingCountry only
    # When it is synced
    result = sync(engine, 1, **US_BILLING, ShippingCountry="US")
    # Then the customer exists, and Stripe Tax places it by its billing address
    assert result.outcome is Outcome.CREATED
    tax = stripe_emulator.customer_tax(result.customer_id)
    assert tax["automatic_tax"] == "supported"
    assert tax["location"] == {"country": "US", "source": "billing_address", "state": "OR"}
    # And the account reads a warning naming the Salesforce field that was missing
    assert [w.field for w in result.warnings] == ["ShippingPostalCode"]


def test_an_unplaceable_shipping_address_synced_before_is_cleared(engine: CustomerSync, stripe_emulator: Any) -> None:
    # Given a customer synced with a complete shipping address
    first = sync(engine, 1, **US_BILLING, ShippingCountry="US", ShippingPostalCode="10001")
    assert stripe_emulator.customer_tax(first.customer_id)["location"]["source"] == "shipping_destination"
    # When the shipping postal code is cleared in Salesforce
    second = sync(engine, 2, **US_BILLING, ShippingCountry="US")
    # Then Stripe's shipping is cleared (not kept), and Stripe Tax places the customer by its billing address
    assert second.outcome is Outcome.UPDATED
    assert stripe_emulator.customer(first.customer_id)["shipping"] is None
    assert stripe_emulator.customer_tax(first.customer_id)["location"]["source"] == "billing_address"


def test_sfsync_status_shows_the_customers_stripe_tax_location(stack: Any, capsys: pytest.CaptureFixture[str]) -> None:
    # Given an account with a complete US billing address and ShippingCountry only, synced end to end
    account_id, _, order_id = stack.new_customer_account(**US_BILLING, ShippingCountry="US")
    stack.settle()
    stack.sim.update("Order", order_id, {"Status": "Activated"})
    stack.settle()
    capsys.readouterr()
    # When an operator asks for its status
    assert main(["status", account_id]) == 0
    out = capsys.readouterr().out
    # Then Stripe Tax's view of the customer is shown: placed by the billing address
    assert re.search(r"Stripe Tax\s+supported, US OR \(billing_address\)", out)
    # And the field warning says what was left out
    assert re.search(r"field warnings\s+ShippingPostalCode: Stripe Tax can't place a US address", out)


def test_sfsync_status_still_reports_when_the_customer_was_deleted_in_stripe(
    stack: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a synced account whose customer someone deleted in the Stripe Dashboard
    account_id, _, order_id = stack.new_customer_account(**US_BILLING)
    stack.settle()
    stack.sim.update("Order", order_id, {"Status": "Activated"})
    stack.settle()
    (customer,) = stack.stripe.customers()
    stack.stripe.delete_customer(customer["id"])
    capsys.readouterr()
    # When an operator asks for its status, Then it still answers, saying why Stripe Tax's view is missing
    assert main(["status", account_id]) == 0
    assert re.search(r"Stripe Tax\s+unavailable \(", capsys.readouterr().out)
