"""Calls per event through the whole pipeline, per scenario, beside their floors.

Each scenario sends one Outbound Message of ``size`` notifications (one SQS batch) through the real
receiver and worker; Stripe calls come from the emulator's request log, Salesforce calls from the org
simulator, DynamoDB and SQS calls from botocore events on the handlers' clients.
"""

from __future__ import annotations

import urllib.request
from collections import Counter
from dataclasses import dataclass
from typing import Any

import boto3

from devtools.local_runtime.stack import LocalStack
from devtools.sam.make_events import soap_message
from shared.salesforce.preferences import SETTING as PREFERENCES


@dataclass
class CallRow:
    """Calls for one scenario: per event (Stripe, DynamoDB, SQS) and per batch (Salesforce)."""

    scenario: str
    events: int
    outcome: str
    stripe_writes: float
    stripe_calls: float
    salesforce_queries: int
    salesforce_writes: int
    dynamodb: float
    sqs: float
    stripe_floor: int
    # Reads of the admin's sync preferences in this batch (not in ``salesforce_queries``): at most one per
    # worker instance per 5 minutes, so 0 in the steady state; the first scenario pays the cold start's one.
    preference_reads: int = 0


# What an SQS request costs, for the cost table: sends and deletes (receives are one per worker invocation; the
# event source mapping's empty long polls are a fixed cost, and the local poller's extra polls are not Lambda's).
SQS_BILLED = ("SendMessage", "SendMessageBatch", "DeleteMessage", "DeleteMessageBatch")


# DynamoDB operations billed as read request units (the rest write request units): "Read request unit"
# and "Write request unit", https://aws.amazon.com/dynamodb/pricing/on-demand/.
DYNAMODB_READS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"})


class AwsCalls:
    """Counts DynamoDB calls and the given SQS operations of the clients built from the default boto3 session
    from now on (``calls["dynamodb"]``, ``calls["sqs"]``)."""

    def __init__(self, sqs_operations: tuple[str, ...] = SQS_BILLED) -> None:
        self.calls: Counter[str] = Counter()
        self._sqs_operations = sqs_operations
        session = boto3.DEFAULT_SESSION or boto3.setup_default_session() or boto3.DEFAULT_SESSION
        assert session is not None
        session.events.register("before-call.dynamodb.*", self._count)
        self._register_sqs(session.events)

    def watch(self, client: Any) -> None:
        """Count a client built before this counter (e.g. the local poller's SQS client)."""
        self._register_sqs(client.meta.events)

    def _register_sqs(self, events: Any) -> None:
        for operation in self._sqs_operations:
            events.register(f"before-call.sqs.{operation}", self._count)

    def _count(self, model: Any, **_: Any) -> None:
        service = model.service_model.service_name
        self.calls[service] += 1
        if service == "dynamodb" and model.name in DYNAMODB_READS:
            self.calls["dynamodb_read"] += 1

    def snapshot(self) -> Counter[str]:
        return Counter(self.calls)


def _post(stack: LocalStack, body: bytes) -> None:
    request = urllib.request.Request(
        stack.outbound_message_url, data=body, method="POST", headers={"Content-Type": "text/xml; charset=UTF-8"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert b"<Ack>true</Ack>" in response.read()


class CallBench:
    """Runs the scenarios on a started stack (every-account mode, so every account has a customer)."""

    def __init__(self, stack: LocalStack, size: int) -> None:
        self.stack = stack
        self.sim = stack.sim
        self.size = size
        self.aws = AwsCalls(sqs_operations=("SendMessageBatch",))  # the receivers' sends per event
        self.accounts: list[str] = []
        self.rows: list[CallRow] = []

    def run(self) -> list[CallRow]:
        """create → update → unchanged → duplicate → stale → kept field → sync now. Every batch writes the sync
        history in Salesforce with its write-back: still ≤ 1 query and ≤ 1 write (a Composite call) per batch."""
        self.measure(
            "create",
            1,
            lambda: self.accounts.extend(
                self.sim.create("Account", {"Name": f"Bench {i:03d}", "BillingCountry": "Germany"})
                for i in range(self.size)
            ),
        )
        self.measure(
            "update", 1, lambda: [self.sim.update("Account", a, {"BillingCity": "Köln"}) for a in self.accounts]
        )
        self.measure(
            "unchanged", 0, lambda: [self.sim.update("Account", a, {"Website": "example.org"}) for a in self.accounts]
        )
        bodies = [d["body"].encode() for d in self.sim.outbound.deliveries if d["acked"]][-1:]
        self.measure("duplicate", 0, lambda: self._post_all(bodies), via_salesforce=False)
        stale = [
            (f"04l5g0000STALE{i:04d}", "Account", {"Id": a, "SystemModstamp": "2026-01-01T00:00:00.000Z"})
            for i, a in enumerate(self.accounts)
        ]
        self.measure(
            "stale", 0, lambda: _post(self.stack, soap_message(stale, org_id=self.sim.org_id)), via_salesforce=False
        )
        # A field left out with a warning keeps Stripe's value: the state holds digests, not values, so the sync
        # reads the customer (one retrieve, the floor) to send the object it belongs to whole and unchanged.
        self.measure(
            "kept field",
            1,
            lambda: [self.sim.update("Account", a, {"BillingCountry": "Atlantis"}) for a in self.accounts],
        )
        # An admin's "Sync to Stripe now" on every account: a forced sync reads the customer from Stripe (floor 1)
        # and leaves a history record even when nothing changed. The quick action's save also sends the account's
        # ordinary message (a person's edit), so each press is two events; the second finds nothing to do.
        self.measure(
            "sync now", 1, lambda: [self.sim.quick_action("Account", a, "Sync_to_Stripe_Now") for a in self.accounts]
        )
        return self.rows

    def _post_all(self, bodies: list[bytes]) -> None:
        for body in bodies:
            _post(self.stack, body)

    def measure(self, scenario: str, stripe_floor: int, action: Any, via_salesforce: bool = True) -> None:
        self.stack.settle()
        self.sim.outbound.pause()
        stripe_before, writes_before = len(self.stack.stripe.requests), len(self.stack.stripe.write_requests())
        sf_before = Counter(self.sim.api_calls)
        requests_before = len(self.sim.snapshot()[1])
        self.aws.calls.clear()
        log_before = len(self.stack.outcomes)
        action()
        if via_salesforce:
            self.sim.outbound.resume()
            assert self.sim.outbound.wait_idle(timeout=30)
            self.sim.outbound.pause()  # the write-back's own echo messages wait until after the measurement
        self.stack.poller.drain()
        sf = Counter(self.sim.api_calls) - sf_before
        preference_reads = sum(PREFERENCES in entry["path"] for entry in self.sim.snapshot()[1][requests_before:])
        outcomes = Counter(self.stack.outcomes[log_before:])
        self.rows.append(
            CallRow(
                scenario,
                self.size,
                ", ".join(f"{k} {v}" for k, v in outcomes.most_common()),
                (len(self.stack.stripe.write_requests()) - writes_before) / self.size,
                (len(self.stack.stripe.requests) - stripe_before) / self.size,
                sf["queryAll"] + sf["query"] - preference_reads,
                sf["composite_patch"] + sf["composite"],  # the write-back (with the sync history: Composite)
                self.aws.calls["dynamodb"] / self.size,
                self.aws.calls["sqs"] / self.size,
                stripe_floor,
                preference_reads,
            )
        )
        self.sim.outbound.resume()
        self.stack.settle()
