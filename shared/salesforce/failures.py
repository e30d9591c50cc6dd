"""What a failed Salesforce REST call means, and whether a fresh login is worth one more try.

A warm worker keeps its simple-salesforce client for hours; around it the org changes:

* the connected app's consumer secret or JWT certificate is rotated — simple-salesforce re-logs in with the
  login it captured at its first login and is refused (``SalesforceAuthenticationFailed``): the client is
  dropped and the next one reads the secret again (``connect(fresh=True)``);
* My Domain is renamed or the org moves to another instance: "old URLs redirect for a while, then stop"; a
  fresh login returns the current instance URL (``instance_url`` of the token response, Salesforce Help
  "Update Your My Domain", https://help.salesforce.com/s/articleView?id=sf.domain_name_change.htm). A
  connection failure, or a 404 answered with a web page instead of the REST API's JSON error array, gets one
  fresh login before the call counts as failed;
* a retired API version answers 410 GONE ("If you request any resource or use an operation from a retired
  API version, REST API returns the 410:GONE error code", REST API Developer Guide, "API End-of-Life",
  https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/api_rest_eol.htm);
* ``REQUEST_LIMIT_EXCEEDED`` (403) names one of two limits by its message. "TotalRequests Limit exceeded.":
  the org's rolling 24-hour API allowance, shared by all its integrations, is spent. Anything else, e.g.
  "ConcurrentRequests (Concurrent API Requests) Limit exceeded.": the org's concurrent long-running requests
  (20 s or longer; 25 in production) are at their limit, which clears in minutes ("API Request Limits and
  Allocations", https://developer.salesforce.com/docs/platform/salesforce-app-limits-cheatsheet/guide/salesforce-app-limits-platform-api.html).
  Taking the second for the first sends the operator to a daily usage that is fine (mautic/mautic#5006).
"""

from __future__ import annotations

from typing import Any

import requests

from shared.errors import (
    ApiVersionRetired,
    ConcurrentRequestLimitExceeded,
    CredentialsRefused,
    RequestLimitExceeded,
    SyncError,
    TransientSyncError,
)


def classify_failure(exc: Exception, api_version: str, *, last_try: bool) -> SyncError | None:
    """The error to raise for ``exc``, or None when a fresh login (new client) should try once more.

    ``api_version`` is the client's (for the 410 message); ``last_try`` is True on the call after a fresh
    login, when nothing is worth another try.
    """
    from simple_salesforce import exceptions as sf_errors

    status = getattr(exc, "status", None)
    if isinstance(exc, sf_errors.SalesforceGeneralError) and status == 410:
        return ApiVersionRetired(api_version)
    if isinstance(exc, sf_errors.SalesforceRefusedRequest) and error_code(exc) == "REQUEST_LIMIT_EXCEEDED":
        return request_limit(exc)
    if isinstance(exc, sf_errors.SalesforceAuthenticationFailed):
        if not last_try:
            return None
        code = getattr(exc, "code", "") or "login failed"
        return CredentialsRefused(
            "salesforce", f"Salesforce refused the login again after the secret was re-read ({code})"
        )
    if isinstance(exc, sf_errors.SalesforceExpiredSession):
        return TransientSyncError("Salesforce session expired and could not be renewed") if last_try else None
    if host_moved(exc):
        if not last_try:
            return None
        return TransientSyncError(
            "Salesforce's instance URL answers with no REST API (a web page or no connection), also after a fresh "
            "login: check My Domain (Setup → My Domain) and the connection secret's domain"
        )
    return TransientSyncError(f"Salesforce unavailable: {type(exc).__name__}")


def request_limit(exc: Any) -> RequestLimitExceeded | ConcurrentRequestLimitExceeded:
    """Which limit a 403 ``REQUEST_LIMIT_EXCEEDED`` names: the daily allowance only for "TotalRequests"."""
    content = getattr(exc, "content", None)
    first = content[0] if isinstance(content, list) and content and isinstance(content[0], dict) else {}
    message = str(first.get("message") or "").strip()
    if message.startswith("TotalRequests"):
        return RequestLimitExceeded()
    return ConcurrentRequestLimitExceeded(message[:120] or "no limit named")


def host_moved(exc: Exception) -> bool:
    """The instance host no longer serves the REST API: no connection, or a 404 web page (not JSON errors)."""
    from simple_salesforce import exceptions as sf_errors

    if isinstance(exc, requests.exceptions.ConnectionError) and not isinstance(exc, requests.exceptions.Timeout):
        return True
    return isinstance(exc, sf_errors.SalesforceResourceNotFound) and not isinstance(exc.content, list | dict)


def error_code(exc: Any) -> str | None:
    """The first ``errorCode`` of a REST error body (``[{"errorCode": …, "message": …}]``)."""
    content = getattr(exc, "content", None)
    if isinstance(content, list) and content and isinstance(content[0], dict):
        return str(content[0].get("errorCode") or "") or None
    return None
