"""A part of a write Stripe refuses costs only that part: the rest arrives, a warning names the Salesforce field.

Against the Stripe emulator and dynalite. Modelled: ``customer_tax_location_invalid`` for
``tax[validate_location]`` ``immediately`` and the update default ``auto``
(https://docs.stripe.com/tax/customer-locations,
https://docs.stripe.com/changelog/acacia/2024-10-28/tax-validate-location-auto), and Stripe's 50 metadata keys,
merged on update into the keys other tools set (https://docs.stripe.com/api/metadata).
"""

from __future__ import annotations

from typing import Any

import pytest

from shared.mapping import CustomerMapping
from shared.state.account_state import AccountStateStore
from shared.stripe.gateway import StripeCustomerGateway
from shared.sync.account_snapshot import snapshot_from_record
from shared.sync.customer_sync import CustomerSync, Outcome
from tests.factories import ORG_ID, account_record, new_id, sf_datetime

ADDRESS = {
    "address.line1": "BillingStreet",
    "address.city": "BillingCity",
    "address.state": "BillingState",
    "address.postal_code": "BillingPostalCode",
    "address.country": "BillingCountry",
}
US_BILLING = {
    "BillingStreet": "27 Fredrick Ave",
    "BillingCity": "Brothers",
    "BillingState": "OR",
    "BillingPostalCode": "97712",
    "BillingCountry": "US",
}


class Account:
    """One account, synced after each change (each change is a newer SystemModstamp)."""

    def __init__(self, stripe_emulator: Any, dynamodb: Any, state_table: str, mapping: dict[str, Any]) -> None:
        stripe = StripeCustomerGateway("sk_test_refusals", api_base=stripe_emulator.base_url, timeout_seconds=5)
        state = AccountStateStore(state_table, dynamodb, lease_seconds=30)
        self.engine = CustomerSync(CustomerMapping.from_dict(mapping), stripe, state)
        self.account_id, self.version, self.fields = new_id("001"), 0, {"Name": "Acme Inc"}

    def sync(self, **changes: Any) -> Any:
        self.version += 1
        self.fields.update(changes)
        record = account_record(account_id=self.account_id, SystemModstamp=sf_datetime(self.version), **self.fields)
        snapshot = snapshot_from_record(ORG_ID, record, stripe_id_field="Stripe_Customer_ID__c")
        return self.engine.sync(snapshot, may_create=True)


@pytest.fixture
def make_account(stripe_emulator: Any, dynamodb: Any, state_table: str) -> Any:
    return lambda mapping: Account(stripe_emulator, dynamodb, state_table, mapping)


def test_validate_location_immediately_refusing_the_address_still_creates_the_customer(
    make_account: Any, stripe_emulator: Any
) -> None:
    # Given a mapping that asks Stripe Tax to validate the location immediately
    mapping = {
        "fields": {"name": "Name", "phone": "Phone", **ADDRESS},
        "defaults": {"tax.validate_location": "immediately"},
    }
    account = make_account(mapping)
    # When an account whose US billing address has no ZIP code is synced
    result = account.sync(Phone="+1 541 555 0100", BillingCity="Brothers", BillingCountry="US")
    # Then the customer exists with every other field
    assert result.outcome is Outcome.CREATED
    customer = stripe_emulator.customer(result.customer_id)
    assert (customer["name"], customer["phone"], customer["address"]) == ("Acme Inc", "+1 541 555 0100", None)
    # And a warning names the Salesforce field and Stripe's code
    [warning] = result.warnings
    assert warning.field == "BillingPostalCode"
    assert "customer_tax_location_invalid" in warning.problem


def test_an_address_refused_by_validate_location_auto_costs_only_the_address(
    make_account: Any, stripe_emulator: Any
) -> None:
    # Given a customer placed by its billing address, with an automatic-tax subscription
    account = make_account({"fields": {"name": "Name", "description": "Description", **ADDRESS}})
    created = account.sync(**US_BILLING)
    stripe_emulator.stripe_tax["test"].add_automatic_tax_subscription(created.customer_id)
    # When one Salesforce edit clears the ZIP code and changes the description
    result = account.sync(BillingPostalCode=None, Description="Key account")
    # Then the description arrives, Stripe keeps the address it can place, and the warning names the field
    assert result.outcome is Outcome.UPDATED
    customer = stripe_emulator.customer(created.customer_id)
    assert customer["description"] == "Key account"
    assert customer["address"]["postal_code"] == "97712"
    assert [w.field for w in result.warnings] == ["BillingPostalCode"]
    assert stripe_emulator.customer_tax(created.customer_id)["automatic_tax"] == "supported"


def test_over_stripes_50_metadata_keys_only_the_added_key_is_left_out(make_account: Any, stripe_emulator: Any) -> None:
    # Given a customer whose metadata other tools filled to Stripe's 50 keys (with our account id)
    account = make_account({"fields": {"name": "Name", "metadata.region": "Region__c"}})
    created = account.sync(Region__c=None)
    stripe = StripeCustomerGateway("sk_test_refusals", api_base=stripe_emulator.base_url, timeout_seconds=5)
    stripe.update(created.customer_id, {"metadata": {f"other_tool_{i}": "x" for i in range(49)}})
    # When the account is renamed and its region set in one edit
    result = account.sync(Name="Acme Corporation", Region__c="EMEA")
    # Then the rename arrives, the added key is left out, and the warning names the Salesforce field
    assert result.outcome is Outcome.UPDATED
    customer = stripe_emulator.customer(created.customer_id)
    assert customer["name"] == "Acme Corporation"
    assert "region" not in customer["metadata"] and len(customer["metadata"]) == 50
    assert [w.field for w in result.warnings] == ["Region__c"]
    assert "parameter_invalid_metadata" in result.warnings[0].problem


def test_the_refusal_warning_stays_on_the_account_while_its_data_is_unchanged(
    make_account: Any, stripe_emulator: Any
) -> None:
    # Given an account synced while Stripe refused its phone
    account = make_account({"fields": {"name": "Name", "phone": "Phone"}})
    stripe_emulator.refuse_param("phone")
    first = account.sync(Phone="+1 541 555 0100")
    assert [w.field for w in first.warnings] == ["Phone"]
    # When the account is re-synced with the same data (e.g. the write-back itself changed SystemModstamp)
    again = account.sync()
    # Then nothing is written, and the account still reads the warning (it would otherwise flip to "Synced")
    assert again.outcome is Outcome.UNCHANGED
    assert [w.field for w in again.warnings] == ["Phone"]
