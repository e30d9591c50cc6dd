"""Failure classes shared by every part of the sync.

Every failure is either *permanent* (bad data or configuration that retrying cannot fix: it is recorded,
written back to Salesforce and the message is acknowledged) or *transient* (an outage, a rate limit, a lock:
the message is retried until it passes or lands in the DLQ).
"""

from __future__ import annotations


class SyncError(Exception):
    """Base class: a failure while syncing one Salesforce record to Stripe."""

    permanent: bool = False
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
