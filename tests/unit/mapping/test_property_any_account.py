"""Property: any Account that Salesforce itself accepts maps without a record-level error, and Stripe takes it.

A field Stripe can't take is a warning (left out or adjusted), never the loss of the customer; so for every
Account whose fields respect Salesforce's own field types and lengths, ``map_account`` succeeds and the
Stripe emulator's request validation (Stripe's OpenAPI schema for ``POST /v1/customers``) accepts the params.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devtools.stripe_emulator.validation import validate_params
from shared.mapping import CustomerMapping, load_mapping
from tests.unit.mapping.records import account, orders

# Salesforce's own limits for the standard fields the standard preset reads (Account and Contact field
# reference: Name 255, Phone 40, Description 32,000, street 255, city 40, state 80, postal code 20,
# country 80; Contact.Email 80).
LIMITS = {
    "Name": 255,
    "Phone": 40,
    **{f"{kind}Street": 255 for kind in ("Billing", "Shipping")},
    **{f"{kind}City": 40 for kind in ("Billing", "Shipping")},
    **{f"{kind}State": 80 for kind in ("Billing", "Shipping")},
    **{f"{kind}PostalCode": 20 for kind in ("Billing", "Shipping")},
    **{f"{kind}Country": 80 for kind in ("Billing", "Shipping")},
}
DESCRIPTION_LIMIT = 32_000
EMAIL_LIMIT = 80

MAPPING: CustomerMapping = load_mapping("standard")


def _text(limit: int) -> st.SearchStrategy[str | None]:
    return st.one_of(st.none(), st.text(max_size=limit))


# Long text areas: short values, and long ones (built by repetition: cheap to generate, still any characters).
_description = st.one_of(
    _text(300),
    st.builds(
        lambda piece, times: (piece * times)[:DESCRIPTION_LIMIT],
        st.text(min_size=1, max_size=40),
        st.integers(1, DESCRIPTION_LIMIT),
    ),
)
# Phones: what people type (digits, +, spaces, dashes, "ext."), and anything else up to 40 characters.
_phone = st.one_of(
    _text(LIMITS["Phone"]),
    st.from_regex(r"\+?[0-9 ()\-]{1,30}( ?(ext\.?|x) ?[0-9]{1,5})?", fullmatch=True).map(lambda s: s[:40]),
)
_country = st.one_of(_text(80), st.sampled_from(["Frankreich", "The Netherlands", "UAE", "Kosovo", "Korea", "DE"]))
_email = st.one_of(_text(EMAIL_LIMIT), st.emails().filter(lambda e: len(e) <= EMAIL_LIMIT))


@st.composite
def salesforce_accounts(draw: st.DrawFn) -> dict[str, Any]:
    fields: dict[str, Any] = {name: draw(_text(limit)) for name, limit in LIMITS.items()}
    fields["Name"] = draw(st.text(min_size=1, max_size=LIMITS["Name"]))  # required in Salesforce
    fields["Phone"] = draw(_phone)
    fields["BillingCountry"] = draw(_country)
    fields["ShippingCountry"] = draw(_country)
    fields["Description"] = draw(_description)
    email = draw(st.one_of(st.none(), _email))
    return account(**fields, Orders=orders(email) if email is not None else None)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(salesforce_accounts())
def test_any_account_salesforce_accepts_maps_and_stripe_accepts_the_create_params(record: dict[str, Any]) -> None:
    # Given any Account within Salesforce's own field types and lengths
    # When it is mapped (no record-level error may be raised)
    mapped = MAPPING.map_account(record)
    # Then the Stripe emulator's request validation accepts the create params
    validate_params("create", mapped.params)
    # And every warning names a Salesforce field the record has (the one to fix)
    for warning in mapped.warnings:
        assert warning.field in record or warning.field.startswith("Order.")
