"""Salesforce record ids: 15-char case-sensitive ids and their 18-char case-safe form."""

from __future__ import annotations

import itertools
import secrets
import string
import threading

from shared.salesforce.ids import to_18

BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
_CHECKSUM_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_ALNUM = frozenset(BASE62)


def to18(id15: str) -> str:
    """Append the 3-char checksum (the product's own implementation, so both agree by construction)."""
    return to_18(id15)


def canonical(value: object) -> str | None:
    """Return the 18-char form of a 15- or 18-char id, or None when it is not a well-formed id.

    An 18-char id may arrive with its case changed (that is what the checksum is for), so the case
    of the first 15 chars is restored from the checksum, exactly as Salesforce does.
    """
    if not isinstance(value, str) or len(value) not in (15, 18) or not set(value) <= _ALNUM:
        return None
    if len(value) == 15:
        return to18(value)
    suffix = value[15:].upper()
    if any(ch not in _CHECKSUM_ALPHABET for ch in suffix):
        return None
    chars = list(value[:15])
    for chunk, ch in enumerate(suffix):
        bits = _CHECKSUM_ALPHABET.index(ch)
        for i in range(5):
            pos = chunk * 5 + i
            upper = bool(bits & (1 << i))
            if upper and not chars[pos].isalpha():
                return None
            chars[pos] = chars[pos].upper() if upper else chars[pos].lower()
    fixed = "".join(chars)
    return fixed + suffix if to18(fixed) == fixed + suffix else None


def base62(number: int, width: int) -> str:
    """Encode a non-negative integer in base 62, left-padded with zeros."""
    digits = ""
    while number:
        number, rest = divmod(number, 62)
        digits = BASE62[rest] + digits
    return digits.rjust(width, "0")


def random_org_id() -> str:
    """A fresh 18-char organization id (`00D…`)."""
    return to18("00D" + "".join(secrets.choice(BASE62) for _ in range(12)))


class IdFactory:
    """Issues unique 18-char ids per key prefix (`prefix + pod + '0' + 9-char counter`)."""

    def __init__(self) -> None:
        # A random 2-char pod keeps ids of two simulators in one process distinct.
        self._pod = "".join(secrets.choice(BASE62) for _ in range(2))
        self._counter = itertools.count(1)
        self._lock = threading.Lock()

    def new(self, prefix: str) -> str:
        """Next id for `prefix` (e.g. `001` for Account)."""
        with self._lock:
            number = next(self._counter)
        return to18(prefix + self._pod + "0" + base62(number, 9))
