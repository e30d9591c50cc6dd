"""``make run``'s "beside the connector" steps: Stripe's CPQ connector as a second writer of one customer.

The worker is reloaded beside the connector (``OTHER_STRIPE_WRITERS=connector``, the connector's Stripe ID field):
update-only, comparing every sync with the customer in Stripe. The emulated connector
(devtools/salesforce_sim/connector.py) creates the customer when it syncs the activated order, and — with its
flag ``update_customer_on_order_creation`` — rewrites its own mapping's fields on the next order sync; the
account's next edit sets this sync's fields back (docs: "With or instead of Stripe's connector").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from devtools.salesforce_sim.connector import STRIPE_ID_FIELD, StripeConnector

if TYPE_CHECKING:
    from devtools.demo.run import Demo

BESIDE = {"OTHER_STRIPE_WRITERS": "connector", "SALESFORCE_STRIPE_ID_FIELD": STRIPE_ID_FIELD}
ALONE = {"OTHER_STRIPE_WRITERS": "none", "SALESFORCE_STRIPE_ID_FIELD": "Stripe_Customer_ID__c"}


def beside_the_connector(demo: Demo, account: str) -> None:
    """Two steps on ``account`` (seeded with a draft order): the connector creates, then rewrites; the sync keeps up."""
    stack, sim = demo.stack, demo.sim
    order = demo.orders[account]
    connector = StripeConnector(sim, stack.stripe.base_url, update_customer_on_order_creation=True)
    stack.reload_worker(env=BESIDE)

    def connector_creates() -> None:
        sim.update("Order", order, {"Status": "Activated"})
        # Both see the empty Stripe ID field at once: the sync (update-only) waits, the connector creates.
        connector.sync_order(order, before_create=stack.settle)

    def connector_rewrites_then_edit() -> None:
        connector.sync_order(order)  # its street and country, as Salesforce holds them
        sim.update("Account", demo.accounts[account], {"Phone": "+49 40 7654321"})

    try:
        demo.step("Beside Stripe's connector: the connector creates, we update", account, "updated", connector_creates)
        demo.step("Connector rewrites; next edit sets it back", account, "updated", connector_rewrites_then_edit)
    finally:
        stack.reload_worker(env=ALONE)
