"""Salesforce REST API records, shaped as the sync worker's one SOQL query returns them."""

from __future__ import annotations

from typing import Any

ACCOUNT_ID = "0015g00000AbCdEAAV"
CONTACT_ID = "0035g00000XyZaBAAA"
ORDER_ID = "8015g00000OrDeRAAA"

_ADDRESS_PARTS = ("Street", "City", "State", "PostalCode", "Country")


def _attributes(sobject: str, record_id: str) -> dict[str, str]:
    return {"type": sobject, "url": f"/services/data/v59.0/sobjects/{sobject}/{record_id}"}


def account(**fields: Any) -> dict[str, Any]:
    """An Account with every standard-preset field null and no activated order, updated by `fields`."""
    record: dict[str, Any] = {
        "attributes": _attributes("Account", ACCOUNT_ID),
        "Id": ACCOUNT_ID,
        "Name": "Acme GmbH",
        "Phone": None,
        "Description": None,
        **{f"Billing{part}": None for part in _ADDRESS_PARTS},
        **{f"Shipping{part}": None for part in _ADDRESS_PARTS},
        "Orders": None,
    }
    record.update(fields)
    return record


def orders(email: str | None, contact_id: str | None = CONTACT_ID) -> dict[str, Any]:
    """The `Orders` subquery result: the latest activated order, its quote and primary contact."""
    contact = None
    if contact_id is not None:
        contact = {"attributes": _attributes("Contact", contact_id), "Email": email}
    quote = {
        "attributes": _attributes("SBQQ__Quote__c", "a0x5g00000QuOtEAAA"),
        "SBQQ__PrimaryContact__c": contact_id,
        "SBQQ__PrimaryContact__r": contact,
    }
    order = {"attributes": _attributes("Order", ORDER_ID), "Id": ORDER_ID, "SBQQ__Quote__r": quote}
    return {"totalSize": 1, "done": True, "records": [order]}
