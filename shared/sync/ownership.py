"""Ownership before any update: which Stripe customers the sync may change for an account.

A customer the sync created (or already synced for the account) is its own. Any other customer — an id typed
into the account's Stripe ID field, a merge that gave the account another account's id — is changed only when
its metadata names **this** account under ``salesforce_account_id``. That key is the sync's own, and also the
one Stripe's Salesforce CPQ connector writes: its code (the "stripe-salesforce" service, published at
https://github.com/stripe/stripe-go, ``lib/stripe-force/translate/utilities/metadata.rb``) tags what it
creates with ``{metadata_prefix}{sobject}_id`` and ``…_link``, and its tests assert
``metadata['salesforce_account_id']`` and ``metadata['salesforce_account_link']`` on the customers it makes.
So a migration from the connector needs no step.

Anything else is never changed automatically:

- metadata naming **another** account → ``ForeignCustomer`` (permanent): the error names the other account and
  both customers (the one in the field, and the account's own when it has one);
- **no** Salesforce reference (a web-shop sign-up, a customer made by hand or by another tool) →
  ``UnclaimedCustomer`` (permanent, the account waits): the error says how to adopt it — ``sfsync adopt
  ACCOUNT CUSTOMER``, or the customer id typed into the adoption field (``Stripe_Adopt_Customer_ID__c``), the
  admin's consent given in Salesforce (and kept in the field's history).

Only ids go into the messages: never names, e-mails or other field values.
"""

from __future__ import annotations

from typing import Any

from shared.errors import PermanentSyncError
from shared.mapping.stripe_paths import ACCOUNT_ID_METADATA_KEY
from shared.salesforce.ids import canonical_account_id

# The Account field an admin types a customer id into to let the sync adopt it (the salesforce/ package's).
ADOPT_FIELD = "Stripe_Adopt_Customer_ID__c"


class ForeignCustomer(PermanentSyncError):
    """The customer's metadata names another account: it is that account's, never changed for this one."""

    def __init__(self, message: str, *, owner: str) -> None:
        super().__init__(message)
        self.owner = owner


class UnclaimedCustomer(PermanentSyncError):
    """The customer names no Salesforce account: it waits for an admin to adopt it."""


def named_account(customer: dict[str, Any]) -> str | None:
    """The account id ``customer``'s metadata names (18-char form when it is an id; None when none).

    ``customer`` is a Stripe Customer object (``metadata`` a dict of strings). Another tool may have written
    the 15-character form, so ids are compared canonically.
    """
    return canonical_account_id(((customer.get("metadata") or {}).get(ACCOUNT_ID_METADATA_KEY) or "").strip())


def check_owner(
    customer: dict[str, Any], account_id: str, *, own_customer: str | None, adopt_customer: str | None
) -> None:
    """Return when the sync may change ``customer`` for ``account_id``; raise the refusal otherwise.

    ``own_customer`` is the customer the state knows for the account (None when none); ``adopt_customer`` the
    id in the account's adoption field (the admin's consent to adopt exactly that customer).

    Raises ``ForeignCustomer`` or ``UnclaimedCustomer`` (both ``PermanentSyncError``).
    """
    customer_id = str(customer.get("id"))
    owner = named_account(customer)
    if owner == account_id:
        return
    own = f"its own customer: {own_customer}" if own_customer else "no customer of its own yet"
    if owner is not None:
        raise ForeignCustomer(
            f"Stripe customer {customer_id} belongs to account {owner}: not changed for this account ({own}). "
            "Put this account's own customer id into the Stripe ID field, or clear it for a new customer",
            owner=owner,
        )
    if adopt_customer == customer_id:
        return  # the admin's consent, given in Salesforce: the update tags the customer as this account's
    raise UnclaimedCustomer(
        f"Stripe customer {customer_id} names no Salesforce account: not changed ({own}). To adopt it: type "
        f"{customer_id} into {ADOPT_FIELD}, or sfsync adopt {account_id} {customer_id}"
    )
