"""Account data the scenarios write to Salesforce, and the Stripe customer each version must become.

The expectation is written out here, independently of the product's mapping code, from the ``standard``
preset's rules: name, phone, description, billing address (street split into two lines, country as ISO
code). Every personal value (phone, street lines, emails) is also a value the leak scan looks for.
"""

from __future__ import annotations

from typing import Any

_CITIES = ("Berlin", "Hamburg", "München", "Köln", "Leipzig")


def account_fields(prefix: str, index: int, version: int) -> dict[str, str]:
    """Salesforce Account fields of account ``index`` at ``version`` (every version changes each field)."""
    return {
        "Name": f"{prefix} {index} GmbH v{version}",
        "Phone": f"+49 30 7{index:04d}{version:02d}",
        "Description": f"{prefix} customer {index}, revision {version}",
        "BillingStreet": f"{prefix}straße {index + 1}\nAufgang {chr(65 + version % 26)}{version}",
        "BillingCity": _CITIES[version % len(_CITIES)],
        "BillingPostalCode": f"{10_000 + index * 7 + version:05d}",
        "BillingCountry": "Deutschland" if version % 2 else "Germany",
    }


def personal_values(fields: dict[str, str]) -> dict[str, str]:
    """The values of ``fields`` that must never appear in a log, with what they are."""
    values = {fields["Phone"]: "phone", **dict.fromkeys(fields["BillingStreet"].split("\n"), "street")}
    values.update({value: "email" for name, value in fields.items() if "mail" in name.lower()})
    return values


def expected_customer(fields: dict[str, str]) -> dict[str, Any]:
    """The mapped part of the Stripe customer for these Account fields (mapping preset ``standard``)."""
    line1, _, line2 = fields["BillingStreet"].partition("\n")
    return {
        "name": fields["Name"],
        "phone": fields["Phone"],
        "description": fields["Description"],
        "address": {
            "line1": line1,
            "line2": line2 or None,
            "city": fields["BillingCity"],
            "postal_code": fields["BillingPostalCode"],
            "country": "DE",
        },
    }


def differences(customer: dict[str, Any], expected: dict[str, Any]) -> list[str]:
    """Paths where the customer differs from the expectation (empty when equal)."""
    found = []
    for key, wanted in expected.items():
        actual = customer.get(key)
        if isinstance(wanted, dict):
            nested = actual if isinstance(actual, dict) else {}
            found += [f"{key}.{path}" for path in differences(nested, wanted)]
        elif (actual or None) != (wanted or None):
            found.append(key)
    return found
