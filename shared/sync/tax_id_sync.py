"""The customer's tax ID, kept in step with the mapped one (``tax_id_data`` in the mapping).

On create the tax ID rides in ``tax_id_data``; afterwards tax IDs are objects of their own under the customer
and immutable (https://docs.stripe.com/api/tax_ids): a changed value adds the new tax ID and deletes the old
one, a cleared value deletes it. Only tax IDs the sync added are ever deleted — their ids are kept in the
account state (``AccountState.tax_ids``) — never one someone added in Stripe. A value Stripe refuses
(``tax_id_invalid``) is left out with a field warning: the customer is synced, the tax ID Stripe has stays,
and the refused value is remembered so the same value is not sent again on every change of the account.

Like the customer id, a tax ID the sync adds is recorded at once, whatever fails next: an add under its
Idempotency-Key is recorded (``record``) before anything else is tried, and a create's ``tax_id_data`` is
recorded with the customer id, before its tax IDs are read back (the create's answer does not name them:
``ADDED_ID_UNKNOWN`` until the next read finds the id). So a retry never adds a second copy, and a later VAT
change removes every number the sync added. Items written before ``ADDED_ID_UNKNOWN`` existed hold only
ids and ``REFUSED``, which mean what they meant.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from shared.errors import PermanentSyncError
from shared.mapping import TAX_ID_DATA
from shared.stripe.gateway import CustomerGateway, CustomerGone

REFUSED = ""  # the state's marker for a value Stripe refused
ADDED_ID_UNKNOWN = "?"  # the state's marker for a tax ID the sync added with a create, its txi_ id not read yet


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

    def __init__(self, stripe: CustomerGateway, name_of: Callable[[str], str] = str) -> None:
        self._stripe = stripe
        # How the state names a tax ID (``FieldDigests.tax_id_name``: keyed, never the number in clear); every
        # name compared — mapped, recorded, listed by Stripe — goes through it.
        self._name_of = name_of

    def apply(
        self,
        customer_id: str,
        flat: Mapping[str, str],
        recorded: Mapping[str, str],
        key: str,
        record: Callable[[dict[str, str]], None],
    ) -> TaxIdOutcome:
        """Bring the customer's tax IDs in step with ``flat``; ``recorded``: what the sync added before.

        ``key`` scopes the add's Idempotency-Key (org, account and the Salesforce version being applied);
        ``record`` keeps the tax IDs the sync added (``recorded`` plus a new one) before anything else can fail.
        Raises CustomerGone or transient errors; a refused value is an outcome, not an error.
        """
        recorded = self._resolved(customer_id, {self._name_of(n): tax_id for n, tax_id in recorded.items()})
        wanted = wanted_tax_id(flat)
        name = self._name_of(tax_id_key(*wanted)) if wanted else None
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
            if changed:
                record({**recorded, **kept})
        for old, tax_id in recorded.items():
            if old != name and tax_id != REFUSED:
                self._stripe.delete_tax_id(customer_id, tax_id)
                changed = True
        return TaxIdOutcome(kept, changed)

    def _resolved(self, customer_id: str, recorded: Mapping[str, str]) -> dict[str, str]:
        """``recorded`` with the ids of the tax IDs a create added (one list call, only when any is unknown);
        one the customer no longer has (or never got: Stripe refused it) is no longer the sync's."""
        unknown = [name for name, tax_id in recorded.items() if tax_id == ADDED_ID_UNKNOWN]
        if not unknown:
            return dict(recorded)
        listed = {
            self._name_of(tax_id_key(str(t.get("type")), str(t.get("value")))): str(t["id"])
            for t in self._stripe.tax_ids(customer_id)
        }
        resolved = {name: tax_id for name, tax_id in recorded.items() if tax_id != ADDED_ID_UNKNOWN}
        resolved.update({name: listed[name] for name in unknown if name in listed})
        return resolved


def added_with_create(params: Mapping[str, Any]) -> dict[str, str]:
    """What to record for a create's ``tax_id_data`` before its answer is read back: the name, id unknown."""
    items = params.get(TAX_ID_DATA) or []
    return {tax_id_key(str(i["type"]), str(i["value"])): ADDED_ID_UNKNOWN for i in items if i.get("value")}


def _add_key(scope: str, name: str) -> str:
    digest = hashlib.sha256(name.encode()).hexdigest()[:16]
    return f"sfsync-taxid-{scope}-{digest}"
