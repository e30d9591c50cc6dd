"""Latency from a change's arrival to its customer in Stripe, and to the Stripe id written back to Salesforce.

New accounts arrive at a steady rate (every-account creation mode), one Outbound Message each, or one Event
Relay change event each; the local stack handles them as deployed: the receiver, the queue, the worker behind
an event source mapping with the template's batching window (``MaximumBatchingWindowInSeconds``), Stripe
answering every request after ``STRIPE_LATENCY_SECONDS``. Each account's clock starts when the receiver gets
the Outbound Message's POST (or when Event Relay hands its change event to EventBridge) and stops when its
customer exists in the Stripe emulator, then when the simulator stores the customer id on the account.

Salesforce's own delay between the commit and the POST (its Outbound Message queue) or the event is not
measured: the simulator sends at once, and Salesforce documents no figure for it.
"""

from __future__ import annotations

import base64
import re
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from devtools.local_runtime.stack import LocalStack
from devtools.sam.template_tables import load_template
from shared.mapping.stripe_paths import ACCOUNT_ID_METADATA_KEY

STRIPE_LATENCY_SECONDS = 0.3  # a typical Stripe API round trip
# Stripe's connector polls Salesforce every 90 s, as its documentation says (its code says 180 s;
# https://docs.stripe.com/connectors/salesforce-cpq/overview): a change waits 45 s on average before the
# connector even sees it, and up to 90 s.
CONNECTOR_POLL_SECONDS = 90.0
_ACCOUNT_ID = re.compile(rb"<sf:Id>(001[A-Za-z0-9]{15})</sf:Id>")
ECHO_READ = "Event Relay, echo read"  # the write-back's change event read (WRITE_BACK_FIELDS unset): as before
_POLL_SECONDS = 0.01  # how often the Stripe emulator's customers are looked at (the measurement's resolution)


def batching_window_seconds() -> float:
    """The worker's ``MaximumBatchingWindowInSeconds`` in template.yaml."""
    function = load_template()["Resources"]["SyncWorkerFunction"]["Properties"]
    sqs = next(e["Properties"] for e in function["Events"].values() if e["Type"] == "SQS")
    return float(sqs.get("MaximumBatchingWindowInSeconds", 0))


@dataclass
class LatencyRun:
    """Seconds from each change's arrival to its customer in Stripe and to its id written back."""

    source: str  # "Outbound Message" or "Event Relay"
    rate: float  # changes per second
    changes: int
    window: float  # the batching window (seconds)
    stripe_calls: float = 1.0  # Stripe requests per change (a create: one)
    to_stripe: list[float] = field(default_factory=list)
    to_written_back: list[float] = field(default_factory=list)

    @property
    def floor_to_stripe(self) -> float:
        """The batching window, then the change's own Stripe calls one after the other: what the first change
        of a batch can't beat (later ones wait less of the window; beyond the 5 in flight, they wait for each
        other). The p99 is compared with it."""
        return self.window + self.stripe_calls * STRIPE_LATENCY_SECONDS

    @property
    def floor_to_written_back(self) -> float:
        """The same, then the write-back (a call to the simulator: a few ms, counted as 0)."""
        return self.floor_to_stripe


def percentile(values: list[float], p: float) -> float:
    """The ``p``-th percentile (0–100), linear between ranks; 0 for no values."""
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1] if p < 100 else max(values)


class _Clocks:
    """Start, Stripe and write-back times per account id (time.monotonic())."""

    def __init__(self) -> None:
        self.started: dict[str, float] = {}
        self.in_stripe: dict[str, float] = {}
        self.written_back: dict[str, float] = {}
        self._lock = threading.Lock()

    def start(self, account_ids: list[str]) -> None:
        now = time.monotonic()
        with self._lock:
            for account_id in account_ids:
                self.started.setdefault(account_id, now)

    def watch_stripe(self, stripe: Any, stop: threading.Event) -> None:
        while not stop.is_set():
            now = time.monotonic()
            for customer in stripe.customers():
                account_id = (customer.get("metadata") or {}).get(ACCOUNT_ID_METADATA_KEY)
                if account_id and account_id not in self.in_stripe:
                    self.in_stripe[account_id] = now
            time.sleep(_POLL_SECONDS)


