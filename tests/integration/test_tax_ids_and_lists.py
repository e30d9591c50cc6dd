"""Tax IDs, value maps and list fields through the sync engine, against dynalite and the Stripe emulator.

Stripe: tax IDs are immutable objects under the customer (https://docs.stripe.com/api/tax_ids); on create
they ride in ``tax_id_data``; a value without its type's format is refused (``tax_id_invalid``).
"""

from __future__ import annotations

from typing import Any

import pytest

from shared.mapping import CustomerMapping
from shared.sync.customer_sync import CustomerSync, Outcome
from tests.factories import account_record, sf_datetime
from tests.integration.engine import make_sync, snapshot

MAPPING = {
    "fields": {
        "name": "Name",
        "address.country": {"from": "BillingCountry", "transform": "country"},
        "tax_id_data": "VAT_Number__c",
        "tax_exempt": {"from": "Tax_Exempt__c", "values": {"true": "exempt", "false": "none"}},
        "preferred_locales": "Language__c",
        "invoice_settings.custom_fields": [
            {"name": "PO number", "from": "PO_Number__c"},
            {"name": "Cost centre", "from": "Cost_Centre__c"},
        ],
    }
}


@pytest.fixture
def engine(stripe_emulator: Any, dynamodb: Any, state_table: str) -> CustomerSync:
    return make_sync(stripe_emulator, dynamodb, state_table, mapping=CustomerMapping.from_dict(MAPPING))


class Account:
    """One account's record, re-synced after each change (each change is a newer SystemModstamp)."""

    def __init__(self, engine: CustomerSync, **fields: Any) -> None:
        self.engine, self.version = engine, 0
        self.record = account_record(Name="Muster GmbH", BillingCountry="Germany", **fields)

    def sync(self, **changes: Any) -> Any:
        self.version += 1
        self.record = {**self.record, **changes, "SystemModstamp": sf_datetime(self.version)}
        return self.engine.sync(snapshot(self.record), may_create=True)


def tax_ids(stripe_emulator: Any, customer_id: str) -> list[tuple[str, str]]:
    return [(t["type"], t["value"]) for t in stripe_emulator.tax_ids(customer_id)]


def test_vat_number_becomes_the_customers_tax_id_on_create(engine: CustomerSync, stripe_emulator: Any) -> None:
    # Given an account whose VAT number is typed with spaces
    result = Account(engine, VAT_Number__c="DE 123 456 789").sync()
    # Then the customer is created with it as an eu_vat tax ID, in one create call
    assert result.outcome is Outcome.CREATED and result.warnings == ()
    assert tax_ids(stripe_emulator, result.customer_id) == [("eu_vat", "DE123456789")]
    assert [r["params"].get("tax_id_data") for r in stripe_emulator.write_requests()] == [
        [{"type": "eu_vat", "value": "DE123456789"}]
    ]


def test_changed_vat_number_replaces_the_tax_id_and_cleared_removes_it(
    engine: CustomerSync, stripe_emulator: Any
) -> None:
    account = Account(engine, VAT_Number__c="DE123456789")
    customer_id = account.sync().customer_id
    # When the VAT number changes
    changed = account.sync(VAT_Number__c="DE999999999")
    # Then the new one is added and the old one removed: one tax ID left
    assert changed.outcome is Outcome.UPDATED
    assert tax_ids(stripe_emulator, customer_id) == [("eu_vat", "DE999999999")]
    # When it is cleared
    cleared = account.sync(VAT_Number__c=None)
    # Then the customer has no tax ID
    assert cleared.outcome is Outcome.UPDATED and tax_ids(stripe_emulator, customer_id) == []


def test_a_tax_id_added_in_stripe_by_hand_survives(engine: CustomerSync, stripe_emulator: Any) -> None:
    # Given a synced customer to which someone added a Swiss VAT number in the dashboard
    account = Account(engine, VAT_Number__c="DE123456789")
    customer_id = account.sync().customer_id
    stripe_emulator.add_tax_id(customer_id, "ch_vat", "CHE-123.456.789 MWST")
    # When the account's VAT number changes and is then cleared
    account.sync(VAT_Number__c="ATU12345678")
    account.sync(VAT_Number__c=None)
    # Then only the tax IDs the sync added were removed
    assert tax_ids(stripe_emulator, customer_id) == [("ch_vat", "CHE-123.456.789 MWST")]


def test_a_vat_number_stripe_refuses_is_a_warning_and_the_customer_is_created(
    engine: CustomerSync, stripe_emulator: Any
) -> None:
    # Given a VAT number without the eu_vat format (too short)
    account = Account(engine, VAT_Number__c="DE12345")
    result = account.sync()
    # Then the customer is created without a tax ID, and a warning names the Salesforce field, not the value
    assert result.outcome is Outcome.CREATED
    assert stripe_emulator.customer(result.customer_id)["name"] == "Muster GmbH"
    assert tax_ids(stripe_emulator, result.customer_id) == []
    assert [(w.field, w.stripe_path) for w in result.warnings] == [("VAT_Number__c", "tax_id_data")]
    assert "DE12345" not in str(result.warnings[0])
    # And a later change of another field does not send the refused value again
    writes = len(stripe_emulator.write_requests())
    again = account.sync(Name="Muster AG")
    assert [r["path"] for r in stripe_emulator.write_requests()[writes:]] == [f"/v1/customers/{result.customer_id}"]
    assert [w.field for w in again.warnings] == ["VAT_Number__c"]
    # And a corrected value is added
    account.sync(VAT_Number__c="DE123456789")
    assert tax_ids(stripe_emulator, result.customer_id) == [("eu_vat", "DE123456789")]


def test_a_refused_new_value_keeps_the_tax_id_stripe_has(engine: CustomerSync, stripe_emulator: Any) -> None:
    account = Account(engine, VAT_Number__c="DE123456789")
    customer_id = account.sync().customer_id
    result = account.sync(VAT_Number__c="DE1")
    assert [w.field for w in result.warnings] == ["VAT_Number__c"]
    assert tax_ids(stripe_emulator, customer_id) == [("eu_vat", "DE123456789")]


def test_checkbox_value_map_locales_and_custom_fields_reach_stripe(engine: CustomerSync, stripe_emulator: Any) -> None:
    # Given a tax-exempt account with two languages, a PO number and a cost centre
    account = Account(
        engine, Tax_Exempt__c=True, Language__c="German;English", PO_Number__c="PO-4711", Cost_Centre__c="CC-1"
    )
    customer_id = account.sync().customer_id
    customer = stripe_emulator.customer(customer_id)
    assert customer["tax_exempt"] == "exempt"
    assert customer["preferred_locales"] == ["de", "en"]
    assert customer["invoice_settings"]["custom_fields"] == [
        {"name": "PO number", "value": "PO-4711"},
        {"name": "Cost centre", "value": "CC-1"},
    ]
    # When the checkbox is unticked, the languages reordered and the PO number cleared
    writes = len(stripe_emulator.write_requests())
    account.sync(Tax_Exempt__c=False, Language__c="English;German", PO_Number__c=None)
    # Then one update carries the value-mapped flag and the two lists whole
    (update,) = stripe_emulator.write_requests()[writes:]
    assert update["params"] == {
        "tax_exempt": "none",
        "preferred_locales": ["en", "de"],
        "invoice_settings": {"custom_fields": [{"name": "Cost centre", "value": "CC-1"}]},
    }
    customer = stripe_emulator.customer(customer_id)
    assert customer["preferred_locales"] == ["en", "de"]
    assert customer["invoice_settings"]["custom_fields"] == [{"name": "Cost centre", "value": "CC-1"}]
