"""Stripe emulator: test / live mode data kept apart, the other-mode 404, restricted keys' permissions.

Stripe documents that test-mode and live-mode objects are separate and that the key picks the mode
(https://docs.stripe.com/keys#test-live-modes); an id of the other mode is "No such customer: …; a similar
object exists in live mode, but a test mode key was used to make this request." Restricted keys hold
None / Read / Write per resource (https://docs.stripe.com/keys/restricted-api-keys); beyond them, a 403.
"""

from __future__ import annotations

import pytest
import stripe

from devtools.stripe_emulator import StripeEmulator

LIVE_KEY = "sk_live_emulated_live_key"


@pytest.fixture
def emu(emu: StripeEmulator) -> StripeEmulator:
    """A fresh emulator (tests/devtools/conftest.py) that also knows a live-mode key."""
    emu.add_key(LIVE_KEY)
    return emu


def client(emu: StripeEmulator, api_key: str) -> stripe.StripeClient:
    return stripe.StripeClient(api_key, base_addresses={"api": emu.base_url}, max_network_retries=0)


@pytest.mark.vendor_doc(
    "https://docs.stripe.com/keys#test-live-modes",
    "test-mode and live-mode data are separate; the key picks the mode",
)
def test_live_and_test_mode_customers_are_kept_apart(emu: StripeEmulator) -> None:
    # Given one customer created with a live-mode key and one with a test-mode key
    live = client(emu, LIVE_KEY).v1.customers.create(params={"name": "Live"})
    test = client(emu, "sk_test_x").v1.customers.create(params={"name": "Test"})
    # When each mode lists its customers, Then each sees only its own
    assert [c.id for c in client(emu, LIVE_KEY).v1.customers.list().data] == [live.id]
    assert [c.id for c in client(emu, "sk_test_x").v1.customers.list().data] == [test.id]
    assert [c["id"] for c in emu.customers(mode="live")] == [live.id]


@pytest.mark.vendor_doc(
    "https://docs.stripe.com/keys#test-live-modes",
    "an id of the other mode is a 404 that says a similar object exists in the other mode",
)
def test_a_live_mode_id_asked_with_a_test_key_is_missing_with_stripes_other_mode_message(emu: StripeEmulator) -> None:
    # Given a live-mode customer (a production id copied into a refreshed sandbox)
    live = client(emu, LIVE_KEY).v1.customers.create(params={"name": "Live"})
    test = client(emu, "sk_test_x")
    # When a test-mode key retrieves or updates it
    for call in (lambda: test.v1.customers.retrieve(live.id), lambda: test.v1.customers.update(live.id, params={})):
        with pytest.raises(stripe.InvalidRequestError) as err:
            call()
        # Then Stripe's 404 resource_missing says a similar object exists in live mode
        assert err.value.http_status == 404 and err.value.code == "resource_missing"
        assert str(err.value.user_message) == (
            f"No such customer: '{live.id}'; a similar object exists in live mode, "
            "but a test mode key was used to make this request."
        )


def test_a_test_mode_id_asked_with_a_live_key_names_test_mode(emu: StripeEmulator) -> None:
    test_id = client(emu, "sk_test_x").v1.customers.create(params={}).id
    with pytest.raises(stripe.InvalidRequestError) as err:
        client(emu, LIVE_KEY).v1.customers.retrieve(test_id)
    assert "a similar object exists in test mode, but a live mode key was used" in str(err.value.user_message)


def test_an_unknown_id_is_plainly_missing(emu: StripeEmulator) -> None:
    with pytest.raises(stripe.InvalidRequestError) as err:
        client(emu, "sk_test_x").v1.customers.retrieve("cus_nobody")
    assert err.value.user_message == "No such customer: 'cus_nobody'"


def test_an_unregistered_live_key_is_refused() -> None:
    with StripeEmulator() as emu, pytest.raises(stripe.AuthenticationError):
        client(emu, "sk_live_unknown_key_1234").v1.customers.list()


@pytest.mark.vendor_doc(
    "https://docs.stripe.com/keys/restricted-api-keys",
    "a restricted key has None / Read / Write per resource; beyond it, 403",
)
def test_a_read_only_restricted_key_may_read_but_not_write_customers(emu: StripeEmulator) -> None:
    # Given a restricted test-mode key with Read on customers
    emu.add_key("rk_test_readonly_key_5678", {"customers": "read"})
    restricted = client(emu, "rk_test_readonly_key_5678")
    # When it lists, Then it may; When it creates or updates, Then Stripe's 403 names the missing permission
    assert restricted.v1.customers.list().data == []
    for call in (
        lambda: restricted.v1.customers.create(params={"name": "A"}),
        lambda: restricted.v1.customers.update("cus_any", params={}),
    ):
        with pytest.raises(stripe.PermissionError) as err:
            call()
        assert err.value.http_status == 403
        assert "Having the 'rak_customer_write' permission would allow this request to continue." in str(
            err.value.user_message
        )
        assert "rk_test_" in str(err.value.user_message) and "5678" in str(err.value.user_message)
    assert emu.customers() == []


@pytest.mark.vendor_doc(
    "https://docs.stripe.com/keys/restricted-api-keys",
    "a restricted key has None / Read / Write per resource; beyond it, 403",
)
def test_a_write_restricted_key_may_create_and_update(emu: StripeEmulator) -> None:
    emu.add_key("rk_test_writer_key_0000", {"customers": "write"})
    writer = client(emu, "rk_test_writer_key_0000")
    customer = writer.v1.customers.create(params={"name": "A"})
    assert writer.v1.customers.update(customer.id, params={"name": "B"}).name == "B"
