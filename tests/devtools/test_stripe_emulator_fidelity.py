"""The Stripe emulator's time-, failure- and version-dependent behaviour, as Stripe documents it.

- Idempotency (https://docs.stripe.com/api/idempotent_requests): results are saved once execution begins,
  "including 500 errors", and keys may be pruned once "at least 24 hours old", after which the same key
  runs the request anew.
- Versioning (https://docs.stripe.com/api/versioning): requests are validated against the version in
  ``Stripe-Version``; the response names it.
- Search (https://docs.stripe.com/search#data-freshness): "data is searchable in less than a minute";
  don't use it for read-after-write. List (https://docs.stripe.com/api/customers/list): ``created`` filter.
"""

from __future__ import annotations

import pytest
import stripe

from devtools.stripe_emulator import StripeEmulator
from devtools.stripe_emulator.idempotency import KEY_TTL_SECONDS
from tests.devtools.test_stripe_emulator import client, control

DAY = 24 * 3600


@pytest.mark.vendor_doc(
    "https://docs.stripe.com/api/idempotent_requests",
    "keys may be pruned once at least 24 hours old; then the same key runs the request anew",
)
def test_a_key_replays_within_24_hours_and_creates_anew_once_pruned(emu: StripeEmulator) -> None:
    # Given a customer created under an idempotency key
    c = client(emu)
    first = c.v1.customers.create(params={"name": "A"}, options={"idempotency_key": "k"})
    # When the same request is retried just under 24 h later, Then it is replayed
    emu.advance_clock(KEY_TTL_SECONDS - 60)
    assert c.v1.customers.create(params={"name": "A"}, options={"idempotency_key": "k"}).id == first.id
    # When it is retried once the key is 24 h old, Then Stripe may have pruned it: a second customer
    emu.advance_clock(60)
    second = c.v1.customers.create(params={"name": "A"}, options={"idempotency_key": "k"})
    assert second.id != first.id and len(emu.customers()) == 2
    assert [w["replayed"] for w in emu.write_requests()] == [False, True, False]


@pytest.mark.vendor_doc(
    "https://docs.stripe.com/api/idempotent_requests",
    "a result is stored once execution began, 500 errors included, and replayed under its key",
)
def test_a_500_after_the_create_ran_is_stored_and_replayed_under_its_key(emu: StripeEmulator) -> None:
    # Given a create that took effect but answered 500 (Stripe-Should-Retry: false)
    emu.inject("server_error_after", method="POST")
    c = client(emu, retries=2)
    with pytest.raises(stripe.APIError):
        c.v1.customers.create(params={"name": "A"}, options={"idempotency_key": "k"})
    # Then the customer exists, and the SDK did not retry what would only replay
    assert len(emu.customers()) == 1 and len(emu.write_requests()) == 1
    # When the caller retries with the same key, Then the stored 500 is replayed, nothing new is created
    with pytest.raises(stripe.APIError) as replay:
        c.v1.customers.create(params={"name": "A"}, options={"idempotency_key": "k"})
    assert replay.value.http_status == 500 and len(emu.customers()) == 1
    assert emu.write_requests()[-1]["replayed"] is True
    # When the key is pruned, Then the same request creates a second customer
    emu.advance_clock(DAY)
    c.v1.customers.create(params={"name": "A"}, options={"idempotency_key": "k"})
    assert len(emu.customers()) == 2


@pytest.mark.vendor_doc(
    "https://docs.stripe.com/api/idempotent_requests",
    "a result is stored once execution began, 500 errors included, and replayed under its key",
)
def test_a_500_before_the_create_took_effect_is_stored_too(emu: StripeEmulator) -> None:
    # Given a create whose execution began but failed before creating anything
    emu.inject("server_error_during", method="POST")
    c = client(emu, retries=2)
    for _ in range(2):
        with pytest.raises(stripe.APIError):
            c.v1.customers.create(params={"name": "A"}, options={"idempotency_key": "k"})
    # Then no customer exists, and the retry got the stored 500
    assert emu.customers() == [] and [w["replayed"] for w in emu.write_requests()] == [False, True]


@pytest.mark.vendor_doc(
    "https://docs.stripe.com/api/versioning",
    "requests are validated against the API version in Stripe-Version",
)
def test_params_are_validated_against_the_requested_api_version(emu: StripeEmulator) -> None:
    # Given the SDK's own version and an older one pinned by a header
    c = client(emu)
    old = stripe.StripeClient("sk_test_x", base_addresses={"api": emu.base_url}, stripe_version="2023-08-16")
    # When creating with coupon: accepted in 2023-08-16, unknown in the SDK's version
    assert old.v1.customers.create(params={"coupon": "SUMMER"}).id  # type: ignore[typeddict-unknown-key]
    with pytest.raises(stripe.InvalidRequestError) as rejected:
        c.v1.customers.create(params={"coupon": "SUMMER"})  # type: ignore[typeddict-unknown-key]
    assert rejected.value.code == "parameter_unknown" and rejected.value.param == "coupon"
    # And business_name: new in the SDK's version, unknown in 2023-08-16, limited to 150 characters
    assert c.v1.customers.create(params={"business_name": "ACME GmbH"}).id
    with pytest.raises(stripe.InvalidRequestError):
        old.v1.customers.create(params={"business_name": "ACME GmbH"})
    with pytest.raises(stripe.InvalidRequestError) as too_long:
        c.v1.customers.create(params={"business_name": "x" * 151})
    assert too_long.value.param == "business_name"
    # And each answer names the version it ran under
    assert [r["api_version"] for r in emu.requests] == [
        "2023-08-16",
        stripe.api_version,
        stripe.api_version,
        "2023-08-16",
        stripe.api_version,
    ]


