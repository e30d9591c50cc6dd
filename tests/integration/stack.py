"""The whole local stack for end-to-end tests: org simulator → receiver → SQS → worker → Stripe emulator.

Every part is real and local: the Salesforce simulator (HTTPS, OAuth JWT, SOQL, outbound messages with
Salesforce's retry semantics), the receiver behind an HTTP gateway, moto server's SQS with a DLQ, the
worker driven like Lambda's event source mapping, dynalite, and the Stripe emulator. With
``platform_events=True`` the simulator's Event Relay also feeds the platform_event function through an
EventBridge rule target (change data capture and the order-activation platform event).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import boto3
import pytest

from devtools.local_runtime import EventBridgeInvoker, HttpGateway, SqsPoller
from devtools.local_runtime.stack import jwt_credentials
from devtools.salesforce_sim import SalesforceSimulator
from devtools.salesforce_sim.event_relay import EventRelay
from shared.state.account_state import AccountStateStore
from tests.handlers import load_handler

TOKEN = "e2e-token"


@dataclass
class Stack:
    """Handles on every running part, plus helpers to drive a scenario."""

    sim: SalesforceSimulator
    stripe: Any
    sqs: Any
    queue_url: str
    dlq_url: str
    gateway: HttpGateway
    poller: SqsPoller
    receiver: ModuleType
    worker: ModuleType
    endpoint_url: str
    state: AccountStateStore
    # Event Relay → EventBridge → platform_event function (only with platform_events=True).
    platform_event: ModuleType | None = None
    invoker: EventBridgeInvoker | None = None
    relay: EventRelay | None = None
    failure_queue_url: str | None = None

    def settle(self, timeout: float = 20.0) -> None:
        """Wait until Salesforce delivered everything and the worker drained the queue."""
        for _ in range(5):
            assert self.sim.outbound.wait_idle(timeout=timeout), "outbound messages still pending"
            if self.invoker is None:
                self.poller.drain(timeout=timeout)
                return
            assert self.invoker.wait_idle(timeout=timeout), "EventBridge events still pending"
            delivered = self.invoker.stats.events
            self.poller.drain(timeout=timeout)
            # The worker's write-back publishes change events of its own: settle those too.
            if self.invoker.pending() == 0 and self.invoker.stats.events == delivered:
                return

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


def start_stack(
    monkeypatch: pytest.MonkeyPatch,
    *,
    stripe_emulator: Any,
    dynamodb_endpoint: str,
    moto_endpoint: str,
    state_table: str,
    idempotency_table: str,
    env_overrides: dict[str, str] | None = None,
    platform_events: bool = False,
) -> Stack:
    """Start the simulator, the queue pair, the handlers, the gateway and the poller (and the Event Relay)."""
    sim = SalesforceSimulator(port=0)
    sim.start()
    sim.outbound.retry_base_seconds = 0.05
    sim.outbound.retry_max_seconds = 0.5
    sqs = boto3.client("sqs", endpoint_url=moto_endpoint)
    queue_url, dlq_url = _queue_pair(sqs)
    env = {
        "ORGANIZATION_IDS": sim.org_id,
        "SYNC_QUEUE_URL": queue_url,
        "OUTBOUND_TOKEN": TOKEN,
        "AWS_ENDPOINT_URL_SQS": moto_endpoint,
        "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_endpoint,
        "STATE_TABLE_NAME": state_table,
        "IDEMPOTENCY_TABLE_NAME": idempotency_table,
        "STRIPE_API_KEY": "sk_test_e2e",
        "STRIPE_API_BASE": stripe_emulator.base_url,
        "STRIPE_TIMEOUT_SECONDS": "3",
        "STRIPE_RATE_LIMIT_RETRIES": "1",
        "MAPPING_CONFIG": "standard",
        "SALESFORCE_CREDENTIALS_JSON": json.dumps(jwt_credentials(sim)),
        "SALESFORCE_SYNC_STATUS_FIELD": "Stripe_Sync_Status__c",
        "SALESFORCE_SYNC_ERROR_FIELD": "Stripe_Sync_Error__c",
        "SALESFORCE_ADOPT_FIELD": "Stripe_Adopt_Customer_ID__c",
        "LEASE_SECONDS": "5",
        "SYNC_DLQ_URL": dlq_url,  # as deployed: the receiver and the worker park what can never succeed
        "REQUESTS_CA_BUNDLE": sim.ca_bundle_path,
        **(env_overrides or {}),
    }
    receiver = load_handler("functions.outbound_message.app", monkeypatch, env)
    worker = load_handler("functions.sync_worker.app", monkeypatch, env)
    gateway = HttpGateway(receiver.lambda_handler).start()
    endpoint = f"{gateway.url}/outbound-message?token={TOKEN}"
    sim.install_package(endpoint)  # the Outbound Messages and Flows of salesforce/
    poller = SqsPoller(sqs, queue_url, worker.lambda_handler, batch_size=100, visibility_timeout=1)
    state = AccountStateStore(state_table, boto3.client("dynamodb", endpoint_url=dynamodb_endpoint))
    stack = Stack(sim, stripe_emulator, sqs, queue_url, dlq_url, gateway, poller, receiver, worker, endpoint, state)
    if platform_events:
        _add_event_relay(stack, monkeypatch, env)
    return stack


def _queue_pair(sqs: Any) -> tuple[str, str]:
    """The sync queue and its DLQ (redrive after 4 receives); returns (queue_url, dlq_url)."""
    suffix = uuid.uuid4().hex[:8]
    dlq_url = sqs.create_queue(QueueName=f"sync-dlq-{suffix}")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue_url = sqs.create_queue(
        QueueName=f"sync-{suffix}",
        Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "4"})},
    )["QueueUrl"]
    return queue_url, dlq_url


def _add_event_relay(stack: Stack, monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    """Salesforce Event Relay → EventBridge rule → platform_event function, with the stack's environment."""
    # The function's on-failure queue (EventInvokeConfig in template.yaml): unusable events are kept there.
    stack.failure_queue_url = stack.sqs.create_queue(QueueName=f"pe-failure-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    env = {**env, "FAILURE_QUEUE_URL": stack.failure_queue_url}
    stack.platform_event = load_handler("functions.platform_event.app", monkeypatch, env)
    stack.invoker = EventBridgeInvoker(stack.platform_event.lambda_handler)
    stack.relay = stack.sim.add_event_relay(stack.invoker.submit)


def stop_stack(stack: Stack) -> None:
    """Stop everything the stack started."""
    if stack.invoker is not None:
        stack.invoker.stop()
    stack.poller.stop()
    stack.gateway.stop()
    stack.sim.stop()
