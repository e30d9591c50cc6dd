"""Observe mode: decide what every held change would do, record it per account, write nothing.

A new deployment starts in observe mode (shared/state/holds.py). The worker still parks every message so
it is applied at go-live (shared/sync/gate.py), but first it decides, read-only, what the sync would do
with the accounts of the batch: the batch's own Salesforce reads (one query), the account mapped with the
stack's mapping, and the customer the Stripe ID field names read from Stripe and compared field by field
(the comparison ``sfsync mapping preview`` and the reconcile make). Nothing is
written to Stripe, Salesforce, the idempotency table or the account's state: at go-live the held message
syncs exactly as if observe mode had never been.

What is recorded, per account (``ObservedSync``): the outcome (would create / would update / unchanged /
refused / no customer), the Stripe field NAMES that would change, the Salesforce field names with a warning,
the customer id, when, and the trigger — never a value. One item per account in the state table,
``pk = "observe#<org id>#<account id>"``, the latest decision only, deleted by DynamoDB 30 days later
(``expires_at``, the table's TTL attribute). ``sfsync status ACCOUNT`` and ``sfsync observe report`` read it;
``observed_sync`` is the record for anything else that shows it (Salesforce's sync history).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from shared.errors import PermanentSyncError, TransientSyncError
from shared.mapping import CustomerMapping
from shared.reconcile.reconciler import differing
from shared.stripe.customer_diff import flatten, mapped_subset
from shared.stripe.gateway import CustomerGateway
from shared.sync.models import SyncRequest
from shared.sync.ownership import check_owner

OBSERVE_PREFIX = "observe#"
RETENTION_SECONDS = 30 * 86_400


class ObservedOutcome(StrEnum):
    """What the sync would have done with the account."""

    WOULD_CREATE = "would_create"
    WOULD_UPDATE = "would_update"
    UNCHANGED = "unchanged"
    REFUSED = "refused"  # the customer the account names is not to be changed (deleted, not ours, other mode…)
    NO_CUSTOMER = "no_customer"  # no customer and none to create (no activated order, CREATION_MODE)


@dataclass(frozen=True)
class ObservedSync:
    """One account's would-do: names only (Stripe dot-paths, Salesforce field paths), never values.

    ``at``: epoch seconds; ``source``: the trigger (``TriggerSource`` value); ``reason``: for ``refused``,
    the kind of error (its class name), never its text.
    """

    org_id: str
    account_id: str
    outcome: ObservedOutcome
    fields: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    customer_id: str | None = None
    at: int = 0
    source: str = ""
    reason: str | None = None

    def describe(self) -> str:
        """One line for ``sfsync``: outcome, customer, fields, warnings, time (UTC)."""
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(self.at))
        parts = [self.outcome.value.replace("_", " ")]
        if self.customer_id:
            parts.append(f"({self.customer_id})")
        if self.fields:
            parts.append("fields: " + ", ".join(self.fields))
        if self.warnings:
            parts.append("warnings: " + ", ".join(self.warnings))
        if self.reason:
            parts.append(f"reason: {self.reason}")
        return " ".join(parts) + f" — {when}, {self.source or '?'}"


def observed_sync(
    request: SyncRequest,
    record: dict[str, Any],
    mapping: CustomerMapping,
    stripe: CustomerGateway,
    *,
    stripe_id_field: str,
    adopt_field: str | None = None,
    may_create: bool,
    now: int,
) -> ObservedSync:
    """What the sync would do with one account (REST record as the worker reads it); reads Stripe only.

    The comparison is the reconcile's and ``sfsync mapping preview``'s: the mapped fields against the part of
    the customer Stripe holds that the mapping owns; a customer that is not the account's (no ``adopt_field``
    consent) is refused as the sync refuses it. Raises TransientSyncError when Stripe can't be read now.
    """
    mapped = mapping.map_account(record)
    warnings = tuple(sorted({warning.field for warning in mapped.warnings}))
    customer_id = str(record.get(stripe_id_field) or "").strip() or None
    base = ObservedSync(
        request.org_id, str(record["Id"]), ObservedOutcome.UNCHANGED, (), warnings, customer_id, now,
        request.source.value,
    )  # fmt: skip
    if customer_id is None:
        if not may_create:
            return replace(base, outcome=ObservedOutcome.NO_CUSTOMER)
        return replace(base, outcome=ObservedOutcome.WOULD_CREATE, fields=tuple(sorted(mapped.flat)))
    try:
        found = stripe.retrieve(customer_id)
        # Only a customer that is ours, or that the admin consented to adopt, is changed (``ownership``).
        adopt = str(record.get(adopt_field) or "").strip() or None if adopt_field else None
        check_owner(found, base.account_id, own_customer=None, adopt_customer=adopt)
    except PermanentSyncError as exc:  # deleted in Stripe, another account's, not claimed…: refused
        return replace(base, outcome=ObservedOutcome.REFUSED, reason=type(exc).__name__)
    customer = flatten(found)
    changed = differing(mapped_subset(customer, mapped.flat), mapped.flat)
    return replace(base, outcome=ObservedOutcome.WOULD_UPDATE, fields=changed) if changed else base


class ObserveLog:
    """The would-do items in the state table ``table_name``; ``client`` is a boto3 DynamoDB client."""

    def __init__(self, table_name: str, client: Any) -> None:
        self._table = table_name
        self._client = client

    def put(self, observed: ObservedSync) -> None:
        """Record (replace) the account's latest would-do; DynamoDB deletes it 30 days later (TTL). UpdateItem,
        the worker's write on the state table (no PutItem in its role)."""
        values = {
            ":outcome": {"S": observed.outcome.value},
            ":fields": {"L": [{"S": name} for name in observed.fields]},
            ":warnings": {"L": [{"S": name} for name in observed.warnings]},
            ":at": {"N": str(observed.at)},
            ":source": {"S": observed.source},
            ":customer": {"S": observed.customer_id or ""},
            ":reason": {"S": observed.reason or ""},
            ":expires": {"N": str(observed.at + RETENTION_SECONDS)},
        }
        self._client.update_item(
            TableName=self._table,
            Key={"pk": {"S": f"{OBSERVE_PREFIX}{observed.org_id}#{observed.account_id}"}},
            UpdateExpression="SET outcome = :outcome, #fields = :fields, warnings = :warnings, #at = :at, "
            "#source = :source, observed_customer = :customer, reason = :reason, expires_at = :expires",
            ExpressionAttributeNames={"#fields": "fields", "#at": "at", "#source": "source"},
            ExpressionAttributeValues=values,
        )

    def get(self, org_id: str, account_id: str) -> ObservedSync | None:
        """The account's latest would-do, or None (never observed, or older than 30 days)."""
        key = {"pk": {"S": f"{OBSERVE_PREFIX}{org_id}#{account_id}"}}
        item = self._client.get_item(TableName=self._table, Key=key, ConsistentRead=True).get("Item")
        return _from_item(item) if item else None

    def all(self, org_id: str) -> Iterator[ObservedSync]:
        """Every would-do of the org (a Scan of the state table: an operator's report, never the worker's)."""
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "FilterExpression": "begins_with(pk, :prefix)",
            "ExpressionAttributeValues": {":prefix": {"S": f"{OBSERVE_PREFIX}{org_id}#"}},
        }
        while True:
            page = self._client.scan(**kwargs)
            yield from (_from_item(item) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _from_item(item: dict[str, Any]) -> ObservedSync:
    _, org_id, account_id = item["pk"]["S"].split("#", 2)
    return ObservedSync(
        org_id=org_id,
        account_id=account_id,
        outcome=ObservedOutcome(item["outcome"]["S"]),
        fields=tuple(v["S"] for v in item.get("fields", {}).get("L", [])),
        warnings=tuple(v["S"] for v in item.get("warnings", {}).get("L", [])),
        customer_id=item.get("observed_customer", {}).get("S") or None,
        at=int(item["at"]["N"]),
        source=item.get("source", {}).get("S", ""),
        reason=item.get("reason", {}).get("S") or None,
    )


# The batch's reads: (requests) → (each request's accounts, records by account id); BatchSync.read.
BatchReader = Callable[[Sequence[SyncRequest]], tuple[dict[SyncRequest, tuple[str, ...]], dict[str, dict[str, Any]]]]


class Observer:
    """Decides and records the would-do of every account of a batch; ``may_create(record)`` applies
    CREATION_MODE (every account, or only those with an activated order)."""

    def __init__(
        self,
        read: BatchReader,
        mapping: Callable[[], CustomerMapping],
        stripe: CustomerGateway,
        log: ObserveLog,
        *,
        stripe_id_field: str,
        adopt_field: str | None = None,
        may_create: Callable[[dict[str, Any]], bool],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._read = read
        self._mapping = mapping
        self._stripe = stripe
        self._log = log
        self._stripe_id_field = stripe_id_field
        self._adopt_field = adopt_field
        self._may_create = may_create
        self._clock = clock

    def observe(self, requests: Sequence[SyncRequest]) -> list[ObservedSync]:
        """Record what each account of ``requests`` would get; raises what the batch's read raises."""
        accounts_of, records = self._read(list(dict.fromkeys(requests)))
        mapping, now = self._mapping(), int(self._clock())
        done: dict[str, ObservedSync] = {}
        for request, accounts in accounts_of.items():
            for account_id in accounts:
                record = records.get(account_id)
                if record is None or account_id in done:
                    continue  # deleted and purged: nothing to decide
                try:
                    observed = observed_sync(
                        request, record, mapping, self._stripe,
                        stripe_id_field=self._stripe_id_field, adopt_field=self._adopt_field,
                        may_create=self._may_create(record), now=now,
                    )  # fmt: skip
                except TransientSyncError:
                    continue  # Stripe unreachable now: the account is decided on its next change
                done[account_id] = observed
                self._log.put(observed)
        return list(done.values())
