"""Phone numbers for Stripe's `phone` (at most 20 characters of free text).

Salesforce's Phone field holds up to 40 characters as typed ("+1 555-010-4477 ext. 725"). A number that
fits is kept as written (Stripe stores text, and the admin's formatting is theirs). One that does not fit is
read with ``phonenumbers`` (Google's libphonenumber metadata) and sent in E.164 (``+15550104477``: at most
16 characters), the extension dropped, with a warning; one that can't be read as a phone number is left out.
"""

from __future__ import annotations

from shared.mapping.field_warnings import Cleaned, FieldProblem


def fit_phone(value: str, *, max_length: int | None, region: str | None = None) -> Cleaned:
    """``value`` with whitespace runs collapsed when it fits, else its E.164 form with a note.

    ``region``: ISO 3166-1 alpha-2 of the account (billing country), for numbers written without ``+``
    and a country code. Raises FieldProblem when the number does not fit and can't be parsed.
    """
    text = " ".join(value.split())
    if max_length is None or len(text) <= max_length:
        return Cleaned(text)
    # Imported on the first phone that doesn't fit (~15 ms), not at every cold start.
    import phonenumbers

    too_long = f"is {len(text)} characters long; Stripe allows at most {max_length}"
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise FieldProblem(f"{too_long} and it is not a phone number that can be shortened") from None
    if not phonenumbers.is_possible_number(number):
        raise FieldProblem(f"{too_long} and it is not a phone number that can be shortened")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    dropped = " without its extension" if number.extension else ""
    return Cleaned(e164, f"{too_long}: sent in international format (E.164){dropped}")
