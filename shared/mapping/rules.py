"""Stripe's data rules for one customer field, applied to every value whatever its source.

Mapped values and static defaults both pass through `clean`, so a default is checked once at load
exactly as a Salesforce value is checked on every sync (a default that would need adjusting is a config
error; a Salesforce value that needs it is sent adjusted with a field warning, see ``field_warnings``).
"""

from __future__ import annotations

import unicodedata

from shared.mapping.field_warnings import Cleaned, FieldProblem
from shared.mapping.phones import fit_phone
from shared.mapping.stripe_paths import StripeField
from shared.mapping.transforms import country, email

_PHONE_PATHS = frozenset({"phone", "shipping.phone"})
_EMAIL_PATHS = frozenset({"email"})
# Joiners and selectors belong to the character before them: a cut must not separate them from it.
_JOINERS = frozenset({"\u200d", "\u200c", *(chr(c) for c in range(0xFE00, 0xFE10))})


def clean(field: StripeField, value: str, *, region: str | None = None) -> Cleaned:
    """The value Stripe accepts for `field`, with a note when it had to be adjusted.

    ``region``: the account's ISO 3166-1 alpha-2 country, used to read phone numbers written without a
    country code. Raises ValueError (the field is left out) when the value cannot be made valid. Lengths are
    Stripe's ``maxLength`` from its request schema (``stripe_paths``), counted in characters.
    """
    result: str | None = value.strip()
    note = None
    if field.path in _PHONE_PATHS:
        fitted = fit_phone(result or "", max_length=field.max_length, region=region)
        result, note = fitted.value, fitted.note
    elif field.path in _EMAIL_PATHS:
        result = email(result or "")
    elif not field.is_metadata and field.path.rpartition(".")[2] == "country":
        # address.country and shipping.address.country: tax needs alpha-2.
        result = country(result or "")
    if not result:
        raise FieldProblem("must not be empty")
    if field.choices and result not in field.choices:
        raise FieldProblem(f"must be one of {', '.join(field.choices)} for {field.path}")
    if field.max_length is not None and len(result) > field.max_length:
        result, note = (
            cut(result, field.max_length),
            (
                f"is {len(result):,} characters long; Stripe allows at most {field.max_length:,} for {field.path}: "
                "cut to fit"
            ),
        )
    return Cleaned(result, note)


def cut(text: str, limit: int) -> str:
    """``text`` shortened to at most ``limit`` characters, never inside a character.

    A combining accent, a joiner or a variation selector stays with the character it modifies: the cut moves
    back before that character instead of leaving a base letter without its accent or half an emoji sequence.
    Trailing whitespace of the kept part is dropped.
    """
    end = limit
    while 0 < end < len(text) and _belongs_to_previous(text[end]):
        end -= 1
    return text[:end].rstrip()


def _belongs_to_previous(char: str) -> bool:
    return bool(unicodedata.combining(char)) or char in _JOINERS
