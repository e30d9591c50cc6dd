"""Stripe emulator: keys roll and expire, restricted keys are edited, tax IDs are their own resource.

Stripe: "If a request includes a deleted or expired key, Stripe returns an authentication error"
(https://docs.stripe.com/keys); Dashboard "Roll key…" makes a new key and lets the old one expire at a chosen
time, "now" included (the expired key's code is ``api_key_expired``, stripe/stripe-cli#792). Restricted keys
hold None / Read / Write per resource; Tax IDs are listed apart from Customers in the key editor
(https://docs.stripe.com/keys/restricted-api-keys).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stripe

from devtools.stripe_emulator import StripeEmulator


@pytest.fixture
def emu() -> Iterator[StripeEmulator]:
    with StripeEmulator() as emulator:
        yield emulator


def client(emu: StripeEmulator, api_key: str) -> stripe.StripeClient:
    return stripe.StripeClient(api_key, base_addresses={"api": emu.base_url}, max_network_retries=0)


def test_a_key_rolled_to_expire_now_is_refused_with_api_key_expired_and_the_new_key_works(emu: StripeEmulator) -> None:
    # Given a customer created with the old key
    old, new = "sk_test_old_key_00001", "sk_test_new_key_00002"
    customer = client(emu, old).v1.customers.create(params={"name": "Muster AG"})
    # When the key is rolled, the old one expiring now
    emu.roll_key(old, new)
    # Then the old key gets Stripe's 401 (api_key_expired), and the new key sees the same account's customer
    with pytest.raises(stripe.AuthenticationError) as refused:
        client(emu, old).v1.customers.retrieve(customer.id)
    assert refused.value.http_status == 401 and getattr(refused.value.error, "code", None) == "api_key_expired"
    assert "sk_test_" in str(refused.value.user_message) and old not in str(refused.value.user_message)
    assert client(emu, new).v1.customers.retrieve(customer.id).id == customer.id


def test_a_key_rolled_with_a_grace_period_works_until_the_clock_passes_it(emu: StripeEmulator) -> None:
    # Given a key rolled with the old one expiring in an hour
    old, new = "sk_test_old_grace_0001", "sk_test_new_grace_0002"
    emu.roll_key(old, new, expires_in_seconds=3600)
    # Then both keys work now
    client(emu, old).v1.customers.list()
    client(emu, new).v1.customers.list()
    # When the hour has passed, Then the old key is refused
    emu.advance_clock(3601)
    with pytest.raises(stripe.AuthenticationError):
        client(emu, old).v1.customers.list()


def test_a_rolled_restricted_key_keeps_its_permissions(emu: StripeEmulator) -> None:
    # Given a restricted key that may read customers only
    emu.add_key("rk_test_reader_old_0001", {"customers": "read"})
    # When it is rolled
    emu.roll_key("rk_test_reader_old_0001", "rk_test_reader_new_0002")
    # Then the new key reads but may not write, like the old one
    reader = client(emu, "rk_test_reader_new_0002")
    reader.v1.customers.list()
    with pytest.raises(stripe.PermissionError):
        reader.v1.customers.create(params={"name": "x"})


def test_tax_ids_need_their_own_permission_on_a_restricted_key(emu: StripeEmulator) -> None:
    # Given a restricted key with Write on Customers only
    emu.add_key("rk_test_customers_only_01", {"customers": "write"})
    key = client(emu, "rk_test_customers_only_01")
    customer = key.v1.customers.create(params={"name": "Muster AG"})
    # When it adds a tax ID, Then Stripe's 403 names the Tax IDs permission
    with pytest.raises(stripe.PermissionError) as refused:
        key.v1.customers.tax_ids.create(customer.id, params={"type": "eu_vat", "value": "DE123456789"})
    assert "rak_tax_id_write" in str(refused.value.user_message)
    # When the key is edited to Write on Tax IDs, Then the same request succeeds
    emu.add_key("rk_test_customers_only_01", {"customers": "write", "tax_ids": "write"})
    assert key.v1.customers.tax_ids.create(customer.id, params={"type": "eu_vat", "value": "DE123456789"}).id
