"""Faults everywhere at once: Stripe 429 / 5xx / timeouts, Salesforce session expiry and REST 503s, and
DynamoDB throttling of the worker's calls → nothing lost, nothing duplicated, everything applied.

Changes reach the worker through the simulator's real Outbound Messages (with Salesforce's retries); the
worker keeps draining with the queue's visibility timeout until everything has settled, and the DLQ must
stay empty.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse

from devtools.reliability.delivery import check_customers
from devtools.reliability.figures import Figures
from devtools.reliability.harness import Harness
from devtools.reliability.sizes import Size

# About 20 % of Stripe requests fail, split between the kinds a client must survive (each rule draws on
# its own, so the combined rate is 1 - 0.93 · 0.93 · 0.965 · 0.965 ≈ 19.5 %).
STRIPE_FAULTS = {"rate_limit": 0.07, "server_error": 0.07, "timeout_before": 0.035, "timeout_after": 0.035}
# DynamoDB throttling at two levels: on the wire, where botocore's retry policy (legacy mode: up to 10
# attempts for DynamoDB) absorbs it as it would in AWS, and on top of that a share answered before botocore
# sends anything, which skips its retries and so reaches the product code.
WIRE_THROTTLE_RATE = 0.2
CALL_THROTTLE_RATE = 0.05
THROTTLED = "ProvisionedThroughputExceededException"
_THROTTLED_BODY = json.dumps(
    {"__type": f"com.amazonaws.dynamodb.v20120810#{THROTTLED}", "message": "Throughput exceeded (injected)"}
).encode()


class _Body:
    """The raw body of an injected response (what ``AWSResponse.content`` reads)."""

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield _THROTTLED_BODY


class DynamoThrottle:
    """Answers DynamoDB calls with ProvisionedThroughputExceededException, counting what it injects.

    Handlers on boto3's default session: only clients created while they are installed carry them
    (botocore copies a session's handlers into each new client), so the worker gets them through a cold
    start and the scenario's own checking client does not. ``surfaced`` counts the calls that ended throttled
    in the product code (after botocore's retries).
    """

    def __init__(self, *, wire_rate: float, call_rate: float, seed: int = 0) -> None:
        self.rates = {"wire": wire_rate, "call": call_rate}
        self.calls = 0
        self.injected: Counter[str] = Counter()
        self.surfaced = 0
        self.armed = False
        self._rng = random.Random(seed)
        self._lock = threading.Lock()  # the worker may call DynamoDB from several threads

    def _fire(self, level: str) -> bool:
        with self._lock:
            if level == "call" and self.armed:
                self.calls += 1
            fire = self.armed and self._rng.random() < self.rates[level]
            self.injected[level] += fire
            return fire

    def before_call(self, **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        """Answer before botocore sends anything (no retry): the product sees the error."""
        if not self._fire("call"):
            return None
        error = {"Code": THROTTLED, "Message": "Throughput exceeded (injected)"}
        return AWSResponse("", 400, {}, None), {"Error": error, "ResponseMetadata": {"HTTPStatusCode": 400}}

    def before_send(self, request: Any, **_: Any) -> AWSResponse | None:
        """Answer in place of DynamoDB: botocore's retry policy decides what happens next."""
        if not self._fire("wire"):
            return None
        return AWSResponse(request.url, 400, {"Content-Type": "application/x-amz-json-1.0"}, _Body())

    def after_call(self, parsed: dict[str, Any], **_: Any) -> None:
        """Count calls that ended throttled, whichever level injected it."""
        if self.armed and parsed.get("Error", {}).get("Code") == THROTTLED:
            with self._lock:
                self.surfaced += 1

    @contextmanager
    def installed(self, h: Harness) -> Iterator[DynamoThrottle]:
        """Throttle the worker's calls while the block runs (cold starts before and after)."""
        events = boto3._get_default_session().events
        handlers = {"before-call": self.before_call, "before-send": self.before_send, "after-call": self.after_call}
        for event, handler in handlers.items():
            events.register(f"{event}.dynamodb", handler, unique_id=f"reliability-{event}")
        self.armed = True
        h.cold_start_worker()
        try:
            yield self
        finally:
            self.armed = False  # the worker's client keeps its copy of the handlers: disarm, then replace it
            for event in handlers:
                events.unregister(f"{event}.dynamodb", unique_id=f"reliability-{event}")
            h.cold_start_worker()


def _salesforce_trouble(h: Harness) -> int:
    """Between rounds: every session expires, and the next reads, write-back and re-login answer 503."""
    h.sim.expire_sessions()
    injected = {"queryAll": 2, "composite": 1, "token": 1}  # the write-back goes with the history
    for kind, count in injected.items():
        h.sim.fail_next(kind, 503, count)
    return sum(injected.values())


def faults(h: Harness, size: Size) -> Figures:
    """Rounds of account changes under Stripe, Salesforce and DynamoDB faults."""
    started = time.monotonic()
    accounts, rounds = size.fault_accounts, size.fault_rounds
    h.outbound(active=True)
    stripe_before = len(h.stripe.requests)
    stats_before = replace(h.worker_stats)
    throttle = DynamoThrottle(wire_rate=WIRE_THROTTLE_RATE, call_rate=CALL_THROTTLE_RATE, seed=5)
    salesforce_503s = 0
    with throttle.installed(h):
        for seed, (kind, rate) in enumerate(STRIPE_FAULTS.items()):
            h.stripe.inject_rate(kind, rate, seed=seed)
        try:
            ids = h.create_accounts("Fault", accounts)
            h.settle()
            for version in range(1, rounds + 1):
                salesforce_503s += _salesforce_trouble(h)
                h.update_accounts("Fault", ids, version)
                h.settle()
        finally:
            h.stripe.clear_faults()
    h.settle()
    counts = check_customers(h, "Fault", ids, rounds)
    dlq = h.queue_depth(h.stack.dlq_url)
    stripe_requests = h.stripe.requests[stripe_before:]
    stripe_faults = Counter(str(r["fault"]) for r in stripe_requests if r["fault"])
    stats = h.worker_stats
    return Figures(
        scenario="faults",
        size=f"{accounts} accounts × {rounds + 1} versions via Outbound Messages",
        lost=counts["missing"] + counts["not_latest"] + dlq,
        duplicates=counts["extra"],
        zero={"not_latest": counts["not_latest"], "dlq": dlq, "sf_expired": len(h.sim.outbound.expired)},
        other={
            "stripe_faults": f"{sum(stripe_faults.values())}/{len(stripe_requests)}",
            **{f"stripe_{kind}": n for kind, n in sorted(stripe_faults.items())},
            "dynamodb_calls": throttle.calls,
            "dynamodb_throttled_wire": throttle.injected["wire"],
            "dynamodb_throttled_call": throttle.injected["call"],
            "dynamodb_throttles_surfaced": throttle.surfaced,
            "sf_session_expiries": rounds,
            "sf_503s": salesforce_503s,
            "worker_batches": stats.invocations - stats_before.invocations,
            "retried_messages": stats.item_failures - stats_before.item_failures,
            "failed_batches": stats.handler_errors - stats_before.handler_errors,
            "slowest_batch_s": round(stats.slowest_batch, 1),
        },
        seconds=time.monotonic() - started,
    )
