"""``sfsync doctor``'s verdict on the account's Lambda concurrency (``aws lambda get-account-settings``).

AWS keeps a minimum of unreserved concurrency per account; new accounts start with a quota as low as 10, where
any reservation fails the deploy ("decreases account's UnreservedConcurrentExecution below its minimum value").
"""

from __future__ import annotations

from ops.checks import OK, WARNING
from ops.doctor import concurrency_verdict


def test_a_new_accounts_quota_says_to_keep_reservations_off_and_how_to_raise_it() -> None:
    # Given a new account's quota of 10; When doctor judges it
    check = concurrency_verdict(quota=10, unreserved=10)
    # Then it warns to keep ReserveConcurrency=false and names the fix
    assert check.status == WARNING and "keep ReserveConcurrency=false" in check.detail
    assert "quota 10" in check.detail and "Service Quotas" in check.detail


def test_an_account_with_headroom_may_reserve() -> None:
    check = concurrency_verdict(quota=1000, unreserved=1000)
    assert check.status == OK and "ReserveConcurrency=true fits" in check.detail
