"""End-to-end wall time of a 100-notification message with Stripe latency, and worker CPU and memory."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

from devtools.local_stack import LocalStack
from devtools.processes import REPO_ROOT


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
class WorkerCost:
    """CPU and memory of one worker batch, measured in a separate process."""

    scenario: str
    messages: int
    cpu_ms_per_event: float
    peak_rss_mb: float


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


def worker_costs(stack: LocalStack, *, size: int) -> list[WorkerCost]:
    """A warm-up batch (cold start), then create, update and unchanged batches of ``size`` events.

    One worker process handles them all, like a warm Lambda instance; it reports each batch's CPU time
    (process time, so waiting on Stripe, Salesforce and DynamoDB is excluded) and peak RSS.
    """
    sim = stack.sim
    stack.settle()
    accounts: list[str] = []
    steps = [
        (
            "first batch (cold start, 10 creates)",
            lambda: [sim.create("Account", {"Name": f"Warm {i}"}) for i in range(10)],
        ),
        ("create", lambda: accounts.extend(sim.create("Account", {"Name": f"CPU {i:03d}"}) for i in range(size))),
        ("update", lambda: [sim.update("Account", a, {"Phone": "+33 1 00 00 00 00"}) for a in accounts]),
        ("unchanged", lambda: [sim.update("Account", a, {"Website": "example.fr"}) for a in accounts]),
    ]
    env = {k: v for k, v in os.environ.items() if k.isupper()}
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
        env={**os.environ, "BENCH_WORKER_ENV": json.dumps(env)},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert worker.stdout is not None
    costs = []
    try:
        for name, action in steps:
            sim.outbound.pause()
            action()
            sim.outbound.resume()
            assert sim.outbound.wait_idle(timeout=30)
            sim.outbound.pause()  # write-back echoes wait until this batch is measured
            figures: dict[str, Any] = json.loads(worker.stdout.readline())
            costs.append(
                WorkerCost(
                    name,
                    figures["messages"],
                    1000 * figures["cpu_seconds"] / max(1, figures["messages"]),
                    figures["peak_rss_mb"],
                )
            )
            sim.outbound.resume()
            stack.settle()
    finally:
        worker.wait(timeout=60)
    return costs
