"""Event Relay fuzz: generated EventBridge events through the platform-event function, as a rule target does.

Each event (``hostile_events.relay_events``: valid ones in both JSON renderings, and hostile ones) is
delivered by the local runtime's ``EventBridgeInvoker`` — Lambda's asynchronous invocation with its retries
and on-failure destination — to the function's ``lambda_handler``, which enqueues on the stack's real SQS
queue. Required zeros: no crash (an exception the product doesn't raise on purpose), nothing enqueued for a
hostile event, no message on the queue that the function didn't report, no event refused without a reason,
and every refused event parked in the function's on-failure queue (FAILURE_QUEUE_URL) with its reason.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings

from devtools.local_runtime import EventBridgeInvoker
from devtools.reliability.figures import Figures
from devtools.reliability.harness import Harness
from devtools.reliability.hostile_events import RelayEvent, relay_events
from devtools.reliability.sizes import Size
from shared.salesforce import normalise_event
from shared.sync import REASON_ATTRIBUTE
from shared.sync.event_reference import event_reference

_CHUNK = 250  # events between two checks of the queue
_PURGE_SECONDS = 61  # SQS allows one PurgeQueue per queue per minute (moto too)
_EXAMPLES_KEPT = 3
# Exceptions of these packages are the product's own, raised on purpose (e.g. to park an event in the
# function's on-failure destination with the reason as the error message); anything else is a crash.
_PRODUCT_PACKAGES = ("shared.", "functions.")


@dataclass
class Tally:
    """What became of the events, by outcome and kind."""

    outcomes: Counter[str] = field(default_factory=Counter)
    kinds: Counter[str] = field(default_factory=Counter)
    valid_not_enqueued: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    crashes: int = 0
    enqueued_from_hostile: int = 0
    refused_without_reason: int = 0
    reported_messages: int = 0
    unaccounted_messages: int = 0
    examples: list[str] = field(default_factory=list)

    def keep(self, text: str) -> None:
        """The first few failures, for the report."""
        if len(self.examples) < _EXAMPLES_KEPT:
            self.examples.append(text[:200])


class _Recording:
    """The handler as Lambda runs it, keeping the exception of the last failed attempt."""

    def __init__(self, handler: Any) -> None:
        self._handler = handler
        self.last_error: BaseException | None = None

    def __call__(self, event: Any, context: Any) -> Any:
        try:
            return self._handler(event, context)
        except Exception as error:
            self.last_error = error
            raise


def _deliberate(error: BaseException) -> bool:
    return type(error).__module__.startswith(_PRODUCT_PACKAGES)


def _record(tally: Tally, case: RelayEvent, result: Any, error: BaseException | None, reason: str | None) -> None:
    """Classify one delivery; ``reason`` is why normalisation refused the event (None when it didn't)."""
    tally.kinds[case.kind] += 1
    if error is not None and not _deliberate(error):
        tally.crashes += 1
        tally.keep(f"{case.kind}: {type(error).__name__}: {error}")
    if result is None:  # every attempt failed: the event is in the function's on-failure destination
        tally.outcomes["parked"] += 1
        if error is None or not str(error).strip():
            tally.refused_without_reason += 1
        return
    enqueued = int(result.get("enqueued", 0))
    tally.reported_messages += enqueued
    if enqueued and not case.may_enqueue:
        tally.enqueued_from_hostile += enqueued
        tally.keep(f"{case.kind}: enqueued {enqueued}")
    if result.get("dropped"):
        tally.outcomes["refused"] += 1
        tally.reasons[reason or ""] += 1
        if not reason:
            tally.refused_without_reason += 1
    elif result.get("ignored"):
        tally.outcomes["ignored"] += 1
    else:
        tally.outcomes["enqueued"] += 1
    if case.may_enqueue and not enqueued:
        tally.valid_not_enqueued[case.kind] += 1


@dataclass
class _QueueCheck:
    """Compares the queue with what the function reported since the last purge, and empties it now and then."""

    h: Harness
    reported_at_purge: int = 0
    purged_at: float = 0.0

    def check(self, tally: Tally, *, last: bool = False) -> None:
        """Messages on the queue must be exactly those the function reported (moto counts exactly)."""
        depth = self.h.queue_depth()
        expected = tally.reported_messages - self.reported_at_purge
        if depth != expected:
            tally.unaccounted_messages += abs(depth - expected)
            self.reported_at_purge += depth - expected  # count each difference once
        if depth and time.monotonic() - self.purged_at >= _PURGE_SECONDS:
            self.h.sqs.purge_queue(QueueUrl=self.h.stack.queue_url)
            self.purged_at, self.reported_at_purge = time.monotonic(), tally.reported_messages
        elif depth and last:
            self._drain()

    def _drain(self) -> None:
        """Receive and delete what is left (PurgeQueue is allowed once a minute only)."""
        url = self.h.stack.queue_url
        while messages := self.h.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
            entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
            self.h.sqs.delete_message_batch(QueueUrl=url, Entries=entries)


@contextmanager
def _failure_queue(h: Harness, module: Any) -> Iterator[str]:
    """An on-failure queue for the function (FAILURE_QUEUE_URL, as template.yaml wires it), removed after."""
    url = h.sqs.create_queue(QueueName=f"platform-event-failures-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    settings_before = module.SETTINGS
    module.SETTINGS = settings_before.model_copy(update={"failure_queue_url": url})
    try:
        yield url
    finally:
        module.SETTINGS = settings_before
        h.sqs.delete_queue(QueueUrl=url)


def _parked_with_reason(h: Harness, url: str, sample: int = 20) -> tuple[int, int]:
    """(messages in the on-failure queue, how many of a sample lack the failure_reason attribute)."""
    depth = h.queue_depth(url)
    received = h.sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=min(10, sample), MessageAttributeNames=[REASON_ATTRIBUTE]
    ).get("Messages", [])
    missing = sum(
        1 for m in received if not m.get("MessageAttributes", {}).get(REASON_ATTRIBUTE, {}).get("StringValue")
    )
    return depth, missing


def _parked_in_clear(h: Harness, url: str) -> int:
    """Parked records whose ``requestPayload`` holds a value the failure queue keeps only redacted.

    A record is in clear when it differs from its own reference (``event_reference`` keeps a reference as it
    is): the whole event, or any payload value that is not an id, a version or a status. Drains the queue.
    """
    in_clear = 0
    while batch := h.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in batch:
            try:
                payload = json.loads(message["Body"]).get("requestPayload")
            except (ValueError, AttributeError):
                payload = message["Body"]
            in_clear += event_reference(payload) != payload
        h.sqs.delete_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)]
        )
    return in_clear


