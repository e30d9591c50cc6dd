"""Every tax ID the sync adds is known to it at once: a failure after the add never leaves a copy it forgot.

Tax IDs are objects of their own under the customer (https://docs.stripe.com/api/tax_ids/create); on create
they ride in ``tax_id_data`` and the create's answer does not name them, so the sync reads them back
(https://docs.stripe.com/api/tax_ids/list). A transient failure after the add (the read-back, the delete of the
old number, the commit) must not make the retry add the number again, nor make a later VAT change leave an
old number on the customer — and on its invoices — for good. Faults are Stripe's 500s, injected in the
emulator (https://docs.stripe.com/error-low-level: 500-class errors are to be retried).
"""

from __future__ import annotations

from typing import Any

import pytest

from shared.errors import TransientSyncError
from shared.mapping import CustomerMapping
from shared.state.account_state import AccountStateStore
from shared.stripe.gateway import StripeCustomerGateway
from shared.sync.customer_sync import CustomerSync, Outcome
from tests.factories import ORG_ID, account_record, sf_datetime
from tests.integration.test_tax_ids_and_lists import MAPPING, snapshot


@pytest.fixture
def engine(stripe_emulator: Any, dynamodb: Any, state_table: str) -> CustomerSync:
    # No retries in the client: one injected 500 is one failed call.
    stripe = StripeCustomerGateway(
        "sk_test_tax", api_base=stripe_emulator.base_url, timeout_seconds=5, max_network_retries=0
    )
    state = AccountStateStore(state_table, dynamodb, lease_seconds=30)
    return CustomerSync(CustomerMapping.from_dict(MAPPING), stripe, state)


def _values(stripe_emulator: Any, customer_id: str) -> list[str]:
    return sorted(t["value"] for t in stripe_emulator.tax_ids(customer_id))


def test_a_tax_id_created_with_the_customer_is_not_added_again_when_its_read_back_failed(
    engine: CustomerSync, stripe_emulator: Any
) -> None:
    # Given a new account with a VAT number, and Stripe failing the read-back of the create's tax IDs
    record = account_record(Name="Muster GmbH", BillingCountry="Germany", VAT_Number__c="DE123456789")
    stripe_emulator.inject("server_error", count=1, method="GET", path_prefix="/v1/customers/")
    with pytest.raises(TransientSyncError):
        engine.sync(snapshot(record), may_create=True)
    # When the message is retried
    result = engine.sync(snapshot(record), may_create=True)
    # Then the customer carries the number once
    assert result.outcome in (Outcome.CREATED, Outcome.UNCHANGED, Outcome.UPDATED)
    [customer] = stripe_emulator.customers()
    assert _values(stripe_emulator, customer["id"]) == ["DE123456789"]
    # And a later VAT change leaves only the new number
    changed = {**record, "VAT_Number__c": "DE999999999", "SystemModstamp": sf_datetime(60)}
    assert engine.sync(snapshot(changed), may_create=True).outcome is Outcome.UPDATED
    assert _values(stripe_emulator, customer["id"]) == ["DE999999999"]


def test_a_tax_id_added_before_a_failure_is_removed_by_the_next_vat_change(
    engine: CustomerSync, stripe_emulator: Any, dynamodb: Any, state_table: str
) -> None:
    # Given a customer with VAT number A, changed to B, and Stripe failing the delete of A after B was added
    record = account_record(Name="Muster GmbH", BillingCountry="Germany", VAT_Number__c="DE111111111")
    customer_id = engine.sync(snapshot(record), may_create=True).customer_id or ""
    to_b = {**record, "VAT_Number__c": "DE222222222", "SystemModstamp": sf_datetime(60)}
    stripe_emulator.inject("server_error", count=1, method="DELETE", path_prefix=f"/v1/customers/{customer_id}/")
    with pytest.raises(TransientSyncError):
        engine.sync(snapshot(to_b), may_create=True)
    # When the account changes again, to C, before the retry
    to_c = {**to_b, "VAT_Number__c": "DE333333333", "SystemModstamp": sf_datetime(120)}
    result = engine.sync(snapshot(to_c), may_create=True)
    # Then only C is left: B, added by the failed sync, was known and removed
    assert result.outcome is Outcome.UPDATED
    assert _values(stripe_emulator, customer_id) == ["DE333333333"]
    store = AccountStateStore(state_table, dynamodb)
    state = store.get(ORG_ID, record["Id"])
    assert state is not None and set(state.tax_ids) == {store.digests.tax_id_name("eu_vat:DE333333333")}


def test_a_vat_number_is_kept_in_the_state_only_as_a_keyed_digest(
    engine: CustomerSync, stripe_emulator: Any, dynamodb: Any, state_table: str
) -> None:
    # Given an account whose VAT number (a sole trader's is personal data) is synced as a tax ID, then changed
    record = account_record(Name="Muster GmbH", BillingCountry="Germany", VAT_Number__c="DE123456789")
    engine.sync(snapshot(record), may_create=True)
    changed = {**record, "VAT_Number__c": "DE987654321", "SystemModstamp": sf_datetime(60)}
    assert engine.sync(snapshot(changed), may_create=True).outcome is Outcome.UPDATED
    # When the state table is read raw
    raw = str(dynamodb.scan(TableName=state_table, ConsistentRead=True)["Items"])
    # Then neither number is in it, yet the sync still knows the tax ID it added: a repeat changes nothing
    assert "DE123456789" not in raw and "DE987654321" not in raw
    [customer] = stripe_emulator.customers()
    assert _values(stripe_emulator, customer["id"]) == ["DE987654321"]
    again = {**changed, "Name": "Muster GmbH & Co. KG", "SystemModstamp": sf_datetime(90)}
    assert engine.sync(snapshot(again), may_create=True).outcome is Outcome.UPDATED
    assert _values(stripe_emulator, customer["id"]) == ["DE987654321"]
    assert len(stripe_emulator.tax_ids(customer["id"])) == 1
