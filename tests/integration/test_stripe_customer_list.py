"""Reconcile's listing of Stripe's customers while the Dashboard changes them, against the Stripe emulator.

Stripe pages a list from a cursor object (``starting_after``, https://docs.stripe.com/api/pagination); when
that customer was deleted since its page was read, Stripe can't resume from it and answers 400
``resource_missing`` for ``starting_after`` (https://github.com/stripe/stripe-php/issues/1264,
https://github.com/stripe/stripe-go/issues/1030, https://github.com/stripe/stripe-python/issues/671).
Reconcile lists every customer (1,000 calls at 100,000 customers) on every invocation, so a deletion in the
Dashboard that hits the end of a page must not fail the run.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from shared.errors import TransientSyncError
from shared.reconcile.customer_index import CustomerIndex
from shared.stripe.gateway import LIST_PAGE_SIZE, StripeCustomerGateway


@pytest.fixture
def gateway(stripe_emulator: Any) -> StripeCustomerGateway:
    return StripeCustomerGateway("sk_test_list", api_base=stripe_emulator.base_url, timeout_seconds=5)


def customers(stripe_emulator: Any, count: int) -> list[str]:
    """``count`` customers made for accounts ``001…0``, ``001…1``, …; their ids newest first (list order)."""
    made = [
        stripe_emulator.add_customer({"name": f"Kunde {n}", "metadata": {"salesforce_account_id": f"001{n:015d}"}})
        for n in range(count)
    ]
    return made[::-1]


def deleting_in_the_dashboard(
    listing: Iterator[dict[str, Any]], stripe_emulator: Any, after: int, doomed: list[str]
) -> Iterator[dict[str, Any]]:
    """The listing, with ``doomed`` customers deleted once ``after`` of them were read (before the next call)."""
    for read, customer in enumerate(listing, start=1):
        yield customer
        if read == after:
            for customer_id in doomed:
                stripe_emulator.delete_customer(customer_id)


@pytest.mark.vendor_doc(
    "https://docs.stripe.com/api/pagination",
    "a list resumes from a cursor object (starting_after); a deleted cursor can't be resumed from",
)
def test_a_customer_deleted_at_the_end_of_a_listed_page_does_not_fail_reconcile(
    stripe_emulator: Any, gateway: StripeCustomerGateway
) -> None:
    # Given 250 customers in Stripe
    ids = customers(stripe_emulator, 250)
    first_page_end = ids[LIST_PAGE_SIZE - 1]
    # When reconcile lists them and, right after the first page was read, the customer ending it is deleted
    # in the Dashboard (the next call's cursor)
    listing = deleting_in_the_dashboard(gateway.list_all(), stripe_emulator, LIST_PAGE_SIZE, [first_page_end])
    index = CustomerIndex(["name"]).add_all(listing)
    # Then the listing goes on to the last customer: every customer is indexed once, by its account too
    assert len(index) == 250
    assert index.customer_for_account("001000000000000000") == ids[-1]
    # And the rest of the list was read from the customer before the deleted one (one list call more)
    gets = [r for r in stripe_emulator.requests if r["method"] == "GET" and r["path"] == "/v1/customers"]
    assert len(gets) == 4


def test_a_listed_page_deleted_whole_fails_the_listing_as_retryable_not_as_a_deleted_customer(
    stripe_emulator: Any, gateway: StripeCustomerGateway
) -> None:
    # Given 150 customers, and every customer of the first page deleted in the Dashboard once it was read
    ids = customers(stripe_emulator, 150)
    listing = deleting_in_the_dashboard(gateway.list_all(), stripe_emulator, LIST_PAGE_SIZE, ids[:LIST_PAGE_SIZE])
    # When reconcile lists them, Then the run stops with a retryable error that says what happened
    # (not "the Stripe customer no longer exists", which names no customer of the user's)
    with pytest.raises(TransientSyncError, match="deleted while Stripe's customers were being listed"):
        list(listing)


class DeletingBeforeCall:
    """A rate limiter seam: deletes ``doomed`` in the Dashboard just before the gateway's ``call``-th request."""

    def __init__(self, stripe_emulator: Any, call: int, doomed: list[str]) -> None:
        self.stripe_emulator, self.call, self.doomed, self.calls = stripe_emulator, call, doomed, 0

    def acquire(self) -> None:
        self.calls += 1
        if self.calls == self.call:
            for customer_id in self.doomed:
                self.stripe_emulator.delete_customer(customer_id)


@pytest.mark.vendor_doc(
    "https://docs.stripe.com/search#data-freshness",
    "Search lags writes by up to a minute; list is strongly consistent",
)
def test_the_lost_create_is_found_although_a_customer_ending_a_listed_page_was_deleted(
    stripe_emulator: Any,
) -> None:
    # Given 150 customers created since a create whose answer was lost, the lost one among the oldest,
    # and Search not caught up yet (https://docs.stripe.com/search#data-freshness)
    ids = customers(stripe_emulator, 150)
    stripe_emulator.search_lag_seconds = 3600
    # When the worker looks for the lost create by list, and the customer ending the first page is deleted
    # in the Dashboard before the second list call (calls: search, list, list)
    limiter = DeletingBeforeCall(stripe_emulator, 3, [ids[LIST_PAGE_SIZE - 1]])
    gateway = StripeCustomerGateway(
        "sk_test_list",
        api_base=stripe_emulator.base_url,
        timeout_seconds=5,
        limiter=limiter,  # type: ignore[arg-type]
    )
    found = gateway.find_by_metadata("salesforce_account_id", "001000000000000000", created_since=0)
    # Then the customer is found (adopted, not created twice), and the account is not told its customer
    # was deleted in Stripe
    assert [c["id"] for c in found] == [ids[-1]]
