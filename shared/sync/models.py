"""The normalised sync request every trigger produces and the sync worker consumes.

Outbound Messages, Platform Events, Change Data Capture and reconcile all become the same small message on
the queue: *which* record changed, not *what* it contains. The worker always re-reads the record, because a
message can't tell a null field from an unselected one and may be older than the record.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class SObjectType(StrEnum):
    """Salesforce objects whose changes trigger a sync."""

    ACCOUNT = "Account"
    ORDER = "Order"
    CONTACT = "Contact"
    # Salesforce CPQ's quote: its primary contact can feed the customer through the account's latest
    # activated order (Order.SBQQ__Quote__r.SBQQ__PrimaryContact__r.Email).
    QUOTE = "SBQQ__Quote__c"


# The 3-character key prefix of each object's record ids, so a mislabelled record is caught at intake. A custom
# object's prefix (SBQQ__Quote__c) differs between orgs: None, any valid id is accepted for it.
KEY_PREFIXES: dict[SObjectType, str | None] = {
    SObjectType.ACCOUNT: "001",
    SObjectType.ORDER: "801",
    SObjectType.CONTACT: "003",
    SObjectType.QUOTE: None,
}


class TriggerSource(StrEnum):
    """Where a sync request came from."""

    OUTBOUND_MESSAGE = "outbound_message"
    PLATFORM_EVENT = "platform_event"
    CHANGE_EVENT = "change_event"
    RECONCILE = "reconcile"
    # An admin's "Sync to Stripe now" on the Account: a forced sync that also runs while live sync is off.
    MANUAL = "manual"


_ID = r"^[0-9A-Za-z]{18}$"


class SyncRequest(BaseModel):
    """One record to sync: the body of a queue message."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    org_id: str = Field(pattern=_ID)
    object_type: SObjectType
    record_id: str = Field(pattern=_ID)
    # The notification id (Outbound Message) or event id: what makes a redelivery recognisable.
    event_id: str = Field(min_length=1, max_length=255)
    source: TriggerSource
    # The record version the trigger saw (epoch ms), when it carried one; informational for stale checks.
    version: int | None = None
    # The account, when the trigger already names it (e.g. an Order message that selected AccountId).
    account_id: str | None = Field(default=None, pattern=_ID)
    # Compare with the customer Stripe holds before deciding "unchanged" (Salesforce wins), instead of with the
    # digests of what the sync last sent: an admin's "Sync now", and every sync when another writer may exist.
    force: bool = False

    @classmethod
    def for_account(
        cls, org_id: str, account_id: str, *, event_id: str, source: TriggerSource, version: int | None = None
    ) -> SyncRequest:
        """A request to sync one Account (what reconcile, ``sfsync resync``/``adopt`` and a mapping re-sync queue)."""
        return cls(
            org_id=org_id,
            object_type=SObjectType.ACCOUNT,
            record_id=account_id,
            account_id=account_id,
            event_id=event_id,
            source=source,
            version=version,
        )
