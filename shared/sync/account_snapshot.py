"""Turn an Account record read from Salesforce (REST/SOQL shape) into the engine's ``AccountSnapshot``.

The version of what the customer is built from is the newest ``SystemModstamp`` among the account, its
latest activated order and the records reached through that order (quote, contact): a change to any of them
changes the customer's data, and every fresh read sees the newest of each, so the version never goes back.
"""

from __future__ import annotations

from typing import Any

from shared.salesforce.datetimes import parse_salesforce_datetime
from shared.sync.customer_sync import AccountSnapshot


def latest_activated_order(record: dict[str, Any]) -> dict[str, Any] | None:
    """The account's latest activated order from the ``Orders`` child subquery, if any."""
    orders = record.get("Orders") or {}
    records = orders.get("records") or []
    return records[0] if records else None


def record_version(record: dict[str, Any]) -> int:
    """The newest SystemModstamp found anywhere in the record tree (epoch ms; 0 when none)."""
    newest = 0
    stack: list[Any] = [record]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stamp = node.get("SystemModstamp")
            if isinstance(stamp, str):
                newest = max(newest, parse_salesforce_datetime(stamp))
            stack.extend(value for key, value in node.items() if key != "attributes")
        elif isinstance(node, list):
            stack.extend(node)
    return newest


def snapshot_from_record(
    org_id: str, record: dict[str, Any], *, stripe_id_field: str, adopt_field: str | None = None
) -> AccountSnapshot:
    """Build the snapshot the engine needs from one Account record (read with queryAll).

    ``adopt_field`` is the optional adoption field (``SALESFORCE_ADOPT_FIELD``): the customer id in it is the
    admin's consent to adopt that customer.
    """
    stripe_id = (record.get(stripe_id_field) or "").strip() or None
    adopt = (record.get(adopt_field) or "").strip() or None if adopt_field else None
    return AccountSnapshot(
        org_id=org_id,
        account_id=record["Id"],
        record=record,
        version=record_version(record),
        stripe_id=stripe_id,
        has_activated_order=latest_activated_order(record) is not None,
        deleted=bool(record.get("IsDeleted")),
        merged_into=record.get("MasterRecordId") or None,
        adopt_customer_id=adopt,
    )


def missing_snapshot(org_id: str, account_id: str) -> AccountSnapshot:
    """An account the query did not return at all (deleted and purged, or never existed)."""
    return AccountSnapshot(org_id=org_id, account_id=account_id, record=None, version=0, deleted=True)
