"""Failure classes shared by every part of the sync.

Every failure is either *permanent* (bad data or configuration that retrying cannot fix: it is recorded,
written back to Salesforce and the message is acknowledged) or *transient* (an outage, a rate limit, a lock:
the message is retried until it passes or lands in the DLQ).
"""

from __future__ import annotations


class SyncError(Exception):
    """Base class: a failure while syncing one Salesforce record to Stripe."""

    permanent: bool = False
    # The worker counts a failure of this kind under this metric name too (its own alarm), when set.
    metric: str | None = None
    # The Stripe customer the failure concerns, when one is known (e.g. created just before an update failed).
    customer_id: str | None = None

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        # The Salesforce field (API name or relationship path) the admin has to fix, when one is to blame.
        self.field = field

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class PermanentSyncError(SyncError):
    """Bad data or configuration: record it, tell the admin, do not retry."""

    permanent = True


class TransientSyncError(SyncError):
    """An outage, rate limit or lock: retry later."""

    permanent = False


class NotReached(TransientSyncError):
    """The invocation stopped starting work before its deadline: this message was not synced, retry it."""


class ConfigurationError(Exception):
    """A setting is missing or wrong; the message names the environment variable."""


class CredentialsRefused(TransientSyncError, ConfigurationError):
    """A vendor refused credentials read fresh from their secret: a configuration problem, not bad data.

    Raised only after the instance dropped its client, re-read the secret bypassing the cache and tried
    once more (a rolled Stripe key, a rotated Salesforce consumer secret or certificate), or for a
    permission the credentials lack (Stripe's 403 for a restricted key). ``vendor`` is ``stripe`` or
    ``salesforce``; ``reason`` names what was refused and the fix (never the credentials themselves).

    It is a ``TransientSyncError``: the message is retried like any outage (never burned to the DLQ
    faster than one receive per visibility timeout), and the worker counts it as ``credentials_refused``
    for its own alarm. It is also a ``ConfigurationError``, so the operator's tools report it as one.
    """

    metric = "credentials_refused"

    def __init__(self, vendor: str, reason: str) -> None:
        super().__init__(reason)
        self.vendor = vendor
        self.reason = reason


class ApiVersionRetired(TransientSyncError, ConfigurationError):
    """Salesforce answered 410 GONE: the configured API version is retired (a configuration problem)."""

    metric = "api_version_retired"

    def __init__(self, version: str) -> None:
        super().__init__(
            f"Salesforce answered 410 GONE: API version {version or '(configured)'} is retired — set "
            "SALESFORCE_API_VERSION to a version the org serves (sfsync doctor lists them)"
        )
        self.version = version


class RequestLimitExceeded(TransientSyncError):
    """Salesforce's REQUEST_LIMIT_EXCEEDED: the org's 24-hour API allowance, shared by all its integrations."""

    metric = "request_limit_exceeded"

    def __init__(self) -> None:
        super().__init__(
            "Salesforce REQUEST_LIMIT_EXCEEDED: the org's rolling 24-hour API request allowance is spent (shared "
            "by all its integrations); retried — see Setup → Company Information → API Requests"
        )


class ConcurrentRequestLimitExceeded(TransientSyncError):
    """Salesforce's REQUEST_LIMIT_EXCEEDED for another limit than the daily allowance: the org's concurrent
    long-running requests (25 API requests of 20 s or longer in production; "ConcurrentRequests") or Apex
    transactions ("ConcurrentPerOrgLongTxn") are at their limit — minutes, not a spent day.

    Salesforce answers both with the same code; only the message tells them apart ("TotalRequests Limit
    exceeded." for the day). ``limit`` is Salesforce's message (a limit's name, no personal data).
    """

    metric = "concurrent_request_limit_exceeded"

    def __init__(self, limit: str) -> None:
        super().__init__(
            f"Salesforce REQUEST_LIMIT_EXCEEDED ({limit}): not the daily allowance — the org's concurrent "
            "long-running requests (of all its integrations) are at their limit; retried. If it lasts, look for "
            "slow queries, reports or Apex of other integrations"
        )
        self.limit = limit
