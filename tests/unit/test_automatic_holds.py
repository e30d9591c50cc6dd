"""The holds the sync places and releases by itself, and the admin's "Sync now" past the live switch.

Real parts: the holds in dynalite, the held queue in moto's SQS. The batch worker is a stand-in answering
as ``SqsBatchWorker.run_batch`` does (the end-to-end runs are tests/integration/test_automatic_holds.py).
Salesforce reports the org's usage on every REST response, ``Sforce-Limit-Info: api-usage=USED/MAX``
(https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/headers_api_usage.htm).
"""

from __future__ import annotations

import uuid
from typing import Any

import boto3
import pytest
from aws_lambda_powertools import Logger, Metrics

from shared.errors import (
    ConcurrentRequestLimitExceeded,
    CredentialsRefused,
    RequestLimitExceeded,
    TransientSyncError,
)
from shared.state.holds import HoldReason, HoldStore
from shared.sync.automatic_holds import ApiBudget, ApiUsage, AutomaticHolds, usage_of_limits
from shared.sync.gate import GatedWorker, HeldQueue
from shared.sync.gate_probe import GateProbe
from shared.sync.models import SObjectType, SyncRequest, TriggerSource
from shared.sync.sqs_batch import BatchReport

ORG = "00D000000000001EAA"


def body(n: int, source: TriggerSource = TriggerSource.OUTBOUND_MESSAGE) -> str:
    account = f"001000000000{n:03d}AAA"
    return SyncRequest(
        org_id=ORG, object_type=SObjectType.ACCOUNT, record_id=account, event_id=f"e{n}", source=source
    ).model_dump_json()


def sqs_event(*bodies: str) -> dict[str, Any]:
    return {"Records": [{"messageId": f"m{n}", "body": b} for n, b in enumerate(bodies)]}


class FailingWorker:
    """Stands in for SqsBatchWorker: fails the messages named in ``errors`` with their error, runs the rest."""

    def __init__(self, errors: dict[str, Exception] | None = None) -> None:
        self.errors = errors or {}
        self.batches: list[list[str]] = []

    def run_batch(self, event: dict[str, Any], context: Any) -> BatchReport:
        ids = [r["messageId"] for r in event["Records"]]
        self.batches.append(ids)
        failed = {i: e for i, e in self.errors.items() if i in ids}
        return BatchReport({"batchItemFailures": [{"itemIdentifier": i} for i in failed]}, failed)

    def handle(self, event: dict[str, Any], context: Any) -> Any:
        return self.run_batch(event, context).response


@pytest.fixture
def sqs(moto_endpoint: str) -> Any:
    return boto3.client("sqs", endpoint_url=moto_endpoint, region_name="us-east-1")


@pytest.fixture
def live(dynamodb: Any, state_table: str) -> HoldStore:
    store = HoldStore(state_table, dynamodb)
    store.release(HoldReason.OBSERVE)
    return store


def held_queue(sqs: Any) -> HeldQueue:
    return HeldQueue(sqs, sqs.create_queue(QueueName=f"held-{uuid.uuid4().hex[:8]}")["QueueUrl"])


def parked(sqs: Any, held: HeldQueue) -> int:
    attrs = sqs.get_queue_attributes(QueueUrl=held.url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attrs["Attributes"]["ApproximateNumberOfMessages"])


def gate(
    store: HoldStore, held: HeldQueue, worker: FailingWorker, usage: ApiUsage | None = None, percent: float = 80
) -> GatedWorker:
    logger, metrics = Logger(), Metrics(namespace="test")
    automatic = AutomaticHolds(
        lambda reason, note: store.place(reason, by="sync", note=note),
        usage=lambda: usage,
        budget=ApiBudget(percent),
        logger=logger,
        metrics=metrics,
    )
    return GatedWorker(worker, store.holds, held, logger=logger, metrics=metrics, automatic=automatic)


def reasons(store: HoldStore) -> list[HoldReason]:
    return [hold.reason for hold in store.holds(consistent=True)]


def test_refused_credentials_hold_the_gate_and_park_the_batch_instead_of_retrying(live: HoldStore, sqs: Any) -> None:
    # Given an open gate, and a Stripe key refused even after the secret was read again
    held = held_queue(sqs)
    refused = CredentialsRefused("stripe", "Stripe refused the key in STRIPE_API_KEY_SECRET_NAME: store the new key")
    worker = FailingWorker({"m0": refused, "m1": refused})
    # When a batch of three runs (one account's sync needed no Stripe call)
    answer = gate(live, held, worker).handle(sqs_event(body(0), body(1), body(2)), None)
    # Then the credentials hold is in place, naming the vendor and the setting (no secret)
    (hold,) = live.holds(consistent=True)
    assert hold.reason is HoldReason.CREDENTIALS and hold.by == "sync"
    assert hold.note.startswith("stripe:") and "STRIPE_API_KEY_SECRET_NAME" in hold.note
    # And the refused messages are parked now, not left to SQS's receives (which end in the DLQ)
    assert answer == {"batchItemFailures": []} and parked(sqs, held) == 2
    # And the next batch waits without a sync
    gate(live, held, worker).handle(sqs_event(body(3)), None)
    assert worker.batches == [["m0", "m1", "m2"]] and parked(sqs, held) == 3


