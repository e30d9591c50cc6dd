"""What comparing with Stripe costs beside the connector (``OTHER_STRIPE_WRITERS=connector``): calls and latency.

Beside Stripe's connector every sync retrieves the customer before deciding "unchanged"
(shared/sync/stripe_baseline.py): one ``GET /v1/customers/{id}`` more per sync, and an unchanged account no
longer costs zero Stripe calls. Measured on a stack whose accounts already have customers: the same edits as
the "Calls per event" scenarios, with the worker reloaded beside the connector, and the wall time of one
account's edit (Salesforce save → Stripe written) with the emulator answering after ``latency_ms``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from devtools.bench.calls import CallBench, CallRow
from devtools.local_runtime.stack import LocalStack

BESIDE = {"OTHER_STRIPE_WRITERS": "connector"}
ALONE = {"OTHER_STRIPE_WRITERS": "none"}


@dataclass
class EditLatency:
    """Median seconds from one account's save in Salesforce to the worker's batch done, per mode."""

    latency_ms: int
    alone_seconds: float
    beside_seconds: float


def beside_rows(bench: CallBench) -> list[CallRow]:
    """``update`` and ``unchanged`` beside the connector, on ``bench``'s accounts (its ``run()`` made them)."""
    stack = bench.stack
    stack.reload_worker(env=BESIDE)
    try:
        start = len(bench.rows)
        bench.measure(
            "update, beside the connector",
            2,
            lambda: [bench.sim.update("Account", a, {"BillingCity": "Bonn"}) for a in bench.accounts],
        )
        bench.measure(
            "unchanged, beside the connector",
            1,
            lambda: [bench.sim.update("Account", a, {"Website": "example.net"}) for a in bench.accounts],
        )
        return bench.rows[start:]
    finally:
        stack.reload_worker(env=ALONE)


def edit_latency(stack: LocalStack, account_id: str, *, latency_ms: int, repeats: int = 5) -> EditLatency:
    """One account's edit, end to end, alone and beside the connector, Stripe answering after ``latency_ms``."""
    stack.stripe.latency = latency_ms / 1000
    try:
        alone = _median_edit(stack, account_id, repeats, "alone")
        stack.reload_worker(env=BESIDE)
        beside = _median_edit(stack, account_id, repeats, "beside")
    finally:
        stack.reload_worker(env=ALONE)
        stack.stripe.latency = 0.0
    return EditLatency(latency_ms, alone, beside)


def _median_edit(stack: LocalStack, account_id: str, repeats: int, tag: str) -> float:
    times = []
    for i in range(repeats):
        stack.settle()
        began = time.perf_counter()
        stack.sim.update("Account", account_id, {"BillingCity": f"Ort {tag} {i}"})
        stack.settle()
        times.append(time.perf_counter() - began)
    return sorted(times)[len(times) // 2]


def beside_table(rows: list[CallRow], latency: EditLatency) -> list[str]:
    """The section's lines: Stripe calls per event beside the connector, and one edit's latency in both modes."""
    lines = [
        "| scenario | outcome | Stripe calls/event (floor) | DynamoDB/event |",
        "|---|---|---|---|",
        *(
            f"| {row.scenario} | {row.outcome} | {row.stripe_calls:.2f} ({row.stripe_floor}) | {row.dynamodb:.2f} |"
            for row in rows
        ),
        "",
        f"One account's edit, Salesforce save → Stripe written, Stripe answering after {latency.latency_ms} ms "
        f"(median of 5): alone {latency.alone_seconds * 1000:.0f} ms, beside the connector "
        f"{latency.beside_seconds * 1000:.0f} ms (+{(latency.beside_seconds - latency.alone_seconds) * 1000:.0f} ms: "
        "the retrieve before the update).",
    ]
    return lines
