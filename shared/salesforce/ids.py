"""Salesforce ids: 15-char (case-sensitive) and 18-char (case-safe) forms, checked against their checksum.

An 18-char id is the 15-char id plus 3 checksum characters, each encoding which of 5 characters of the
15 are upper-case letters (Salesforce SOAP API Developer Guide, "Field Types" → "ID Field Type":
https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/field_types.htm). The API always answers
with 18-char ids and never sends one whose suffix does not match; admins paste either form.

Every id the product accepts goes through ``to_18`` (or ``is_salesforce_id``), so one record or org can never
take two forms: an 18-char id whose suffix is not the checksum of its first 15 characters ("right 15, wrong
suffix") is refused, not passed on — it would otherwise become a key of its own (state, idempotency, the
Stripe create key) for a record that already has one.
"""

from __future__ import annotations

import re

_ID_RE = re.compile(r"^[0-9A-Za-z]{15}(?:[0-9A-Za-z]{3})?$")
_CHECKSUM_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
ORG_ID_PREFIX = "00D"  # Organization's key prefix
NOT_AN_ID = "is not a Salesforce id (15 or 18 letters and digits)"
WRONG_SUFFIX = (
    "is not a Salesforce id: its last 3 characters are not the checksum of its first 15 "
    "(copy the id from Salesforce again)"
)


def checksum(id15: str) -> str:
    """The 3-char suffix of a 15-char id: per 5 characters, a bit per upper-case letter (A-Z then 0-5)."""
    return "".join(
        _CHECKSUM_ALPHABET[sum(1 << i for i, ch in enumerate(id15[k : k + 5]) if "A" <= ch <= "Z")] for k in (0, 5, 10)
    )


def id_problem(value: object) -> str | None:
    """Why ``value`` is not a Salesforce id (``NOT_AN_ID`` / ``WRONG_SUFFIX``), or None when it is one."""
    if not isinstance(value, str) or not _ID_RE.match(value):
        return NOT_AN_ID
    if len(value) == 18 and value[15:] != checksum(value[:15]):
        return WRONG_SUFFIX
    return None


def to_18(record_id: str) -> str:
    """The canonical 18-char form of a 15- or 18-char id; ValueError (with the reason) when malformed.

    A 15-char id is extended with its checksum; an 18-char id is returned only when its suffix matches.
    """
    problem = id_problem(record_id)
    if problem is not None:
        raise ValueError(problem)
    return record_id if len(record_id) == 18 else record_id + checksum(record_id)


def is_salesforce_id(value: str, prefix: str | None = None) -> bool:
    """True when ``value`` is a well-formed id (suffix checked), optionally with the given 3-char key prefix."""
    if id_problem(value) is not None:
        return False
    return prefix is None or value.startswith(prefix)


def canonical_account_id(account_id: str | None) -> str | None:
    """A customer's ``metadata.salesforce_account_id`` as a key: its 18-char form when it is an id.

    The sync writes 18 characters; another tool (or an id pasted from a Salesforce Classic URL) may write the
    15-char id, which names the same account. Its case matters: two accounts' 15-char ids may differ only in
    case, so a case-insensitive key would merge them (the bug of
    https://github.com/SFDO-Community/declarative-lookup-rollup-summaries/issues/347); the 18-char form tells
    them apart. Text that is no id is kept as it is; None or "" gives None.
    """
    if not account_id:
        return None
    return to_18(account_id) if is_salesforce_id(account_id) else account_id
