"""The customer sync wired to the in-memory fakes on one clock: the decision tests' world."""

from __future__ import annotations

from typing import Any

from shared.mapping import CustomerMapping, load_mapping
from shared.sync.account_snapshot import snapshot_from_record
from shared.sync.customer_sync import AccountSnapshot, CustomerSync, SyncResult
from tests.factories import ORG_ID, account_record, sf_datetime
from tests.fakes import FakeClock, FakeStripe, InMemoryStateStore

LEASE_SECONDS = 30
VAT_MAPPING = {"fields": {"name": "Name", "tax_id_data": "VAT_Number__c"}}


class World:
    """One account, the sync, Stripe and the state store; ``sync`` re-reads the account after each change."""

    def __init__(self, mapping: CustomerMapping | None = None, **fields: Any) -> None:
        self.clock = FakeClock()
        self.stripe = FakeStripe(self.clock)
        self.state = InMemoryStateStore(lease_seconds=LEASE_SECONDS, clock=self.clock)
        self.mapping = mapping or load_mapping("standard")
        self.version = 0
        self.record = account_record(**{"Name": "Acme GmbH", **fields})
        self.account_id: str = self.record["Id"]

    def engine(self, **options: Any) -> CustomerSync:
        return CustomerSync(self.mapping, self.stripe, self.state, clock=self.clock, **options)

    def change(self, **fields: Any) -> AccountSnapshot:
        """The account after a change in Salesforce (a newer SystemModstamp)."""
        self.version += 1
        self.record = {**self.record, **fields, "SystemModstamp": sf_datetime(self.version)}
        return self.snapshot()

    def snapshot(self, **overrides: Any) -> AccountSnapshot:
        snapshot = snapshot_from_record(ORG_ID, self.record, stripe_id_field="Stripe_Customer_ID__c")
        return snapshot if not overrides else AccountSnapshot(**{**snapshot.__dict__, **overrides})

    def sync(self, snapshot: AccountSnapshot | None = None, *, may_create: bool = True, **options: Any) -> SyncResult:
        return self.engine(**options).sync(snapshot or self.snapshot(), may_create=may_create)

    def created(self) -> str:
        """Sync once so the account has its customer; its id."""
        result = self.sync()
        assert result.customer_id
        self.stripe.calls.clear()
        return result.customer_id

    def customer(self, customer_id: str) -> dict[str, Any]:
        return self.stripe.customers[customer_id]
