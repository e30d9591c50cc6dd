"""Identity damage: which account a customer belongs to, seen from both sides.

"Exactly one customer per account" has two sides: the account's Stripe ID field (or the state) names its
customer, and the customer's ``metadata.salesforce_account_id`` (written by the sync on every customer it
makes) names its account. When the two disagree, a sync can't repair it — it would rewrite one account's
customer with another's data, or leave a second customer billing the same account — so reconcile reports it
with both ids and queues nothing for the damage itself:

- ``duplicate_customers``: more than one listed customer names the account (e.g. two creates under two
  keys for the same account);
- ``claimed_by_other_customer``: a customer names the account, but the account names a different one (that
  one does not name it);
- ``customer_of_other_account``: the account's customer names another account (a typed or merged Stripe
  ID): a sync would overwrite the other account's customer, so none is queued.

Only ids go into the reason: never names, e-mails or other field values.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from shared.salesforce.ids import canonical_account_id

if TYPE_CHECKING:
    from shared.reconcile.customer_index import CustomerIndex
    from shared.reconcile.reconciler import AccountCheck


def judge(check: AccountCheck, customers: CustomerIndex) -> AccountCheck:
    """``check`` unchanged, or turned into an identity verdict naming the other customers or account.

    ``customers`` is the invocation's listing of Stripe's customers; ``check.customer_account`` is what the
    account's own customer's metadata names, as reconcile read it (None when it was not read).
    """
    from shared.reconcile.reconciler import Verdict  # the verdicts live with the checks; this module judges

    if check.verdict in (Verdict.INVALID, Verdict.DELETED_CUSTOMER):
        return check  # nothing to compare: the account can't be mapped, or its customer is gone (R10)
    account_id = check.account_id
    # A missing account's customer_id is only a customer naming it that nothing links to, not its own.
    linked = None if check.verdict is Verdict.MISSING else check.customer_id
    owner = canonical_account_id(check.customer_account)
    if linked is None:
        owner = None
    elif owner is None and (listed := customers.fields(linked)) is not None:
        owner = canonical_account_id(listed.get(customers.account_id_path))
    naming = customers.customers_naming(account_id)
    others = tuple(customer for customer in naming if customer != linked)
    if linked is not None and owner is not None and owner != account_id:
        reason = f"the account's customer {linked} names account {owner} in its metadata: no sync is queued"
        if others:  # e.g. the account's own customer, orphaned when the field was typed over
            reason += f"; customer(s) naming this account: {', '.join(others)}"
        return replace(
            check,
            verdict=Verdict.CUSTOMER_OF_OTHER_ACCOUNT,
            reason=reason,
            related=(owner,),
            needs_sync=False,
            seen=None,
            actual=None,
        )
    if not others:
        return check
    if owner == account_id or len(naming) > 1:
        ids = ", ".join((*([linked] if linked else []), *others))
        return replace(
            check,
            verdict=Verdict.DUPLICATE_CUSTOMERS,
            reason=f"{len(set((linked, *others)) - {None})} customers name this account: {ids}",
            related=others,
        )
    if linked is None:
        return check  # one customer names it and nothing links to it: reported as missing, with that customer
    reason = f"customer {others[0]} names this account, but the account names customer {linked}"
    return replace(check, verdict=Verdict.CLAIMED_BY_OTHER_CUSTOMER, reason=reason, related=others)
