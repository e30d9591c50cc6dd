"""The emulated Stripe CPQ connector behaves as its documentation and source say (devtools/salesforce_sim/connector.py).

Sources: "Accounts and contacts" (https://docs.stripe.com/connectors/salesforce-cpq/accounts-contacts) and the
connector's public source (https://github.com/stripe/stripe-go, ``lib/stripe-force/translate/customer.rb``,
``translate/utilities/metadata.rb``, ``translate.rb``'s ``retrieve_from_stripe`` and ``update_sf_stripe_id``).
"""

from __future__ import annotations

from typing import Any

import pytest

from devtools.salesforce_sim.connector import STRIPE_ID_FIELD, ConnectorSyncFailure, StripeConnector

ACCOUNT = {
    "Name": "Konnektor GmbH",
    "Description": "Kunde seit 2019",
    "BillingStreet": "Hauptstr. 1\nHinterhaus",
    "BillingCity": "Berlin",
    "BillingPostalCode": "10115",
    "BillingCountry": "Germany",
}


def activated_order(sim: Any, **account: Any) -> tuple[str, str]:
    """An account with an activated order; (account id, order id)."""
    account_id = sim.create("Account", {**ACCOUNT, **account})
    order_id = sim.create("Order", {"AccountId": account_id, "Status": "Draft", "EffectiveDate": "2026-11-01"})
    sim.update("Order", order_id, {"Status": "Activated"})
    return account_id, order_id


def test_connector_creates_the_customer_with_its_fields_and_metadata_and_fills_its_stripe_id_field(
    sim: Any, stripe_emulator: Any
) -> None:
    # Given an account with an activated order and an empty connector Stripe ID field
    account_id, order_id = activated_order(sim)
    connector = StripeConnector(sim, stripe_emulator.base_url)
    # When the connector syncs the order
    customer_id = connector.sync_order(order_id)
    # Then it created one customer with the account's values as they are, tagged with the account
    customer = stripe_emulator.customer(customer_id)
    assert customer["name"] == "Konnektor GmbH" and customer["description"] == "Kunde seit 2019"
    assert customer["address"]["line1"] == "Hauptstr. 1\nHinterhaus" and customer["address"]["country"] == "Germany"
    assert customer["metadata"]["salesforce_account_id"] == account_id
    assert customer["metadata"]["salesforce_account_link"].endswith(f"/{account_id}")
    # And wrote the id into its own field of the account
    assert sim.get("Account", account_id)[STRIPE_ID_FIELD] == customer_id


def test_connector_updates_an_existing_customer_only_with_its_feature_flag(sim: Any, stripe_emulator: Any) -> None:
    # Given a customer the connector created, renamed in Salesforce afterwards
    account_id, order_id = activated_order(sim)
    connector = StripeConnector(sim, stripe_emulator.base_url)
    customer_id = connector.sync_order(order_id)
    sim.update("Account", account_id, {"Name": "Umbenannt GmbH"})
    second = sim.create("Order", {"AccountId": account_id, "Status": "Draft", "EffectiveDate": "2026-12-01"})
    sim.update("Order", second, {"Status": "Activated"})
    # When it syncs a second order without the flag
    connector.sync_order(second)
    # Then the customer is not changed, and no second customer exists
    assert stripe_emulator.customer(customer_id)["name"] == "Konnektor GmbH"
    assert connector.customers_created == [customer_id]
    # When the flag update_customer_on_order_creation is on and the order is synced again
    connector.update_customer_on_order_creation = True
    connector.sync_order(second)
    # Then its mapped fields are written
    assert stripe_emulator.customer(customer_id)["name"] == "Umbenannt GmbH"


def test_connector_never_looks_for_an_existing_customer_before_creating(sim: Any, stripe_emulator: Any) -> None:
    # Given a customer already naming the account in its metadata, but an empty connector field
    account_id, order_id = activated_order(sim)
    other = stripe_emulator.add_customer({"name": "x", "metadata": {"salesforce_account_id": account_id}})
    # When the connector syncs the order
    created = StripeConnector(sim, stripe_emulator.base_url).sync_order(order_id)
    # Then it created a second one (it only retrieves the id in its own field): why the sync must not create
    assert created != other
    named = [c for c in stripe_emulator.customers() if c["metadata"].get("salesforce_account_id") == account_id]
    assert len(named) == 2


def test_connector_fails_the_sync_of_an_account_whose_customer_was_deleted(sim: Any, stripe_emulator: Any) -> None:
    # Given a connector customer deleted in Stripe
    _, order_id = activated_order(sim)
    connector = StripeConnector(sim, stripe_emulator.base_url)
    stripe_emulator.delete_customer(connector.sync_order(order_id))
    # When the order is synced again, Then the connector records a failure instead of creating anew
    with pytest.raises(ConnectorSyncFailure):
        connector.sync_order(order_id)


def test_connector_poll_syncs_each_activated_order_once(sim: Any, stripe_emulator: Any) -> None:
    # Given two accounts with activated orders and one with a draft order
    first, _ = activated_order(sim)
    second, _ = activated_order(sim, Name="Zweite GmbH")
    draft = sim.create("Account", {"Name": "Entwurf GmbH"})
    sim.create("Order", {"AccountId": draft, "Status": "Draft", "EffectiveDate": "2026-11-01"})
    connector = StripeConnector(sim, stripe_emulator.base_url)
    # When it polls twice
    connector.poll()
    connector.poll()
    # Then each activated order's account has one customer, the draft's none
    assert len(connector.customers_created) == 2
    assert sim.get("Account", first)[STRIPE_ID_FIELD] and sim.get("Account", second)[STRIPE_ID_FIELD]
    assert not sim.get("Account", draft).get(STRIPE_ID_FIELD)


def test_connector_account_poller_behind_its_flag_creates_for_changed_accounts_without_an_order(
    sim: Any, stripe_emulator: Any
) -> None:
    # Given an account without any order, and the connector without its account_polling flag
    account_id = sim.create("Account", dict(ACCOUNT))
    connector = StripeConnector(sim, stripe_emulator.base_url)
    # When it polls, Then no customer is made (orders only)
    assert connector.poll() == [] and connector.customers_created == []
    # When the flag is on and it polls
    connector.account_polling = True
    (customer_id,) = connector.poll()
    # Then the account got a customer; a later poll with no change creates nothing more
    assert sim.get("Account", account_id)[STRIPE_ID_FIELD] == customer_id
    sim.update("Account", account_id, {"Phone": "+49 30 9"})
    connector.poll()
    assert connector.customers_created == [customer_id]
