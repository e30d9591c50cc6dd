"""Phones: kept as written when they fit Stripe's 20 characters, else E.164 with a warning, else left out."""

from __future__ import annotations

from shared.mapping import CustomerMapping
from tests.unit.mapping.records import account


def test_phone_that_fits_is_kept_as_written_without_a_warning(standard: CustomerMapping) -> None:
    # Given a phone of 17 characters in the admin's own format
    mapped = standard.map_account(account(Phone="+49 (30) 1234-567"))
    # Then it is sent as written, with no warning
    assert mapped.params["phone"] == "+49 (30) 1234-567"
    assert mapped.warnings == ()


def test_phone_with_extension_over_20_chars_is_sent_as_e164_with_a_warning(standard: CustomerMapping) -> None:
    # Given the example: 24 characters (Salesforce allows 40, Stripe 20)
    phone = "+1 555-010-4477 ext. 725"
    mapped = standard.map_account(account(Phone=phone))
    # Then Stripe gets the E.164 number without the extension
    assert mapped.params["phone"] == "+15550104477"
    # And the warning names Phone and what was done, but not the number
    (warning,) = mapped.warnings
    assert str(warning) == (
        "Phone: is 24 characters long; Stripe allows at most 20: sent in international format (E.164)"
        " without its extension"
    )
    assert not warning.left_out and phone not in str(warning)


def test_national_phone_is_read_in_the_billing_country(standard: CustomerMapping) -> None:
    # Given a long German number written without a country code, on an account billed in Germany
    mapped = standard.map_account(account(Phone="030 1234 5678 ext. 12", BillingCountry="Deutschland"))
    # Then it is read as a German number
    assert mapped.params["phone"] == "+493012345678"


def test_phone_that_is_no_number_and_too_long_is_left_out_with_a_warning(standard: CustomerMapping) -> None:
    # Given text in the phone field that is no phone number and longer than 20 characters
    mapped = standard.map_account(account(Phone="call the front desk and ask for Ada", Name="Acme"))
    # Then the phone is left out, the rest is mapped, and the warning names Phone
    assert "phone" not in mapped.params and mapped.params["name"] == "Acme"
    assert [(w.field, w.left_out) for w in mapped.warnings] == [("Phone", True)]
