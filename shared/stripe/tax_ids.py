"""Stripe customer tax IDs: the types Stripe accepts and the type a VAT number most likely has.

Types come from stripe-python's own ``CustomerTaxIdCreateParams`` (the SDK pinned in pyproject.toml), so a
type is accepted exactly when the pinned API version accepts it. EU membership comes from python-stdnum's
``stdnum.eu.vat.MEMBER_STATES`` (a maintained dataset, not a hand-kept list).

Stripe, https://docs.stripe.com/billing/customer/tax-ids: every EU member state's VAT number is type
``eu_vat`` (Greece with its VAT prefix ``EL``, Northern Ireland with ``XI``); other countries have their own
``<country>_vat`` type (``gb_vat`` ``GB123456789``, ``ch_vat`` ``CHE-123.456.789 MWST``, ``no_vat``
``123456789MVA``); tax IDs are immutable objects under the customer (create, list, delete — no update).
"""

from __future__ import annotations

import functools
import typing

from stripe.params import CustomerTaxIdCreateParams

# VAT prefixes that are not the ISO country code: Greece uses EL (ISO GR).
_VAT_PREFIX_COUNTRY = {"el": "gr"}


@functools.cache
def tax_id_types() -> frozenset[str]:
    """Every tax ID ``type`` the pinned SDK (and so the pinned API version) accepts."""
    hint = typing.get_type_hints(CustomerTaxIdCreateParams)["type"]
    literals = [arg for arg in typing.get_args(hint) if typing.get_origin(arg) is typing.Literal]
    return frozenset(value for literal in literals for value in typing.get_args(literal))


def derive_tax_id_type(value: str, billing_country: str | None) -> str | None:
    """The Stripe tax ID type of a VAT number, from its country prefix or else the billing country.

    ``"DE123456789"`` → ``eu_vat``; ``"GB123456789"`` → ``gb_vat``; ``"CHE-123.456.789 MWST"`` → ``ch_vat``;
    ``"123456789MVA"`` with billing country ``NO`` → ``no_vat``. None when neither tells (the caller reports
    it as a field warning and asks for an explicit ``type`` in the mapping).
    """
    prefix = value.strip()[:2].lower()
    if prefix.isalpha():
        found = _vat_type(_VAT_PREFIX_COUNTRY.get(prefix, prefix))
        if found:
            return found
    return _vat_type(billing_country.lower()) if billing_country else None


def _vat_type(country: str) -> str | None:
    # Imported here: only a mapping that derives tax ID types needs python-stdnum.
    from stdnum.eu.vat import MEMBER_STATES

    if country in MEMBER_STATES or country == "gr":
        return "eu_vat"
    own = f"{country}_vat"
    return own if own in tax_id_types() else None
