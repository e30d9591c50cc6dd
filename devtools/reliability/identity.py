"""Identity: whatever ids arrive, each account touches only its own customer, and has exactly one.

Four paths that used to break "exactly one customer per account, never touch what isn't ours":

- **forged org-id aliases**: the org's 15 characters with another 3-character suffix (Salesforce documents the
  18-character id as the 15 plus a checksum of their letters' case, SOAP API Developer Guide, "ID Field Type":
  https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/field_types.htm), and the 15-character form
  itself, posted beside the genuine id — all in one batch, and one at a time with the write-back refused
  (``INSUFFICIENT_ACCESS_OR_READONLY``), so the Stripe ID field never holds the customer id;
- **typed foreign ids**: another account's customer, and a web-shop sign-up (no Salesforce reference), typed
  into an account's Stripe ID field, then the account edited;
- **merges**: the master takes the loser's Stripe ID (the merge wizard's per-field choice), then is edited;
- **a transient failure after a tax-ID add**: accounts with a VAT number, every read-back of the tax IDs the
  create added answered with a 500 (https://docs.stripe.com/error-low-level: retried), then the VAT number
  changed — the retry must not add it again, and the change must remove the old one.

Figures: ``duplicates`` (customers beyond one per account), ``foreign_customers_modified`` (a customer that
is not the account's own, written to at all, or its data changed) and ``duplicate_tax_ids`` (tax IDs beyond
the one the account's VAT number asks for) must be 0; an alias answered with anything but 403 counts as
``alias_accepted``.
"""

from __future__ import annotations

import json
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from devtools.reliability.figures import Figures
from devtools.reliability.harness import Harness
from devtools.reliability.sizes import Size
from devtools.salesforce_sim.values import soap_value
from devtools.sam.make_events import soap_message
from shared.salesforce.ids import checksum

STRIPE_ID = "Stripe_Customer_ID__c"
_COMPARED = ("name", "email", "phone", "address", "metadata", "description")


def alias_of(org_id: str) -> str:
    """The org's 15 characters with a suffix that is not their checksum."""
    return org_id[:15] + ("AAA" if checksum(org_id[:15]) != "AAA" else "BAA")


def _message(account_ids: list[str], org_id: str, h: Harness) -> bytes:
    notes = []
    for account_id in account_ids:
        stamp = soap_value(h.sim.get("Account", account_id)["SystemModstamp"])
        fields = {"Id": account_id, "SystemModstamp": stamp}
        notes.append(("04l" + uuid.uuid4().hex[:15].upper(), "Account", fields))
    return soap_message(notes, org_id=org_id)


def _post_forms(h: Harness, account_ids: list[str]) -> int:
    """POST the accounts under the genuine org id, its 15-char form and an alias; count aliases accepted."""
    accepted = 0
    for org_id in (h.org_id, h.org_id[:15], alias_of(h.org_id)):
        status, _ = h.post(_message(account_ids, org_id, h))
        accepted += org_id == alias_of(h.org_id) and status != 403
    return accepted


def _extra_customers(h: Harness, account_ids: list[str]) -> int:
    by_account = h.customers_by_account()
    return sum(max(0, len(by_account.get(account_id, [])) - 1) for account_id in account_ids)


def _aliases(h: Harness, size: Size) -> tuple[list[str], int]:
    """Aliases in one batch, then one at a time with the write-back refused; (accounts, aliases accepted)."""
    batch = h.create_accounts("AliasBatch", size.identity_accounts)
    accepted = _post_forms(h, batch)  # all three forms queued before the worker runs: one batch
    h.settle()
    single = h.create_accounts("AliasSingle", size.identity_accounts)
    for account_id in single:
        h.sim.rest.faults.no_access("Account", account_id)
    for account_id in single:
        for org_id in (h.org_id, h.org_id[:15], alias_of(h.org_id)):
            status, _ = h.post(_message([account_id], org_id, h))
            accepted += org_id == alias_of(h.org_id) and status != 403
            h.settle()
    h.sim.rest.faults.clear()
    return batch + single, accepted


def _customer(h: Harness, customer_id: str) -> dict[str, Any]:
    customer = h.stripe.customer(customer_id) or {}
    return {key: customer.get(key) for key in _COMPARED}


