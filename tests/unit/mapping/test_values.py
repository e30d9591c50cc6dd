"""R5 values under Stripe's data rules: street lines, email syntax, length limits, empty values."""

from __future__ import annotations

import pytest

from shared.errors import PermanentSyncError
from shared.mapping import CustomerMapping, load_mapping
from tests.unit.mapping.records import account, orders

EMAIL_PATH = "Order.SBQQ__Quote__r.SBQQ__PrimaryContact__r.Email"


@pytest.fixture(scope="module")
def standard() -> CustomerMapping:
    return load_mapping("standard")


def test_rule_r5_multi_line_billing_street_splits_into_line1_and_line2(standard: CustomerMapping) -> None:
    # Given a BillingStreet text area with CRLF line breaks and a blank line
    record = account(BillingStreet="  Hauptstraße 1 \r\nHinterhaus\r\n\r\n3. OG\n")
    # When it is mapped
    address = standard.map_account(record).params["address"]
    # Then line1 is the first line and line2 the remaining non-empty lines
    assert address == {"line1": "Hauptstraße 1", "line2": "Hinterhaus, 3. OG"}


def test_rule_r5_one_line_billing_street_has_no_line2(standard: CustomerMapping) -> None:
    # Given a single-line street followed by empty lines
    record = account(BillingStreet="Hauptstraße 1\n\n")
    # When it is mapped
    address = standard.map_account(record).params["address"]
    # Then there is no line2
    assert address == {"line1": "Hauptstraße 1"}


def test_rule_r5_multi_line_shipping_street_splits_too(standard: CustomerMapping) -> None:
    # Given a two-line shipping street
    record = account(ShippingStreet="Hafenweg 7\nTor 3")
    # When it is mapped
    address = standard.map_account(record).params["shipping"]["address"]
    # Then both lines arrive
    assert address == {"line1": "Hafenweg 7", "line2": "Tor 3"}


def test_rule_r5_email_is_stripped(standard: CustomerMapping) -> None:
    # Given a contact email with surrounding whitespace
    record = account(Orders=orders("  ap@acme.de \n"))
    # When it is mapped
    # Then it is sent stripped
    assert standard.map_account(record).params["email"] == "ap@acme.de"


@pytest.mark.parametrize(
    "bad_email",
    [
        "max.mustermann",
        "max@@acme.de",
        "max@acme",
        "max mustermann@acme.de",
        "@acme.de",
        "max@acme..de",
        "a@b@c.de",
    ],
)
def test_rule_r5_invalid_email_is_a_permanent_error_without_the_value(
    standard: CustomerMapping, bad_email: str
) -> None:
    # Given a primary contact with a malformed email
    record = account(Orders=orders(bad_email))
    # When it is mapped
    with pytest.raises(PermanentSyncError) as raised:
        standard.map_account(record)
    # Then the error names the Salesforce field and does not echo the personal data
    assert raised.value.field == EMAIL_PATH
    assert raised.value.message == "is not a valid email address"
    assert bad_email not in str(raised.value)


def test_rule_r5_email_longer_than_512_chars_is_a_permanent_error(standard: CustomerMapping) -> None:
    # Given an email over Stripe's limit
    record = account(Orders=orders("a" * 510 + "@acme.de"))
    # When it is mapped
    with pytest.raises(PermanentSyncError) as raised:
        standard.map_account(record)
    # Then the error names the field
    assert raised.value.field == EMAIL_PATH


def test_rule_r5_phone_longer_than_20_chars_is_a_permanent_error(standard: CustomerMapping) -> None:
    # Given a phone number over Stripe's 20 characters
    phone = "+49 (0) 30 1234 5678 90"
    record = account(Phone=phone)
    # When it is mapped
    with pytest.raises(PermanentSyncError) as raised:
        standard.map_account(record)
    # Then the error names Phone and the limit, and neither truncates nor echoes the number
    assert raised.value.field == "Phone"
    assert "at most 20" in raised.value.message
    assert phone not in str(raised.value)


def test_rule_r5_name_longer_than_256_chars_is_a_permanent_error_not_truncated(
    standard: CustomerMapping,
) -> None:
    # Given an account name over Stripe's 256 characters
    record = account(Name="A" * 257)
    # When it is mapped
    with pytest.raises(PermanentSyncError) as raised:
        standard.map_account(record)
    # Then the error names Name and the limit
    assert raised.value.field == "Name"
    assert raised.value.message == "is 257 characters long; Stripe allows at most 256 for name"


def test_rule_r5_metadata_value_longer_than_500_chars_is_a_permanent_error() -> None:
    # Given a long text field mapped to metadata
    mapping = CustomerMapping.from_dict({"fields": {"metadata.notes": "Notes__c"}})
    # When its value exceeds Stripe's 500-character metadata limit
    with pytest.raises(PermanentSyncError) as raised:
        mapping.map_account(account(Notes__c="x" * 501))
    # Then the error names the field and the limit
    assert raised.value.field == "Notes__c"
    assert "at most 500" in raised.value.message


def test_rule_r5_values_are_stripped_and_whitespace_only_is_absent(standard: CustomerMapping) -> None:
    # Given padded values and whitespace-only ones
    record = account(Name="  Acme GmbH  ", Description=" \n ", BillingCity="\tBerlin ")
    # When it is mapped
    params = standard.map_account(record).params
    # Then values are stripped and empty ones are left out
    assert params["name"] == "Acme GmbH"
    assert "description" not in params
    assert params["address"] == {"city": "Berlin"}
