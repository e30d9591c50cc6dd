"""Builders for Salesforce records in the exact shape the REST API returns them (SOQL results)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.salesforce.ids import to_18

ORG_ID = to_18("00D5g000004ABCD")
_counter = itertools.count(1)
_BASE_TIME = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def new_id(prefix: str) -> str:
    """A fresh, well-formed 18-char id with the given key prefix."""
    return to_18(f"{prefix}5g0{next(_counter):09d}")


def sf_datetime(offset_seconds: int) -> str:
    """A Salesforce REST datetime ``offset_seconds`` after a fixed base time."""
    moment = _BASE_TIME + timedelta(seconds=offset_seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def _attributes(sobject: str, record_id: str | None) -> dict[str, str]:
    return {"type": sobject, "url": f"/services/data/v59.0/sobjects/{sobject}/{record_id or ''}"}


def contact_record(email: str | None = "ada@example.com", *, modstamp: int = 0, **fields: Any) -> dict[str, Any]:
    """A Contact as reached through ``SBQQ__PrimaryContact__r``."""
    return {
        "attributes": _attributes("Contact", None),
        "Email": email,
        "SystemModstamp": sf_datetime(modstamp),
        **fields,
    }


def order_record(
    contact: dict[str, Any] | None = None, *, contact_id: str | None = None, modstamp: int = 0
) -> dict[str, Any]:
    """An activated Order with its quote's primary contact (the ``Orders`` subquery's record)."""
    order_id = new_id("801")
    contact = contact if contact is not None else contact_record()
    return {
        "attributes": _attributes("Order", order_id),
        "Id": order_id,
        "SystemModstamp": sf_datetime(modstamp),
        "SBQQ__Quote__r": {
            "attributes": _attributes("SBQQ__Quote__c", None),
            "SBQQ__PrimaryContact__c": contact_id or new_id("003"),
            "SBQQ__PrimaryContact__r": contact,
        },
    }


def account_record(
    *,
    account_id: str | None = None,
    modstamp: int = 0,
    order: dict[str, Any] | bool | None = True,
    **fields: Any,
) -> dict[str, Any]:
    """An Account row with the latest activated order as the ``Orders`` subquery (``order=None``: none)."""
    account_id = account_id or new_id("001")
    record: dict[str, Any] = {
        "attributes": _attributes("Account", account_id),
        "Id": account_id,
        "Name": "Acme GmbH",
        "Description": None,
        "IsDeleted": False,
        "MasterRecordId": None,
        "SystemModstamp": sf_datetime(modstamp),
        "Stripe_Customer_ID__c": None,
    }
    record.update(fields)
    if order is True:
        order = order_record()
    record["Orders"] = None if not order else {"totalSize": 1, "done": True, "records": [order]}
    return record


# A complete US billing address Stripe Tax can place (ZIP and state present).
US_BILLING = {
    "BillingStreet": "27 Fredrick Ave",
    "BillingCity": "Brothers",
    "BillingState": "OR",
    "BillingPostalCode": "97712",
    "BillingCountry": "US",
}
