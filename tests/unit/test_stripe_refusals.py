"""Which part of a request a Stripe refusal names (``shared.stripe.refusals``): Stripe's ``param``, or the
address Stripe Tax uses for ``customer_tax_location_invalid`` (https://docs.stripe.com/tax/customer-locations)."""

from __future__ import annotations

import pytest

from shared.stripe.gateway import CustomerGone, StripeRefusal
from shared.stripe.refusals import RefusedPart, flat_path, refused_part, without

PARAMS = {
    "name": "Acme",
    "address": {"city": "Brothers", "country": "US"},
    "shipping": {"name": "Acme", "address": {"country": "US"}},
    "metadata": {"salesforce_account_id": "001", "region": "EMEA"},
    "invoice_settings": {"custom_fields": [{"name": "PO", "value": "1"}], "footer": "Thanks"},
    "tax": {"validate_location": "immediately"},
}


def refusal(code: str | None, param: str | None) -> StripeRefusal:
    return StripeRefusal("refused", code=code, param=param)


@pytest.mark.parametrize(
    ("param", "root", "named"),
    [
        ("address[country]", "address", "address.country"),
        ("shipping[address][country]", "shipping", "shipping.address.country"),
        ("metadata[region]", "metadata.region", "metadata.region"),
        (
            "invoice_settings[custom_fields][0][value]",
            "invoice_settings.custom_fields",
            "invoice_settings.custom_fields.0.value",
        ),
        ("name", "name", "name"),
    ],
)
def test_a_refusal_naming_a_param_sent_is_tied_to_its_part(param: str, root: str, named: str) -> None:
    assert refused_part(refusal("parameter_invalid_string", param), PARAMS) == RefusedPart(
        root, named, "parameter_invalid_string"
    )
    assert flat_path(param) == named


def test_a_tax_location_refusal_is_tied_to_the_address_stripe_tax_uses() -> None:
    # Shipping first when present, else the billing address
    location = refusal("customer_tax_location_invalid", None)
    assert refused_part(location, PARAMS).root == "shipping"  # type: ignore[union-attr]
    billing_only = {key: value for key, value in PARAMS.items() if key != "shipping"}
    assert refused_part(location, billing_only).root == "address"  # type: ignore[union-attr]
    assert refused_part(location, {"name": "Acme"}) is None


@pytest.mark.parametrize(
    "exc",
    [
        refusal("parameter_invalid_string", "email"),  # not sent
        refusal("parameter_invalid_string", None),  # names nothing
        refusal("parameter_invalid_string", "metadata[salesforce_account_id]"),  # the sync's own key
        CustomerGone("gone"),
    ],
)
def test_a_refusal_not_tied_to_a_part_sent_is_a_record_error(exc: Exception) -> None:
    assert refused_part(exc, PARAMS) is None


def test_without_drops_the_part_and_the_location_flag_once_no_address_is_left() -> None:
    rest = without(without(PARAMS, "shipping"), "address")
    assert "tax" not in rest and "address" not in rest and rest["name"] == "Acme"
    assert without(PARAMS, "invoice_settings.custom_fields")["invoice_settings"] == {"footer": "Thanks"}
    assert without(PARAMS, "metadata.region")["metadata"] == {"salesforce_account_id": "001"}
    assert without(PARAMS, "shipping")["tax"] == {"validate_location": "immediately"}
