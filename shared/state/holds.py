"""The gate's holds: why the sync is paused, one item in the state table, read once per batch.

Every pause of the sync is a *hold* with a reason (``HoldReason``); the gate is open when there is none.
The holds live in DynamoDB (the account state table, item ``pk = "gate"``), not in template parameters or
the event source mapping, so a redeploy — even a new stack on the same, retained table — keeps them.

Item shape (one item, read with one eventually consistent GetItem, 0.5 read units)::

    {"pk": "gate",
     "live": True,                                   # set by ``sfsync go-live``; absent on a fresh table
     "hold_operator": {"since": 1765094400, "by": "sfsync", "note": "..."},
     "hold_api_budget": {...}, ...}                  # one attribute per reason, removed on release

A gate item without ``live`` means observe mode: the ``observe`` hold is implied until an operator goes live
(the observe-only start). With no gate item at all, the table decides once: when it already holds an
account's state with a customer id, the stack synced before this release had a gate (an upgrade, or a
reinstall on the retained table) and it stays live (``live`` is written); otherwise it is a new deployment,
in observe mode. That look is a Scan of items with a ``customer_id`` — done only while no gate item exists,
i.e. on a new stack whose table holds no account state yet (nothing is synced in observe mode).

Each reason is its own attribute, so releasing one never touches another: an automatic release (credentials
work again, the API budget refilled) removes only its own reason and can never release the operator's hold
(``AutomaticReleaseRefused``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from shared.state.items import from_attr, to_attr_map

GATE_KEY = "gate"


class HoldReason(StrEnum):
    """Why the sync is held; the value is the name ``sfsync`` shows and takes."""

    OPERATOR = "operator"  # sfsync pause: only an operator releases it
    OBSERVE = "observe"  # a new deployment until sfsync go-live: decide and report, write nothing
    LIVE_SWITCH = "live_switch"  # the Salesforce admin's "live sync off" preference
    API_BUDGET = "api_budget"  # the org's daily API requests used above the configured share
    CREDENTIALS = "credentials"  # fresh credentials refused, or a permission missing (403)


# Reasons a component may release by itself once it sees the cause gone; the others need a person.
AUTOMATIC = frozenset({HoldReason.LIVE_SWITCH, HoldReason.API_BUDGET, HoldReason.CREDENTIALS})


class AutomaticReleaseRefused(ValueError):
    """An automatic release was asked for a hold only a person may release (operator, observe)."""


@dataclass(frozen=True)
class Hold:
    """One hold: its reason, since when (epoch seconds), who placed it, and a note (no personal data)."""

    reason: HoldReason
    since: int | None = None
    by: str = ""
    note: str = ""

    def describe(self) -> str:
        """One line for ``sfsync status``: reason, since (UTC), by, note."""
        since = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(self.since)) if self.since else "a new deployment"
        parts = [f"{self.reason.value:<12} since {since}"]
        if self.by:
            parts.append(f"by {self.by}")
        if self.note:
            parts.append(f"— {self.note}")
        return " ".join(parts)


def holds_of(item: dict[str, Any] | None) -> list[Hold]:
    """The holds a gate item (DynamoDB attribute values, or None for no item) says are in place."""
    item = item or {}
    holds: list[Hold] = []
    if not (item.get("live") or {}).get("BOOL"):
        holds.append(Hold(HoldReason.OBSERVE, by="new deployment (sfsync go-live ends it)"))
    for reason in HoldReason:
        attr = item.get(f"hold_{reason.value}")
        if attr is None or reason is HoldReason.OBSERVE:  # observe is the absence of ``live``
            continue
        data = from_attr(attr)
        since = int(data.get("since") or 0) or None
        holds.append(Hold(reason, since, str(data.get("by", "")), str(data.get("note", ""))))
    return holds


class HoldStore:
    """The holds in ``table_name`` (the account state table); ``client`` is a boto3 DynamoDB client."""

    def __init__(self, table_name: str, client: Any, *, clock: Callable[[], float] = time.time) -> None:
        self._table = table_name
        self._client = client
        self._clock = clock

    def holds(self, *, consistent: bool = False) -> list[Hold]:
        """Every hold in place (empty: the gate is open). One GetItem; ``consistent`` for operators' reads."""
        answer = self._client.get_item(TableName=self._table, Key={"pk": {"S": GATE_KEY}}, ConsistentRead=consistent)
        item = answer.get("Item")
        if item is None:
            if self._synced_before():
                self._update("SET live = if_not_exists(live, :live)", {":live": {"BOOL": True}})
                item = {"live": {"BOOL": True}}
            else:
                # A new stack observes until go-live. The item is written once, so later reads find it and never
                # scan the table again (every batch of a new stack would otherwise scan it).
                self._update(
                    "SET created_at = if_not_exists(created_at, :now)", {":now": {"N": str(int(self._clock()))}}
                )
                item = {}
        return holds_of(item)

    def _synced_before(self) -> bool:
        """Whether any account state has a customer id (Scan, paged until the first one: a new stack's table
        holds none, only a few other items)."""
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "FilterExpression": "attribute_exists(customer_id)",
            "ProjectionExpression": "pk",
        }
        while True:
            page = self._client.scan(**kwargs)
            if page.get("Items"):
                return True
            if "LastEvaluatedKey" not in page:
                return False
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def place(self, reason: HoldReason, *, by: str, note: str = "") -> None:
        """Put a hold in place (again: its time and note are replaced). ``note`` must hold no personal data."""
        self.holds(consistent=True)  # a first hold on an upgraded stack must not turn it into observe mode
        if reason is HoldReason.OBSERVE:
            self._update("REMOVE live")
            return
        hold = {"since": int(self._clock()), "by": by, "note": note}
        self._update(f"SET hold_{reason.value} = :hold", {":hold": {"M": to_attr_map(hold)}})

    def release(self, reason: HoldReason, *, automatic: bool = False) -> None:
        """Remove one hold. ``automatic`` releases (a component that saw the cause gone) may release only the
        reasons in ``AUTOMATIC``: never the operator's hold, never observe (AutomaticReleaseRefused)."""
        if automatic and reason not in AUTOMATIC:
            raise AutomaticReleaseRefused(f"the {reason.value} hold is released only by an operator (sfsync)")
        self.holds(consistent=True)
        if reason is HoldReason.OBSERVE:
            self._update("SET live = :live", {":live": {"BOOL": True}})
            return
        self._update(f"REMOVE hold_{reason.value}")

    def _update(self, expression: str, values: dict[str, Any] | None = None) -> None:
        kwargs: dict[str, Any] = {"ExpressionAttributeValues": values} if values else {}
        self._client.update_item(
            TableName=self._table, Key={"pk": {"S": GATE_KEY}}, UpdateExpression=expression, **kwargs
        )
