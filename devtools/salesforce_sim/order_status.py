"""The org's Order Status picklist: labels the admin defines, each inside a status category.

Salesforce: every Order Status value belongs to a *status category*, Draft or Activated; an org adds its own
values (e.g. "Provisioned", "Fulfilled") to either category. ``Order.Status`` holds the org's value,
``Order.StatusCode`` (read-only) its category, and ``ActivatedDate`` is stamped when an order enters the
Activated category ("Order Fields", Object Reference: StatusCode — "The status category for the order";
Salesforce Help "Set Up Order Status Values": "Each value belongs to one of the status categories Draft or
Activated"). A value outside the picklist is refused like any restricted picklist.
"""

from __future__ import annotations

from .errors import SalesforceError

DRAFT = "Draft"
ACTIVATED = "Activated"
CATEGORIES = (DRAFT, ACTIVATED)


class OrderStatuses:
    """Status label → category; a new org has Salesforce's two defaults, Draft and Activated."""

    def __init__(self) -> None:
        self._category: dict[str, str] = {DRAFT: DRAFT, ACTIVATED: ACTIVATED}

    def add(self, label: str, category: str) -> None:
        """Add an org-defined value (e.g. ``add("Provisioned", "Activated")``)."""
        if category not in CATEGORIES:
            raise ValueError(f"status category must be one of {CATEGORIES}, got {category!r}")
        self._category[label] = category

    def labels(self) -> list[str]:
        return list(self._category)

    def category(self, label: str) -> str:
        """The StatusCode of ``label``; INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST when the org has no such value."""
        found = self._category.get(label)
        if found is None:
            raise SalesforceError(
                400,
                "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                f"Status: bad value for restricted picklist field: {label}",
                ["Status"],
            )
        return found
