"""Unique fields: a second record with the same value is refused with ``DUPLICATE_VALUE``.

The package defines ``Account.Stripe_Customer_ID__c`` as ``<unique>true</unique>`` (case-sensitive), so two
accounts can never hold the same customer id: Salesforce refuses the insert or update with the status code
``DUPLICATE_VALUE`` ("You can't supply a duplicate value for a field that must be unique": SOAP API Developer
Guide, "StatusCode" in Core Data Types, https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/
sforce_api_calls_concepts_core_data_objects.htm), in REST as ``[{"errorCode": "DUPLICATE_VALUE", "message":
"duplicate value found: <field> duplicates value on record with id: <id>"}]`` (status 400; per record in sObject
Collections). Records in the Recycle Bin count too (Salesforce Help, knowledge article 000385434: "Records in
the Recycle Bin also count toward duplicate checking"). A case-insensitive unique field (the default) treats
``ABC`` and ``abc`` as the same value.

Not documented, and modelled as the smallest assumption: the losers of a merge (deleted, ``MasterRecordId``
set) don't count, so a merge may give the master record a loser's value and the master stays writable.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from .errors import SalesforceError
from .schema import ObjectDef


def duplicate_value(field: str, other_id: str) -> SalesforceError:
    """The REST error for a value another record holds (the message names the field and that record)."""
    return SalesforceError(
        400, "DUPLICATE_VALUE", f"duplicate value found: {field} duplicates value on record with id: {other_id}", []
    )


def check_unique(
    obj: ObjectDef,
    records: Iterable[Mapping[str, Any]],
    clean: Mapping[str, Any],
    record_id: str | None,
    *,
    ignore: Collection[str] = (),
) -> None:
    """Raise ``DUPLICATE_VALUE`` when a unique field of ``clean`` matches another record of the object.

    ``records`` are the object's stored records (live, and deleted ones in the Recycle Bin); ``record_id`` is
    the record being written (None on insert), which may keep its own value; ``ignore`` the losers of a merge
    in progress.
    """
    unique = [(f.name, f.case_sensitive) for f in obj.fields.values() if f.unique and clean.get(f.name) is not None]
    if not unique:
        return
    stored = list(records)
    for name, case_sensitive in unique:
        wanted = _comparable(clean[name], case_sensitive)
        for other in stored:
            if other["Id"] == record_id or other["Id"] in ignore or other.get("MasterRecordId"):
                continue
            if other.get(name) is not None and _comparable(other[name], case_sensitive) == wanted:
                raise duplicate_value(name, other["Id"])


def _comparable(value: Any, case_sensitive: bool) -> str:
    text = str(value)
    return text if case_sensitive else text.casefold()
