"""One unusable notification never costs the good ones beside it.

Salesforce acknowledges per message, not per notification: anything but an Ack is retried for up to 24
hours, then the whole message — up to 100 notifications — is dropped (Outbound Messaging, "Understanding
Outbound Messaging"). The simulator can deliver a notification for a record deleted before delivery
without its sObject or its sf:Id, in the same message as a usable one.
"""

from __future__ import annotations

import json

import pytest

from shared.sync.dead_letters import REASON_ATTRIBUTE
from tests.integration.stack import Stack


@pytest.mark.parametrize("rendering", ["no_sobject", "no_id"])
@pytest.mark.vendor_doc(
    "https://help.salesforce.com/s/articleView?id=platform.workflow_om_considerations.htm&type=5",
    "a notification for a record deleted before delivery carries no data",
)
def test_notification_for_a_record_deleted_before_delivery_is_kept_and_the_good_ones_are_synced(
    stack: Stack, rendering: str
) -> None:
    # Given two customers, and Salesforce queueing a change of each in one message
    stack.sim.outbound.deleted_record_notification = rendering
    good, _, good_order = stack.new_customer_account(Name="Gut GmbH", email="gut@example.de")
    gone, _, gone_order = stack.new_customer_account(Name="Weg GmbH", email="weg@example.de")
    for order_id in (good_order, gone_order):
        stack.sim.update("Order", order_id, {"Status": "Activated"})
    stack.settle()
    stack.sim.outbound.pause()
    earlier = len(stack.sim.outbound.deliveries)
    stack.sim.update("Account", good, {"BillingCity": "Hamburg"})
    stack.sim.update("Account", gone, {"BillingCity": "Bremen"})
    # When one of the two accounts is deleted before the message goes out
    stack.sim.delete("Account", gone)
    stack.sim.outbound.resume()
    stack.settle()
    # Then the message was acknowledged at its first delivery, and the usable notification was synced
    (delivery,) = [d for d in stack.sim.outbound.deliveries[earlier:] if gone in d["record_ids"]]
    assert good in delivery["record_ids"]
    assert delivery["acked"] and delivery["attempt"] == 1
    customer = next(c for c in stack.stripe.customers() if c["metadata"]["salesforce_account_id"] == good)
    assert customer["address"]["city"] == "Hamburg"
    # And the unusable one is kept in the DLQ with its reason, by notification id, without data values
    got = stack.sqs.receive_message(QueueUrl=stack.dlq_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
    (kept,) = got["Messages"]
    (body,) = json.loads(kept["Body"])["unusable_notifications"]["notifications"]
    assert body["notification_id"] in delivery["notification_ids"]
    assert kept["MessageAttributes"][REASON_ATTRIBUTE]["StringValue"].startswith("unusable notifications (1): no ")
    assert "Bremen" not in kept["Body"] and "weg@example.de" not in kept["Body"]
