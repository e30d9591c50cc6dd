"""What reconcile keeps: where a run stopped (checkpoint), and the account states it reads and re-bases.

A checkpoint is saved after every page, once that page's sync requests are on the queue, so an interrupted
run continues after the last account it finished — from a JSON file for the command line, or from an item
in the state table for the scheduled function (a Lambda has no file that outlives it).
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from shared.state.account_item import now_ms as _now_ms
from shared.state.account_state import FIELDS_SET, AccountState, AccountStateStore, _ConditionFailed, state_key
from shared.state.state_version import STATE_VERSION, V1_VALUES

_BATCH_GET = 100  # keys per BatchGetItem


@dataclass
class Checkpoint:
    """A reconcile run in progress: which run, what it does, the last account done and the counts so far."""

    run: str  # org id, creation mode and dry-run/apply: a checkpoint is only resumed by the same kind of run
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    after: str | None = None  # the last account id done (accounts are read in Id order)
    counts: dict[str, int] = field(default_factory=dict)
    enqueued: int = 0
    started_at: float = field(default_factory=time.time)

    def to_json(self) -> str:
        """The checkpoint as JSON text."""
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Checkpoint:
        """Inverse of ``to_json``."""
        return cls(**json.loads(text))


class Checkpoints(Protocol):
    """Where checkpoints are kept."""

    def load(self) -> Checkpoint | None:
        """The saved checkpoint, if any."""

    def save(self, checkpoint: Checkpoint) -> None:
        """Replace the saved checkpoint."""

    def clear(self) -> None:
        """Forget the checkpoint (the run is complete)."""


class FileCheckpoints:
    """A checkpoint in a JSON file (the command line's ``.local/reconcile-checkpoint.json``)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def load(self) -> Checkpoint | None:
        return Checkpoint.from_json(self.path.read_text()) if self.path.is_file() else None

    def save(self, checkpoint: Checkpoint) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Written aside and renamed: an interruption while writing never leaves half a checkpoint.
        partial = self.path.with_suffix(".partial")
        partial.write_text(checkpoint.to_json())
        partial.replace(self.path)

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)


class TableCheckpoints:
    """A checkpoint as an item of the state table (the scheduled function's), one per org."""

    def __init__(self, table_name: str, client: Any, org_id: str) -> None:
        self._table = table_name
        self._client = client
        self._key = {"pk": {"S": f"reconcile#{org_id}"}}

    def load(self) -> Checkpoint | None:
        item = self._client.get_item(TableName=self._table, Key=self._key, ConsistentRead=True).get("Item") or {}
        return Checkpoint.from_json(item["checkpoint"]["S"]) if "checkpoint" in item else None

    def save(self, checkpoint: Checkpoint) -> None:
        item = {**self._key, "checkpoint": {"S": checkpoint.to_json()}, "updated_at": {"N": str(_now_ms())}}
        self._client.put_item(TableName=self._table, Item=item)

    def clear(self) -> None:
        # An update rather than a delete: the function needs no dynamodb:DeleteItem on the state table.
        self._client.update_item(
            TableName=self._table,
            Key=self._key,
            UpdateExpression="SET updated_at = :t REMOVE checkpoint",
            ExpressionAttributeValues={":t": {"N": str(_now_ms())}},
        )


class ReconcileStateStore(AccountStateStore):
    """The account state store, plus the two things reconcile needs: read many, re-base one."""

    def get_many(self, org_id: str, account_ids: Sequence[str]) -> dict[str, AccountState]:
        """States by account id (BatchGetItem, strongly consistent); accounts never seen are left out."""
        found: dict[str, AccountState] = {}
        unique = sorted(set(account_ids))
        for start in range(0, len(unique), _BATCH_GET):
            keys = [{"pk": {"S": state_key(org_id, a)}} for a in unique[start : start + _BATCH_GET]]
            request: dict[str, Any] = {self._table: {"Keys": keys, "ConsistentRead": True}}
            while request:
                response = self._call("batch_get_item", RequestItems=request)
                for item in response.get("Responses", {}).get(self._table, []):
                    state = self._from_item(item)
                    found[state.account_id] = state
                request = response.get("UnprocessedKeys") or {}
        return found

    def rebase(self, org_id: str, account_id: str, *, seen: AccountState, actual: dict[str, str]) -> bool:
        """Make the state say what Stripe really holds, so the next sync sends what differs.

        The worker diffs against the fields it applied last; after a change made in Stripe itself (R8) those
        are not what the customer holds, and an unchanged account would send nothing. Replacing them with
        ``actual`` (and dropping the hash) makes the next sync write the difference. Only when the state is
        still the one reconcile saw (``seen``) and no sync holds the lease; False when it moved on.
        """
        values: dict[str, Any] = {
            ":f": {"M": {path: {"S": digest} for path, digest in self.digests.of(actual).items()}},
            ":sv": {"N": str(STATE_VERSION)},
            ":c": {"S": seen.customer_id or ""},
            ":h": {"S": seen.params_hash or ""},
            ":now": {"N": str(self._now_ms())},
        }
        try:
            self._call(
                "update_item",
                TableName=self._table,
                Key={"pk": {"S": state_key(org_id, account_id)}},
                UpdateExpression=f"SET {FIELDS_SET} REMOVE params_hash, {V1_VALUES}",
                # An item of the previous release holds its plain hash (``seen`` has it keyed): its values in
                # clear say it was not written by this release since, so it is still the state reconcile saw.
                ConditionExpression=f"customer_id = :c AND (params_hash = :h OR attribute_exists({V1_VALUES}))"
                " AND (attribute_not_exists(lease_until) OR lease_until < :now)",
                ExpressionAttributeValues=values,
            )
        except _ConditionFailed:
            return False
        return True
