"""The org's objects and fields as the integration user sees them (sObject Describe, cached per object).

``GET /services/data/vXX.X/sobjects/{Object}/describe`` answers with the running user's field-level
security applied: a field the user can't read is left out, and ``updateable`` is false where the user may
only read (Salesforce, "Enforce Security with Field and SObject Describe Methods"; REST API Developer
Guide, "sObject Describe"). So "missing" here means "the org has no such field, or the integration user
can't see it" — the same thing for the sync, whose SOQL would fail with INVALID_FIELD either way.
Each describe is one REST call (it counts against the org's daily API limit).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

# Describe ``type`` values of compound fields: their value is an object, never one text value.
COMPOUND_TYPES = frozenset({"address", "location"})


@dataclass(frozen=True)
class FieldInfo:
    """One field of a describe: API name, Salesforce type and the integration user's access."""

    name: str
    type: str
    updateable: bool
    reference_to: tuple[str, ...] = ()
    relationship_name: str | None = None
    picklist_values: tuple[str, ...] = ()

    @classmethod
    def from_describe(cls, data: Mapping[str, Any]) -> FieldInfo:
        """From one entry of a describe's ``fields``."""
        values = tuple(str(v["value"]) for v in data.get("picklistValues") or () if v.get("active", True))
        return cls(
            name=str(data["name"]),
            type=str(data.get("type") or "string"),
            updateable=bool(data.get("updateable")),
            reference_to=tuple(data.get("referenceTo") or ()),
            relationship_name=data.get("relationshipName") or None,
            picklist_values=values,
        )


@dataclass(frozen=True)
class ObjectInfo:
    """One sObject's visible fields, by lower-cased name and by lower-cased relationship name."""

    name: str
    fields: Mapping[str, FieldInfo]
    relationships: Mapping[str, FieldInfo]
    child_relationships: Mapping[str, str]  # lower-cased relationship name → child sObject

    @classmethod
    def from_describe(cls, data: Mapping[str, Any]) -> ObjectInfo:
        """From a describe's JSON body."""
        fields = [FieldInfo.from_describe(field) for field in data.get("fields") or ()]
        children = {
            str(child["relationshipName"]).lower(): str(child["childSObject"])
            for child in data.get("childRelationships") or ()
            if child.get("relationshipName")
        }
        return cls(
            name=str(data["name"]),
            fields={field.name.lower(): field for field in fields},
            relationships={f.relationship_name.lower(): f for f in fields if f.relationship_name},
            child_relationships=children,
        )

    def field(self, name: str) -> FieldInfo | None:
        """The field, or None when the org has none or the integration user can't read it."""
        return self.fields.get(name.lower())

    def relationship(self, name: str) -> FieldInfo | None:
        """The lookup field whose relationship is ``name`` (``Parent``, ``SBQQ__Quote__r``)."""
        return self.relationships.get(name.lower())


class OrgSchema:
    """Describes fetched on first use and kept (one call per object per instance).

    ``describe(name)`` returns the describe JSON, or None when the object does not exist or the user
    has no access to it (Salesforce answers 404 NOT_FOUND for both); other failures propagate.
    """

    def __init__(self, describe: Callable[[str], Mapping[str, Any] | None]) -> None:
        self._describe = describe
        self._objects: dict[str, ObjectInfo | None] = {}
        self._lock = threading.Lock()

    def object(self, name: str) -> ObjectInfo | None:
        """The object as the integration user sees it, or None when it is absent or not accessible."""
        key = name.lower()
        with self._lock:
            if key in self._objects:
                return self._objects[key]
        data = self._describe(name)
        info = ObjectInfo.from_describe(data) if data else None
        with self._lock:
            self._objects[key] = info
        return info
