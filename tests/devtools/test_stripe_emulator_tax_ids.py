"""Customer tax IDs in the Stripe emulator, driven through stripe-python's real ``StripeClient``.

Stripe documents tax IDs as immutable objects under a customer (create, retrieve, list, delete:
https://docs.stripe.com/api/tax_ids) with a per-type value format (https://docs.stripe.com/billing/customer/tax-ids);
a value without its type's format is refused with ``tax_id_invalid``.
"""

from __future__ import annotations

import pytest
import stripe

from devtools.stripe_emulator import StripeEmulator


def client(emu: StripeEmulator) -> stripe.StripeClient:
    return stripe.StripeClient(
        "sk_test_x", base_addresses={"api": emu.base_url}, http_client=stripe.RequestsClient(timeout=5)
    )


@pytest.mark.vendor_doc(
    "https://docs.stripe.com/api/tax_ids",
    "tax IDs are objects under the customer; on create they ride in tax_id_data",
)
def test_create_with_tax_id_data_adds_tax_id_objects(emu: StripeEmulator) -> None:
    # Given a customer created with a German VAT number in tax_id_data
    sc = client(emu)
    customer = sc.v1.customers.create(
        params={"name": "Acme GmbH", "tax_id_data": [{"type": "eu_vat", "value": "DE123456789"}]}
    )
    # When its tax IDs are listed
    listed = sc.v1.customers.tax_ids.list(customer.id)
    # Then the VAT number is a tax ID object of its own, with the country Stripe derives
    assert [(t.type, t.value, t.country, t.customer) for t in listed.data] == [
        ("eu_vat", "DE123456789", "DE", customer.id)
    ]
    assert listed.data[0].id.startswith("txi_")


def test_create_with_an_invalid_tax_id_creates_no_customer(emu: StripeEmulator) -> None:
    sc = client(emu)
    with pytest.raises(stripe.InvalidRequestError) as raised:
        sc.v1.customers.create(params={"name": "Acme", "tax_id_data": [{"type": "eu_vat", "value": "DE12"}]})
    assert raised.value.code == "tax_id_invalid"
    assert raised.value.param == "tax_id_data[0][value]"
    assert emu.customers() == []


@pytest.mark.parametrize(
    ("tax_type", "value"),
    [
        ("eu_vat", "ATU12345678"),
        ("eu_vat", "FRAB123456789"),
        ("eu_vat", "EL123456789"),
        ("eu_vat", "NL123456789B12"),
        ("gb_vat", "GB123456789"),
        ("ch_vat", "CHE-123.456.789 MWST"),
        ("no_vat", "123456789MVA"),
        ("us_ein", "12-3456789"),
        ("jp_cn", "1234567891234"),  # a type without a modelled format: any non-empty value
    ],
)
def test_documented_example_values_are_accepted(emu: StripeEmulator, tax_type: str, value: str) -> None:
    sc = client(emu)
    customer = sc.v1.customers.create()
    tax_id = sc.v1.customers.tax_ids.create(customer.id, params={"type": tax_type, "value": value})  # type: ignore[typeddict-item]
    assert (tax_id.type, tax_id.value) == (tax_type, value)


@pytest.mark.parametrize(
    ("tax_type", "value"),
    [("eu_vat", "GB123456789"), ("eu_vat", "DE 123 456 789"), ("gb_vat", "123456789"), ("ch_vat", "CHE123456789")],
)
@pytest.mark.vendor_doc(
    "https://docs.stripe.com/billing/customer/tax-ids",
    "a tax ID value without its type's format is refused (tax_id_invalid)",
)
def test_values_without_the_types_format_are_refused(emu: StripeEmulator, tax_type: str, value: str) -> None:
    sc = client(emu)
    customer = sc.v1.customers.create()
    with pytest.raises(stripe.InvalidRequestError) as raised:
        sc.v1.customers.tax_ids.create(customer.id, params={"type": tax_type, "value": value})  # type: ignore[typeddict-item]
    assert (raised.value.code, raised.value.param) == ("tax_id_invalid", "value")
    assert raised.value.user_message == f"Invalid value for {tax_type}."
    assert emu.tax_ids(customer.id) == []


def test_unknown_type_is_refused(emu: StripeEmulator) -> None:
    sc = client(emu)
    customer = sc.v1.customers.create()
    with pytest.raises(stripe.InvalidRequestError) as raised:
        sc.v1.customers.tax_ids.create(customer.id, params={"type": "xx_vat", "value": "1"})  # type: ignore[typeddict-item]
    assert raised.value.param == "type"


@pytest.mark.vendor_doc(
    "https://docs.stripe.com/api/tax_ids",
    "tax IDs are immutable: changed by deleting and adding",
)
def test_delete_removes_one_tax_id_and_a_second_delete_is_missing(emu: StripeEmulator) -> None:
    sc = client(emu)
    customer = sc.v1.customers.create()
    first = sc.v1.customers.tax_ids.create(customer.id, params={"type": "eu_vat", "value": "DE123456789"})
    kept = emu.add_tax_id(customer.id, "gb_vat", "GB123456789")  # added by hand in the dashboard
    deleted = sc.v1.customers.tax_ids.delete(customer.id, first.id)
    assert deleted.deleted is True
    assert [t["id"] for t in emu.tax_ids(customer.id)] == [kept]
    with pytest.raises(stripe.InvalidRequestError) as raised:
        sc.v1.customers.tax_ids.delete(customer.id, first.id)
    assert raised.value.code == "resource_missing"


def test_list_is_newest_first_and_paginates(emu: StripeEmulator) -> None:
    sc = client(emu)
    customer = sc.v1.customers.create()
    ids = [emu.add_tax_id(customer.id, "eu_vat", f"DE12345678{i}") for i in range(3)]
    page = sc.v1.customers.tax_ids.list(customer.id, params={"limit": 2})
    assert [t.id for t in page.data] == ids[::-1][:2] and page.has_more
    rest = sc.v1.customers.tax_ids.list(customer.id, params={"starting_after": page.data[-1].id})
    assert [t.id for t in rest.data] == [ids[0]] and not rest.has_more


def test_tax_ids_of_a_deleted_customer_are_missing(emu: StripeEmulator) -> None:
    sc = client(emu)
    customer = sc.v1.customers.create()
    sc.v1.customers.delete(customer.id)
    with pytest.raises(stripe.InvalidRequestError) as raised:
        sc.v1.customers.tax_ids.create(customer.id, params={"type": "eu_vat", "value": "DE123456789"})
    assert raised.value.code == "resource_missing"
