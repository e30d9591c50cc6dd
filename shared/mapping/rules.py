"""Stripe's data rules for one customer field, applied to every value whatever its source.

Mapped values and static defaults both pass through `clean`, so a default is checked once at load
exactly as a Salesforce value is checked on every sync.
"""

from __future__ import annotations

from shared.mapping.stripe_paths import StripeField
from shared.mapping.transforms import country, email, phone

_PHONE_PATHS = frozenset({"phone", "shipping.phone"})
_EMAIL_PATHS = frozenset({"email"})


def clean(field: StripeField, value: str) -> str:
    """The value Stripe accepts for `field`; ValueError when it cannot be made valid.

    Too-long values are an error, never truncated: a silently cut address or name is worse
    than a sync error the admin sees.
    """
    result: str | None = value.strip()
    if field.path in _PHONE_PATHS:
        result = phone(result or "")
    elif field.path in _EMAIL_PATHS:
        result = email(result or "")
    elif not field.is_metadata and field.path.rpartition(".")[2] == "country":
        # address.country and shipping.address.country: tax needs alpha-2.
        result = country(result or "")
    if not result:
        raise ValueError("must not be empty")
    if field.choices and result not in field.choices:
        raise ValueError(f"must be one of {', '.join(field.choices)} for {field.path}")
    if field.max_length is not None and len(result) > field.max_length:
        raise ValueError(f"is {len(result)} characters long; Stripe allows at most {field.max_length} for {field.path}")
    return result
