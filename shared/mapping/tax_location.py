"""Stripe Tax's customer location: which addresses it can place, and why a shipping address may be left out.

Stripe Tax places a customer by one address: "We use your customer's shipping address, if present. If a
shipping address is present but invalid, we raise a ``customer_tax_location_invalid`` error instead of trying
the next address", then the billing address (https://docs.stripe.com/tax/customer-locations, "Which customer
address we use"). The country must be ISO 3166-1 alpha-2; "We can't calculate tax for US customers with only
an ISO country code" (country and state are not enough either: a postal code is needed), and a Canadian
address needs a postal code or a province (same page, "Supported address formats").

So an account with a complete billing address and a shipping address holding only ``ShippingCountry = US``
would leave its customer unplaced: its invoices lose tax (``requires_location_inputs``) or fail to finalize.
When the billing address is one Stripe Tax can place and the shipping address is not, the shipping address
is not synced (cleared in Stripe on update), with a field warning naming the Salesforce field that is missing.
When neither can be placed, both are sent as they are: there is nothing better to offer Stripe Tax.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from shared.mapping.field_warnings import FieldWarning, adjusted

SHIPPING = "shipping"
# The mapping option (``defaults``): deferred | immediately, sent as a request flag (see MappedCustomer).
VALIDATE_LOCATION = "tax.validate_location"
_US_POSTAL = re.compile(r"^\d{5}(?:-\d{4})?$")
_CA_POSTAL = re.compile(r"^[A-Za-z]\d[A-Za-z][ -]?\d[A-Za-z]\d$")
_CA_PROVINCES = frozenset({"AB", "BC", "MB", "NB", "NL", "NS", "NT", "NU", "ON", "PE", "QC", "SK", "YT"})


def unplaceable(flat: Mapping[str, str], prefix: str) -> tuple[str, str] | None:
    """Why Stripe Tax can't place the address under ``prefix`` (``address.``, ``shipping.address.``).

    None when it can (or when there is no such address); else (the address sub-field that is missing or
    unusable, e.g. ``postal_code``, and the reason, without any value).
    """
    address = {path.removeprefix(prefix): value for path, value in flat.items() if path.startswith(prefix)}
    if not address:
        return None
    country = address.get("country", "").upper()
    if len(country) != 2:
        return "country", "Stripe Tax needs the country of an address as an ISO 3166-1 alpha-2 code"
    postal, state = address.get("postal_code", ""), address.get("state", "").upper()
    if country == "US" and not _US_POSTAL.match(postal):
        return "postal_code", "Stripe Tax can't place a US address without a 5- or 9-digit ZIP code"
    if country == "CA" and not (_CA_POSTAL.match(postal) or state in _CA_PROVINCES):
        return "postal_code", "Stripe Tax can't place a Canadian address without a postal code or province"
    return None


def without_unplaceable_shipping(
    flat: dict[str, str], warnings: list[FieldWarning], source_of: Callable[[str], str]
) -> dict[str, str]:
    """``flat`` without its shipping when Stripe Tax could place the billing address but not the shipping one.

    Appends a warning naming the Salesforce field (``source_of`` a Stripe path) of what the shipping address
    lacks; the warning is not "left out" (Stripe's shipping is cleared, not kept: keeping an unplaceable one
    would keep the customer unplaced).
    """
    problem = unplaceable(flat, f"{SHIPPING}.address.")
    if problem is None or unplaceable(flat, "address.") is not None or not _has(flat, "address."):
        return flat
    part, reason = problem
    path = f"{SHIPPING}.address.{part}"
    field = source_of(path)
    if field == path:  # that part is not mapped: name the shipping country the address was sent for
        field = source_of(f"{SHIPPING}.address.country")
    note = (
        f"{reason}, and would use the shipping address before the billing address; "
        "the shipping address is not synced, so Stripe Tax uses the billing address"
    )
    warnings[:] = [w for w in warnings if not w.stripe_path.startswith(SHIPPING)]
    warnings.append(adjusted(field, SHIPPING, note))
    return {path: value for path, value in flat.items() if not path.startswith(f"{SHIPPING}.")}


def _has(flat: Mapping[str, str], prefix: str) -> bool:
    return any(path.startswith(prefix) for path in flat)
