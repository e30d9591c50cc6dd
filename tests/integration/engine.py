"""The sync engine (``CustomerSync``) wired to the real local parts: the Stripe emulator and dynalite.

One builder for the engine-level integration tests; each test varies only what it is about (the mapping,
the lease, the Stripe client's timeout, the clock).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from shared.mapping import CustomerMapping, load_mapping
from shared.state.account_state import AccountStateStore
from shared.stripe.gateway import StripeCustomerGateway
from shared.sync.account_snapshot import snapshot_from_record
from shared.sync.customer_sync import AccountSnapshot, CustomerSync
from tests.factories import ORG_ID


def make_sync(
    stripe_emulator: Any,
    dynamodb: Any,
    table: str,
    preset: str = "standard",
    *,
    mapping: CustomerMapping | None = None,
    lease_seconds: int = 30,
    clock: Callable[[], float] = time.time,
    **gateway: Any,
) -> CustomerSync:
    """The engine on the emulator and the state table ``table``.

    ``mapping`` (else the named ``preset``) maps the account; ``gateway`` overrides the Stripe client's
    settings (by default a 5 s timeout and 10 ms retry backoff, so fault tests stay short).
    """
    stripe = StripeCustomerGateway(
        "sk_test_engine",
        api_base=stripe_emulator.base_url,
        **{"timeout_seconds": 5, "backoff_base_seconds": 0.01, **gateway},
    )
    state = AccountStateStore(table, dynamodb, lease_seconds=lease_seconds, clock=clock)
    return CustomerSync(mapping or load_mapping(preset), stripe, state, clock=clock)


def snapshot(record: dict[str, Any]) -> AccountSnapshot:
    """The account as the worker reads it (a SOQL row), with the standard Stripe ID field."""
    return snapshot_from_record(ORG_ID, record, stripe_id_field="Stripe_Customer_ID__c")
