"""R4: by default only Name → name and Description → description are synced."""

from __future__ import annotations

from shared.mapping import load_mapping
from tests.unit.mapping.records import ACCOUNT_ID, account, orders


def test_rule_r4_default_preset_maps_only_name_and_description() -> None:
    # Given an account with phone, addresses and a primary contact email besides name and description
    record = account(
        Name="Acme GmbH",
        Description="Key account",
        Phone="+49 30 123456",
        BillingCity="Berlin",
        BillingCountry="Germany",
        ShippingCity="Hamburg",
        Orders=orders("billing@acme.de"),
    )
    # When it is mapped with the default preset
    mapped = load_mapping("default").map_account(record)
    # Then only name, description and the always-added account id are sent
    assert mapped.params == {
        "description": "Key account",
        "metadata": {"salesforce_account_id": ACCOUNT_ID},
        "name": "Acme GmbH",
    }
    assert mapped.contact_ids == ()


def test_rule_r4_default_preset_selects_only_id_name_and_description() -> None:
    # Given the default preset
    mapping = load_mapping("default")
    # When the worker asks what to select
    # Then it is just the R4 fields (plus Id), and nothing from the order
    assert mapping.account_fields == ("Description", "Id", "Name")
    assert mapping.order_fields == ("Id",)


def test_rule_r4_salesforce_account_id_metadata_is_always_the_18_char_id() -> None:
    # Given an account record whose Id is in the 15-character form (Salesforce's documented example)
    record = account(Id="001A0000006Vm9r")
    # When it is mapped
    mapped = load_mapping("default").map_account(record)
    # Then metadata.salesforce_account_id holds the canonical 18-character id
    assert mapped.flat["metadata.salesforce_account_id"] == "001A0000006Vm9rIAC"
