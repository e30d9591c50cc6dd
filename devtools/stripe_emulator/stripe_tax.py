"""Stripe Tax's view of a customer: its tax location, the ``tax`` object and ``tax[validate_location]``.

As Stripe documents it (https://docs.stripe.com/tax/customer-locations, "Which customer address we use"):

- one address places the customer: the **shipping address when present**, else the billing address (then
  payment-method details and IP, which the emulator does not model). "If a shipping address is present but
  invalid, we raise a ``customer_tax_location_invalid`` error instead of trying the next address";
- the country must be an ISO 3166-1 alpha-2 code; a US address needs a postal code ("We can't calculate
  tax for US customers with only an ISO country code", country and state are not enough); a Canadian one a
  postal code or a province;
- ``tax[validate_location]`` (https://docs.stripe.com/api/customers/update#update_customer-tax-validate_location):
  ``deferred`` never refuses; ``immediately`` refuses an unrecognised location with a 400
  ``customer_tax_location_invalid`` and changes nothing; ``auto`` — the update default since 2024-10-28
  (https://docs.stripe.com/changelog/acacia/2024-10-28/tax-validate-location-auto) — refuses like
  ``immediately`` but "only works for customers with automatic tax-enabled subscriptions". Create defaults to
  ``deferred``. Older API versions have no ``auto``: their update default is ``deferred``;
- the customer object's ``tax`` (https://docs.stripe.com/api/customers/object#customer_object-tax) is
  expandable, included only with ``expand[]=tax``: ``automatic_tax`` is ``supported``, ``not_collecting``
  (placed, but the account has no registration there: only when registrations are set on the emulator),
  ``unrecognized_location`` or ``failed`` (not modelled); ``location`` is ``{country, source, state}`` with
  ``source`` ``shipping_destination`` or ``billing_address``.

Stripe does not document a ``param`` for ``customer_tax_location_invalid``; the emulator sends none, so a
client can't rely on one.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from typing import Any

from devtools.stripe_emulator.validation import ApiError

LOCATION_INVALID = "customer_tax_location_invalid"
# The version that made ``auto`` the update default.
AUTO_SINCE = "2024-10-28"
_US_POSTAL = re.compile(r"^\d{5}(?:-\d{4})?$")
_CA_POSTAL = re.compile(r"^[A-Za-z]\d[A-Za-z][ -]?\d[A-Za-z]\d$")
_CA_PROVINCES = frozenset({"AB", "BC", "MB", "NB", "NL", "NS", "NT", "NU", "ON", "PE", "QC", "SK", "YT"})
_SOURCES = (("shipping", "shipping_destination"), ("address", "billing_address"))


def _text(address: Mapping[str, Any], key: str) -> str:
    return str(address.get(key) or "").strip()


def _is_country(code: str) -> bool:
    import pycountry

    return len(code) == 2 and pycountry.countries.get(alpha_2=code.upper()) is not None


def place(address: Mapping[str, Any]) -> dict[str, Any] | None:
    """``{country, state}`` for an address Stripe Tax can place, else None (the documented rules above)."""
    country, postal, state = _text(address, "country").upper(), _text(address, "postal_code"), _text(address, "state")
    if not _is_country(country):
        return None
    if country == "US" and not _US_POSTAL.match(postal):
        return None
    if country == "CA" and not (_CA_POSTAL.match(postal) or state.upper() in _CA_PROVINCES):
        return None
    return {"country": country, "state": state or None}


def _address_of(customer: Mapping[str, Any], key: str) -> Mapping[str, Any] | None:
    value = customer.get(key)
    if key == "shipping":
        value = (value or {}).get("address")
    if not isinstance(value, Mapping) or not any(_text(value, k) for k in value):
        return None
    return value


def location(customer: Mapping[str, Any]) -> tuple[dict[str, Any] | None, bool]:
    """(the customer's tax location, whether an address was present): the first present address decides."""
    for key, source in _SOURCES:
        address = _address_of(customer, key)
        if address is not None:
            placed = place(address)
            return ({**placed, "source": source} if placed else None), True
    return None, False


class StripeTax:
    """One mode's Stripe Tax settings: registrations and the customers with automatic-tax subscriptions."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._automatic: set[str] = set()
        self.registrations: frozenset[str] | None = None  # None: registered everywhere ("supported")

    def reset(self) -> None:
        with self._lock:
            self._automatic.clear()
            self.registrations = None

    def add_automatic_tax_subscription(self, customer_id: str) -> None:
        """The customer now has a subscription with ``automatic_tax[enabled]=true`` (what ``auto`` checks)."""
        with self._lock:
            self._automatic.add(customer_id)

    def tax_object(self, customer: Mapping[str, Any]) -> dict[str, Any]:
        """The customer's expanded ``tax`` object."""
        placed, _ = location(customer)
        if placed is None:
            status = "unrecognized_location"
        elif self.registrations is not None and placed["country"] not in self.registrations:
            status = "not_collecting"
        else:
            status = "supported"
        return {"automatic_tax": status, "ip_address": None, "location": placed, "provider": "stripe"}

    def check(self, operation: str, params: Mapping[str, Any], version: str, customer: Mapping[str, Any]) -> None:
        """Raise Stripe's 400 when ``tax[validate_location]`` asks for a location ``customer`` (as it would be
        after the request) doesn't have."""
        flag = (params.get("tax") or {}).get("validate_location")
        if flag is None:
            flag = "auto" if operation == "update" and version >= AUTO_SINCE else "deferred"
        if flag == "deferred":
            return
        if flag == "auto":
            with self._lock:
                if customer.get("id") not in self._automatic:
                    return
        placed, present = location(customer)
        if placed is None:
            which = "shipping address" if _address_of(customer, "shipping") else "billing address"
            message = (
                f"The customer's {which} can't be used to calculate tax: it is not a recognized location"
                if present
                else "The customer has no address that can be used to calculate tax"
            )
            raise ApiError(400, message, code=LOCATION_INVALID)


def expanded(body: dict[str, Any], params: Mapping[str, Any], stripe_tax: StripeTax) -> dict[str, Any]:
    """A customer answer with ``tax`` added when the request asked for it (``expand[]=tax``)."""
    if "tax" in (params.get("expand") or ()) and not body.get("deleted"):
        return {**body, "tax": stripe_tax.tax_object(body)}
    return body
