"""Salesforce record ids: 15-char (case-sensitive) and 18-char (case-safe) forms.

The API always answers with 18-char ids; admins paste either form into configuration. Comparing ids only
in the 18-char form avoids treating one record as two.
"""

from __future__ import annotations

import re

_ID_RE = re.compile(r"^[0-9A-Za-z]{15}(?:[0-9A-Za-z]{3})?$")
_CHECKSUM_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def to_18(record_id: str) -> str:
    """Return the canonical 18-char form of a 15- or 18-char Salesforce id; ValueError if malformed."""
    if not _ID_RE.match(record_id or ""):
        raise ValueError("is not a Salesforce record id (15 or 18 letters and digits)")
    if len(record_id) == 18:
        return record_id
    base = record_id
    suffix = "".join(
        _CHECKSUM_ALPHABET[sum(1 << i for i, ch in enumerate(base[k : k + 5]) if "A" <= ch <= "Z")] for k in (0, 5, 10)
    )
    return base + suffix


def is_salesforce_id(value: str, prefix: str | None = None) -> bool:
    """True when ``value`` is a well-formed id (optionally with the given 3-char key prefix)."""
    if not _ID_RE.match(value or ""):
        return False
    return prefix is None or value.startswith(prefix)
