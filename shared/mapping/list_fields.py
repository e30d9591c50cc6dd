"""Stripe customer fields that hold lists: ``preferred_locales``, ``invoice_settings.custom_fields``, tax IDs.

In the mapper's flat form a list is spelled with item indexes (``preferred_locales.0``,
``invoice_settings.custom_fields.1.value``, ``tax_id_data.0.type``), so the applied state, the content hash
and the diffing keep working on plain dot-paths; :func:`listify` turns the indexes back into the lists
Stripe's params take. Stripe replaces a list whole on update (``preferred_locales``: "ordered by
preference"; ``invoice_settings.custom_fields``: "the whole array is replaced"), so the diffing sends the
whole list whenever any item changed (https://docs.stripe.com/api/customers/update).

- ``preferred_locales`` (https://docs.stripe.com/api/customers/object#customer_object-preferred_locales):
  a list of IETF language tags Stripe uses for invoices and emails (``de``, ``fr-CA``, ``pt-BR``). The
  update param is an array only (no ``""`` to unset), so a cleared Salesforce field leaves Stripe's as is.
- ``invoice_settings.custom_fields`` (https://docs.stripe.com/invoicing/customize#custom-fields):
  "up to 4" name/value pairs (the SDK's param docstring); a name "may be up to 40 characters", a value "up
  to 140" in the API version the pinned SDK sends (read from ``customer_params.json``, never hard-coded: an
  old spec said 30 for both); ``""`` removes them all.
- ``tax_id_data`` (https://docs.stripe.com/api/customers/create#create_customer-tax_id_data): create only;
  afterwards tax IDs are objects of their own (``shared.sync.tax_id_sync``), never part of an update.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from shared.mapping.stripe_paths import schema_document

PREFERRED_LOCALES = "preferred_locales"
CUSTOM_FIELDS = "invoice_settings.custom_fields"
TAX_ID_DATA = "tax_id_data"
LIST_PATHS = (PREFERRED_LOCALES, CUSTOM_FIELDS, TAX_ID_DATA)
# Lists Stripe's update accepts as "" (remove all); the others cannot be cleared by an update.
CLEARABLE = frozenset({CUSTOM_FIELDS})
# "The list of up to 4 default custom fields" (stripe-python's CustomerCreateParams docstring; the
# generated schema has no maxItems). tests/unit/test_stripe_limits.py checks it against the SDK.
MAX_CUSTOM_FIELDS = 4
_TAG = re.compile(r"^([A-Za-z]{2,3})(?:[-_]([A-Za-z]{2}|\d{3}))?$")


def _custom_field_max_length(part: str) -> int:
    """``maxLength`` of a custom field's ``name`` or ``value`` in the SDK's API version's create params."""
    schema = schema_document()["operations"]["create"]["properties"]["invoice_settings"]["properties"]
    items = next(branch["items"] for branch in schema["custom_fields"]["anyOf"] if branch.get("type") == "array")
    return int(items["properties"][part]["maxLength"])


MAX_CUSTOM_FIELD_NAME_LENGTH = _custom_field_max_length("name")
MAX_CUSTOM_FIELD_VALUE_LENGTH = _custom_field_max_length("value")


def list_path_of(path: str) -> str | None:
    """The list field a flat dot-path belongs to (``preferred_locales.0`` → ``preferred_locales``), else None."""
    return next((top for top in LIST_PATHS if path.startswith(f"{top}.")), None)


def items_of(flat: Mapping[str, str], top: str) -> dict[str, str]:
    """The flat entries of one list field."""
    return {path: value for path, value in flat.items() if path.startswith(f"{top}.")}


def listify(nested: dict[str, Any]) -> dict[str, Any]:
    """Nested params with the list fields' ``{"0": ..., "1": ...}`` turned into lists, in index order."""
    result = dict(nested)
    for top in LIST_PATHS:
        *parents, leaf = top.split(".")
        node = result
        for part in parents:
            if not isinstance(node.get(part), dict):
                break
            node[part] = node = dict(node[part])
        else:
            value = node.get(leaf)
            if isinstance(value, dict):
                node[leaf] = [value[key] for key in sorted(value, key=int)]
    return result


def locale(value: str) -> str | None:
    """A Salesforce language value as the IETF tag Stripe takes: ``de_DE`` → ``de-DE``, ``German`` → ``de``.

    Language names and ISO 639 codes are resolved with pycountry; ValueError for anything else.
    """
    text = value.strip()
    match = _TAG.match(text)
    if match:
        language, region = match.groups()
        code = _language(language)
        if code:
            return f"{code}-{region.upper()}" if region else code
    code = _language(text)
    if code is None:
        raise ValueError("is not a language Stripe knows (give an ISO 639 code such as de or fr-CA)")
    return code


def _language(text: str) -> str | None:
    import pycountry

    try:
        found = pycountry.languages.lookup(text)
    except LookupError:
        return None
    code = getattr(found, "alpha_2", None)
    return str(code) if code else None
