"""The whole local stack for end-to-end tests: devtools/local_runtime's ``LocalStack`` (what `make run` runs).

Org simulator → receiver (HTTP gateway) → SQS queue pair from template.yaml → worker (SQS poller) → Stripe
emulator, with the Event Relay → EventBridge → platform_event function beside it (publishing only with
``event_relay=True``). The tests' stacks run on the session's dynalite, moto server and Stripe emulator
(``RunningParts``) with shorter timings; this module adds the helpers a scenario needs.
"""

from __future__ import annotations

import json
from typing import Any

from devtools.local_runtime.stack import LocalStack

# The worker's settings in the tests: Stripe calls give up sooner and leases expire sooner than deployed, so a
# fault scenario ends within a test's time.
TEST_ENV = {"STRIPE_TIMEOUT_SECONDS": "3", "STRIPE_RATE_LIMIT_RETRIES": "1", "LEASE_SECONDS": "5"}


class Stack(LocalStack):
    """A started ``LocalStack`` plus what the scenarios use to drive and inspect it."""

    @property
    def endpoint_url(self) -> str:
        """The receiver's URL with its token, as the Outbound Messages call it."""
        return self.outbound_message_url

    def dlq_messages(self) -> list[dict[str, Any]]:
        """Bodies of the messages in the dead-letter queue."""
        got = self.sqs.receive_message(QueueUrl=self.dlq_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        return [json.loads(m["Body"]) for m in got.get("Messages", [])]

    def new_customer_account(self, *, email: str = "buyer@example.com", **account: Any) -> tuple[str, str, str]:
        """Account + contact + primary quote + draft order; returns (account_id, contact_id, order_id)."""
        account_id = self.sim.create("Account", {"Name": "Muster AG", **account})
        contact_id = self.sim.create(
            "Contact", {"AccountId": account_id, "FirstName": "Ada", "LastName": "Buyer", "Email": email}
        )
        return account_id, contact_id, self.new_order(account_id, contact_id)

    def new_order(self, account_id: str, contact_id: str) -> str:
        """A primary quote naming ``contact_id`` and a draft order on it; returns the order id."""
        quote_id = self.sim.create(
            "SBQQ__Quote__c",
            {"SBQQ__Account__c": account_id, "SBQQ__PrimaryContact__c": contact_id, "SBQQ__Primary__c": True},
        )
        order_id = self.sim.create(
            "Order",
            {
                "AccountId": account_id,
                "SBQQ__Quote__c": quote_id,
                "Status": "Draft",
                "EffectiveDate": "2026-11-01",
            },
        )
        return order_id
