"""One account's item in the state table: its shape (``AccountState``, ``Commit``), keys and parsing.

The store (``shared.state.account_state``) reads and writes these items with conditional updates; this
module only says what an item holds, so readers such as reconcile's checkpoints share one definition.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from shared.errors import TransientSyncError
from shared.mapping.field_warnings import FieldWarning
from shared.state.field_digests import FieldDigests
from shared.state.items import from_attr as _from_attr
from shared.state.state_version import migrate


class LeaseHeld(TransientSyncError):
    """Another worker is syncing this account right now; retry after it finishes."""


class AlreadyApplied(Exception):
    """The same fields were already applied to the same customer: nothing to write, no lease taken."""

    def __init__(self, state: AccountState) -> None:
        super().__init__("these fields were already applied")
        self.state = state


class StaleVersion(Exception):
    """A newer Salesforce version of this account was already applied; this one must not overwrite it."""

    def __init__(self, applied_version: int) -> None:
        super().__init__(f"a newer version ({applied_version}) was already applied")
        self.applied_version = applied_version


@dataclass(frozen=True)
class AccountState:
    """What the store knows about one account."""

    org_id: str
    account_id: str
    customer_id: str | None = None
    applied_version: int | None = None
    # Stripe path → keyed digest of the value last applied (``shared.state.field_digests``), never the value:
    # stored as ``field_digests``. ``params_hash``: the keyed content hash of what was applied.
    applied_fields: dict[str, str] = field(default_factory=dict)
    params_hash: str | None = None
    pending_create: dict[str, Any] | None = None
    # When the pending create was first recorded (ms): Stripe keeps its key at least 24 h from then.
    pending_since: int | None = None
    # 0 for the first create; +1 each time an unknown-outcome create was looked for and not found (new key).
    create_attempt: int = 0
    # Stripe answered the pending create with a 500 (stored under its key): it may or may not have happened.
    create_unknown: bool = False
    contact_ids: tuple[str, ...] = ()
    kept_fields: tuple[str, ...] = ()
    # The field warnings of the last successful sync (fields left out or sent adjusted).
    warnings: tuple[FieldWarning, ...] = ()
    # The tax IDs the sync added to the customer ("<type>:<value>" → txi_ id; "" for a value Stripe refused):
    # only these are ever removed, never one added in Stripe by hand.
    tax_ids: dict[str, str] = field(default_factory=dict)
    outcome: str | None = None
    error: str | None = None
    error_field: str | None = None
    updated_at: int | None = None
    lease_owner: str | None = None
    lease_until: int | None = None
    # Salesforce's permanent refusal of the last write-back (e.g. a validation rule), until one succeeds. Stored
    # as `writeback_error(_at)`: the attribute names items of earlier releases hold (and the metric's name).
    write_back_error: str | None = None
    write_back_error_at: int | None = None


@dataclass(frozen=True)
class Commit:
    """The result of a successful sync to record."""

    customer_id: str
    version: int
    # The fields applied, in clear: the store keeps only their keyed digests (and the hash keyed).
    applied_fields: dict[str, str]
    params_hash: str
    outcome: str
    contact_ids: tuple[str, ...] = ()
    # Fields kept at their last value because their contact is gone in Salesforce (shown to operators).
    kept_fields: tuple[str, ...] = ()
    # Fields Stripe could not take as they are: kept with the state so `sfsync status` and reconcile show them.
    warnings: tuple[FieldWarning, ...] = ()
    tax_ids: dict[str, str] = field(default_factory=dict)  # see AccountState.tax_ids


def state_key(org_id: str, account_id: str) -> str:
    """The partition key of an account's item."""
    return f"{org_id}#{account_id}"


def contact_key(org_id: str, contact_id: str) -> str:
    """The partition key of a contact's index item (which accounts' customers draw on the contact)."""
    return f"contact#{org_id}#{contact_id}"


def now_ms() -> int:
    """Milliseconds since 1970 (the unit of every time in the state table)."""
    return int(time.time() * 1000)


def from_item(item: dict[str, Any], digests: FieldDigests) -> AccountState:
    """The account state held by a DynamoDB item (attribute-value form) of this or an earlier release
    (``shared.state.state_version``: an earlier item's values are digested with ``digests`` as it is read)."""
    data = migrate({k: _from_attr(v) for k, v in item.items()}, digests)
    return AccountState(
        org_id=data.get("org_id", ""),
        account_id=data.get("account_id", ""),
        customer_id=data.get("customer_id"),
        applied_version=data.get("applied_version"),
        applied_fields=data.get("field_digests", {}),
        params_hash=data.get("params_hash"),
        pending_create=data.get("pending_create"),
        pending_since=data.get("pending_since"),
        create_attempt=data.get("create_attempt", 0),
        create_unknown=bool(data.get("create_unknown", False)),
        contact_ids=tuple(data.get("contact_ids", ())),
        kept_fields=tuple(data.get("kept_fields", ())),
        warnings=tuple(FieldWarning.from_dict(warning) for warning in data.get("field_warnings", ())),
        tax_ids=data.get("tax_ids", {}),
        outcome=data.get("outcome"),
        error=data.get("sync_error"),
        error_field=data.get("error_field"),
        updated_at=data.get("updated_at"),
        lease_owner=data.get("lease_owner"),
        lease_until=data.get("lease_until"),
        write_back_error=data.get("writeback_error"),
        write_back_error_at=data.get("writeback_error_at"),
    )


def why_refused(current: AccountState | None, version: int, owner: str, now: int) -> Exception:
    """Why ``owner`` was refused the lease at ``now`` (ms), given the state found; order matters (see below)."""
    if current and current.applied_version is not None and current.applied_version > version:
        return StaleVersion(current.applied_version)
    if current and current.lease_until and current.lease_until >= now and current.lease_owner != owner:
        # Checked before "already applied": the holder may be writing other data than the state shows yet.
        return LeaseHeld("another worker is syncing this account; retrying later")
    if current is not None:
        return AlreadyApplied(current)
    return LeaseHeld("the account's state changed while leasing; retrying later")