def _typed_and_merged(h: Harness, own: dict[str, str], size: Size) -> tuple[dict[str, int], int]:
    """Foreign ids typed into accounts, and merges whose master takes the loser's id; (cases, modified)."""
    accounts = list(own)[: 2 * size.identity_accounts]
    half = len(accounts) // 2
    victims: dict[str, dict[str, Any]] = {}
    writes_before = len(h.stripe.write_requests())
    # Typed: account i gets account i+1's customer (cleared there first: the field is unique) …
    pairs = list(zip(accounts[:half:2], accounts[1:half:2], strict=False))
    h.outbound(active=False)  # the clearing never reaches the worker (else its write-back refills the field)
    for _, second in pairs:
        h.sim.update("Account", second, {STRIPE_ID: None})
        victims[own[second]] = _customer(h, own[second])
    h.outbound(active=True)
    for first, second in pairs:
        h.sim.update("Account", first, {STRIPE_ID: own[second], "Description": "typed"})
    # … and web-shop sign-ups (no Salesforce reference at all).
    shops = size.identity_accounts // 2 or 1
    for index, account_id in enumerate(accounts[half : half + shops]):
        shop = h.stripe.add_customer({"name": f"Shop {index}", "metadata": {"shop_order": str(index)}})
        victims[shop] = _customer(h, shop)
        h.sim.update("Account", account_id, {STRIPE_ID: shop, "Description": "typed"})
    # Merges: the master takes the loser's Stripe ID, then is edited (its message reaches the worker).
    rest = accounts[half + shops :]
    merges = list(zip(rest[::2], rest[1::2], strict=False))
    for master, loser in merges:
        victims[own[loser]] = _customer(h, own[loser])
        h.sim.merge("Account", master, [loser], master_fields={STRIPE_ID: own[loser]})
        h.sim.update("Account", master, {"Description": "merged"})
    h.settle()
    written = {w["path"].split("/")[3] for w in h.stripe.write_requests()[writes_before:] if w["path"].count("/") >= 3}
    modified = sum(1 for cid, before in victims.items() if cid in written or _customer(h, cid) != before)
    return {"typed_foreign_ids": len(pairs), "typed_web_shop_ids": shops, "merges": len(merges)}, modified


VAT_MAPPING = {"fields": {"name": "Name", "tax_id_data": "VAT_Number__c"}}


def _tax_ids(h: Harness, size: Size) -> tuple[int, int, int]:
    """Accounts with a VAT number whose tax-ID read-back fails once, then a VAT change.

    Returns (tax IDs beyond the current number, accounts without it, read-backs answered with the fault).

    The worker runs with a mapping that sends the VAT number (a cold start), then with the standard one again.
    """
    h.sim.add_field("Account", "VAT_Number__c")
    with tempfile.TemporaryDirectory() as folder:
        mapping = Path(folder) / "vat.json"
        mapping.write_text(json.dumps(VAT_MAPPING))
        h.stack.reload_worker(str(mapping))
        try:
            ids = [
                h.sim.create("Account", {"Name": f"Steuer {i}", "VAT_Number__c": f"DE{100000000 + i}"})
                for i in range(size.identity_accounts)
            ]
            # Every read-back after a create (GET /v1/customers/cus_…/tax_ids) fails once.
            logged = len(h.stripe.requests)
            h.stripe.inject("server_error", len(ids), method="GET", path_prefix="/v1/customers/cus_")
            h.settle()
            hit = [r for r in h.stripe.requests[logged:] if r["fault"] and r["path"].endswith("/tax_ids")]
            h.stripe.clear_faults()
            for i, account_id in enumerate(ids):
                h.sim.update("Account", account_id, {"VAT_Number__c": f"DE{200000000 + i}"})
            h.settle()
        finally:
            h.stack.reload_worker("standard")
    by_account = h.customers_by_account()
    extra = missing = 0
    for index, account_id in enumerate(ids):
        wanted = f"DE{200000000 + index}"
        values = [t["value"] for c in by_account.get(account_id, []) for t in h.stripe.tax_ids(c["id"])]
        extra += len(values) - values.count(wanted) + max(0, values.count(wanted) - 1)  # old or repeated
        missing += wanted not in values
    return extra, missing, len(hit)


def identity(h: Harness, size: Size) -> Figures:
    """Forged org-id aliases, typed foreign ids and merges: one customer per account, no foreign one touched."""
    started = time.monotonic()
    h.outbound(active=False)
    accounts, alias_accepted = _aliases(h, size)
    by_account = h.customers_by_account()
    own = {a: by_account[a][0]["id"] for a in accounts if by_account.get(a)}
    missing = len(accounts) - len(own)
    h.outbound(active=True)
    cases, modified = _typed_and_merged(h, own, size)
    extra_tax_ids, missing_tax_ids, tax_faults = _tax_ids(h, size)
    return Figures(
        scenario="identity",
        size=f"{len(accounts)} accounts under 3 org-id forms (half in one batch, half one at a time); "
        f"{cases['typed_foreign_ids']} foreign and {cases['typed_web_shop_ids']} web-shop ids typed, "
        f"{cases['merges']} merges, {size.identity_accounts} tax-ID read-backs failed once",
        lost=missing + missing_tax_ids,
        duplicates=_extra_customers(h, accounts),
        zero={
            "foreign_customers_modified": modified,
            "duplicate_tax_ids": extra_tax_ids,
            "alias_accepted": alias_accepted,
        },
        other={
            **cases,
            "tax_id_read_back_faults": tax_faults,
            "customers": sum(len(v) for v in h.customers_by_account().values() if v),
        },
        seconds=time.monotonic() - started,
    )
