"""The customer's tax ID, kept in step with the mapped one (``tax_id_data`` in the mapping).

On create the tax ID rides in ``tax_id_data``; afterwards tax IDs are objects of their own under the customer
and immutable (https://docs.stripe.com/api/tax_ids): a changed value adds the new tax ID and deletes the old
one, a cleared value deletes it. Only tax IDs the sync added are ever deleted — their ids are kept in the
account state (``AccountState.tax_ids``) — never one someone added in Stripe. A value Stripe refuses
(``tax_id_invalid``) is left out with a field warning: the customer is synced, the tax ID Stripe has stays,
and the refused value is remembered so the same value is not sent again on every change of the account.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from shared.errors import PermanentSyncError
from shared.mapping import TAX_ID_DATA
from shared.stripe.gateway import CustomerGateway, CustomerGone

REFUSED = ""  # the state's marker for a value Stripe refused


@dataclass(frozen=True)
class TaxIdOutcome:
    """What the tax ID sync did: the ids to remember, whether Stripe was written, and a refusal (if any)."""

    tax_ids: dict[str, str]
    changed: bool = False
    refused: str | None = None  # the problem, without the value (it is written back to Salesforce)


def wanted_tax_id(flat: Mapping[str, str]) -> tuple[str, str] | None:
    """The mapped (type, value), or None when the account has no tax ID."""
    tax_type, value = flat.get(f"{TAX_ID_DATA}.0.type"), flat.get(f"{TAX_ID_DATA}.0.value")
    return (tax_type, value) if tax_type and value else None


def tax_id_key(tax_type: str, value: str) -> str:
    """How the state names one tax ID: ``eu_vat:DE123456789``."""
    return f"{tax_type}:{value}"


def refusal(tax_type: str) -> str:
    """The warning's problem text for a refused value (no value in it: it may be written back and logged)."""
    return f"Stripe refused it as a {tax_type} tax ID (tax_id_invalid)"


class TaxIdSync:
    """Adds and deletes the customer's tax ID objects so Stripe shows the mapped one."""

    def __init__(self, stripe: CustomerGateway) -> None:
        self._stripe = stripe

    def created_with(self, customer_id: str, flat: Mapping[str, str]) -> dict[str, str]:
        """The ids of the tax ID a create's ``tax_id_data`` added (one list call; the create returns none)."""
        wanted = wanted_tax_id(flat)
        if wanted is None:
            return {}
        found = [t for t in self._stripe.tax_ids(customer_id) if (t.get("type"), t.get("value")) == wanted]
        return {tax_id_key(*wanted): str(found[-1]["id"])} if found else {}

    def apply(self, customer_id: str, flat: Mapping[str, str], recorded: Mapping[str, str], key: str) -> TaxIdOutcome:
        """Bring the customer's tax IDs in step with ``flat``; ``recorded``: what the sync added before.

        ``key`` scopes the add's Idempotency-Key (org, account and the Salesforce version being applied).
        Raises CustomerGone or transient errors; a refused value is an outcome, not an error.
        """
        wanted = wanted_tax_id(flat)
        name = tax_id_key(*wanted) if wanted else None
        kept: dict[str, str] = {}
        changed = False
        if wanted and name is not None:
            if name in recorded:
                kept[name] = recorded[name]
            else:
                try:
                    kept[name] = self._stripe.add_tax_id(customer_id, *wanted, idempotency_key=_add_key(key, name))
                    changed = True
                except PermanentSyncError as exc:
                    if isinstance(exc, CustomerGone):
                        raise
                    kept[name] = REFUSED
            if kept[name] == REFUSED:
                # Left out: like any refused field, Stripe keeps the tax ID it has (none is deleted).
                previous = {k: v for k, v in recorded.items() if k != name}
                return TaxIdOutcome({**previous, name: REFUSED}, changed, refusal(wanted[0]))
        for old, tax_id in recorded.items():
            if old != name and tax_id != REFUSED:
                self._stripe.delete_tax_id(customer_id, tax_id)
                changed = True
        return TaxIdOutcome(kept, changed)


def _add_key(scope: str, name: str) -> str:
    digest = hashlib.sha256(name.encode()).hexdigest()[:16]
    return f"sfsync-taxid-{scope}-{digest}"