@pytest.mark.parametrize(
    "error",
    [
        TransientSyncError("Stripe answered 503"),
        # Salesforce's other REQUEST_LIMIT_EXCEEDED (concurrent long-running requests): minutes, not the budget
        ConcurrentRequestLimitExceeded("ConcurrentRequests (Concurrent API Requests) Limit exceeded."),
    ],
)
def test_other_transient_failures_stay_with_sqs_and_hold_nothing(live: HoldStore, sqs: Any, error: Exception) -> None:
    # Given an outage failing one message
    held = held_queue(sqs)
    worker = FailingWorker({"m0": error})
    # When the batch runs
    answer = gate(live, held, worker).handle(sqs_event(body(0), body(1)), None)
    # Then SQS redelivers it as before, and the gate stays open
    assert answer == {"batchItemFailures": [{"itemIdentifier": "m0"}]}
    assert reasons(live) == [] and parked(sqs, held) == 0


def test_request_limit_exceeded_holds_the_api_budget(live: HoldStore, sqs: Any) -> None:
    # Given Salesforce answering REQUEST_LIMIT_EXCEEDED to the batch's query (every message fails with it)
    held = held_queue(sqs)
    worker = FailingWorker({"m0": RequestLimitExceeded(), "m1": RequestLimitExceeded()})
    # When the batch runs
    answer = gate(live, held, worker).handle(sqs_event(body(0), body(1)), None)
    # Then the api_budget hold is placed and both messages wait in the held queue
    assert reasons(live) == [HoldReason.API_BUDGET] and "REQUEST_LIMIT_EXCEEDED" in live.holds()[0].note
    assert answer == {"batchItemFailures": []} and parked(sqs, held) == 2


@pytest.mark.parametrize(("used", "held_after"), [(11_999, False), (12_000, True), (14_000, True)])
def test_usage_reported_at_or_above_the_budget_holds_after_the_batch(
    live: HoldStore, sqs: Any, used: int, held_after: bool
) -> None:
    # Given the last Salesforce response's Sforce-Limit-Info: api-usage=USED/15000, and a budget of 80 %
    held = held_queue(sqs)
    worker = FailingWorker()
    # When a batch syncs
    answer = gate(live, held, worker, usage=ApiUsage(used, 15_000)).handle(sqs_event(body(0)), None)
    # Then the batch itself was synced; from 12,000 of 15,000 on, the gate holds the next ones
    assert answer == {"batchItemFailures": []} and worker.batches == [["m0"]]
    assert reasons(live) == ([HoldReason.API_BUDGET] if held_after else [])
    if held_after:
        assert f"{used}/15000" in live.holds()[0].note and "80 %" in live.holds()[0].note


def test_the_budget_is_a_setting(live: HoldStore, sqs: Any) -> None:
    # Given the admin's budget of 50 % and the org at 7,600 of 15,000 requests
    worker = FailingWorker()
    gate(live, held_queue(sqs), worker, usage=ApiUsage(7_600, 15_000), percent=50).handle(sqs_event(body(0)), None)
    # Then the sync is held (80 % would not have)
    assert reasons(live) == [HoldReason.API_BUDGET]


def test_a_manual_sync_passes_the_live_switch_only(live: HoldStore, sqs: Any) -> None:
    # Given the admin's live switch off
    held = held_queue(sqs)
    live.place(HoldReason.LIVE_SWITCH, by="salesforce preferences")
    worker = FailingWorker()
    # When an account edit and an admin's "Sync now" arrive in one batch
    event = sqs_event(body(0), body(1, TriggerSource.MANUAL))
    answer = gate(live, held, worker).handle(event, None)
    # Then the manual sync ran, the edit waits
    assert worker.batches == [["m1"]] and parked(sqs, held) == 1 and answer == {"batchItemFailures": []}
    # When the operator pauses as well (or any other hold is in place)
    live.place(HoldReason.OPERATOR, by="sfsync")
    gate(live, held, worker).handle(sqs_event(body(2, TriggerSource.MANUAL)), None)
    # Then the manual sync waits too
    assert worker.batches == [["m1"]] and parked(sqs, held) == 2