def measure(stack: LocalStack, *, source: str, rate: float, changes: int) -> LatencyRun:
    """``changes`` new accounts at ``rate`` per second through ``source``; the stack must be fresh or settled.

    The worker runs behind a poller with the template's batching window; Stripe answers in 300 ms.
    """
    sim, stripe = stack.sim, stack.stripe
    stack.settle()
    window = batching_window_seconds()
    clocks = _Clocks()
    restore = _hook_arrivals(stack, source, clocks)
    id_field = stack.function_env.get("SALESFORCE_STRIPE_ID_FIELD", "Stripe_Customer_ID__c")
    store_hook = sim.store.on_change

    def changed(sobject: str, old: Any, new: Any) -> None:
        if sobject == "Account" and new.get(id_field) and not (old or {}).get(id_field):
            clocks.written_back.setdefault(str(new["Id"]), time.monotonic())
        if store_hook is not None:
            store_hook(sobject, old, new)

    sim.store.on_change = changed
    poller_window, stack.poller._window = stack.poller._window, window
    stop = threading.Event()
    watcher = threading.Thread(target=clocks.watch_stripe, args=(stripe, stop), daemon=True)
    stripe.latency = STRIPE_LATENCY_SECONDS
    created: list[str] = []
    stripe_before = len(stripe.requests)
    try:
        watcher.start()
        stack.poller.start()
        _arrive(lambda n: created.append(sim.create("Account", {"Name": f"Latenz {n:04d} GmbH"})), rate, changes)
        deadline = time.monotonic() + 60 + changes / rate
        while len(clocks.written_back.keys() & set(created)) < len(created) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stack.poller.stop()
        stop.set()
        watcher.join()
        stripe.latency = 0
        stack.poller._window = poller_window
        sim.store.on_change = store_hook
        restore()
    stripe_calls = (len(stripe.requests) - stripe_before) / max(1, changes)
    stack.settle()
    run = LatencyRun(source, rate, changes, window, stripe_calls)
    for account_id in created:
        start = clocks.started.get(account_id)
        if start is None:
            continue
        if account_id in clocks.in_stripe:
            run.to_stripe.append(clocks.in_stripe[account_id] - start)
        if account_id in clocks.written_back:
            run.to_written_back.append(clocks.written_back[account_id] - start)
    return run


def _arrive(create: Callable[[int], None], rate: float, changes: int) -> None:
    """Call ``create(n)`` ``changes`` times on a steady schedule of ``rate`` per second."""
    began = time.monotonic()
    for n in range(changes):
        delay = began + n / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        create(n)


def _hook_arrivals(stack: LocalStack, source: str, clocks: _Clocks) -> Callable[[], None]:
    """Start each account's clock where the change reaches us; return what puts the stack back."""
    if source == "Outbound Message":
        handler = stack.gateway._handler

        def received(event: dict[str, Any], context: Any) -> Any:
            body = event.get("body") or ""
            raw = base64.b64decode(body) if event.get("isBase64Encoded") else str(body).encode()
            clocks.start([match.decode() for match in _ACCOUNT_ID.findall(raw)])
            return handler(event, context)

        stack.gateway._handler = received

        def restore_gateway() -> None:
            stack.gateway._handler = handler

        return restore_gateway
    definitions = stack.sim.outbound.definitions
    active = [definition.active for definition in definitions]
    for definition in definitions:
        definition.active = False  # Event Relay alone: no Outbound Message for the same change
    relay, callback = stack.relay, stack.relay.callback
    relay_active, relay.active = relay.active, True

    def published(event: dict[str, Any]) -> None:
        header = ((event.get("detail") or {}).get("payload") or {}).get("ChangeEventHeader") or {}
        if header.get("entityName") == "Account" and header.get("changeType") == "CREATE":
            clocks.start([str(record_id) for record_id in header.get("recordIds", [])])
        callback(event)

    relay.callback = published

    def restore_relay() -> None:
        relay.callback, relay.active = callback, relay_active
        for definition, was in zip(definitions, active, strict=True):
            definition.active = was

    return restore_relay


