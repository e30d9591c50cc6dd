"""End-to-end wall time of a 100-notification message with Stripe latency, and worker CPU and memory."""

from __future__ import annotations

import contextlib
import json
import math
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from devtools.local_runtime.processes import REPO_ROOT
from devtools.local_runtime.stack import LocalStack
from devtools.sam.template_tables import function_memory_mb
from shared.state.lease import Lease


@dataclass
class EndToEnd:
    """A message of ``notifications`` accounts until every customer exists in Stripe."""

    notifications: int
    latency_ms: int
    concurrency: int
    wall_seconds: float

    @property
    def floor_seconds(self) -> float:
        """Stripe latency × ceil(notifications / concurrency): nothing can be faster with that concurrency."""
        return self.latency_ms / 1000 * math.ceil(self.notifications / self.concurrency)


@dataclass
class SdkFloor:
    """CPU ms of one DynamoDB call and one Stripe call, measured alone in the worker process."""

    dynamodb_ms: float
    stripe_ms: float


@dataclass
class WorkerCost:
    """CPU and memory of one worker batch, measured in a separate process, with the SDK calls it made."""

    scenario: str
    messages: int
    cpu_ms_per_event: float
    peak_rss_mb: float
    dynamodb_calls: int
    stripe_calls: int
    floor: SdkFloor
    batches: int = 1  # the cheapest of this many batches of the scenario

    @property
    def floor_ms_per_event(self) -> float:
        """The CPU the batch's own DynamoDB and Stripe calls cost at their measured floor, per event."""
        sdk = self.dynamodb_calls * self.floor.dynamodb_ms + self.stripe_calls * self.floor.stripe_ms
        return sdk / max(1, self.messages)


def end_to_end(stack: LocalStack, *, notifications: int, latency_ms: int, concurrency: int) -> EndToEnd:
    """Create ``notifications`` accounts while Salesforce's queue is paused, then time one delivery to the end."""
    sim, stripe = stack.sim, stack.stripe
    stack.settle()
    before = len(stripe.customers())
    sim.outbound.pause()
    for i in range(notifications):
        sim.create("Account", {"Name": f"E2E {i:03d}", "BillingCountry": "France"})
    stripe.latency = latency_ms / 1000
    stack.poller.start()  # polling continuously, like Lambda's event source mapping
    started = time.perf_counter()
    sim.outbound.resume()
    deadline = started + 120
    while len(stripe.customers()) < before + notifications and time.perf_counter() < deadline:
        time.sleep(0.01)
    wall = time.perf_counter() - started
    stack.poller.stop()
    stripe.latency = 0
    stack.settle()
    return EndToEnd(notifications, latency_ms, concurrency, wall)


@contextlib.contextmanager
def code_before() -> Iterator[None]:
    """The worker as it was before 2026-12-07, for the same run's comparison: the customer id Stripe answered
    with written on its own at once (a create's fifth DynamoDB call), not by the commit. In this process only:
    the local stack runs its worker here."""
    hold = Lease.hold_customer
    Lease.hold_customer = Lease.record_customer  # type: ignore[method-assign]
    try:
        yield
    finally:
        Lease.hold_customer = hold  # type: ignore[method-assign]


def lambda_environment(function_env: dict[str, str]) -> dict[str, str]:
    """A process environment the size of a Lambda function's: the runtime's variables and the function's own.

    Not this shell's: per-request costs in the libraries scale with the environment (requests, which
    stripe-python uses, scans every variable for proxy settings on each request).
    """
    runtime = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "LAMBDA_TASK_ROOT": str(REPO_ROOT),
        "LAMBDA_RUNTIME_DIR": "/var/runtime",
        "AWS_LAMBDA_FUNCTION_NAME": "bench-SyncWorkerFunction",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function_memory_mb("SyncWorkerFunction")),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/bench-SyncWorkerFunction",
        "AWS_LAMBDA_LOG_STREAM_NAME": "2026/01/01/[$LATEST]0123456789abcdef",
        "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "AWS_REGION": function_env.get("AWS_DEFAULT_REGION", "us-east-1"),
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        "AWS_XRAY_DAEMON_ADDRESS": "169.254.79.129:2000",
        "_HANDLER": "functions.sync_worker.app.lambda_handler",
    }
    return {**runtime, **function_env}


def worker_costs(stack: LocalStack, *, size: int, rounds: int = 2) -> list[WorkerCost]:
    """A warm-up batch (cold start), then ``rounds`` create, update and unchanged batches of ``size`` events.

    One worker process handles them all, like a warm Lambda instance; it reports each batch's CPU time
    (process time, so waiting on Stripe, Salesforce and DynamoDB is excluded) and peak RSS. Each scenario
    keeps its cheapest round: on a shared 2-core machine the emulators' own work can only add noise.
    """
    sim = stack.sim
    stack.settle()
    accounts: list[list[str]] = [[] for _ in range(rounds)]

    def create(batch: list[str], tag: int) -> None:
        batch.extend(sim.create("Account", {"Name": f"CPU {tag} {i:03d}"}) for i in range(size))

    def update(batch: list[str], field: str, value: str) -> None:
        for account in batch:
            sim.update("Account", account, {field: value})

    steps: list[tuple[str, Any]] = [
        (
            "first batch (cold start, 10 creates)",
            lambda: [sim.create("Account", {"Name": f"Warm {i}"}) for i in range(10)],
        )
    ]
    for tag, batch in enumerate(accounts):
        steps.append(("create", lambda batch=batch, tag=tag: create(batch, tag)))
    for field, value, scenario in (("Phone", "+33 1 00 00 00 00", "update"), ("Website", "example.fr", "unchanged")):
        for batch in accounts:  # Phone is mapped (one update each); Website is not (nothing to write)
            steps.append((scenario, lambda batch=batch, f=field, v=value: update(batch, f, v)))
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "devtools.bench.worker_process",
            "--batches",
            str(len(steps)),
            "--batch-size",
            str(size),
        ],
        cwd=REPO_ROOT,
        env=lambda_environment(stack.function_env),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert worker.stdin is not None and worker.stdout is not None
    costs = []
    try:
        calibration = json.loads(worker.stdout.readline())
        floor = SdkFloor(calibration["dynamodb_cpu_ms"], calibration["stripe_cpu_ms"])
        for name, action in steps:
            sim.outbound.pause()
            stripe_before = len(stack.stripe.requests)
            action()
            sim.outbound.resume()
            assert sim.outbound.wait_idle(timeout=30)
            sim.outbound.pause()  # write-back echoes wait until this batch is measured
            worker.stdin.write("go\n")
            worker.stdin.flush()
            figures: dict[str, Any] = json.loads(worker.stdout.readline())
            costs.append(
                WorkerCost(
                    name,
                    figures["messages"],
                    1000 * figures["cpu_seconds"] / max(1, figures["messages"]),
                    figures["peak_rss_mb"],
                    figures["dynamodb_calls"],
                    len(stack.stripe.requests) - stripe_before,
                    floor,
                )
            )
            sim.outbound.resume()
            stack.settle()
    finally:
        worker.wait(timeout=60)
    cheapest: dict[str, WorkerCost] = {}
    for cost in costs:
        batches = [c for c in costs if c.scenario == cost.scenario]
        best = min(batches, key=lambda c: c.cpu_ms_per_event)
        cheapest.setdefault(cost.scenario, replace(best, batches=len(batches)))
    return list(cheapest.values())
