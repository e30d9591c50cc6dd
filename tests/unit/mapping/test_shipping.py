"""R5 shipping rows under Stripe's rule: shipping needs an address and a name, phone only with them."""

from __future__ import annotations

from shared.mapping import CustomerMapping
from tests.unit.mapping.records import account


def test_rule_r5_no_shipping_without_shipping_address_even_with_phone(standard: CustomerMapping) -> None:
    # Given an account with a phone but no shipping address
    record = account(Phone="+49 30 123456", BillingCity="Berlin")
    # When it is mapped
    mapped = standard.map_account(record)
    # Then no shipping is sent at all (Stripe would reject shipping without an address)
    assert "shipping" not in mapped.params
    assert not [path for path in mapped.flat if path.startswith("shipping.")]
    # And the phone still goes to the customer's phone
    assert mapped.params["phone"] == "+49 30 123456"


def test_rule_r5_whitespace_only_shipping_address_counts_as_empty(standard: CustomerMapping) -> None:
    # Given shipping fields holding only whitespace and line breaks
    record = account(Phone="+49 30 123456", ShippingStreet=" \r\n ", ShippingCity="  ")
    # When it is mapped
    params = standard.map_account(record).params
    # Then there is no shipping
    assert "shipping" not in params


def test_rule_r5_shipping_city_adds_shipping_with_account_name_and_phone(standard: CustomerMapping) -> None:
    # Given an account with a shipping city and a phone
    record = account(Name="Acme GmbH", Phone="+49 30 123456", ShippingCity="Hamburg")
    # When it is mapped
    params = standard.map_account(record).params
    # Then shipping has the address, the account name and the phone
    assert params["shipping"] == {
        "address": {"city": "Hamburg"},
        "name": "Acme GmbH",
        "phone": "+49 30 123456",
    }


def test_rule_r5_shipping_name_falls_back_to_customer_name() -> None:
    # Given a custom mapping with a shipping address and a customer name, but no shipping.name
    config = {"fields": {"name": "Legal_Name__c", "shipping.address.city": "ShippingCity"}}
    mapping = CustomerMapping.from_dict(config)
    # When it is mapped
    params = mapping.map_account(account(Legal_Name__c="Acme Legal GmbH", ShippingCity="Hamburg")).params
    # Then shipping.name is the customer's name
    assert params["shipping"]["name"] == "Acme Legal GmbH"


def test_rule_r5_shipping_name_falls_back_to_account_name() -> None:
    # Given a mapping with only a shipping address
    mapping = CustomerMapping.from_dict({"fields": {"shipping.address.city": "ShippingCity"}})
    # When it is mapped
    params = mapping.map_account(account(Name="Acme GmbH", ShippingCity="Hamburg")).params
    # Then shipping.name is the account Name, and no customer name is invented
    assert params["shipping"] == {"address": {"city": "Hamburg"}, "name": "Acme GmbH"}
    assert "name" not in params


def test_rule_r5_shipping_without_any_name_is_left_out_with_a_warning() -> None:
    # Given a shipping address on a record without Name (Stripe requires shipping.name)
    mapping = CustomerMapping.from_dict({"fields": {"shipping.address.city": "ShippingCity", "phone": "Phone"}})
    # When it is mapped
    mapped = mapping.map_account(account(Name=None, ShippingCity="Hamburg", Phone="+49 30 1234"))
    # Then shipping is left out with a warning naming the account Name, and the rest is mapped
    assert "shipping" not in mapped.params
    assert mapped.params["phone"] == "+49 30 1234"
    assert [(w.field, w.stripe_path, w.left_out) for w in mapped.warnings] == [("Name", "shipping", True)]
