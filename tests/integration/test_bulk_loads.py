"""Bulk loads end to end: an admin's Data Loader update arrives as Outbound Messages of 100 notifications."""

from __future__ import annotations

from typing import Any

from devtools.local_runtime import SqsPoller
from devtools.sam.template_tables import queue_attributes

ACCOUNTS = 250


def test_data_loader_update_of_250_accounts_arrives_in_3_messages_and_updates_each_customer_once(
    stack_factory: Any,
) -> None:
    # Given 250 accounts, each already with its customer (every-account mode)
    stack = stack_factory(CREATION_MODE="every_account")
    # ... and the template's visibility timeout: the harness's 1 s (for quick redelivery tests) is shorter than
    # a batch of 100 creates on a busy machine, which would redeliver messages mid-batch
    visibility = int(queue_attributes("SyncQueue")["VisibilityTimeout"])
    stack.poller = SqsPoller(
        stack.sqs, stack.queue_url, stack.worker.lambda_handler, batch_size=100, visibility_timeout=visibility
    )
    stack.sim.outbound.pause()
    account_ids = [stack.sim.create("Account", {"Name": f"Lot {n:03d} SAS"}) for n in range(ACCOUNTS)]
    stack.sim.outbound.resume()
    stack.settle(timeout=60)
    assert len(stack.stripe.customers()) == ACCOUNTS
    writes_before = len(stack.stripe.write_requests())
    deliveries_before = len(stack.sim.outbound.deliveries)
    # When a Data Loader update sets the billing city of all of them at once: Salesforce queues one notification
    # per record and sends them in messages of up to 100 ("Outbound Messaging", Salesforce Help)
    stack.sim.outbound.pause()
    for account_id in account_ids:
        stack.sim.update("Account", account_id, {"BillingCity": "Lyon"})
    stack.sim.outbound.resume()
    stack.settle(timeout=60)
    # Then three messages (100 + 100 + 50) were acknowledged
    deliveries = stack.sim.outbound.deliveries[deliveries_before:]
    assert sorted(len(d["notification_ids"]) for d in deliveries if d["acked"]) == [50, 100, 100]
    # And every customer has the new city, from exactly one Stripe update each, and nothing was parked
    assert {c["address"]["city"] for c in stack.stripe.customers()} == {"Lyon"}
    updates = sorted(w["path"] for w in stack.stripe.write_requests()[writes_before:])
    assert updates == sorted(f"/v1/customers/{c['id']}" for c in stack.stripe.customers())
    assert stack.dlq_messages() == []
