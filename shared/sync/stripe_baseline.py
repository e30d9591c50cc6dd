"""What the sync compares the mapped fields with: the customer Stripe holds, where another writer may exist.

Alone, the sync decides "unchanged" against its memory of what it sent (no Stripe call). That memory is wrong
as soon as another writer changed the customer — Stripe's Salesforce CPQ connector writes the customer's
name, description and billing address when it creates the customer, and, with its feature flag
``update_customer_on_order_creation``, each time it syncs an order (``translate_account`` in the connector's
``lib/stripe-force/translate/customer.rb``, https://github.com/stripe/stripe-go; "Accounts and contacts",
https://docs.stripe.com/connectors/salesforce-cpq/accounts-contacts). So the sync retrieves the customer and
diffs the mapped fields against Stripe's values instead (Salesforce wins for the fields of the mapping) when:

- the id is one the sync never synced (an admin typed it, the connector created it): ownership is checked too;
- the request is forced (an admin's "Sync now", ``SyncRequest.force``);
- the stack runs beside the connector (``OTHER_STRIPE_WRITERS=connector``): every sync.

The retrieve also proves the customer still exists: a customer deleted in Stripe raises ``CustomerGone`` (the
R10 path: the error is written back to the account, never a silent "unchanged", never a replacement).
Cost: one ``GET /v1/customers/{id}`` per sync on those paths (the bench's ``beside the connector`` line).
"""

from __future__ import annotations

from shared.mapping import MappedCustomer
from shared.settings import CreationMode, OtherStripeWriters
from shared.stripe.customer_diff import flatten, mapped_subset
from shared.stripe.gateway import CustomerGateway
from shared.sync.ownership import check_owner


def stripe_baseline(
    stripe: CustomerGateway,
    customer_id: str,
    mapped: MappedCustomer,
    *,
    account_id: str,
    own_customer: str | None,
    adopt_customer: str | None,
) -> tuple[MappedCustomer, dict[str, str]]:
    """(``mapped`` with Stripe's values for its kept paths, Stripe's values of the mapped paths) for ``customer_id``.

    Both dicts are flat (``address.city`` → value), as ``customer_diff.flatten`` makes them. A customer that is
    not ``own_customer`` (the one the state knows for the account) is checked for ownership first.

    Raises ``CustomerGone`` (deleted or missing, R10), ``CustomerInOtherMode``, ``ForeignCustomer`` or
    ``UnclaimedCustomer`` (``ownership``); transient Stripe errors propagate.
    """
    customer = stripe.retrieve(customer_id)
    if customer_id != own_customer:
        # Ownership before any update: only a customer naming this account (or adopted) is changed.
        check_owner(customer, account_id, own_customer=own_customer, adopt_customer=adopt_customer)
    current = flatten(customer)
    mapped = mapped.keeping(current)
    return mapped, mapped_subset(current, mapped.flat)


def compares_with_stripe(*, forced: bool, other_writers: OtherStripeWriters) -> bool:
    """True when a sync must diff against the customer in Stripe rather than against what it last sent."""
    return forced or other_writers is OtherStripeWriters.CONNECTOR


def may_create(*, creation_mode: CreationMode, has_activated_order: bool, other_writers: OtherStripeWriters) -> bool:
    """Whether the sync may create the account's customer (R1 / R3); never beside the connector (update-only).

    Beside the connector, two writers seeing an empty Stripe ID field at once would make two customers: the
    connector creates without looking for an existing one (it only retrieves the id in its own field), so this
    sync leaves every create to it and waits for the id.
    """
    if other_writers is OtherStripeWriters.CONNECTOR:
        return False
    return creation_mode is CreationMode.EVERY_ACCOUNT or has_activated_order
