"""``sfsync adopt ACCOUNT CUSTOMER`` (and ``--from FILE``): hand the sync a Stripe customer it did not create.

The sync changes a customer it does not know only when the customer's metadata names the account
(``shared.sync.ownership``). Adopting is the explicit, logged step for a customer that names **no** account (a
web-shop sign-up, one made by hand or by another tool): it tags the customer's metadata with
``salesforce_account_id`` (Stripe merges metadata on update, so the other keys stay: https://docs.stripe.com/api/
customers/update), puts the customer id into the account's Stripe ID field when it holds another value, and
queues a sync. A customer naming **another** account is refused: adopting it would take it from that account.

``--from FILE`` adopts in bulk: every line holding an Account id (``001…``) and a customer id (``cus_…``) —
e.g. the ``why:`` lines of a saved ``sfsync reconcile`` report, or a hand-made list — is one adoption; other
lines are skipped. Each adoption prints one line (the log), and the command exits 1 when any was refused.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from shared.errors import SyncError
from shared.mapping.stripe_paths import ACCOUNT_ID_METADATA_KEY
from shared.salesforce import AccountQuery, is_salesforce_id, to_18
from shared.sync import SyncRequest, TriggerSource
from shared.sync.ownership import named_account

LOG = logging.getLogger("sfsync.adopt")
_ACCOUNT_RE = re.compile(r"\b001[0-9A-Za-z]{12}(?:[0-9A-Za-z]{3})?\b")
_CUSTOMER_RE = re.compile(r"\bcus_[0-9A-Za-z]+\b")


class _Parts(Protocol):
    """What adopting needs from ``Components``: Stripe, Salesforce, the queue and the settings."""

    @property
    def stripe(self) -> Any: ...
    @property
    def salesforce(self) -> Any: ...
    @property
    def queue(self) -> Any: ...
    @property
    def settings(self) -> Any: ...


@dataclass(frozen=True)
class Adoption:
    """One adoption's outcome: ``done`` False when refused, ``text`` the line printed for it."""

    account_id: str
    customer_id: str
    done: bool
    text: str


def pairs_in(lines: Iterable[str]) -> list[tuple[str, str]]:
    """(account id, customer id) for each line holding both (the first of each); ids in 18-char form."""
    found: list[tuple[str, str]] = []
    for line in lines:
        account = _ACCOUNT_RE.search(line)
        customer = _CUSTOMER_RE.search(line)
        if account and customer and is_salesforce_id(account.group(0), "001"):
            pair = (to_18(account.group(0)), customer.group(0))
            if pair not in found:
                found.append(pair)
    return found


def pairs_from_file(path: Path) -> list[tuple[str, str]]:
    """``pairs_in`` over a file's lines (UTF-8)."""
    return pairs_in(path.read_text(encoding="utf-8").splitlines())


def adopt(parts: _Parts, org_id: str, account_id: str, customer_id: str) -> Adoption:
    """Tag ``customer_id`` as ``account_id``'s, point the account at it, and queue a sync; or refuse.

    Raises ``SyncError`` (and boto/Stripe errors) when a service fails: nothing after the failed step is done,
    and running the command again finishes it (each step is idempotent).
    """
    customer = parts.stripe.retrieve(customer_id)
    owner = named_account(customer)
    if owner is not None and owner != account_id:
        text = f"refused: customer {customer_id} belongs to account {owner}; not adopted for {account_id}"
        LOG.warning(text)
        return Adoption(account_id, customer_id, False, text)
    field = parts.settings.salesforce_stripe_id_field
    read = parts.salesforce.read_accounts([account_id], AccountQuery((field,), ("Id",)))
    record = read.get(account_id)
    if record is None or record.get("IsDeleted") or record.get("MasterRecordId"):
        text = f"refused: account {account_id} is deleted, merged away or unknown; customer {customer_id} not tagged"
        LOG.warning(text)
        return Adoption(account_id, customer_id, False, text)
    if owner is None:
        parts.stripe.update(customer_id, {"metadata": {ACCOUNT_ID_METADATA_KEY: account_id}})
    was = (record.get(field) or "").strip()
    if was != customer_id:
        refused = parts.salesforce.update_accounts([{"Id": account_id, field: customer_id}]).get(account_id)
        if refused is not None:
            raise SyncError(f"Salesforce refused {field} = {customer_id} on account {account_id}: {refused}")
    request = SyncRequest.for_account(
        org_id, account_id, event_id=f"adopt:{uuid.uuid4().hex}", source=TriggerSource.RECONCILE
    )
    parts.queue.send([request])
    before = f" (the field held {was})" if was and was != customer_id else ""
    text = f"adopted: customer {customer_id} for account {account_id}{before}; sync queued"
    LOG.info(text)
    return Adoption(account_id, customer_id, True, text)