def test_an_unknown_api_version_is_rejected(emu: StripeEmulator) -> None:
    bogus = stripe.StripeClient("sk_test_x", base_addresses={"api": emu.base_url}, stripe_version="2099-01-01")
    with pytest.raises(stripe.InvalidRequestError) as rejected:
        bogus.v1.customers.list()
    assert rejected.value.http_status == 400 and emu.customers() == []


@pytest.mark.vendor_doc(
    "https://docs.stripe.com/search#data-freshness",
    "Search lags writes by up to a minute; list is strongly consistent",
)
def test_search_lags_writes_by_a_minute_and_list_does_not(emu: StripeEmulator) -> None:
    # Given a customer just created with a Salesforce account id
    c = client(emu)
    query = {"query": "metadata['salesforce_account_id']:'001A'"}
    created = c.v1.customers.create(params={"metadata": {"salesforce_account_id": "001A"}})
    # When searching right away, Then search does not see it yet
    assert c.v1.customers.search(params=query).data == []
    # But a list of customers created since then does (list is strongly consistent)
    listed = c.v1.customers.list(params={"created": {"gte": created.created}})
    assert [cu.id for cu in listed.data] == [created.id]
    # When a minute passed, Then search finds it
    emu.advance_clock(60)
    assert [cu.id for cu in c.v1.customers.search(params=query).data] == [created.id]


@pytest.mark.vendor_doc(
    "https://docs.stripe.com/search#data-freshness",
    "Search lags writes by up to a minute; list is strongly consistent",
)
def test_search_sees_an_update_only_after_the_lag(emu: StripeEmulator) -> None:
    c = client(emu)
    cus = c.v1.customers.create(params={"metadata": {"salesforce_account_id": "001A"}})
    emu.advance_clock(60)
    c.v1.customers.update(cus.id, params={"metadata": {"salesforce_account_id": "001B"}})
    assert [x.id for x in c.v1.customers.search(params={"query": "metadata['salesforce_account_id']:'001A'"})] == [
        cus.id
    ]
    emu.advance_clock(60)
    assert c.v1.customers.search(params={"query": "metadata['salesforce_account_id']:'001A'"}).data == []


@pytest.mark.vendor_doc(
    "https://docs.stripe.com/api/customers/list",
    "customers can be listed by a created range, newest first",
)
def test_list_filters_on_created_ranges(emu: StripeEmulator) -> None:
    # Given customers created a day apart on the emulator clock
    c = client(emu)
    old = c.v1.customers.create(params={"name": "old"})
    emu.advance_clock(DAY)
    new = c.v1.customers.create(params={"name": "new"})
    # Then created[gt] / [lt] / exact pick them apart, newest first
    assert [x.id for x in c.v1.customers.list(params={"created": {"gt": old.created}}).data] == [new.id]
    assert [x.id for x in c.v1.customers.list(params={"created": {"lt": new.created}}).data] == [old.id]
    assert [x.id for x in c.v1.customers.list(params={"created": old.created}).data] == [old.id]
    assert new.created - old.created >= DAY


def test_control_endpoints_move_the_clock_and_set_the_search_lag(emu: StripeEmulator) -> None:
    # Given another process driving the emulator over HTTP
    control(emu, "POST", "/_emulator/clock", {"advance_seconds": DAY})
    control(emu, "POST", "/_emulator/search_lag", {"seconds": 0})
    stats = control(emu, "GET", "/_emulator/stats")
    assert stats["clock_offset_seconds"] == DAY and stats["search_lag_seconds"] == 0
    # Then search sees new customers immediately, and reset restores the defaults
    c = client(emu)
    c.v1.customers.create(params={"name": "A", "metadata": {"k": "v"}})
    assert len(c.v1.customers.search(params={"query": "metadata['k']:'v'"}).data) == 1
    control(emu, "POST", "/_emulator/reset")
    assert control(emu, "GET", "/_emulator/stats")["clock_offset_seconds"] == 0
    assert control(emu, "GET", "/_emulator/stats")["search_lag_seconds"] == 60


def test_customer_deletions_are_the_logged_customer_delete_requests(emu: StripeEmulator) -> None:
    # Given one customer deleted through the API and another deleted out of band (the dashboard)
    c = client(emu)
    by_api, by_dashboard = (c.v1.customers.create(params={"name": n}) for n in ("A", "B"))
    c.v1.customers.delete(by_api.id)
    emu.delete_customer(by_dashboard.id)
    # Then only the API request counts: what R12 says the product never sends
    assert [r["path"] for r in emu.customer_deletions()] == [f"/v1/customers/{by_api.id}"]
