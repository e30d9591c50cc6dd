"""Salesforce field paths: parsing config text and reading values from REST API records.

A path is relative to the Account (`Name`, `Parent.Name`) or, with the `Order.` prefix, to the account's
latest activated order, which the sync worker selects as the child subquery `Orders`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ORDER_PREFIX = "Order"
ORDERS_SUBQUERY = "Orders"
# SOQL allows at most five child-to-parent relationship levels in one path.
MAX_HOPS = 5

_SEGMENT = re.compile(r"[A-Za-z][A-Za-z0-9_]*")

# Relationships that end at a Contact, with the lookup field holding the contact's id.
_CONTACT_LOOKUPS = {
    "sbqq__primarycontact__r": "SBQQ__PrimaryContact__c",
    "billtocontact": "BillToContactId",
    "shiptocontact": "ShipToContactId",
}


@dataclass(frozen=True)
class SalesforcePath:
    """A parsed path: `segments` are relative to the Account, or to the Order when `on_order`."""

    text: str
    segments: tuple[str, ...]
    on_order: bool = False

    @property
    def soql(self) -> str:
        """The path as SOQL selects it (on Account, or inside the Orders subquery)."""
        return ".".join(self.segments)

    def contact_lookups(self) -> tuple[SalesforcePath, ...]:
        """The lookup id fields of every hop that ends at a Contact (from the same root)."""
        lookups = []
        for index, segment in enumerate(self.segments[:-1]):
            lookup = _CONTACT_LOOKUPS.get(segment.casefold())
            if lookup:
                segments = (*self.segments[:index], lookup)
                text = ".".join((ORDER_PREFIX, *segments) if self.on_order else segments)
                lookups.append(SalesforcePath(text, segments, self.on_order))
        return tuple(lookups)


def parse_path(text: object) -> SalesforcePath:
    """Parse a config path; ValueError naming the problem when it is not a valid SOQL field path."""
    if not isinstance(text, str):
        raise ValueError("a Salesforce field path must be a string")
    segments = tuple(text.split("."))
    on_order = segments[0].casefold() == ORDER_PREFIX.casefold()
    if on_order:
        segments = segments[1:]
        if not segments:
            raise ValueError(f"{text!r}: 'Order.' must be followed by a field of the order")
    for segment in segments:
        _check_segment(text, segment)
    for hop in segments[:-1]:
        if hop.casefold().endswith("__c"):
            raise ValueError(f"{text!r}: {hop!r} is a lookup field; a hop needs the relationship (…__r)")
    if len(segments) - 1 > MAX_HOPS:
        raise ValueError(f"{text!r}: more than {MAX_HOPS} relationship hops (SOQL's limit)")
    return SalesforcePath(text, segments, on_order)


def _check_segment(text: str, segment: str) -> None:
    if not _SEGMENT.fullmatch(segment) or segment.endswith("_"):
        raise ValueError(f"{text!r} is not a valid Salesforce field path (bad segment {segment!r})")


def latest_order(record: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The first row of the `Orders` subquery, or None when the account has no activated order."""
    orders = _get(record, ORDERS_SUBQUERY)
    if not isinstance(orders, Mapping):
        return None
    rows = orders.get("records") or []
    return rows[0] if rows and isinstance(rows[0], Mapping) else None


def resolve(record: Mapping[str, Any], path: SalesforcePath) -> Any:
    """The raw value at `path`; None when any hop is null or missing (R3: every field is optional)."""
    node: Any = latest_order(record) if path.on_order else record
    return resolve_segments(node, path.segments)


def resolve_segments(node: Any, segments: tuple[str, ...]) -> Any:
    """Walk `segments` from `node`; None as soon as a relationship is null or not a record."""
    for segment in segments:
        if not isinstance(node, Mapping):
            return None
        node = _get(node, segment)
    return node


def _get(node: Mapping[str, Any], name: str) -> Any:
    # SOQL names are case-insensitive but REST returns the schema's spelling, not the config's.
    if name in node:
        return node[name]
    folded = name.casefold()
    for key, value in node.items():
        if key.casefold() == folded and key != "attributes":
            return value
    return None
