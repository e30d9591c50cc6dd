"""The state table's item versions, and the one way an item written by an earlier release is read by this one.

Every account item this release writes carries ``state_version`` (``STATE_VERSION``). Readers accept every
earlier version and migrate it in memory (``migrate``); the next write of the item stores it in the current
shape (a *lazy* migration), and ``sfsync migrate`` rewrites the items no sync touches again (``sweep``).

Versions:

1. (releases before 2026-12) ``applied_fields``: the mapped values last applied, in clear; ``params_hash``: a
   plain SHA-256 of them. No ``state_version`` attribute.
2. ``field_digests``: a keyed digest per applied path (``shared.state.field_digests``) instead of the values;
   ``params_hash`` keyed the same way. ``applied_fields`` is removed by every write of the fields.

An item that holds ``applied_fields`` is version 1 whatever its ``state_version`` says: after a roll back, the
previous release writes its fields in clear again beside a ``state_version`` it does not know (DynamoDB keeps
attributes an update does not name) — and its values are then the newer ones.

Rolling back one release: the previous release ignores ``field_digests`` and ``state_version``, finds no
``applied_fields`` and a ``params_hash`` that never equals its own, so each account's next sync sends its whole
mapped customer once (no field is cleared: with nothing applied there is nothing to clear; no kept field is
restored from a digest) and stores the values in clear again, until this release migrates them once more.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shared.state.field_digests import FieldDigests

STATE_VERSION = 2

# Attributes of version 1 that version 2 no longer has (removed by every write of the applied fields).
V1_VALUES = "applied_fields"


def item_version(data: dict[str, Any]) -> int:
    """The version of an item's plain data (attribute values already converted)."""
    if V1_VALUES in data:
        return 1
    return int(data.get("state_version", 1))


def _v1_to_v2(data: dict[str, Any], digests: FieldDigests) -> dict[str, Any]:
    migrated = {k: v for k, v in data.items() if k != V1_VALUES}
    migrated["field_digests"] = digests.of(data.get(V1_VALUES) or {})
    if data.get("params_hash"):
        # The plain hash was the content hash itself: keyed, it is exactly what this release compares with.
        migrated["params_hash"] = digests.params_hash(data["params_hash"])
    migrated["state_version"] = 2
    return migrated


# MIGRATIONS[n] turns version n+1 into version n+2.
MIGRATIONS: tuple[Callable[[dict[str, Any], FieldDigests], dict[str, Any]], ...] = (_v1_to_v2,)


def migrate(data: dict[str, Any], digests: FieldDigests) -> dict[str, Any]:
    """An item's plain data in the current version's shape (unchanged when it already is).

    Raises ValueError for an item of a *newer* version than this release knows (written after an upgrade this
    release was rolled back from, beyond one step): reading it as ours could lose what it holds.
    """
    version = item_version(data)
    if version > STATE_VERSION:
        raise ValueError(f"state item of version {version}; this release reads up to {STATE_VERSION}")
    for step in MIGRATIONS[version - 1 :]:
        data = step(data, digests)
    return data