def test_a_manual_sync_refused_for_credentials_under_the_live_switch_is_parked(live: HoldStore, sqs: Any) -> None:
    # Given the live switch off and a manual sync whose Salesforce login is refused
    held = held_queue(sqs)
    live.place(HoldReason.LIVE_SWITCH, by="salesforce preferences")
    worker = FailingWorker({"m0": CredentialsRefused("salesforce", "login refused: SALESFORCE_SECRET_NAME")})
    # When it runs
    answer = gate(live, held, worker).handle(sqs_event(body(0, TriggerSource.MANUAL)), None)
    # Then the credentials hold joins the live switch and the message waits (never the DLQ)
    assert set(reasons(live)) == {HoldReason.LIVE_SWITCH, HoldReason.CREDENTIALS}
    assert answer == {"batchItemFailures": []} and parked(sqs, held) == 1


class Vendors:
    """The probe's two reads: what Stripe and Salesforce answer now."""

    def __init__(self) -> None:
        self.stripe: Exception | None = None
        self.salesforce: Exception | None = None
        self.limits = {"DailyApiRequests": {"Max": 15_000, "Remaining": 15_000}}

    def stripe_read(self) -> None:
        if self.stripe:
            raise self.stripe

    def salesforce_usage(self) -> ApiUsage:
        if self.salesforce:
            raise self.salesforce
        return usage_of_limits(self.limits)


def probe(store: HoldStore, vendors: Vendors) -> GateProbe:
    return GateProbe(
        store,
        stripe_read=vendors.stripe_read,
        salesforce_usage=vendors.salesforce_usage,
        budget=ApiBudget(80),
        logger=Logger(),
        metrics=Metrics(namespace="test"),
    )


def test_the_probe_releases_credentials_only_when_both_vendors_answer(live: HoldStore) -> None:
    # Given the credentials hold, and Stripe still refusing the key
    live.place(HoldReason.CREDENTIALS, by="sync", note="stripe: refused")
    vendors = Vendors()
    vendors.stripe = CredentialsRefused("stripe", "refused")
    # When the probe runs, then the hold stays
    assert probe(live, vendors).run() == [] and reasons(live) == [HoldReason.CREDENTIALS]
    # When Stripe answers but Salesforce is unreachable (an outage says nothing about credentials)
    vendors.stripe, vendors.salesforce = None, TransientSyncError("Salesforce answered 503")
    assert probe(live, vendors).run() == [] and reasons(live) == [HoldReason.CREDENTIALS]
    # When both answer
    vendors.salesforce = None
    # Then the hold is released
    assert probe(live, vendors).run() == [HoldReason.CREDENTIALS] and reasons(live) == []


def test_the_probe_releases_the_budget_when_the_rolling_usage_is_back_under_it(live: HoldStore) -> None:
    # Given the api_budget hold and the org still at 13,000 of 15,000 requests (Limits: DailyApiRequests)
    live.place(HoldReason.API_BUDGET, by="sync")
    vendors = Vendors()
    vendors.limits = {"DailyApiRequests": {"Max": 15_000, "Remaining": 2_000}}
    assert probe(live, vendors).run() == [] and reasons(live) == [HoldReason.API_BUDGET]
    # When Salesforce still answers REQUEST_LIMIT_EXCEEDED to the probe itself, the hold stays
    vendors.salesforce = RequestLimitExceeded()
    assert probe(live, vendors).run() == [] and reasons(live) == [HoldReason.API_BUDGET]
    # When older requests left the 24 h window: 9,000 used
    vendors.salesforce = None
    vendors.limits = {"DailyApiRequests": {"Max": 15_000, "Remaining": 6_000}}
    # Then the hold is released
    assert probe(live, vendors).run() == [HoldReason.API_BUDGET] and reasons(live) == []


def test_the_probe_never_releases_an_operators_hold_or_observe_mode(dynamodb: Any, state_table: str) -> None:
    # Given a new stack (observe mode) that an operator also paused, and both automatic holds
    store = HoldStore(state_table, dynamodb)
    store.place(HoldReason.OPERATOR, by="sfsync")
    store.place(HoldReason.CREDENTIALS, by="sync")
    store.place(HoldReason.API_BUDGET, by="sync")
    # When both causes are gone and the probe runs
    released = probe(store, Vendors()).run()
    # Then only its own holds are released
    assert sorted(released) == sorted([HoldReason.CREDENTIALS, HoldReason.API_BUDGET])
    assert sorted(reasons(store)) == sorted([HoldReason.OBSERVE, HoldReason.OPERATOR])
