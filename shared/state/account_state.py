"""Per-account sync state in DynamoDB: customer id, applied version, applied fields, lease, last outcome.

Correctness does not come from queue order. Each account's item carries the last applied Salesforce
version; a writer first takes a short *lease* on the item with one conditional update that also refuses
an older version, so one account is never written to Stripe twice at once and older data never
overwrites newer data. The same update returns the whole item, so the normal path costs two DynamoDB
calls per account: acquire (read + lock) and commit (write + unlock).
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from shared.errors import TransientSyncError
from shared.state.account_item import (
    AccountState,
    AlreadyApplied,
    Commit,
    LeaseHeld,
    StaleVersion,
    contact_key,
    from_item,
    state_key,
    why_refused,
)
from shared.state.field_digests import FieldDigests
from shared.state.items import to_attr_map as _to_attr_map
from shared.state.lease import Lease
from shared.state.state_version import STATE_VERSION, V1_VALUES

__all__ = [
    "AccountState",
    "AccountStateStore",
    "AlreadyApplied",
    "Commit",
    "Lease",
    "LeaseHeld",
    "StaleVersion",
    "state_key",
]


# Everything that describes a create in progress; removed together once the customer id is known.
PENDING_CREATE_ATTRIBUTES = "pending_create, pending_since, create_attempt, create_unknown"
# Every write of the applied fields stores digests in the current item shape and drops an earlier one's values.
FIELDS_SET = "field_digests = :f, state_version = :sv"


class AccountStateStore:
    """DynamoDB-backed account state with version-conditional writes and a per-account lease.

    ``clock`` (seconds since 1970, ``time.time`` by default) stamps leases and times: tests pass their own
    and move it past a lease instead of sleeping. ``digests``: the stack's keyed field digests (the local key
    by default: local runs and tests only); applied fields and the content hash are stored only through them.
    """

    def __init__(
        self,
        table_name: str,
        client: Any,
        *,
        lease_seconds: int = 120,
        clock: Callable[[], float] = time.time,
        digests: FieldDigests | None = None,
    ) -> None:
        self._table = table_name
        self._client = client
        self._lease_ms = lease_seconds * 1000
        self._clock = clock
        self.digests = digests or FieldDigests.local()

    def _from_item(self, item: dict[str, Any]) -> AccountState:
        """The state an item holds, an earlier release's item migrated as it is read."""
        return from_item(item, self.digests)

    def _now_ms(self) -> int:
        """The clock in milliseconds (the unit of every time in the state table)."""
        return int(self._clock() * 1000)

    # -- reads ---------------------------------------------------------------------------------------
    def get(self, org_id: str, account_id: str) -> AccountState | None:
        """Return the account's state (strongly consistent), or None when the account was never seen."""
        response = self._call(
            "get_item",
            TableName=self._table,
            Key={"pk": {"S": state_key(org_id, account_id)}},
            ConsistentRead=True,
        )
        item = response.get("Item")
        return self._from_item(item) if item else None

    def accounts_for_contacts(self, org_id: str, contact_ids: list[str]) -> dict[str, tuple[str, ...]]:
        """For each contact, the accounts whose customers draw fields from it (BatchGetItem, 100 per call)."""
        found: dict[str, tuple[str, ...]] = {}
        unique = sorted(set(contact_ids))
        for start in range(0, len(unique), 100):
            keys = [{"pk": {"S": contact_key(org_id, c)}} for c in unique[start : start + 100]]
            request: dict[str, Any] = {self._table: {"Keys": keys, "ConsistentRead": True}}
            while request:
                response = self._call("batch_get_item", RequestItems=request)
                for item in response.get("Responses", {}).get(self._table, []):
                    contact_id = item["pk"]["S"].rsplit("#", 1)[-1]
                    found[contact_id] = tuple(sorted(item.get("account_ids", {}).get("SS", [])))
                request = response.get("UnprocessedKeys") or {}
        return found

    # -- lease ---------------------------------------------------------------------------------------
    def acquire(
        self,
        org_id: str,
        account_id: str,
        *,
        version: int,
        pending_create: dict[str, Any] | None = None,
        params_hash: str | None = None,
        customer_id: str | None = None,
    ) -> Lease:
        """Lease the account for a new owner unless another lease is live or a newer version was applied.

        With ``params_hash`` the lease is only taken when there is something to write: when the same hash
        was already applied (to ``customer_id``, if given), AlreadyApplied is raised instead — so an event
        that changes nothing costs this one conditional call, which on DynamoDB also returns the item.

        ``pending_create`` (the params of a customer about to be created) is stored only if none is stored
        yet, with the time it was first stored (``pending_since``): after a crash between Stripe's create
        and ``commit``, the retry sends the very same params with the same Idempotency-Key, so Stripe
        replays the first create instead of making a second customer — while Stripe still keeps the key.
        Returns the lease, with the state as the same call left it. Raises LeaseHeld (transient), StaleVersion
        or AlreadyApplied.
        """
        owner = uuid.uuid4().hex
        now = self._now_ms()
        names = {"#lo": "lease_owner", "#lu": "lease_until", "#av": "applied_version"}
        values: dict[str, Any] = {
            ":o": {"S": owner},
            ":until": {"N": str(now + self._lease_ms)},
            ":now": {"N": str(now)},
            ":v": {"N": str(version)},
            ":org": {"S": org_id},
            ":acc": {"S": account_id},
        }
        update = "SET #lo = :o, #lu = :until, org_id = :org, account_id = :acc"
        if pending_create is not None:
            update += ", pending_create = if_not_exists(pending_create, :p)"
            update += ", pending_since = if_not_exists(pending_since, :now)"
            values[":p"] = {"M": _to_attr_map(pending_create)}
        condition = "(attribute_not_exists(#lu) OR #lu < :now OR #lo = :o) AND (attribute_not_exists(#av) OR #av <= :v)"
        if params_hash is not None:
            values[":h"] = {"S": self.digests.params_hash(params_hash)}
            changed = "attribute_not_exists(params_hash) OR params_hash <> :h OR attribute_not_exists(customer_id)"
            if customer_id is not None:
                values[":c"] = {"S": customer_id}
                changed += " OR customer_id <> :c"
            condition += f" AND ({changed})"
        try:
            response = self._call(
                "update_item",
                TableName=self._table,
                Key={"pk": {"S": state_key(org_id, account_id)}},
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except _ConditionFailed as refused:
            # DynamoDB returns the old item with the refusal; dynalite does not, so read it there.
            current = self._from_item(refused.item) if refused.item else self.get(org_id, account_id)
            raise why_refused(current, version, owner, now) from None
        return Lease(self, org_id, account_id, owner, self._from_item(response["Attributes"]))

    def commit(self, lease: Lease, result: Commit, *, new_customer: bool = False) -> None:
        """Record a successful sync and release the lease (only if its owner still holds it).

        ``new_customer``: the customer id is the one Stripe just answered with, recorded by this write (a
        create's second state write saved: ``Lease.hold_customer``), so it must not replace another id stored
        meanwhile either; the pending create is kept when this write is refused, and the retry replays it.

        When the contacts the customer draws on changed, the contact index items are updated first (one call
        each; dynalite has no transactions): if the commit then fails, the retry sees the old contacts and
        updates the index again — ADD and DELETE on a set are idempotent.
        """
        values: dict[str, Any] = {
            ":o": {"S": lease.owner},
            ":c": {"S": result.customer_id},
            ":v": {"N": str(result.version)},
            ":f": _string_map(self.digests.of(result.applied_fields)),
            ":sv": {"N": str(STATE_VERSION)},
            ":h": {"S": self.digests.params_hash(result.params_hash)},
            ":out": {"S": result.outcome},
            ":t": {"N": str(self._now_ms())},
            ":cids": {"L": [{"S": cid} for cid in result.contact_ids]},
            ":kept": {"L": [{"S": path} for path in result.kept_fields]},
            ":warn": {"L": [{"M": _to_attr_map(warning.to_dict())} for warning in result.warnings]},
            ":tx": _string_map(self.digests.tax_id_names(result.tax_ids)),
        }
        update = (
            f"SET customer_id = :c, applied_version = :v, {FIELDS_SET}, params_hash = :h,"
            " outcome = :out, updated_at = :t, contact_ids = :cids, kept_fields = :kept, field_warnings = :warn,"
            " tax_ids = :tx"
            f" REMOVE lease_owner, lease_until, {PENDING_CREATE_ATTRIBUTES}, {V1_VALUES}, sync_error, error_field,"
            " writeback_error, writeback_error_at"
        )
        org_id, account_id = lease.org_id, lease.account_id
        self._index_contacts(org_id, account_id, set(lease.state.contact_ids), set(result.contact_ids))
        condition = "(attribute_not_exists(customer_id) OR customer_id = :c)" if new_customer else None
        self._update_owned(org_id, account_id, update, values, condition=condition)

    def _index_contacts(self, org_id: str, account_id: str, before: set[str], after: set[str]) -> None:
        for contact_id, action in [
            *((c, "ADD") for c in sorted(after - before)),
            *((c, "DELETE") for c in sorted(before - after)),
        ]:
            self._call(
                "update_item",
                TableName=self._table,
                Key={"pk": {"S": contact_key(org_id, contact_id)}},
                UpdateExpression=f"{action} account_ids :a",
                ExpressionAttributeValues={":a": {"SS": [account_id]}},
            )

    def release(
        self,
        lease: Lease,
        *,
        outcome: str,
        error: str | None = None,
        error_field: str | None = None,
        drop_pending_create: bool = False,
    ) -> None:
        """Release the lease, recording an outcome that changed nothing in Stripe (skip or permanent error)."""
        values: dict[str, Any] = {":o": {"S": lease.owner}, ":out": {"S": outcome}, ":t": {"N": str(self._now_ms())}}
        sets = ["outcome = :out", "updated_at = :t"]
        removes = ["lease_owner", "lease_until"]
        for name, value in (("sync_error", error), ("error_field", error_field)):
            if value:
                values[f":{name}"] = {"S": value}
                sets.append(f"{name} = :{name}")
            else:
                removes.append(name)
        if drop_pending_create:
            # The create failed for good: a later attempt (with fixed data) must use fresh params and key.
            removes.append(PENDING_CREATE_ATTRIBUTES)
        if error:
            removes.append("field_warnings")  # the record failed as a whole: its field warnings are moot
        update = f"SET {', '.join(sets)} REMOVE {', '.join(removes)}"
        self._update_owned(lease.org_id, lease.account_id, update, values)

    # -- the pending create ---------------------------------------------------------------------------------
    def record_customer(
        self, lease: Lease, *, customer_id: str, applied_fields: dict[str, str], tax_ids: dict[str, str]
    ) -> None:
        """Keep the customer id Stripe just answered with (created or adopted), the fields it now has and the
        tax IDs its create added, before anything else can fail; ends the pending create. Not conditional on
        the lease (an id Stripe gave is kept even if the lease lapsed), but it never replaces a different id
        already stored."""
        self._update_for_customer(
            lease,
            customer_id,
            f"SET customer_id = :c, {FIELDS_SET}, tax_ids = :tx, updated_at = :t"
            f" REMOVE params_hash, {PENDING_CREATE_ATTRIBUTES}, {V1_VALUES}",
            {
                ":f": _string_map(self.digests.of(applied_fields)),
                ":sv": {"N": str(STATE_VERSION)},
                ":tx": _string_map(self.digests.tax_id_names(tax_ids)),
            },
            # Another id is stored (an admin's, or a concurrent writer's): theirs wins; the retry re-reads it.
            refusal="another Stripe customer id was recorded for this account meanwhile",
            condition="attribute_not_exists(customer_id) OR customer_id = :c",
        )

    def record_tax_ids(self, lease: Lease, *, customer_id: str, tax_ids: dict[str, str]) -> None:
        """Keep the tax IDs the sync added to ``customer_id`` the moment Stripe answered (``AccountState.tax_ids``
        replaced whole). Not conditional on the lease, like ``record_customer``: only on the customer still
        being the account's."""
        self._update_for_customer(
            lease,
            customer_id,
            "SET tax_ids = :tx, updated_at = :t",
            {":tx": _string_map(self.digests.tax_id_names(tax_ids))},
            refusal="the account's Stripe customer changed while its tax ID was added",
            condition="customer_id = :c",
        )

    def _update_for_customer(
        self,
        lease: Lease,
        customer_id: str,
        update: str,
        values: dict[str, Any],
        *,
        refusal: str,
        condition: str,
    ) -> None:
        """One update of the account's item under ``condition`` on its customer id (``:c``; ``:t`` is now);
        LeaseHeld with ``refusal`` when the condition fails (the retry re-reads the account)."""
        try:
            self._call(
                "update_item",
                TableName=self._table,
                Key={"pk": {"S": state_key(lease.org_id, lease.account_id)}},
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeValues={
                    ":c": {"S": customer_id},
                    ":t": {"N": str(self._now_ms())},
                    **values,
                },
            )
        except _ConditionFailed:
            raise LeaseHeld(refusal) from None

    def restart_create(self, lease: Lease, *, params: dict[str, Any], attempt: int) -> None:
        """Start a new create (new params, new key ``attempt``, new window) after an unknown-outcome create
        was looked for in Stripe and not found. Only while the lease is held."""
        values: dict[str, Any] = {
            ":o": {"S": lease.owner},
            ":p": {"M": _to_attr_map(params)},
            ":now": {"N": str(self._now_ms())},
            ":n": {"N": str(attempt)},
        }
        update = "SET pending_create = :p, pending_since = :now, create_attempt = :n REMOVE create_unknown"
        self._update_owned(lease.org_id, lease.account_id, update, values)

    def mark_create_unknown(self, lease: Lease) -> None:
        """Stripe answered the pending create with a 500: its outcome is unknown until looked for."""
        values: dict[str, Any] = {":o": {"S": lease.owner}, ":u": {"BOOL": True}}
        self._update_owned(lease.org_id, lease.account_id, "SET create_unknown = :u", values)

    def record_outcome(
        self,
        org_id: str,
        account_id: str,
        *,
        outcome: str,
        error: str | None = None,
        error_field: str | None = None,
    ) -> None:
        """Record an outcome without a lease (a mapping error found before any Stripe work)."""
        values: dict[str, Any] = {
            ":out": {"S": outcome},
            ":t": {"N": str(self._now_ms())},
            ":org": {"S": org_id},
            ":acc": {"S": account_id},
            ":err": {"S": error or ""},
            ":ef": {"S": error_field or ""},
        }
        self._call(
            "update_item",
            TableName=self._table,
            Key={"pk": {"S": state_key(org_id, account_id)}},
            UpdateExpression=(
                "SET outcome = :out, updated_at = :t, org_id = :org, account_id = :acc,"
                " sync_error = :err, error_field = :ef REMOVE field_warnings"
            ),
            ExpressionAttributeValues=values,
        )

    def record_write_back_error(self, org_id: str, account_id: str, error: str | None) -> None:
        """Remember Salesforce's permanent refusal of the account's write-back; ``None`` clears it.

        No lease needed: it describes the Salesforce side only. Clearing is conditional, so an account
        without a recorded refusal costs one refused conditional write and changes nothing.
        """
        key = {"pk": {"S": state_key(org_id, account_id)}}
        if error is None:
            with contextlib.suppress(_ConditionFailed):  # nothing recorded: nothing to clear
                self._call(
                    "update_item",
                    TableName=self._table,
                    Key=key,
                    UpdateExpression="REMOVE writeback_error, writeback_error_at",
                    ConditionExpression="attribute_exists(writeback_error)",
                )
            return
        self._call(
            "update_item",
            TableName=self._table,
            Key=key,
            UpdateExpression="SET writeback_error = :e, writeback_error_at = :t, org_id = :org, account_id = :acc",
            ExpressionAttributeValues={
                ":e": {"S": error[:1000]},
                ":t": {"N": str(self._now_ms())},
                ":org": {"S": org_id},
                ":acc": {"S": account_id},
            },
        )

    def _update_owned(
        self, org_id: str, account_id: str, update: str, values: dict[str, Any], *, condition: str | None = None
    ) -> None:
        """One update while ``lease_owner`` (``:o``) holds the account, and ``condition`` if given."""
        try:
            self._call(
                "update_item",
                TableName=self._table,
                Key={"pk": {"S": state_key(org_id, account_id)}},
                UpdateExpression=update,
                ConditionExpression=f"lease_owner = :o AND {condition}" if condition else "lease_owner = :o",
                ExpressionAttributeValues=values,
            )
        except _ConditionFailed:
            # Our lease expired and someone else took over (or recorded another customer id): the retry re-reads.
            raise LeaseHeld("the lease on this account expired before the sync finished") from None

    # -- plumbing ------------------------------------------------------------------------------------
    def _call(self, operation: str, **kwargs: Any) -> Any:
        try:
            return getattr(self._client, operation)(**kwargs)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "ConditionalCheckFailedException":
                raise _ConditionFailed(exc.response.get("Item")) from exc
            raise TransientSyncError(f"DynamoDB {operation} failed ({code})") from exc


def _string_map(values: dict[str, str]) -> dict[str, Any]:
    """A DynamoDB map attribute of strings."""
    return {"M": {k: {"S": v} for k, v in values.items()}}


class _ConditionFailed(Exception):
    """Internal: a conditional write was refused (``item``: the old item, when DynamoDB returned it)."""

    def __init__(self, item: dict[str, Any] | None = None) -> None:
        super().__init__("condition failed")
        self.item = item
