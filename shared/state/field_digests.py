"""Keyed digests of the fields the sync applied: what the state keeps instead of the values themselves.

To decide what changed (and to send nothing when nothing did), the sync only needs to know, per Stripe path,
whether the value now mapped equals the one it applied last. A digest per path answers that without keeping
the name, email, phone or street: ``HMAC-SHA256(key, path, value)``. It is *keyed* so a value can't be found
by guessing (hashing "jane@example.com" without the key matches nothing). The key is the stack's generated
``StateDigestKey`` secret (Secrets Manager; ``shared.components``), never stored in the table.

A digest is still pseudonymous personal data under the GDPR (Recital 26: data that can be attributed to a
person with additional information — here the key — stays personal data), so ``sfsync forget`` erases it too.

The content hash the lease compares (``MappedCustomer.content_hash``, a plain SHA-256 of every mapped value)
is stored keyed as well: with a small mapping (a name only) a plain hash could be reversed by guessing.

Rotating the key changes every digest: each account's next sync then finds every field "changed" and sends
its whole mapped customer once (the values sent are Salesforce's current ones, so nothing is lost).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

# Digests carry this prefix, so a digest can never be mistaken for a value (or a value of an older release's
# item for a digest): 128 bits of the HMAC are plenty to tell two values of one field apart.
DIGEST_PREFIX = "h1:"
_DIGEST_HEX = 32

# The key of local runs and tests only (emulators, no real customer): a deployed stack always reads its own
# generated secret. Public by design: it is in this repository.
LOCAL_KEY = b"sfsync-local-digest-key-not-for-production"

# A stand-in old value for a path whose value changed: any text unequal to the new value will do, since
# ``update_params`` only compares old and new and never sends an old value.
_CHANGED = "\x00changed"


class FieldDigests:
    """Keyed digests of applied fields (``key``: the secret's bytes)."""

    def __init__(self, key: bytes) -> None:
        if not key:
            raise ValueError("the field digest key is empty")
        self._key = key

    @classmethod
    def local(cls) -> FieldDigests:
        """The digests of local runs and tests (``LOCAL_KEY``)."""
        return cls(LOCAL_KEY)

    def digest(self, path: str, value: str) -> str:
        """``h1:`` + 32 hex digits of HMAC-SHA256(key, path NUL value): equal only for the same path and value."""
        mac = hmac.new(self._key, f"{path}\x00{value}".encode(), hashlib.sha256).hexdigest()
        return DIGEST_PREFIX + mac[:_DIGEST_HEX]

    def of(self, flat: Mapping[str, str]) -> dict[str, str]:
        """Path → digest for flat fields in clear (``address.city`` → ``h1:…``)."""
        return {path: self.digest(path, value) for path, value in flat.items()}

    def params_hash(self, content_hash: str) -> str:
        """The keyed form of a mapped customer's content hash (a keyed hash stays as it is)."""
        if is_digest(content_hash):
            return content_hash
        return DIGEST_PREFIX + hmac.new(self._key, content_hash.encode(), hashlib.sha256).hexdigest()

    def baseline(self, applied: Mapping[str, str], flat: Mapping[str, str]) -> dict[str, str]:
        """Stand-in "last applied" values for ``update_params(baseline, flat)``, from the applied digests.

        A path whose digest equals the new value's gets the new value (unchanged); one whose digest differs
        gets a value unequal to it (changed); a path only in ``applied`` keeps a stand-in (cleared). That is all
        ``update_params`` reads of its first argument, so the update is the one the values would have given.
        """
        stand_in: dict[str, str] = {}
        for path, digest in applied.items():
            value = flat.get(path)
            same = value is not None and hmac.compare_digest(digest, self.digest(path, value))
            stand_in[path] = value if same and value is not None else _CHANGED
        return stand_in


def is_digest(value: str) -> bool:
    """True for a digest (as stored by this release), False for a value in clear."""
    return value.startswith(DIGEST_PREFIX) and len(value) >= len(DIGEST_PREFIX) + _DIGEST_HEX
