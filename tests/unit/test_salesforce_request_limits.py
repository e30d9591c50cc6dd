"""Which limit a 403 REQUEST_LIMIT_EXCEEDED names, by Salesforce's message ("API Request Limits and Allocations",
https://developer.salesforce.com/docs/platform/salesforce-app-limits-cheatsheet/guide/salesforce-app-limits-platform-api.html).
"""

from __future__ import annotations

import pytest
from simple_salesforce.exceptions import SalesforceRefusedRequest

from shared.errors import ConcurrentRequestLimitExceeded, RequestLimitExceeded
from shared.salesforce.failures import classify_failure


def refused(message: str | None) -> SalesforceRefusedRequest:
    """The client's exception for a 403 with Salesforce's JSON error array."""
    error = {"errorCode": "REQUEST_LIMIT_EXCEEDED", **({"message": message} if message is not None else {})}
    return SalesforceRefusedRequest("https://acme.my.salesforce.com/services/data/v62.0/query", 403, "query", [error])


def test_only_total_requests_is_the_daily_allowance() -> None:
    # Given Salesforce's answer for the spent 24-hour allocation; When classified; Then it is the daily allowance
    assert isinstance(
        classify_failure(refused("TotalRequests Limit exceeded."), "62.0", last_try=False), RequestLimitExceeded
    )


@pytest.mark.parametrize(
    "message",
    [
        "ConcurrentRequests (Concurrent API Requests) Limit exceeded.",  # SalesforceLabs/OrgCheck#432
        "ConcurrentPerOrgLongTxn Limit exceeded.",  # mautic/mautic#5006
        "",  # no message: not taken for a spent day either
        None,
    ],
)
def test_any_other_request_limit_is_not_the_daily_allowance(message: str | None) -> None:
    # Given a REQUEST_LIMIT_EXCEEDED naming another limit (or none); When classified
    error = classify_failure(refused(message), "62.0", last_try=False)
    # Then it is the concurrent limit, retried, under its own metric, never the daily allowance
    assert isinstance(error, ConcurrentRequestLimitExceeded) and not isinstance(error, RequestLimitExceeded)
    assert not error.permanent and error.metric == "concurrent_request_limit_exceeded"
    assert "24-hour" not in str(error)
