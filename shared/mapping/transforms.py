"""Value transforms: raw Salesforce values → the text Stripe gets.

Every transform takes stripped, non-empty text and returns text, or None for "nothing to send".
They raise ValueError with a message the admin can act on; messages never echo personal data
(email addresses, phone numbers).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from shared.mapping.countries import to_alpha2

Transform = Callable[[str], str | None]

MAX_EMAIL_LENGTH = 512
_WHITESPACE = re.compile(r"\s")


def to_text(value: Any) -> str | None:
    """A REST API value as stripped text; None for null, empty or whitespace-only."""
    if value is None:
        return None
    if isinstance(value, bool):  # before int: bool is an int subclass
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return value.strip() or None
    # A compound field (BillingAddress) or relationship record: the config must name one component.
    raise ValueError("is a compound or relationship field, not a single value; map one of its fields")


def text(value: str) -> str | None:
    """Plain text, stripped."""
    return value.strip() or None


def _street_lines(value: str) -> list[str]:
    # BillingStreet is a text area: lines end with \n or \r\n.
    return [line.strip() for line in value.splitlines() if line.strip()]


def street_line1(value: str) -> str | None:
    """The first non-empty line of a multi-line street."""
    lines = _street_lines(value)
    return lines[0] if lines else None


def street_line2(value: str) -> str | None:
    """The remaining non-empty lines of a multi-line street, joined with ", "."""
    return ", ".join(_street_lines(value)[1:]) or None


def country(value: str) -> str | None:
    """ISO 3166-1 alpha-2 from a code or a country name."""
    return to_alpha2(value)


def email(value: str) -> str | None:
    """The address, stripped, when its syntax is plausible (Stripe rejects invalid ones)."""
    address = value.strip()
    local, at, domain = address.partition("@")
    labels = domain.split(".")
    valid = (
        at
        and local
        and "@" not in domain
        and not _WHITESPACE.search(address)
        and len(address) <= MAX_EMAIL_LENGTH
        and len(labels) >= 2
        and all(labels)
    )
    if not valid:
        raise ValueError("is not a valid email address")
    return address


def phone(value: str) -> str | None:
    """The number with runs of whitespace collapsed; no reformatting (Stripe stores phone as text)."""
    return " ".join(value.split()) or None


TRANSFORMS: Mapping[str, Transform] = {
    "text": text,
    "street_line1": street_line1,
    "street_line2": street_line2,
    "country": country,
    "email": email,
    "phone": phone,
}
