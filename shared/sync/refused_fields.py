"""A field Stripe refuses costs only that field: the write is retried once without it, with a field warning.

When Stripe refuses an update (or a create: ``shared.sync.customer_create``) and the refusal can be tied
to a part of the params (``shared.stripe.refusals.refused_part``: its ``param``, or a documented code such as
``customer_tax_location_invalid``), the same write is sent once more without that part, and the account
syncs with a warning naming the **Salesforce** field and Stripe's code; Stripe keeps its value for the part
left out. A second refusal, or one that names no part, is the record error it always was.

Metadata is merged by Stripe into the keys other tools set, so "over 50 keys"
(``parameter_invalid_metadata`` on ``metadata``) can't be fixed in Salesforce: the keys the mapping would
add are left out (the customer is read once to tell them apart) and its changes to existing keys are sent
(https://docs.stripe.com/api/metadata: "up to 50 keys").

``tax[validate_location]`` (the mapping option) rides along with every update that changes an address,
since Stripe validates the location per request (https://docs.stripe.com/tax/customer-locations).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from shared.errors import PermanentSyncError
from shared.mapping import MappedCustomer
from shared.mapping.field_warnings import FieldWarning, left_out
from shared.stripe.gateway import CustomerGateway
from shared.stripe.refusals import METADATA, TAX_LOCATION_INVALID, RefusedPart, refused_part, without

_ADDRESSES = ("address", "shipping")


def with_validate_location(changes: dict[str, Any], mapped: MappedCustomer) -> dict[str, Any]:
    """Update params with the mapping's ``tax[validate_location]`` when they change an address."""
    if not mapped.validate_location or not any(top in changes for top in _ADDRESSES):
        return changes
    return {**changes, "tax": {**changes.get("tax", {}), "validate_location": mapped.validate_location}}


def warning_for(part: RefusedPart, source_of: Callable[[str], str]) -> FieldWarning:
    """The field warning for a refused part: the Salesforce field it comes from and Stripe's code."""
    field = source_of(part.named)
    if field == part.named and part.named.endswith(".postal_code"):
        field = source_of(part.named.replace(".postal_code", ".country"))
    if part.reason == TAX_LOCATION_INVALID:
        which = "shipping" if part.root == "shipping" else "billing"
        problem = f"Stripe Tax can't place the customer by its {which} address ({part.reason})"
    else:
        problem = f"Stripe refused it ({part.reason})"
    return left_out(field, part.root, problem)


class RefusedFields:
    """Sends updates; one refused part is left out and warned about instead of failing the account."""

    def __init__(self, stripe: CustomerGateway, source_of: Callable[[str], str]) -> None:
        self._stripe = stripe
        self._source_of = source_of

    def update(self, customer_id: str, changes: dict[str, Any], mapped: MappedCustomer) -> MappedCustomer:
        """Send ``changes``; the customer as applied (``mapped``, less any part Stripe refused, with warnings).

        Raises the refusal when it names no part that was sent, and a second refusal as it comes.
        """
        sent = with_validate_location(changes, mapped)
        try:
            self._stripe.update(customer_id, sent)
            return mapped
        except PermanentSyncError as exc:
            part = refused_part(exc, sent)
            if part is None or part.root.startswith("tax"):
                raise
            parts = self._metadata_parts(customer_id, changes) if part.root == METADATA else [part]
            rest = changes
            for each in parts:
                rest = without(rest, each.root)
            if rest == changes:
                raise
        if rest:
            self._stripe.update(customer_id, with_validate_location(rest, mapped))
        return self.left_out(mapped, parts)

    def left_out(self, mapped: MappedCustomer, parts: list[RefusedPart]) -> MappedCustomer:
        """``mapped`` without the refused parts, with a warning for each."""
        if not parts:
            return mapped
        warnings = [warning_for(part, self._source_of) for part in parts]
        return mapped.left_out((part.root for part in parts), warnings)

    def _metadata_parts(self, customer_id: str, changes: Mapping[str, Any]) -> list[RefusedPart]:
        """Over Stripe's 50 keys: the metadata keys the update would add (those Stripe does not have yet)."""
        present = self._stripe.retrieve(customer_id).get(METADATA) or {}
        sent = changes.get(METADATA)
        added = [
            key for key, value in (sent if isinstance(sent, Mapping) else {}).items() if value and key not in present
        ]
        reason = "parameter_invalid_metadata: the customer already has Stripe's 50 metadata keys"
        return [RefusedPart(f"{METADATA}.{key}", f"{METADATA}.{key}", reason) for key in added]
