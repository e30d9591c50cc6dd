"""Field-level security: which fields each user may read or edit.

Salesforce applies a user's field-level security (profile and permission sets) to every API call:
- describe returns only the fields the user can see, and ``updateable`` / ``createable`` are false on the
  ones the user can only read (DescribeFieldResult reflects "the current user's access";
  developer.salesforce.com … apex_classes_field_object_describe.htm; client libraries document that a
  describe "only contains the fields that the user can view, as defined by the user's field-level security");
- SOQL naming a field the user can't see fails like a field that does not exist (``INVALID_FIELD``,
  "No such column …"), in SELECT, WHERE and ORDER BY alike, and a relationship through a hidden lookup is
  not understood;
- a write to a read-only field is ``INVALID_FIELD_FOR_INSERT_UPDATE`` ("Unable to create/update fields: …
  Please check the security settings of this field …"); a write to a hidden one is ``INVALID_FIELD``.
"""

from __future__ import annotations

import threading

EDIT, READ, NONE = "edit", "read", "none"
ACCESS_LEVELS = (EDIT, READ, NONE)
EVERY_USER = "*"


class FieldSecurity:
    """Access per (user, object, field); fields without a rule are editable (an admin's view)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: dict[tuple[str, str, str], str] = {}

    def set(self, sobject: str, field: str, access: str, user: str | None = None) -> None:
        """Give ``user`` (username; None = every user, like the profile they share) ``access`` to a field."""
        if access not in ACCESS_LEVELS:
            raise ValueError(f"access must be one of {', '.join(ACCESS_LEVELS)}")
        key = ((user or EVERY_USER).lower(), sobject.lower(), field.lower())
        with self._lock:
            self._rules[key] = access

    def access(self, user: str | None, sobject: str, field: str) -> str:
        """``edit``, ``read`` or ``none`` for this user (a user's own rule wins over the every-user rule)."""
        obj, name = sobject.lower(), field.lower()
        with self._lock:
            if user:
                own = self._rules.get((user.lower(), obj, name))
                if own is not None:
                    return own
            return self._rules.get((EVERY_USER, obj, name), EDIT)

    def readable(self, user: str | None, sobject: str, field: str) -> bool:
        return self.access(user, sobject, field) != NONE
