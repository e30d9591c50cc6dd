"""The customer sync and the batch wired to the in-memory fakes on one clock: the decision tests' world."""

from __future__ import annotations

from typing import Any

from shared.mapping import CustomerMapping, load_mapping
from shared.settings import CreationMode
from shared.stripe.gateway import StripeRefusal
from shared.sync.account_snapshot import snapshot_from_record
from shared.sync.batch_sync import BatchOutcome, BatchSync
from shared.sync.customer_sync import AccountSnapshot, CustomerSync, SyncResult
from shared.sync.models import SObjectType, SyncRequest, TriggerSource
from shared.sync.write_back import WriteBackFields
from tests.factories import ORG_ID, account_record, sf_datetime
from tests.fakes import FakeClock, FakeSalesforce, FakeStripe, InMemoryStateStore

LEASE_SECONDS = 30
VAT_MAPPING = {"fields": {"name": "Name", "tax_id_data": "VAT_Number__c"}}


def refused(param: str, code: str = "invalid_phone") -> StripeRefusal:
    """Stripe's 400 as the gateway translates it: its code and param (https://docs.stripe.com/api/errors)."""
    return StripeRefusal(f"Stripe rejected {param} ({code})", code=code, param=param)


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


class DirectProcessor:
    """``RequestProcessor`` without the idempotency layer (tests/integration proves that layer): each call syncs."""

    def __init__(self, sync: CustomerSync) -> None:
        self.sync = sync

    def process(self, request: SyncRequest, snapshot: AccountSnapshot, *, may_create: bool) -> SyncResult:
        return self.sync.sync(snapshot, may_create=may_create)

    def register_lambda_context(self, context: Any) -> None:
        return None


FIELDS = WriteBackFields("Stripe_Customer_ID__c", "Stripe_Sync_Status__c", "Stripe_Sync_Error__c")


class BatchWorld:
    """The batch on the fakes: Salesforce's accounts, Stripe, the state store, one clock."""

    def __init__(self, creation_mode: CreationMode = CreationMode.EVERY_ACCOUNT) -> None:
        self.clock = FakeClock()
        self.salesforce = FakeSalesforce()
        self.stripe = FakeStripe(self.clock)
        self.state = InMemoryStateStore(lease_seconds=LEASE_SECONDS, clock=self.clock)
        mapping = load_mapping("standard")
        sync = CustomerSync(mapping, self.stripe, self.state, clock=self.clock)
        self.batch = BatchSync(
            processor=DirectProcessor(sync),
            salesforce=self.salesforce,
            mapping=mapping,
            creation_mode=creation_mode,
            fields=FIELDS,
            contacts=self.state.accounts_for_contacts,
            write_back_log=self.state.record_write_back_error,
        )

    def account(self, **fields: Any) -> str:
        """A new account in Salesforce (with an activated order unless ``order=None``); its id."""
        return self.salesforce.add_account(account_record(**{"Name": "Acme GmbH", **fields}))

    def run(self, *requests: SyncRequest, **options: Any) -> BatchOutcome:
        return self.batch.run(list(requests), concurrency=options.pop("concurrency", 4), **options)


def request_for(record_id: str, object_type: str = "Account", *, event: str = "1", **more: Any) -> SyncRequest:
    """A queue message's request for one record, as the Outbound Message intake makes it."""
    account = {"account_id": record_id} if object_type == "Account" else {}
    return SyncRequest(
        org_id=ORG_ID,
        object_type=SObjectType(object_type),
        record_id=record_id,
        event_id=f"04l5g00000{event:0>8}",
        source=TriggerSource.OUTBOUND_MESSAGE,
        **{**account, **more},
    )
