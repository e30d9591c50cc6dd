"""R3: every customer field is optional; missing values and null relationships just leave fields out."""

from __future__ import annotations

from typing import Any

import pytest

from shared.mapping import CustomerMapping
from tests.unit.mapping.records import ACCOUNT_ID, account, orders


def test_rule_r3_account_without_activated_order_maps_without_email(standard: CustomerMapping) -> None:
    # Given an account with no activated order (the Orders subquery is null)
    record = account(Orders=None, BillingCity="Berlin")
    # When it is mapped with the preset that reads email from the order
    mapped = standard.map_account(record)
    # Then it maps without error and without email or contact
    assert "email" not in mapped.params
    assert mapped.params["address"] == {"city": "Berlin"}
    assert mapped.contact_ids == ()


@pytest.mark.parametrize(
    "orders_value",
    [
        {"totalSize": 0, "done": True, "records": []},
        {"totalSize": 1, "done": True, "records": [{"attributes": {}, "Id": "801", "SBQQ__Quote__r": None}]},
        orders(None, contact_id=None),
        orders(None),
    ],
    ids=["no-rows", "null-quote", "null-contact", "null-email"],
)
def test_rule_r3_null_relationships_on_the_way_leave_email_absent(
    standard: CustomerMapping, orders_value: dict[str, Any]
) -> None:
    # Given an order whose quote, contact or email is missing
    record = account(Orders=orders_value)
    # When it is mapped
    params = standard.map_account(record).params
    # Then there is simply no email
    assert "email" not in params


def test_rule_r3_account_with_only_name_maps_to_name_and_id(standard: CustomerMapping) -> None:
    # Given an account where every optional field is null
    record = account(Name="Acme GmbH")
    # When it is mapped
    params = standard.map_account(record).params
    # Then only the name and the account id are sent
    assert params == {"metadata": {"salesforce_account_id": ACCOUNT_ID}, "name": "Acme GmbH"}


def test_rule_r3_fields_missing_from_the_record_are_absent(standard: CustomerMapping) -> None:
    # Given a record holding only Id and Name (no other keys at all)
    record = {"attributes": {"type": "Account"}, "Id": ACCOUNT_ID, "Name": "Acme GmbH"}
    # When it is mapped
    params = standard.map_account(record).params
    # Then it maps like an account with nulls
    assert params == {"metadata": {"salesforce_account_id": ACCOUNT_ID}, "name": "Acme GmbH"}
