"""Behaviour of the local Stripe emulator, driven through stripe-python's real ``StripeClient``."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import stripe

from devtools.stripe_emulator import StripeEmulator

REPO_ROOT = Path(__file__).resolve().parents[2]


def client(emu: StripeEmulator, retries: int = 2, api_key: str = "sk_test_x") -> stripe.StripeClient:
    return stripe.StripeClient(
        api_key,
        base_addresses={"api": emu.base_url},
        max_network_retries=retries,
        http_client=stripe.RequestsClient(timeout=5),
    )


def control(emu: StripeEmulator, method: str, path: str, payload: dict | None = None) -> Any:
    data = json.dumps(payload).encode() if payload is not None else None
    req = urllib.request.Request(emu.base_url + path, data=data, method=method)
    with urllib.request.urlopen(req, timeout=5) as resp:
        return json.loads(resp.read())


def run_in_threads(*calls: Any, stagger: float = 0.05) -> list[Any]:
    """Run calls concurrently (each started `stagger` s after the previous); return results or exceptions."""
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        try:
            results[i] = calls[i]()
        except stripe.StripeError as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
        time.sleep(stagger)
    for thread in threads:
        thread.join(timeout=10)
    return results


# -- CRUD round-trips ------------------------------------------------------------------------------------


def test_create_then_retrieve_returns_a_stripe_shaped_customer(emu: StripeEmulator) -> None:
    # Given a client pointed at the emulator
    c = client(emu)
    # When a customer is created with nested params and retrieved
    created = c.v1.customers.create(
        params={
            "name": "ACME GmbH",
            "email": "billing@acme.example",
            "address": {"line1": "Hauptstr. 1", "country": "DE"},
            "metadata": {"salesforce_account_id": "001A"},
            "preferred_locales": ["de", "en"],
        }
    )
    fetched = c.v1.customers.retrieve(created.id)
    # Then the object looks like a real customer and round-trips unchanged
    assert re.fullmatch(r"cus_[A-Za-z0-9]{14}", created.id)
    assert fetched.to_dict() == created.to_dict()
    assert fetched.object == "customer" and fetched.livemode is False and fetched.balance == 0
    assert fetched.to_dict()["address"] == {
        "city": None,
        "country": "DE",
        "line1": "Hauptstr. 1",
        "line2": None,
        "postal_code": None,
        "state": None,
    }
    assert fetched.metadata.to_dict() == {"salesforce_account_id": "001A"}
    assert fetched.preferred_locales == ["de", "en"]
    assert fetched.shipping is None and fetched.tax_exempt == "none"


@pytest.mark.vendor_doc(
    "https://docs.stripe.com/api/customers/update",
    "an update changes only the parameters sent; an empty string unsets a field",
)
def test_update_changes_only_sent_params_and_empty_string_clears(emu: StripeEmulator) -> None:
    # Given a customer with name, phone and description
    c = client(emu)
    cus = c.v1.customers.create(params={"name": "Old", "phone": "+49 1", "description": "keep"})
    # When name is changed and phone is sent as ""
    updated = c.v1.customers.update(cus.id, params={"name": "New", "phone": ""})
    # Then name changes, phone is cleared and the unsent description stays
    assert (updated.name, updated.phone, updated.description) == ("New", None, "keep")
    assert emu.customer(cus.id)["name"] == "New"


def test_list_filters_by_exact_email_and_paginates(emu: StripeEmulator) -> None:
    # Given three customers, two sharing an email
    c = client(emu)
    first = c.v1.customers.create(params={"email": "a@x.example"})
    second = c.v1.customers.create(params={"email": "a@x.example"})
    c.v1.customers.create(params={"email": "A@x.example"})
    # When listing by email (case-sensitive), one per page
    page1 = c.v1.customers.list(params={"email": "a@x.example", "limit": 1})
    page2 = c.v1.customers.list(params={"email": "a@x.example", "limit": 1, "starting_after": page1.data[0].id})
    # Then newest comes first and the cursor reaches the older one
    assert [cu.id for cu in page1.data] == [second.id] and page1.has_more is True
    assert [cu.id for cu in page2.data] == [first.id] and page2.has_more is False
    assert len(c.v1.customers.list().data) == 3


def test_auto_paging_lists_every_live_customer_once_newest_first(emu: StripeEmulator) -> None:
    # Given 250 customers, one of them deleted in the dashboard
    c = client(emu)
    ids = [c.v1.customers.create(params={"metadata": {"n": str(n)}}).id for n in range(250)]
    emu.delete_customer(ids[100])
    # When auto-paging the list 100 at a time (stripe-python follows starting_after)
    listed = [cu.id for cu in c.v1.customers.list(params={"limit": 100}).auto_paging_iter()]
    # Then every live customer comes exactly once, newest first, in three list calls
    assert listed == [cid for cid in reversed(ids) if cid != ids[100]]
    assert sum(1 for r in emu.requests if r["method"] == "GET" and r["path"] == "/v1/customers") == 3


@pytest.mark.vendor_doc(
    "https://docs.stripe.com/api/pagination",
    "a list resumes from a cursor object (starting_after); a deleted cursor can't be resumed from",
)
def test_a_list_cursor_deleted_since_its_page_was_read_is_refused(emu: StripeEmulator) -> None:
    # Given a first page of customers read, and the customer ending it deleted in the Dashboard since
    # (Stripe can't resume a list from a deleted cursor: https://github.com/stripe/stripe-php/issues/1264)
    c = client(emu)
    for n in range(3):
        c.v1.customers.create(params={"metadata": {"n": str(n)}})
    page = c.v1.customers.list(params={"limit": 2})
    emu.delete_customer(page.data[-1].id)
    # When the next page is asked for after it, Then Stripe's 400 resource_missing names the cursor param
    # (the answer quoted in https://github.com/stripe/stripe-go/issues/1030)
    with pytest.raises(stripe.InvalidRequestError) as err:
        c.v1.customers.list(params={"limit": 2, "starting_after": page.data[-1].id})
    assert (err.value.http_status, err.value.code, err.value.param) == (400, "resource_missing", "starting_after")
    # And a cursor still listed goes on as before
    rest = c.v1.customers.list(params={"limit": 2, "starting_after": page.data[0].id})
    assert len(rest.data) == 1 and rest.has_more is False


def test_search_matches_metadata_and_fields_joined_by_and(emu: StripeEmulator) -> None:
    # Given two customers with different Salesforce ids
    c = client(emu)
    wanted = c.v1.customers.create(params={"name": "ACME", "metadata": {"sf_id": "001A"}})
    c.v1.customers.create(params={"name": "ACME", "metadata": {"sf_id": "001B"}})
    # When searching by metadata and name once search caught up (Stripe: within a minute)
    emu.advance_clock(60)
    result = c.v1.customers.search(params={"query": "metadata['sf_id']:'001A' AND name:'ACME'"})
    # Then exactly the matching customer comes back in a search_result
    assert [cu.id for cu in result.data] == [wanted.id]
    assert result.to_dict()["url"] == "/v1/customers/search" and result.has_more is False
    assert result.next_page is None


def test_unsupported_search_query_is_rejected(emu: StripeEmulator) -> None:
    # Given / When a query with an OR clause is sent / Then the emulator says so instead of guessing
    with pytest.raises(stripe.InvalidRequestError) as err:
        client(emu).v1.customers.search(params={"query": "name:'a' OR name:'b'"})
    assert err.value.param == "query"


# -- validation ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "param", "code"),
    [
        ({"name": "x", "foo": "y"}, "foo", "parameter_unknown"),
        ({"address": {"country": "DE", "county": "x"}}, "address[county]", "parameter_unknown"),
        ({"email": "not an email"}, "email", "email_invalid"),
        ({"email": "jane@localhost"}, "email", "email_invalid"),
        ({"shipping": {"address": {"line1": "x"}}}, "shipping[name]", "parameter_missing"),
        ({"shipping": {"name": "Jane"}}, "shipping[address]", "parameter_missing"),
        ({"name": "n" * 257}, "name", "parameter_invalid_string_length"),
        ({"phone": "1" * 21}, "phone", "parameter_invalid_string_length"),
        ({"balance": "ten"}, "balance", "parameter_invalid_integer"),
        ({"tax_exempt": "maybe"}, "tax_exempt", "parameter_invalid_string"),
        ({"metadata": {"k" * 41: "v"}}, "metadata", "parameter_invalid_metadata"),
        ({"metadata": {"a[b]": "v"}}, "metadata", "parameter_invalid_metadata"),
        ({"metadata": {"k": "v" * 501}}, "metadata[k]", "parameter_invalid_metadata"),
        ({"metadata": {f"k{i}": "v" for i in range(51)}}, "metadata", "parameter_invalid_metadata"),
    ],
)
def test_invalid_params_are_rejected_like_stripe(emu: StripeEmulator, params: dict, param: str, code: str) -> None:
    # Given a client / When it creates a customer with an invalid param
    with pytest.raises(stripe.InvalidRequestError) as err:
        client(emu).v1.customers.create(params=params)
    # Then Stripe's 400 names the param in bracket form and nothing is stored
    assert (err.value.http_status, err.value.param, err.value.code) == (400, param, code)
    assert emu.customers() == []


def test_validation_failure_does_not_burn_the_idempotency_key(emu: StripeEmulator) -> None:
    # Given a create that failed validation under key k1
    c = client(emu)
    with pytest.raises(stripe.InvalidRequestError):
        c.v1.customers.create(params={"email": "bad"}, options={"idempotency_key": "k1"})
    # When the corrected request reuses k1
    cus = c.v1.customers.create(params={"email": "good@x.example"}, options={"idempotency_key": "k1"})
    # Then it executes instead of failing with an idempotency error
    assert cus.email == "good@x.example"


# -- update semantics for nested objects ---------------------------------------------------------------


def test_partial_address_update_merges_and_empty_string_clears(emu: StripeEmulator) -> None:
    # Given a customer with a full address
    c = client(emu)
    address = {"line1": "A 1", "line2": "Hof", "city": "Köln", "postal_code": "50667", "country": "DE"}
    cus = c.v1.customers.create(params={"address": address})
    # When only the city changes and line2 is sent as ""
    merged = c.v1.customers.update(cus.id, params={"address": {"city": "Bonn", "line2": ""}})
    # Then the other sub-fields are kept and line2 is cleared
    assert merged.to_dict()["address"] == {**address, "city": "Bonn", "line2": None, "state": None}
    # When address="" is sent, Then the whole address is removed
    assert c.v1.customers.update(cus.id, params={"address": ""}).address is None


def test_shipping_is_set_and_cleared(emu: StripeEmulator) -> None:
    # Given a customer created with shipping name and address
    c = client(emu)
    cus = c.v1.customers.create(params={"shipping": {"name": "Jane", "address": {"line1": "x"}}})
    # Then shipping carries all address keys; When shipping="" is sent, Then it is cleared
    assert cus.shipping.name == "Jane" and cus.shipping.address.city is None
    assert c.v1.customers.update(cus.id, params={"shipping": ""}).shipping is None


@pytest.mark.vendor_doc(
    "https://docs.stripe.com/api/metadata",
    "metadata keys are merged on update; an empty value removes a key",
)
def test_metadata_merges_removes_and_clears(emu: StripeEmulator) -> None:
    # Given a customer with two metadata keys
    c = client(emu)
    cus = c.v1.customers.create(params={"metadata": {"a": "1", "b": "2"}})
    # When one key is updated, one removed with "" and one added
    updated = c.v1.customers.update(cus.id, params={"metadata": {"a": "9", "b": "", "c": "3"}})
    # Then metadata is merged key by key
    assert updated.metadata.to_dict() == {"a": "9", "c": "3"}
    # When metadata="" is sent, Then all keys are removed
    assert c.v1.customers.update(cus.id, params={"metadata": ""}).metadata.to_dict() == {}


# -- idempotency -----------------------------------------------------------------------------------------


@pytest.mark.vendor_doc(
    "https://docs.stripe.com/api/idempotent_requests",
    "a request repeated with its Idempotency-Key returns the first result and creates nothing",
)
def test_same_key_and_params_replays_without_a_second_customer(emu: StripeEmulator) -> None:
    # Given a create sent with a deterministic idempotency key
    c = client(emu)
    first = c.v1.customers.create(params={"name": "A"}, options={"idempotency_key": "sf-001A-create"})
    # When the same request is sent again (e.g. a re-invoked Lambda)
    second = c.v1.customers.create(params={"name": "A"}, options={"idempotency_key": "sf-001A-create"})
    # Then the stored response is replayed and only one customer exists
    assert second.id == first.id and len(emu.customers()) == 1
    assert [r["replayed"] for r in emu.write_requests()] == [False, True]
    assert second.last_response.headers["Idempotent-Replayed"] == "true"


@pytest.mark.vendor_doc(
    "https://docs.stripe.com/api/idempotent_requests",
    "the same key with different parameters is refused",
)
def test_same_key_with_different_params_is_an_idempotency_error(emu: StripeEmulator) -> None:
    # Given a key already used for one request
    c = client(emu)
    c.v1.customers.create(params={"name": "A"}, options={"idempotency_key": "k"})
    # When it is reused with other params, Then Stripe's idempotency_error is raised
    with pytest.raises(stripe.IdempotencyError) as err:
        c.v1.customers.create(params={"name": "B"}, options={"idempotency_key": "k"})
    assert "can only be used with the same parameters" in err.value.user_message
    assert len(emu.customers()) == 1


def test_keys_are_scoped_to_the_api_key(emu: StripeEmulator) -> None:
    # Given the same idempotency key used under two API keys / Then each creates its own customer
    a = client(emu, api_key="sk_test_a").v1.customers.create(params={}, options={"idempotency_key": "k"})
    b = client(emu, api_key="sk_test_b").v1.customers.create(params={}, options={"idempotency_key": "k"})
    assert a.id != b.id


@pytest.mark.vendor_doc(
    "https://docs.stripe.com/api/idempotent_requests",
    "a key in use by a concurrent request is refused with 409",
)
def test_concurrent_requests_with_one_key_get_409_in_use(emu: StripeEmulator) -> None:
    # Given slow request handling and a client that does not retry
    emu.latency = 0.3
    c = client(emu, retries=0)

    def create() -> Any:
        return c.v1.customers.create(params={"name": "A"}, options={"idempotency_key": "dup"})

    # When two requests with the same key overlap
    results = run_in_threads(create, create)
    # Then the later one gets 409 idempotency_key_in_use and one customer exists
    errors = [r for r in results if isinstance(r, stripe.StripeError)]
    assert len(errors) == 1 and errors[0].http_status == 409
    assert errors[0].json_body["error"]["code"] == "idempotency_key_in_use"
    assert len(emu.customers()) == 1


# -- deleted customers -----------------------------------------------------------------------------------


@pytest.mark.vendor_doc(
    "https://docs.stripe.com/api/customers/delete",
    "a deleted customer reads as deleted and can't be updated",
)
def test_deleted_customer_reads_as_deleted_and_cannot_be_updated(emu: StripeEmulator) -> None:
    # Given a customer deleted in the dashboard
    c = client(emu)
    cus = c.v1.customers.create(params={"name": "A", "metadata": {"sf_id": "1"}})
    emu.delete_customer(cus.id)
    # When it is retrieved, Then Stripe's deleted stub comes back with 200
    assert c.v1.customers.retrieve(cus.id).to_dict() == {"id": cus.id, "object": "customer", "deleted": True}
    # When it is updated, Then 404 resource_missing names the id
    with pytest.raises(stripe.InvalidRequestError) as err:
        c.v1.customers.update(cus.id, params={"name": "B"})
    assert (err.value.http_status, err.value.code, err.value.param) == (404, "resource_missing", "id")
    assert f"No such customer: '{cus.id}'" in err.value.user_message
    # And it no longer shows up in list or search
    assert c.v1.customers.list().data == []
    assert c.v1.customers.search(params={"query": "metadata['sf_id']:'1'"}).data == []
    assert emu.customers(include_deleted=True)[0]["deleted"] is True


def test_delete_via_api_and_unknown_ids(emu: StripeEmulator) -> None:
    # Given a customer / When it is deleted through the API / Then the deleted stub is returned
    c = client(emu)
    cus = c.v1.customers.create(params={})
    assert c.v1.customers.delete(cus.id).deleted is True
    # And unknown ids give resource_missing on retrieve
    with pytest.raises(stripe.InvalidRequestError) as err:
        c.v1.customers.retrieve("cus_doesnotexist00")
    assert err.value.code == "resource_missing"


# -- faults and retries ----------------------------------------------------------------------------------


@pytest.mark.vendor_doc(
    "https://docs.stripe.com/rate-limits",
    "too many requests are answered 429",
)
def test_injected_rate_limit_surfaces_without_sdk_retry(emu: StripeEmulator) -> None:
    # Given one injected 429 rate_limit
    emu.inject("rate_limit", method="POST")
    c = client(emu, retries=0)
    # When creating, Then RateLimitError is raised and nothing is created
    with pytest.raises(stripe.RateLimitError) as err:
        c.v1.customers.create(params={"name": "A"}, options={"idempotency_key": "k"})
    assert err.value.json_body["error"]["code"] == "rate_limit"
    assert emu.customers() == []
    # And the next attempt with the same key succeeds (429s are not stored under the key)
    assert c.v1.customers.create(params={"name": "A"}, options={"idempotency_key": "k"}).name == "A"


def test_injected_server_error_is_retried_by_sdk_with_one_customer(emu: StripeEmulator) -> None:
    # Given one injected 500 and an SDK that retries
    emu.inject("server_error", path_prefix="/v1/customers")
    # When creating
    cus = client(emu, retries=2).v1.customers.create(params={"name": "A"})
    # Then the retry (same SDK key) succeeds and exactly one customer exists
    assert [c["id"] for c in emu.customers()] == [cus.id]
    writes = emu.write_requests()
    assert [w["status"] for w in writes] == [500, 200]
    assert writes[0]["idempotency_key"] == writes[1]["idempotency_key"]


def test_timeout_after_execution_then_retry_replays_one_customer(emu: StripeEmulator) -> None:
    # Given a fault that executes the create but never answers
    emu.inject("timeout_after", method="POST")
    # When the SDK times out and retries with the same key
    cus = client(emu, retries=2).v1.customers.create(params={"name": "A"}, options={"idempotency_key": "k"})
    # Then the retry is a replay of the stored result: one customer
    assert [c["id"] for c in emu.customers()] == [cus.id]
    assert [(w["fault"], w["replayed"]) for w in emu.write_requests()] == [
        ("timeout_after", False),
        (None, True),
    ]


def test_timeout_before_execution_changes_nothing(emu: StripeEmulator) -> None:
    # Given a fault that drops the request before executing it and a client without retries
    emu.inject("timeout_before")
    # When creating, Then the client sees a connection error and nothing was created
    with pytest.raises(stripe.APIConnectionError):
        client(emu, retries=0).v1.customers.create(params={"name": "A"})
    assert emu.customers() == []


def test_random_faults_follow_the_rate_until_cleared(emu: StripeEmulator) -> None:
    # Given every GET failing with 500
    emu.inject_rate("server_error", 1.0, method="GET")
    c = client(emu, retries=0)
    # When listing, Then it fails; When faults are cleared, Then it works
    with pytest.raises(stripe.APIError):
        c.v1.customers.list()
    emu.clear_faults()
    assert c.v1.customers.list().data == []


def test_slowdown_after_some_requests_delays_the_later_ones(emu: StripeEmulator) -> None:
    # Given Stripe answering normally for two requests, then 2 s late (a degraded API, not an error)
    emu.slow_down(2.0, after=2, path_prefix="/v1/customers")
    fast = stripe.StripeClient(
        "sk_test_x", base_addresses={"api": emu.base_url}, http_client=stripe.RequestsClient(timeout=0.5)
    )
    # When a client with a 0.5 s timeout makes three requests
    fast.v1.customers.create(params={"name": "A"})
    fast.v1.customers.list()
    # Then the third one times out; and once cleared, Stripe is fast again
    with pytest.raises(stripe.APIConnectionError):
        fast.v1.customers.list()
    emu.clear_faults()
    assert len(fast.v1.customers.list().data) == 1


# -- concurrency -----------------------------------------------------------------------------------------


@pytest.mark.vendor_doc(
    "https://docs.stripe.com/error-codes#lock-timeout",
    "concurrent updates of one object can fail with lock_timeout",
)
def test_overlapping_updates_to_one_customer_get_lock_timeout(emu: StripeEmulator) -> None:
    # Given a customer and slow request handling
    c = client(emu, retries=0)
    cus = c.v1.customers.create(params={"name": "A"})
    emu.latency = 0.3
    # When two updates to it overlap
    results = run_in_threads(
        lambda: c.v1.customers.update(cus.id, params={"name": "B"}),
        lambda: c.v1.customers.update(cus.id, params={"name": "C"}),
    )
    # Then one of them fails with 429 lock_timeout, the other is applied, and the overlap is recorded
    failed = [r for r in results if isinstance(r, stripe.RateLimitError)]
    applied = [r for r in results if not isinstance(r, stripe.StripeError)]
    assert len(failed) == 1 and failed[0].json_body["error"]["code"] == "lock_timeout"
    assert len(applied) == 1 and emu.customer(cus.id)["name"] == applied[0].name
    assert emu.max_concurrent_writes_per_customer >= 2


def test_serial_writes_record_no_overlap(emu: StripeEmulator) -> None:
    # Given / When updates to one customer are made one after another
    c = client(emu)
    cus = c.v1.customers.create(params={})
    for name in ("A", "B", "C"):
        c.v1.customers.update(cus.id, params={"name": name})
    c.v1.customers.delete(cus.id)
    # Then at most one write was ever in flight
    assert emu.max_concurrent_writes_per_customer == 1


def test_lock_timeout_is_marked_retryable_for_the_sdk(emu: StripeEmulator) -> None:
    # Given one injected lock_timeout (Stripe sends Stripe-Should-Retry: true with it)
    c = client(emu, retries=2)
    cus = c.v1.customers.create(params={})
    emu.inject("lock_timeout", method="POST")
    # When updating with SDK retries, Then the SDK retries it and succeeds
    assert c.v1.customers.update(cus.id, params={"name": "B"}).name == "B"
    assert [w["error_code"] for w in emu.write_requests()][-2:] == ["lock_timeout", None]


# -- auth, HTTP details, control endpoints, CLI -----------------------------------------------------------


def test_wrong_api_key_is_an_authentication_error() -> None:
    # Given an emulator that only accepts one key
    with StripeEmulator(api_key="sk_test_right") as emu:
        # When another key is used, Then AuthenticationError; the right key works
        with pytest.raises(stripe.AuthenticationError):
            client(emu, api_key="sk_test_wrong").v1.customers.list()
        assert client(emu, api_key="sk_test_right").v1.customers.list().data == []
        assert emu.requests[0]["status"] == 401


def test_every_response_is_json_with_a_request_id(emu: StripeEmulator) -> None:
    # Given / When an unauthenticated request is made with plain urllib
    req = urllib.request.Request(emu.base_url + "/v1/customers")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=5)
    # Then it is a JSON 401 with a Request-Id
    assert err.value.code == 401
    assert err.value.headers["Content-Type"] == "application/json"
    assert err.value.headers["Request-Id"].startswith("req_")
    assert json.loads(err.value.read())["error"]["type"] == "invalid_request_error"


def test_control_endpoints_give_other_processes_the_same_powers(emu: StripeEmulator) -> None:
    # Given a fault injected over HTTP
    assert control(emu, "POST", "/_emulator/faults", {"kind": "rate_limit", "count": 1})["ok"] is True
    c = client(emu, retries=0)
    with pytest.raises(stripe.RateLimitError):
        c.v1.customers.create(params={"name": "A"})
    cus = c.v1.customers.create(params={"name": "A"})
    # Then the request log and customers are visible over HTTP
    log = control(emu, "GET", "/_emulator/requests")["data"]
    assert [(r["status"], r["error_code"]) for r in log] == [(429, "rate_limit"), (200, None)]
    assert [x["id"] for x in control(emu, "GET", "/_emulator/customers")["data"]] == [cus.id]
    # And latency, fault clearing and reset work over HTTP
    control(emu, "POST", "/_emulator/latency", {"seconds": 0.05})
    assert emu.latency == 0.05
    control(emu, "POST", "/_emulator/faults", {"kind": "server_error", "rate": 1.0, "seed": 1})
    control(emu, "DELETE", "/_emulator/faults")
    assert c.v1.customers.list().data[0].id == cus.id
    control(emu, "POST", "/_emulator/reset")
    assert emu.customers() == [] and emu.requests == [] and emu.latency == 0.0


def test_cli_prints_base_url_and_stops_on_sigterm() -> None:
    # Given the emulator started as a process on an ephemeral port
    proc = subprocess.Popen(
        [sys.executable, "-m", "devtools.stripe_emulator", "--port", "0"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        base_url = proc.stdout.readline().strip()
        # When it is queried, Then it answers; When SIGTERM is sent, Then it exits cleanly
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", base_url)
        with urllib.request.urlopen(base_url + "/_emulator/stats", timeout=5) as resp:
            assert json.loads(resp.read())["max_concurrent_writes_per_customer"] == 0
        proc.terminate()
        assert proc.wait(timeout=5) == 0
    finally:
        proc.kill()
