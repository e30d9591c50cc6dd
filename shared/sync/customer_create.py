"""Create an account's Stripe customer exactly once, also when an earlier create's outcome is unknown.

Stripe stores the result of a request under its Idempotency-Key once execution began — a 500 included —
and replays it for every retry with that key; keys are kept "at least 24 hours" and may then be pruned,
after which the same key creates anew (https://docs.stripe.com/api/idempotent_requests). So:

- within the key window, retrying a create with the same params and key can never make a second customer;
- a pending create older than the window, or one answered with a 500 (stored, so every retry replays
  it), has an *unknown* outcome: the customer may exist. Then the customer is looked for first — by
  Search on the account-id metadata (lags writes by about a minute, up to an hour in outages, and is not
  offered everywhere: https://docs.stripe.com/search#data-freshness) and by a bounded list of the customers
  created since the pending create began (strongly consistent). What is found is adopted; only when
  nothing is found is a customer created, with a new key (``attempt`` + 1) and the current params.
- Once Stripe answered with a customer id, it is held by the lease (``Lease.hold_customer``) and stored by the
  next state write: the commit, or — when anything else comes first (a follow-up update, a tax ID, a refusal)
  — a write of its own before it. So no later failure can make the sync forget it, and a plain create costs
  one state write after Stripe's answer, not two; a crash before the commit leaves the pending create, which
  the retry replays (above).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shared.errors import PermanentSyncError
from shared.mapping import MappedCustomer
from shared.mapping.list_fields import TAX_ID_DATA
from shared.mapping.stripe_paths import ACCOUNT_ID_METADATA_KEY
from shared.state.account_item import AccountState
from shared.state.lease import Lease
from shared.stripe.customer_diff import flatten, mapped_subset
from shared.stripe.gateway import CreateOutcomeUnknown, CustomerGateway
from shared.stripe.refusals import METADATA, RefusedPart, refused_part, without
from shared.sync.tax_id_sync import added_with_create

log = logging.getLogger(__name__)

# Stripe keeps a key at least 24 h; treating a pending create as unknown one hour earlier leaves room for
# clock skew between Lambda and Stripe and for the time between recording the pending create and sending it.
KEY_WINDOW_SECONDS = 23 * 3600
# The list of customers created since the pending create began starts this much earlier (clock skew).
CREATED_SKEW_SECONDS = 600
# Looking first (``look_first``): Search covers customers older than its lag ("about a minute", up to an hour in
# outages: https://docs.stripe.com/search#data-freshness); the list covers the ones created within that hour.
SEARCH_LAG_SECONDS = 3600


def create_idempotency_key(org_id: str, account_id: str, params: dict[str, Any], attempt: int = 0) -> str:
    """Deterministic Idempotency-Key for creating the customer of one account with these params.

    ``attempt`` > 0 after an unknown-outcome create found nothing: a new key, so Stripe neither replays
    the stored 500 nor compares the new params with the old ones. Attempt 0 keeps the original form.
    """
    digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:16]
    key = f"sfsync-create-{org_id}-{account_id}-{digest}"
    return f"{key}-{attempt}" if attempt else key


@dataclass(frozen=True)
class CreatedCustomer:
    """A customer the account now owns: its id, its mapped fields as Stripe has them, the tax IDs its create
    added (ids unknown until read back: ``tax_id_sync.ADDED_ID_UNKNOWN``), and how it came."""

    customer_id: str
    applied_fields: dict[str, str]
    tax_ids: dict[str, str]
    adopted: bool = False
    # What Stripe refused of the create and the customer was created without (the tax ID excepted: the
    # tax ID sync reports that one): the sync leaves it out with a field warning (``refused_fields``).
    refused: tuple[RefusedPart, ...] = ()


class CustomerCreator:
    """Creates (or finds and adopts) the customer of an account that has none yet, under its lease."""

    def __init__(self, stripe: CustomerGateway, *, clock: Callable[[], float] = time.time) -> None:
        self._stripe = stripe
        self._clock = clock

    def create(self, lease: Lease, mapped: MappedCustomer, *, look_first: bool = False) -> CreatedCustomer:
        """Replay the pending create, or look first when its outcome is unknown; the id is held by the lease.

        ``look_first``: look for a customer naming the account before any create (another writer — Stripe's
        connector, before a migration — may have made it): the oldest found is adopted. One Search and one
        list call more per create.

        Raises CreateOutcomeUnknown (transient) when Stripe answered 500: the retry looks before creating.
        """
        state = lease.state
        params, attempt = state.pending_create or mapped.params, state.create_attempt
        unknown = state.pending_create is not None and self.outcome_unknown(state)
        if unknown or look_first:
            found = self._find(lease.account_id, state) if unknown else self._find_any(lease.account_id)
            if found:
                return self._adopt(lease, found, mapped)
        if unknown:
            params, attempt = mapped.params, attempt + 1
            lease.restart_create(params, attempt)
        try:
            customer_id, params, refused = self._create(lease.org_id, lease.account_id, params, attempt)
        except CreateOutcomeUnknown:
            lease.mark_create_unknown()
            raise
        applied = flatten({key: value for key, value in params.items() if key != "tax"})  # tax: request flags
        tax_ids = added_with_create(params)
        lease.hold_customer(customer_id, applied, tax_ids)
        refused_here = tuple(part for part in refused if part.root != TAX_ID_DATA)
        return CreatedCustomer(customer_id, applied, tax_ids, refused=refused_here)

    def _create(
        self, org_id: str, account_id: str, params: dict[str, Any], attempt: int
    ) -> tuple[str, dict[str, Any], list[RefusedPart]]:
        """(customer id, the params it was created with, what Stripe refused of them).

        A part Stripe refuses (a tax ID's ``tax_id_invalid``, a ``param``, ``customer_tax_location_invalid``)
        must not cost the customer: it is created once more without it (a new key: other params).
        """
        try:
            return self._stripe.create(params, create_idempotency_key(org_id, account_id, params, attempt)), params, []
        except PermanentSyncError as exc:
            part = refused_part(exc, params)
            if part is None or part.root == METADATA:  # the whole metadata holds the account id: never without
                raise
        bare = without(params, part.root)
        return self._stripe.create(bare, create_idempotency_key(org_id, account_id, bare, attempt)), bare, [part]

    def outcome_unknown(self, state: AccountState) -> bool:
        """True when a retry with the pending create's key could not be trusted to replay it."""
        if state.create_unknown or state.pending_since is None:
            return True
        return self._clock() - state.pending_since / 1000 >= KEY_WINDOW_SECONDS

    def _find(self, account_id: str, state: AccountState) -> list[dict[str, Any]]:
        since = None if state.pending_since is None else int(state.pending_since / 1000) - CREATED_SKEW_SECONDS
        return self._stripe.find_by_metadata(ACCOUNT_ID_METADATA_KEY, account_id, created_since=since)

    def _find_any(self, account_id: str) -> list[dict[str, Any]]:
        since = int(self._clock()) - SEARCH_LAG_SECONDS - CREATED_SKEW_SECONDS
        return self._stripe.find_by_metadata(ACCOUNT_ID_METADATA_KEY, account_id, created_since=since)

    def _adopt(self, lease: Lease, found: list[dict[str, Any]], mapped: MappedCustomer) -> CreatedCustomer:
        account_id = lease.account_id
        customer = found[0]  # the oldest: the one the lost create made
        if len(found) > 1:
            others = ", ".join(str(c["id"]) for c in found[1:])
            log.warning(
                "account %s: %d Stripe customers carry its id; adopting the oldest, %s (others: %s)",
                account_id,
                len(found),
                customer["id"],
                others,
            )
        applied = mapped_subset(flatten(customer), mapped.flat)
        customer_id = str(customer["id"])
        # The lost create's tax ID, or the one mapped now, if the customer has it: the sync's (read back next).
        tax_ids = {**added_with_create(lease.state.pending_create or {}), **added_with_create(mapped.params)}
        lease.hold_customer(customer_id, applied, tax_ids)
        log.info("account %s: adopted Stripe customer %s, which names it, instead of creating", account_id, customer_id)
        return CreatedCustomer(customer_id, applied, tax_ids, adopted=True)