# (changes per second, changes): a few minutes on a 2-core machine. Not 20/s: one local worker creates at most
# 5 in flight / 0.3 s = 16.7 customers a second, so at 20/s its queue only grows (a deployed stack runs up to
# WorkerReservedConcurrency instances, whose Stripe rate, 5 × 4 = 20 requests/s by default, is then used up).
RATES = ((1.0, 120), (10.0, 300))


def latency_section(env: dict[str, str], rates: tuple[tuple[float, int], ...] = RATES) -> list[str]:
    """Every rate through both sources, each on a fresh local stack; the table's lines."""
    from devtools.local_runtime.stack import StackOptions

    runs = []
    for source in ("Outbound Message", "Event Relay"):
        for rate, changes in rates:
            with LocalStack(StackOptions(creation_mode="every_account", extra_env=env)) as stack:
                runs.append(measure(stack, source=source, rate=rate, changes=changes))
    # The code before, in the same run: Event Relay read the write-back's own change event like any other.
    rate, changes = rates[-1]
    with LocalStack(StackOptions(creation_mode="every_account", extra_env={**env, "WRITE_BACK_FIELDS": ""})) as stack:
        runs.append(measure(stack, source=ECHO_READ, rate=rate, changes=changes))
    return latency_table(runs)


def latency_table(runs: list[LatencyRun]) -> list[str]:
    """p50 / p95 / p99 of each run beside its floor and the connector's documented poll interval."""
    lines = [
        "| from | to | steady rate | changes | p50 | p95 | p99 | floor of a batch's first change: it waits the whole "
        "batching window, then its Stripe calls (later ones wait less: p50 may be under it) "
        f"| Stripe's connector, for comparison: its documented {CONNECTOR_POLL_SECONDS:.0f} s poll |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    connector = (
        f"≈ {CONNECTOR_POLL_SECONDS / 2:.0f} s mean wait, up to {CONNECTOR_POLL_SECONDS:.0f} s, before its own "
        "processing (documented, not measured)"
    )
    for run in runs:
        start = {
            "Outbound Message": "the Outbound Message's POST",
            "Event Relay": "the Event Relay change event",
            ECHO_READ: "the Event Relay change event, the write-back's echo read (the code before)",
        }[run.source]
        for target, values, floor in (
            ("customer in Stripe", run.to_stripe, run.floor_to_stripe),
            ("Stripe id written back", run.to_written_back, run.floor_to_written_back),
        ):
            p50, p95, p99 = (percentile(values, p) for p in (50, 95, 99))
            lines.append(
                f"| {start} | {target} | {run.rate:g}/s | {len(values)} of {run.changes} | {p50:.2f} s "
                f"| {p95:.2f} s | {p99:.2f} s | {floor:.1f} s ({run.window:g} s + {run.stripe_calls:.1f} × "
                f"{STRIPE_LATENCY_SECONDS:g} s; p99 {p99 / floor:.2f}×) | {connector} |"
            )
    lines += [
        "",
        "Salesforce's own delay before it POSTs an Outbound Message or publishes a change event is outside what "
        "is measured here (the simulator sends at once). Every account is a new one (a create in Stripe, then "
        f"the id written back); Stripe answers each request in {STRIPE_LATENCY_SECONDS * 1000:.0f} ms; one "
        "worker instance at a time, at most 5 Stripe requests in flight and 25 a second (Stripe's test-mode "
        "limit), so a batch's changes beyond the first 5 wait for the ones before them: at 10/s a 2 s batching "
        "window gathers about 20 creates, 4 rounds of Stripe's 300 ms. The local poller runs one worker "
        "instance (16.7 creates a second at most): Lambda would run more as the queue grows. The worker is warm "
        '(a Lambda cold start adds its import time: "Cold start" below) and every hop is on 127.0.0.1.',
    ]
    return lines
