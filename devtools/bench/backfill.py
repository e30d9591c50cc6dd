"""Bulk loads on the local stack, each beside its floor (N Stripe writes at the stack's Stripe write rate):
the backfill (a first ``reconcile --apply`` on an org whose 10,000 accounts never had a customer) and an
admin's Data Loader update of those accounts (Outbound Messages of 100 notifications); then single changes
as they trickle in one at a time (the durations, calls and log bytes the cost table is made of).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from devtools.bench.reconcile_process import NoCheckpoints
from devtools.local_runtime.stack import LocalStack
from shared.sync import SyncQueue

TRICKLE_LATENCY_SECONDS = 0.3  # Stripe's latency for the one-at-a-time changes (typical API round trip)
# moto server's SQS scans its whole queue on every ReceiveMessage (measured: 10 receives of 10 take 0.6 s with
# 100 messages queued, 7.4 s with 1,000, and it fails with ~10,000), which real SQS does not: the bulk loads
# keep at most CHUNK messages queued or in flight, sending PIECE at a time, so the worker never idles and the
# local queue's cost stays well under the floor's 4 s a batch.
CHUNK, PIECE = 200, 100


@dataclass
class Invocations:
    """Handler invocations seen: events each, and wall seconds each."""

    events: list[int] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    def wrap(self, handler: Any, count: Any) -> Any:
        def measured(event: dict[str, Any], context: Any) -> Any:
            started = time.perf_counter()
            try:
                return handler(event, context)
            finally:
                self.seconds.append(time.perf_counter() - started)
                self.events.append(count(event))

        return measured

    def seconds_per_event(self) -> float:
        return sum(self.seconds) / max(1, sum(self.events))


@dataclass
class BackfillFigure:
    """The backfill of ``accounts`` new customers."""

    accounts: int
    rate: float  # the stack's Stripe write rate (requests/s)
    seconds: float
    reconcile_seconds: float
    stripe_creates: int
    salesforce_calls: int
    worker: Invocations
    account_ids: list[str] = field(default_factory=list, repr=False)

    @property
    def floor_seconds(self) -> float:
        return self.stripe_creates / self.rate


@dataclass
class ChangesFigure:
    """Changes synced end to end and what they cost: invocations, calls and log bytes."""

    changes: int
    receiver: Invocations
    worker: Invocations
    salesforce_calls: int
    dynamodb_calls: int
    dynamodb_reads: int  # of dynamodb_calls, those billed as reads (GetItem, Query…)
    sqs_calls: int
    log_bytes: int


@dataclass
class TrickleFigure(ChangesFigure):
    """Changes arriving one at a time: one Outbound Message, one worker batch each."""

    # Embedded-metric-format records per metric name while they were synced (custom metrics are billed by
    # the hour they are published in).
    published: Counter[str] = field(default_factory=Counter)


@dataclass
class DataLoaderFigure(ChangesFigure):
    """A Data Loader update of ``changes`` accounts that already have their customer."""

    messages: int  # Outbound Messages the receiver acknowledged
    rate: float
    seconds: float
    stripe_updates: int

    @property
    def floor_seconds(self) -> float:
        return self.changes / self.rate


def backfill(stack: LocalStack, *, accounts: int, rate: float) -> BackfillFigure:
    """Seed ``accounts`` accounts that existed before the sync (no messages), reconcile --apply, drain."""
    from shared.components import Components
    from shared.reconcile import RunOptions, run
    from shared.settings import ReconcileSettings

    sim, stripe = stack.sim, stack.stripe
    stack.settle()
    for definition in sim.outbound.definitions:
        definition.active = False  # accounts that existed before the sync was installed sent no message
    account_ids = [
        sim.create("Account", {"Name": f"Bestand {n:05d} SARL", "BillingCountry": "France"}) for n in range(accounts)
    ]
    for definition in sim.outbound.definitions:
        definition.active = True  # the worker's write-backs echo back as Outbound Messages, as in an org
    worker = Invocations()
    handler = stack.poller._handler
    stack.poller._handler = worker.wrap(handler, lambda event: len(event["Records"]))
    creates_before = _creates(stripe)
    salesforce_before = sum(sim.snapshot()[0].values())
    customers_before = len(stripe.customers())
    stack.poller.start()
    started = time.perf_counter()
    components = Components(ReconcileSettings.from_env())
    queue = cast(SyncQueue, ChunkedQueue(components.queue, lambda: _queued(stack)))
    run(components.reconciler(stack.org_id), NoCheckpoints(), RunOptions(apply=True, keep_ok=False), queue=queue)
    reconciled = time.perf_counter() - started
    deadline = started + 3 * accounts / rate + 300
    while len(stripe.customers()) < customers_before + accounts and time.perf_counter() < deadline:
        time.sleep(0.2)
    seconds = time.perf_counter() - started
    stack.poller.stop()
    stack.poller._handler = handler
    stack.settle(timeout=300)
    return BackfillFigure(
        accounts,
        rate,
        seconds,
        reconciled,
        _creates(stripe) - creates_before,
        sum(sim.snapshot()[0].values()) - salesforce_before,
        worker,
        account_ids,
    )


def data_loader_update(
    stack: LocalStack, account_ids: Sequence[str], *, rate: float, log_size: Callable[[], int], aws: Any
) -> DataLoaderFigure:
    """An admin's Data Loader update of every account (a new BillingCity): Salesforce queues one notification
    per record and sends them in Outbound Messages of up to 100 ("Outbound Messaging", Salesforce Help); wall
    time from the first message until every customer is updated in Stripe, and what it cost."""
    sim, stripe = stack.sim, stack.stripe
    stack.settle()
    sim.outbound.pause()
    for account_id in account_ids:
        sim.update("Account", account_id, {"BillingCity": "Lyon"})
    receiver, worker = Invocations(), Invocations()
    handlers = stack.gateway._handler, stack.poller._handler
    stack.gateway._handler = receiver.wrap(handlers[0], lambda event: 1)
    stack.poller._handler = worker.wrap(handlers[1], lambda event: len(event["Records"]))
    updates_before, salesforce_before = _updates(stripe), sum(sim.snapshot()[0].values())
    aws_before, log_before = aws.snapshot(), log_size()
    stack.poller.start()
    started = time.perf_counter()
    messages = 0
    # Salesforce sends as fast as the endpoint acknowledges; here one message of PIECE notifications at a time
    # while the local queue has room (moto server's SQS slows down with its depth, see CHUNK).
    for start in range(0, len(account_ids), PIECE):
        piece = set(account_ids[start : start + PIECE])
        while _queued(stack) + len(piece) > CHUNK:
            time.sleep(0.5)
        delivered = sim.outbound.send_now(lambda info, piece=piece: info["record_id"] in piece)
        messages += sum(1 for delivery in delivered if delivery.get("acked"))
    deadline = started + 3 * len(account_ids) / rate + 300
    while _updates(stripe) - updates_before < len(account_ids) and time.perf_counter() < deadline:
        time.sleep(0.2)
    seconds = time.perf_counter() - started
    stack.poller.stop()
    stack.gateway._handler, stack.poller._handler = handlers
    calls = aws.snapshot() - aws_before
    figure = DataLoaderFigure(
        changes=len(account_ids),
        receiver=receiver,
        worker=worker,
        salesforce_calls=sum(sim.snapshot()[0].values()) - salesforce_before,
        dynamodb_calls=calls["dynamodb"],
        dynamodb_reads=calls["dynamodb_read"],
        sqs_calls=calls["sqs"],
        log_bytes=log_size() - log_before,
        messages=messages,
        rate=rate,
        seconds=seconds,
        stripe_updates=_updates(stripe) - updates_before,
    )
    sim.outbound.resume()
    stack.settle(timeout=300)
    return figure


def trickle(
    stack: LocalStack,
    *,
    changes: int,
    log_size: Callable[[], int],
    aws: Any,
    log_since: Callable[[int], str] = lambda offset: "",
) -> TrickleFigure:
    """``changes`` account updates, each delivered and synced alone, with Stripe's latency; ``log_since(n)``
    is the handlers' log from byte ``n`` on (for the metrics they published)."""
    from devtools.bench.monthly import metric_publications

    sim, stripe = stack.sim, stack.stripe
    stack.settle()
    accounts = [sim.create("Account", {"Name": f"Einzeln {n:02d} AG"}) for n in range(changes)]
    stack.settle()
    receiver, worker = Invocations(), Invocations()
    gateway_handler = stack.gateway._handler
    stack.gateway._handler = receiver.wrap(gateway_handler, lambda event: 1)
    poller_handler = stack.poller._handler
    stack.poller._handler = worker.wrap(poller_handler, lambda event: len(event["Records"]))
    salesforce_before = sum(sim.snapshot()[0].values())
    aws_before = aws.snapshot()
    log_before = log_size()
    stripe.latency = TRICKLE_LATENCY_SECONDS
    try:
        for n, account_id in enumerate(accounts):
            sim.update("Account", account_id, {"Name": f"Einzeln {n:02d} AG (neu)"})
            assert sim.outbound.wait_idle(timeout=30)
            stack.poller.poll_once(wait_seconds=1)
            stack.settle()  # the write-back's echo: a second, unchanged event
    finally:
        stripe.latency = 0
        stack.gateway._handler = gateway_handler
        stack.poller._handler = poller_handler
    return TrickleFigure(
        changes,
        receiver,
        worker,
        sum(sim.snapshot()[0].values()) - salesforce_before,
        aws.snapshot()["dynamodb"] - aws_before["dynamodb"],
        aws.snapshot()["dynamodb_read"] - aws_before["dynamodb_read"],
        aws.snapshot()["sqs"] - aws_before["sqs"],
        log_size() - log_before,
        metric_publications(log_since(log_before)),
    )


class ChunkedQueue:
    """The sync queue, sending at most ``PIECE`` requests at a time and only while ``queued()`` (messages
    visible or in flight) leaves room under ``CHUNK``: the worker drains as reconcile reads on."""

    def __init__(self, queue: Any, queued: Callable[[], int], *, poll_seconds: float = 0.5) -> None:
        self._queue, self._queued, self._poll = queue, queued, poll_seconds

    def send(self, requests: Sequence[Any]) -> None:
        for start in range(0, len(requests), PIECE):
            piece = requests[start : start + PIECE]
            while self._queued() + len(piece) > CHUNK:
                time.sleep(self._poll)
            self._queue.send(piece)


def _queued(stack: LocalStack) -> int:
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    attributes = stack.sqs.get_queue_attributes(QueueUrl=stack.queue_url, AttributeNames=names)["Attributes"]
    return sum(int(attributes[name]) for name in names)


def _updates(stripe: Any) -> int:
    return sum(1 for r in stripe.requests if r["method"] == "POST" and r["path"].startswith("/v1/customers/cus_"))


def _creates(stripe: Any) -> int:
    return sum(1 for r in stripe.requests if r["method"] == "POST" and r["path"] == "/v1/customers")
