"""R5 values under Stripe's data rules: street lines, email syntax, length limits, empty values."""

from __future__ import annotations

import pytest

from shared.mapping import CustomerMapping
from tests.unit.mapping.records import account, orders

EMAIL_PATH = "Order.SBQQ__Quote__r.SBQQ__PrimaryContact__r.Email"


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
        "a" * 510 + "@acme.de",
    ],
)
def test_rule_r5_invalid_email_is_left_out_with_a_warning_without_the_value(
    standard: CustomerMapping, bad_email: str
) -> None:
    # Given a primary contact with an email Stripe would refuse (malformed, or over its 512 characters)
    record = account(Name="Acme GmbH", Orders=orders(bad_email))
    # When it is mapped
    mapped = standard.map_account(record)
    # Then the customer is mapped without an email, and the warning names the Salesforce field, not the value
    assert "email" not in mapped.params
    assert mapped.params["name"] == "Acme GmbH"
    (warning,) = mapped.warnings
    assert (warning.field, warning.stripe_path, warning.left_out) == (EMAIL_PATH, "email", True)
    assert str(warning) == f"{EMAIL_PATH}: is not a valid email address; left out"
    assert bad_email not in str(warning)


def test_rule_r5_name_longer_than_256_chars_is_cut_with_a_warning(standard: CustomerMapping) -> None:
    # Given an account name over Stripe's 256 characters
    record = account(Name="A" * 257)
    # When it is mapped
    mapped = standard.map_account(record)
    # Then the name is sent cut to 256 characters and the warning names Name and the limit
    assert mapped.params["name"] == "A" * 256
    assert [str(w) for w in mapped.warnings] == [
        "Name: is 257 characters long; Stripe allows at most 256 for name: cut to fit"
    ]


def test_rule_r5_metadata_value_longer_than_500_chars_is_cut_with_a_warning() -> None:
    # Given a long text field mapped to metadata
    mapping = CustomerMapping.from_dict({"fields": {"metadata.notes": "Notes__c"}})
    # When its value exceeds Stripe's 500-character metadata limit
    mapped = mapping.map_account(account(Notes__c="x" * 501))
    # Then it is cut to 500 and the warning names the field and the limit
    assert mapped.params["metadata"]["notes"] == "x" * 500
    assert [w.field for w in mapped.warnings] == ["Notes__c"]
    assert "at most 500" in mapped.warnings[0].problem


def test_rule_r5_values_are_stripped_and_whitespace_only_is_absent(standard: CustomerMapping) -> None:
    # Given padded values and whitespace-only ones
    record = account(Name="  Acme GmbH  ", Description=" \n ", BillingCity="\tBerlin ")
    # When it is mapped
    params = standard.map_account(record).params
    # Then values are stripped and empty ones are left out
    assert params["name"] == "Acme GmbH"
    assert "description" not in params
    assert params["address"] == {"city": "Berlin"}


def test_description_over_stripes_5000_characters_is_cut_with_a_warning(standard: CustomerMapping) -> None:
    # Given the 5,200-character Description (Salesforce allows 32,000, Stripe 5,000)
    record = account(Description="Lorem ipsum " * 433 + "dolor")
    # When it is mapped
    mapped = standard.map_account(record)
    # Then Stripe gets the first 5,000 characters, and the warning names Description and the limit
    assert len(record["Description"]) == 5201
    assert mapped.params["description"] == record["Description"][:5000].rstrip()
    assert [str(w) for w in mapped.warnings] == [
        "Description: is 5,201 characters long; Stripe allows at most 5,000 for description: cut to fit"
    ]


def test_a_cut_never_separates_a_letter_from_its_accent(standard: CustomerMapping) -> None:
    # Given a description whose 5,000th character is followed by a combining accent (e + U+0301 = é)
    record = account(Description="x" * 4999 + "e\u0301" + "y" * 10)
    # When it is cut to Stripe's 5,000 characters
    description = standard.map_account(record).params["description"]
    # Then the accented letter is left out whole rather than sent without its accent
    assert description == "x" * 4999
