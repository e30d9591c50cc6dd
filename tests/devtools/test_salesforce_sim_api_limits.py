"""Salesforce simulator: the concurrent API request limit answers REQUEST_LIMIT_EXCEEDED with its own message,
not the daily allowance's, and lets requests through again once the long-running ones finish."""

from __future__ import annotations

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceRefusedRequest

from devtools.salesforce_sim import SalesforceSimulator
from devtools.salesforce_sim.api_limits import PRODUCTION_LIMIT


@pytest.mark.vendor_doc(
    "https://developer.salesforce.com/docs/platform/salesforce-app-limits-cheatsheet/guide/"
    "salesforce-app-limits-platform-api.html",
    "25 concurrent requests of 20 s or longer in production; beyond, REQUEST_LIMIT_EXCEEDED and no new request "
    "is processed until fewer are running (message as SalesforceLabs/OrgCheck#432 quotes it)",
)
def test_concurrent_long_running_requests_at_the_limit_refuse_new_requests_until_they_finish(
    sim: SalesforceSimulator, sf: Salesforce
) -> None:
    # Given one request short of the org's limit on long-running requests: a short request is still served
    sim.concurrency.occupy(PRODUCTION_LIMIT - 1)
    assert sf.query("SELECT Id FROM Account")["totalSize"] == 0
    # When the 25th long-running request of another integration starts
    sim.concurrency.occupy(1)
    # Then a new request is refused with 403 REQUEST_LIMIT_EXCEEDED naming the concurrent limit, not TotalRequests
    with pytest.raises(SalesforceRefusedRequest) as refused:
        sf.query("SELECT Id FROM Account")
    [error] = refused.value.content
    assert error["errorCode"] == "REQUEST_LIMIT_EXCEEDED"
    assert error["message"].startswith("ConcurrentRequests") and "TotalRequests" not in error["message"]
    # And once one of them finishes, requests are served again
    sim.concurrency.release(1)
    assert sf.query("SELECT Id FROM Account")["totalSize"] == 0