def event_relay_fuzz(h: Harness, size: Size) -> Figures:
    """Deliver ``size.event_fuzz`` generated events to the platform-event function."""
    module = h.stack.platform_event
    with _failure_queue(h, module) as failure_url:
        figures = _fuzz(h, size, module)
        parked, without_reason = _parked_with_reason(h, failure_url)
        in_clear = _parked_in_clear(h, failure_url)
    refused = int(figures.other.get("events_refused", 0))
    figures.zero["refused_not_parked"] = abs(refused - parked)
    figures.zero["parked_without_reason_attribute"] = without_reason
    # Failure queues keep references, not records: no parked event with a payload value in clear.
    figures.zero["parked_with_values_in_clear"] = in_clear
    figures.other["parked"] = parked
    return figures


def _fuzz(h: Harness, size: Size, module: Any) -> Figures:
    """The deliveries and the sync-queue checks."""
    started = time.monotonic()
    h.settle()
    tally = Tally()
    queue = _QueueCheck(h)  # settled: the queue is empty
    handler = _Recording(module.lambda_handler)
    invoker = EventBridgeInvoker(handler, function_name="platform-event-fuzz")
    delivered = Counter[str]()

    @settings(
        max_examples=size.event_fuzz,
        database=None,
        deadline=None,
        derandomize=True,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(relay_events(h.org_id))
    def deliver(case: RelayEvent) -> None:
        handler.last_error = None
        result = invoker.invoke(case.event)
        reason = normalise_event(case.event, module.SETTINGS).dropped if result is not None else None
        _record(tally, case, result, handler.last_error, reason)
        delivered["events"] += 1
        if delivered["events"] % _CHUNK == 0:
            queue.check(tally)

    deliver()
    queue.check(tally, last=True)
    events = sum(tally.kinds.values())
    hostile = sum(n for kind, n in tally.kinds.items() if not kind.startswith("valid"))
    not_enqueued = ", ".join(f"{kind}: {n}" for kind, n in sorted(tally.valid_not_enqueued.items()))
    kinds = len(tally.kinds)
    return Figures(
        scenario="event relay fuzz",
        size=f"{events:,} generated EventBridge events ({hostile:,} hostile, {kinds} kinds), both JSON renderings",
        zero={
            "crashes": tally.crashes,
            "enqueued_from_hostile": tally.enqueued_from_hostile,
            "unaccounted_messages": tally.unaccounted_messages,
            "refused_without_reason": tally.refused_without_reason,
        },
        other={
            **{f"events_{outcome}": n for outcome, n in sorted(tally.outcomes.items())},
            "messages": tally.reported_messages,
            "invocations": invoker.stats.invocations,
            "refusal_reasons": len(tally.reasons),
            **({"valid_not_enqueued": not_enqueued} if not_enqueued else {}),
            **({"first_failures": " / ".join(tally.examples)} if tally.examples else {}),
        },
        seconds=time.monotonic() - started,
    )
