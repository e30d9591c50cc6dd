"""Identity verdicts from the customer list alone: each of the three kinds of damage, and none for a healthy
account (the integration tests in tests/integration/test_reconcile_identity.py make them against the stack)."""

from __future__ import annotations

from typing import Any

from shared.reconcile.customer_index import CustomerIndex
from shared.reconcile.identity import judge
from shared.reconcile.reconciler import AccountCheck, Verdict
from shared.salesforce.ids import to_18

ACCOUNT, OTHER = to_18("0015g00000ACCT1"), to_18("0015g00000ACCT2")


def customer(customer_id: str, account_id: str | None) -> dict[str, Any]:
    return {"id": customer_id, "metadata": {"salesforce_account_id": account_id} if account_id else {}}


def index(*customers: dict[str, Any]) -> CustomerIndex:
    return CustomerIndex(["name"]).add_all(customers)


def ok(customer_id: str | None, owner: str | None = None) -> AccountCheck:
    return AccountCheck(ACCOUNT, Verdict.OK, 1, customer_id, customer_account=owner)


def test_a_healthy_account_keeps_its_verdict() -> None:
    # Given the account's customer naming it and no other customer naming it; Then nothing changes
    check = ok("cus_1", ACCOUNT)
    assert judge(check, index(customer("cus_1", ACCOUNT), customer("cus_9", OTHER))) == check


def test_two_customers_naming_the_account_are_duplicate_customers_with_both_ids() -> None:
    # Given the account's customer and a second one, both naming the account (newest listed first)
    judged = judge(ok("cus_1", ACCOUNT), index(customer("cus_2", ACCOUNT), customer("cus_1", ACCOUNT)))
    # Then the verdict names both
    assert judged.verdict is Verdict.DUPLICATE_CUSTOMERS and judged.related == ("cus_2",)
    assert "cus_1" in (judged.reason or "") and "cus_2" in (judged.reason or "")


def test_two_customers_naming_an_account_without_a_link_are_duplicate_customers() -> None:
    # Given an account without a customer id, and two customers naming it
    missing = AccountCheck(ACCOUNT, Verdict.MISSING, 1, "cus_2", needs_sync=True)
    judged = judge(missing, index(customer("cus_2", ACCOUNT), customer("cus_1", ACCOUNT)))
    # Then both are named, and the sync stays due (it adopts or reports; reconcile never picks one)
    assert judged.verdict is Verdict.DUPLICATE_CUSTOMERS and set(judged.related) == {"cus_1", "cus_2"}
    assert judged.needs_sync


def test_a_customer_naming_the_account_while_the_account_names_another_is_claimed_by_other_customer() -> None:
    # Given the account linked to a customer without any Salesforce reference, and its old customer naming it
    judged = judge(ok("cus_shop", None), index(customer("cus_shop", None), customer("cus_old", ACCOUNT)))
    # Then both ids are named
    assert judged.verdict is Verdict.CLAIMED_BY_OTHER_CUSTOMER and judged.related == ("cus_old",)
    assert "cus_shop" in (judged.reason or "") and "cus_old" in (judged.reason or "")


def test_an_account_whose_customer_names_another_account_is_never_queued() -> None:
    # Given the account linked to another account's customer, with a pending sync and a re-base
    check = AccountCheck(ACCOUNT, Verdict.DIFFERENT, 1, "cus_other", ("name",), needs_sync=True)
    judged = judge(check, index(customer("cus_other", OTHER[:15])))  # another tool wrote the 15-char id
    # Then the verdict names the other account (canonical) and no sync is due
    assert judged.verdict is Verdict.CUSTOMER_OF_OTHER_ACCOUNT and judged.related == (OTHER,)
    assert not judged.needs_sync and judged.seen is None and judged.actual is None
    assert "cus_other" in (judged.reason or "") and OTHER in (judged.reason or "")


def test_a_customer_listed_twice_is_not_a_duplicate() -> None:
    # Given a listing that showed one customer twice (pages overlapping); Then it names the account once
    assert index(customer("cus_1", ACCOUNT), customer("cus_1", ACCOUNT)).customers_naming(ACCOUNT) == ("cus_1",)
