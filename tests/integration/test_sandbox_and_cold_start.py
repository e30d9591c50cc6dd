"""The worker in a refreshed sandbox (live-mode ids, test-mode key) and its cold-start checks of the org.

Stripe answers an id of the other mode with a 404 that says "a similar object exists in live mode, but a
test mode key was used" (https://docs.stripe.com/keys#test-live-modes): the sync reports that, in words,
instead of "deleted in Stripe". A mapping that can't work in this org is refused when the worker starts,
naming the entry, instead of failing batch after batch.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import stripe

from shared.errors import ConfigurationError
from tests.integration.conftest import StackFactory
from tests.integration.stack import Stack

LIVE_KEY = "sk_live_sandbox_test_key"


def production_customer(stack: Stack) -> str:
    """A live-mode customer, as production's sync created it (its id copied into the sandbox by a refresh)."""
    stack.stripe.add_key(LIVE_KEY)
    client = stripe.StripeClient(LIVE_KEY, base_addresses={"api": stack.stripe.base_url})
    return str(client.v1.customers.create(params={"name": "Muster AG (production)"}).id)


def activate_copied_account(stack: Stack, live_id: str) -> str:
    account_id, _, order_id = stack.new_customer_account(Stripe_Customer_ID__c=live_id)
    stack.sim.update("Order", order_id, {"Status": "Activated"})
    stack.settle()
    return account_id


@pytest.mark.vendor_doc(
    "https://docs.stripe.com/keys#test-live-modes",
    "an id of the other mode is a 404 that says a similar object exists in the other mode",
)
def test_a_live_mode_id_in_a_test_mode_stack_is_the_other_mode_error(stack_factory: StackFactory) -> None:
    # Given a test-mode stack and an account holding a production (live-mode) customer id
    stack = stack_factory(STRIPE_MODE="test")
    live_id = production_customer(stack)
    # When its order is activated and the worker syncs it
    account_id = activate_copied_account(stack, live_id)
    # Then the account says, in words, that the id belongs to live mode and how to fix it (not "deleted")
    account = stack.sim.get("Account", account_id) or {}
    assert account["Stripe_Sync_Status__c"] == "Error"
    error = account["Stripe_Sync_Error__c"]
    assert "this id belongs to live mode, the stack uses a test-mode key" in error
    assert "clear the Stripe ID fields after a sandbox refresh" in error and "deleted" not in error
    # And nothing was created in test mode, and the live customer was not touched
    assert stack.stripe.customers() == []
    assert account["Stripe_Customer_ID__c"] == live_id
    assert [w for w in stack.stripe.write_requests() if w["path"] == f"/v1/customers/{live_id}"] == []


def test_with_the_sandbox_setting_a_live_mode_id_is_replaced_by_a_new_test_mode_customer(
    stack_factory: StackFactory,
) -> None:
    # Given a sandbox stack that treats ids of the other mode as absent
    stack = stack_factory(STRIPE_MODE="test", STRIPE_REPLACE_OTHER_MODE_IDS="true")
    live_id = production_customer(stack)
    # When the copied account's order is activated
    account_id = activate_copied_account(stack, live_id)
    # Then a test-mode customer is created and the Stripe ID field overwritten with it
    [customer] = stack.stripe.customers()
    account = stack.sim.get("Account", account_id) or {}
    assert account["Stripe_Customer_ID__c"] == customer["id"] != live_id
    assert account["Stripe_Sync_Status__c"] == "Synced"
    assert customer["metadata"]["salesforce_account_id"] == account_id
    # And the live-mode customer is unchanged
    assert stack.stripe.customer(live_id, mode="live")["name"] == "Muster AG (production)"


def test_the_sandbox_setting_is_refused_with_a_live_mode_key(stack_factory: StackFactory) -> None:
    # Given the sandbox setting on a stack whose key is a live-mode key (never in live mode)
    stack = stack_factory(STRIPE_REPLACE_OTHER_MODE_IDS="true", STRIPE_API_KEY=LIVE_KEY)
    stack.stripe.add_key(LIVE_KEY)
    # When the worker starts, Then it refuses, naming the setting
    with pytest.raises(ConfigurationError, match="STRIPE_REPLACE_OTHER_MODE_IDS is for sandbox stacks"):
        stack.worker.COMPONENTS.stripe  # noqa: B018 - building the gateway is the cold start's check


def test_a_checkbox_mapped_to_tax_exempt_without_a_value_map_is_refused_at_cold_start(
    stack_factory: StackFactory, tmp_path: Path
) -> None:
    # Given a mapping from a checkbox to Stripe's tax_exempt (exempt / none / reverse), without a value map
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"fields": {"name": "Name", "tax_exempt": "Tax_Exempt__c"}}))
    stack = stack_factory(MAPPING_CONFIG=str(mapping), CREATION_MODE="every_account")
    stack.sim.add_field("Account", "Tax_Exempt__c", "boolean")
    # When the worker starts, Then it refuses with the entry named, before any batch fails on it
    with pytest.raises(ConfigurationError) as err:
        stack.worker.worker()
    assert "fields['tax_exempt'] (Account.Tax_Exempt__c): a checkbox gives true/false" in str(err.value)
    assert "value map" in str(err.value)


def test_a_mapped_field_the_org_lacks_is_refused_at_cold_start_and_no_message_is_lost(
    stack_factory: StackFactory, tmp_path: Path
) -> None:
    # Given a mapping reading a field this org does not have
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"fields": {"name": "Name", "email": "Billing_Email__c"}}))
    stack = stack_factory(MAPPING_CONFIG=str(mapping), CREATION_MODE="every_account")
    stack.sim.create("Account", {"Name": "Waiting AG"})
    assert stack.sim.outbound.wait_idle(timeout=10)
    # When the worker gets its first batch, Then it refuses to start, naming the entry and the field
    stack.poller.poll_once()
    assert stack.stripe.customers() == []
    with pytest.raises(ConfigurationError, match=r"fields\['email'\] \(Account.Billing_Email__c\): no field"):
        stack.worker.worker()
    # And once the field exists (the admin's fix), the next invocation checks again and syncs the message
    stack.sim.add_field("Account", "Billing_Email__c", "email")
    time.sleep(1.2)  # the failed batch's message becomes visible again after the visibility timeout
    stack.poller.drain(timeout=10)
    assert [c["name"] for c in stack.stripe.customers()] == ["Waiting AG"]
