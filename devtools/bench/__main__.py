"""Run every benchmark in one go, print the table and write BENCHMARKS.md."""

from __future__ import annotations

import argparse
import contextlib
import datetime
import os
import platform
import sys
import warnings
from pathlib import Path
from typing import Any

from devtools.bench.backfill import (
    CHUNK,
    BackfillFigure,
    DataLoaderFigure,
    Invocations,
    backfill,
    data_loader_update,
    trickle,
)
from devtools.bench.beside import beside_rows, beside_table, edit_latency
from devtools.bench.calls import AwsCalls, CallBench, CallRow
from devtools.bench.costs import cost_table, monthly_bill
from devtools.bench.imports import RUNS, ImportFigure, measure
from devtools.bench.latency import latency_section
from devtools.bench.reconcile import ReconcileFigure, reconcile_figures, reconcile_table
from devtools.bench.throughput import EndToEnd, WorkerCost, code_before, end_to_end, worker_costs
from devtools.local_runtime.processes import REPO_ROOT
from devtools.local_runtime.stack import LocalStack, StackOptions
from devtools.sam.template_tables import function_memory_mb

CONCURRENCY = 5
# One worker instance at Stripe's test-mode limit (25 requests/s): the rate the floor assumes.
STACK_ENV = {"STRIPE_CONCURRENCY": str(CONCURRENCY), "STRIPE_MAX_REQUESTS_PER_SECOND": "25"}
BACKFILL_RATE = 25.0  # the stack's Stripe write rate in the backfill: one worker at test mode's limit


def _ratio(value: float, floor: float) -> str:
    return "at floor" if floor == 0 and value == 0 else ("∞" if floor == 0 else f"{value / floor:.2f}×")


def calls_table(rows_moto: list[CallRow], rows_dynalite: list[CallRow]) -> list[str]:
    lines = [
        "| scenario | outcome | Stripe calls/event (floor) | Salesforce queries/batch (floor ≤1) "
        "| write-backs with the sync history/batch (≤1) | DynamoDB/event, AWS behaviour (≤4; ≤3 unchanged) "
        "| DynamoDB/event on dynalite "
        "| SQS sends/event (floor 0.10: 10 per SendMessageBatch) "
        "| preference reads/batch (0; 1 per instance per 5 min) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row, local in zip(rows_moto, rows_dynalite, strict=True):
        agreed = 4 if row.stripe_floor else 3  # a Stripe write's lease and commit beside the idempotency record
        lines.append(
            f"| {row.scenario} | {row.outcome} | {row.stripe_calls:.2f} ({row.stripe_floor}) "
            f"| {row.salesforce_queries} | {row.salesforce_writes} "
            f"| {row.dynamodb:.2f} ({_ratio(row.dynamodb, agreed)} of {agreed}) | {local.dynamodb:.2f} "
            f"| {row.sqs:.2f} | {row.preference_reads} |"
        )
    return lines


def imports_table(naive: ImportFigure, figures: list[ImportFigure]) -> list[str]:
    """Each module beside the naive import (the target's baseline) and the floor of the libraries it needs."""
    targets = {"receiver (outbound_message)": "≤ 0.6×", "platform_event": "≤ 0.6×", "worker (sync_worker)": "≤ 1.1×"}
    handler, light, modules = figures[0], figures[1], figures[2:]
    floors = {"worker (sync_worker)": handler}
    lines = [
        f"| module | import wall ms (median of {RUNS}, minus bare interpreter) | -X importtime ms "
        "| ratio to naive import | target | floor: the libraries it needs | ratio to floor |",
        "|---|---|---|---|---|---|---|",
        f"| {naive.name} (stripe, simple_salesforce, boto3, pydantic, Powertools) | {naive.wall_ms:.0f} "
        f"| {naive.importtime_ms:.0f} | 1.00× | baseline | — | — |",
    ]
    for figure in (handler, light):
        lines.append(
            f"| {figure.name} | {figure.wall_ms:.0f} | {figure.importtime_ms:.0f} "
            f"| {figure.wall_ms / naive.wall_ms:.2f}× | — | — | — |"
        )
    for figure in modules:
        floor = floors.get(figure.name, light)
        lines.append(
            f"| {figure.name} | {figure.wall_ms:.0f} | {figure.importtime_ms:.0f} "
            f"| {figure.wall_ms / naive.wall_ms:.2f}× | {targets.get(figure.name, '—')} "
            f"| {floor.name.split(' (')[0]} {floor.wall_ms:.0f} ms | {figure.wall_ms / floor.wall_ms:.2f}× |"
        )
    return lines


def e2e_table(result: EndToEnd, costs: list[WorkerCost], before: EndToEnd) -> list[str]:
    """End to end beside its latency floor (and the code before, same run); worker CPU beside the SDK floor of
    its own calls and the 2 ms target."""
    floor = costs[0].floor
    lines = [
        "| measurement | value | floor | ratio to floor | target |",
        "|---|---|---|---|---|",
        f"| {result.notifications}-notification message, {result.latency_ms} ms Stripe latency, concurrency "
        f"{result.concurrency}: Salesforce → receiver → SQS → worker → all customers in Stripe "
        f"| {result.wall_seconds:.2f} s | {result.floor_seconds:.2f} s "
        f"| {result.wall_seconds / result.floor_seconds:.2f}× | ≤ 1.3× |",
        "| the same, the code before (the customer id written on its own: 5 DynamoDB calls a create; moto server "
        f"as released, its SQS scanning the queue per message) | {before.wall_seconds:.2f} s "
        f"| {before.floor_seconds:.2f} s | {before.wall_seconds / before.floor_seconds:.2f}× | — |",
        f"| SDK floor: CPU of one DynamoDB call / one Stripe call (small payloads), each alone on one thread "
        f"| {floor.dynamodb_ms:.2f} / {floor.stripe_ms:.2f} ms | — | — | — |",
    ]
    for cost in costs:
        calls = f"{cost.dynamodb_calls / cost.messages:.1f} DynamoDB + {cost.stripe_calls / cost.messages:.1f} Stripe"
        lines.append(
            f"| worker CPU per event, {cost.scenario} ({cost.messages} events; {calls} calls/event"
            f"{f'; cheapest of {cost.batches} batches' if cost.batches > 1 else ''}) "
            f"| {cost.cpu_ms_per_event:.2f} ms | {cost.floor_ms_per_event:.2f} ms (its calls × SDK floor) "
            f"| {cost.cpu_ms_per_event / cost.floor_ms_per_event:.2f}× "
            f"| 2 ms ({cost.cpu_ms_per_event / 2:.2f}×) |"
        )
    peak, memory = max(cost.peak_rss_mb for cost in costs), function_memory_mb("SyncWorkerFunction")
    lines.append(
        f"| worker peak memory (RSS) over all batches | {peak:.0f} MB | {memory} MB (function memory) "
        f"| {peak / memory:.2f}× | — |"
    )
    return lines


def notes(rows: list[CallRow], costs: list[WorkerCost]) -> list[str]:
    """What the figures that miss their target are made of, with this run's numbers."""
    create = next(row for row in rows if row.scenario == "create")
    update = next(row for row in rows if row.scenario == "update")
    floor = costs[0].floor
    create_floor = create.dynamodb * floor.dynamodb_ms + create.stripe_calls * floor.stripe_ms
    warm = [cost.cpu_ms_per_event / cost.floor_ms_per_event for cost in costs[1:]]
    return [
        f"- **DynamoDB for a changed event ({update.dynamodb:.0f} calls for an update, {create.dynamodb:.0f} for a "
        "create; agreed cost 4):** two Powertools idempotency writes (in progress, completed) and two writes of the "
        "account's state item (the lease, taken with the version check, and the commit that releases it). The "
        "customer id Stripe answers a create with is kept by that same commit (`Lease.hold_customer`), or by a "
        "write of its own only when another Stripe write comes first; a crash before the commit leaves the pending "
        "create, which the retry replays under the same Idempotency-Key (Stripe answers with the same customer). "
        "Three calls would need the commit and the idempotency record written in one call, i.e. "
        "TransactWriteItems, which dynalite (the race-free local DynamoDB the concurrency tests need) does not "
        "implement; or dropping event-level idempotency or the per-account lease, which the design requires. "
        "Unchanged, stale and duplicate events are at or under 3.",
        "- **End to end:** the floor is Stripe's latency only. The rest is the receiver, SQS, the poller's gathering "
        "and 4 DynamoDB calls per create on dynalite, each lane's in turn. moto server as released computes every "
        "queue attribute — a scan of all messages — for each message sent or received; the local runtime reads "
        "the one it needs (`devtools/local_runtime/moto_server.py`, same answers): the row before shows what "
        "that emulator CPU cost.",
        f"- **CPU per event (target 2 ms):** a create's own calls ({create.dynamodb:.0f} DynamoDB + "
        f"{create.stripe_calls:.0f} Stripe) cost {create_floor:.2f} ms of CPU at the SDK floor measured above "
        "(botocore and stripe-python, one call alone on one thread). The target is below what the SDK calls "
        f"alone cost on this machine. Warm batches use {min(warm):.2f}–{max(warm):.2f}× of their own calls' "
        "floor; the rest is Python (threads, Powertools, mapping, logs).",
        "- **Cold start:** fresh interpreters with Lambda's environment variables (with `LAMBDA_TASK_ROOT` the "
        "X-Ray SDK behind Tracer uses its Lambda context; outside Lambda it builds an API client for sampling "
        "that no Lambda cold start pays). The light functions import only boto3, pydantic and Powertools "
        "Logger/Metrics beyond their own code: their floor row.",
        "- **Bulk loads:** the worker's time in the handler is what Lambda would bill and what the floor is about; "
        "the wall time also holds the local poller gathering each batch of 100 from moto server's SQS (10 "
        "receives), which Lambda's pollers do while an instance works. The time in "
        "the handler can be under the floor: the worker's token bucket (a burst of one second's requests) refills "
        "while the next batch is gathered; the wall time cannot.",
        "- **Memory** is each process's own peak (`VmHWM`), not `ru_maxrss`, which Linux carries over from the "
        "parent across `exec` (`devtools/bench/process_memory.py`).",
    ]


def machine() -> str:
    """The host, and its load when measured: other work on a shared host slows every figure down."""
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return (
        f"{platform.machine()}, {os.cpu_count()} cores (load average {load}), Python {platform.python_version()}, "
        f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC"
    )


def scale_sections(
    reconciled: list[ReconcileFigure], log: Any, out: Any, *, accounts: int, changes: int, sizes: tuple[int, ...]
) -> list[tuple[str, list[str]]]:
    """Reconcile at each org size; single changes, the backfill and a Data Loader update; costs."""
    print(
        f"5/7 reconcile of {' and '.join(f'{n:,}' for n in sizes)} accounts (separate process) …", file=out, flush=True
    )
    reconciled.extend(reconcile_figures(sizes))
    print(f"6/7 {changes} single changes, then a backfill of {accounts:,} accounts …", file=out, flush=True)
    env = {"STRIPE_CONCURRENCY": str(CONCURRENCY), "STRIPE_MAX_REQUESTS_PER_SECOND": str(BACKFILL_RATE)}
    # The local poller's default 2 s visibility timeout is shorter than a batch of 100 creates at 25/s (4 s and
    # more): messages would reappear mid-batch, be received again and reach the DLQ after 4 receives. Lambda's
    # queue has the template's visibility timeout (longer than the worker's timeout); 60 s is the worker's.
    options = StackOptions(creation_mode="every_account", extra_env=env, visibility_timeout=60)
    with LocalStack(options) as stack:
        aws = AwsCalls()
        aws.watch(stack.sqs)

        def log_size() -> int:
            return _log_size(log)

        def log_text() -> str:
            return _log_since(log, 0)

        one_by_one = trickle(stack, changes=changes, log_size=log_size, aws=aws, log_since=lambda n: _log_since(log, n))
        bulk = backfill(stack, accounts=accounts, rate=BACKFILL_RATE)
        print(f"   … then a Data Loader update of the {accounts:,} accounts", file=out, flush=True)
        loaded = data_loader_update(stack, bulk.account_ids, rate=BACKFILL_RATE, log_size=log_size, aws=aws)
    print("7/7 costs …", file=out, flush=True)
    largest = max(reconciled, key=lambda figure: figure.accounts, default=None)
    return [
        ("Reconcile at scale", reconcile_table(reconciled)),
        ("Backfill and bulk loads", bulk_table(bulk, loaded)),
        ("What a million changes cost", cost_table(one_by_one, loaded, log_text(), largest)),
    ]


def _log_size(log: Any) -> int:
    log.flush()
    return int(log.tell())


def _log_since(log: Any, offset: int) -> str:
    """The handlers' log (this run's stdout) from byte ``offset`` on."""
    log.flush()
    return Path(log.name).read_bytes()[offset:].decode(errors="replace")


def quick_sections(log: Any, out: Any, *, changes: int) -> list[tuple[str, list[str]]]:
    """Latency at steady rates, then the monthly bill from ``changes`` changes synced one at a time."""
    print("latency at steady rates, Outbound Messages then Event Relay …", file=out, flush=True)
    latency = latency_section(STACK_ENV)
    print(f"the monthly bill: {changes} changes one at a time …", file=out, flush=True)
    with LocalStack(StackOptions(creation_mode="every_account", extra_env=STACK_ENV)) as stack:
        aws = AwsCalls()
        aws.watch(stack.sqs)
        one = trickle(
            stack, changes=changes, log_size=lambda: _log_size(log), aws=aws, log_since=lambda n: _log_since(log, n)
        )
    return [("Latency", latency), ("The monthly bill", monthly_bill(one))]


def bulk_table(bulk: BackfillFigure, loaded: DataLoaderFigure) -> list[str]:
    """The backfill and the Data Loader update, each beside N Stripe writes at the stack's write rate."""
    rate = f"{BACKFILL_RATE:g}"
    return [
        "| load | wall | floor: its Stripe writes at the stack's write rate | ratio | how it arrived "
        "| worker invocations: time in the handler (ratio to floor) | Salesforce calls |",
        "|---|---|---|---|---|---|---|",
        f"| backfill: {bulk.accounts:,} accounts without a customer, every-account mode, one worker at {rate} "
        f"Stripe requests/s | {bulk.seconds:.0f} s | {bulk.stripe_creates:,} creates / {rate} = "
        f"{bulk.floor_seconds:.0f} s | {bulk.seconds / bulk.floor_seconds:.2f}× | reconcile --apply queued them in "
        f"{bulk.reconcile_seconds:.0f} s (≤ {CHUNK:,} queued at a time) | {_busy(bulk.worker, bulk.floor_seconds)} "
        f"| {bulk.salesforce_calls} |",
        f"| Data Loader update of the same {loaded.changes:,} accounts (BillingCity), one worker at {rate} "
        f"Stripe requests/s | {loaded.seconds:.0f} s | {loaded.changes:,} updates / {rate} = "
        f"{loaded.floor_seconds:.0f} s | {loaded.seconds / loaded.floor_seconds:.2f}× | {loaded.messages} "
        f"Outbound Messages of ≤ 100 notifications; {loaded.stripe_updates:,} Stripe updates "
        f"| {_busy(loaded.worker, loaded.floor_seconds)} | {loaded.salesforce_calls} |",
    ]


def _busy(worker: Invocations, floor_seconds: float) -> str:
    busy = sum(worker.seconds)
    return f"{len(worker.seconds)}: {busy:.0f} s ({busy / floor_seconds:.2f}×)"


def replace_sections(report: str, sections: list[tuple[str, list[str]]], measured_on: str) -> str:
    """The report with these sections replaced (or added before "Reading the figures"), each dated."""
    for title, lines in sections:
        body = f"## {title}\n\n_Measured by `make bench` on {measured_on}._\n\n" + "\n".join(lines) + "\n"
        start = report.find(f"## {title}\n")
        if start >= 0:
            end = report.find("\n## ", start + 1)
            report = report[:start] + body + ("\n" + report[end + 1 :] if end >= 0 else "")
        else:
            anchor = report.find("## Reading the figures")
            report = report[:anchor] + body + "\n" + report[anchor:] if anchor >= 0 else report + "\n" + body
    return report


def event_sections(args: argparse.Namespace, out: Any) -> list[tuple[str, list[str]]]:
    """Calls per event, cold start, end to end with CPU and memory, and the notes on them (the last section)."""
    print("1/7 cold-start imports …", file=out, flush=True)
    naive, imports = measure()
    print("2/7 calls per event (DynamoDB on moto = AWS behaviour, then on dynalite) …", file=out, flush=True)
    options = dict(creation_mode="every_account", extra_env=STACK_ENV)
    with LocalStack(StackOptions(dynamodb="moto", **options)) as stack:  # type: ignore[arg-type]
        rows_moto = CallBench(stack, args.events).run()
        # CPU on moto too: its DynamoDB answers like AWS, so the worker makes AWS's number of calls.
        print("3/7 worker CPU and memory (separate process) …", file=out, flush=True)
        costs = worker_costs(stack, size=args.e2e)
    with LocalStack(StackOptions(**options)) as stack:  # type: ignore[arg-type]
        bench = CallBench(stack, args.events)
        rows_dynalite = list(bench.run())  # a copy: beside_rows adds its rows to the bench's own list
        rows_beside = beside_rows(bench)
        beside_latency = edit_latency(stack, bench.accounts[0], latency_ms=200)
        print("4/7 end to end with 200 ms Stripe latency …", file=out, flush=True)
        e2e = end_to_end(stack, notifications=args.e2e, latency_ms=200, concurrency=CONCURRENCY)
    print("    … and the code before, in the same run …", file=out, flush=True)
    with LocalStack(StackOptions(stock_moto=True, **options)) as stack, code_before():  # type: ignore[arg-type]
        end_to_end(stack, notifications=10, latency_ms=200, concurrency=CONCURRENCY)  # warm, as the one above
        before = end_to_end(stack, notifications=args.e2e, latency_ms=200, concurrency=CONCURRENCY)
    return [
        ("Calls per event", calls_table(rows_moto, rows_dynalite)),
        ("Beside the connector: comparing with Stripe", beside_table(rows_beside, beside_latency)),
        ("Cold start (imports)", imports_table(naive, imports)),
        ("End to end, CPU and memory", e2e_table(e2e, costs, before)),
        ("Reading the figures", notes(rows_moto, costs)),
    ]


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--events", type=int, default=20, help="notifications per scenario for call counts")
    parser.add_argument("--e2e", type=int, default=100, help="notifications in the end-to-end message")
    parser.add_argument("--backfill", type=int, default=10_000, help="accounts in the backfill")
    parser.add_argument("--changes", type=int, default=20, help="single changes for the cost table")
    parser.add_argument(
        "--reconcile", type=int, nargs="+", default=[10_000, 100_000], help="org sizes reconciled (accounts)"
    )
    parts = parser.add_mutually_exclusive_group()
    parts.add_argument(
        "--quick",
        action="store_true",
        help="only the latency at steady rates and the monthly bill (~8 min; their sections are replaced)",
    )
    parts.add_argument(
        "--only-scale",
        action="store_true",
        help="only reconcile, bulk loads and costs (~50 min on 2 cores; their sections in BENCHMARKS.md are replaced)",
    )
    parts.add_argument(
        "--skip-scale",
        action="store_true",
        help="all but reconcile, bulk loads and costs (~5 min; the other sections in BENCHMARKS.md are replaced)",
    )
    return parser.parse_args()


def main() -> int:
    args = _arguments()
    warnings.filterwarnings("ignore", "No application metrics to publish")
    out = sys.stdout
    log_path = REPO_ROOT / ".local" / "bench.log"
    log_path.parent.mkdir(exist_ok=True)
    print(f"Benchmarks on {machine()}", file=out, flush=True)
    reconciled: list[ReconcileFigure] = []
    with log_path.open("w") as log, contextlib.redirect_stdout(log):
        if args.quick:
            quick = quick_sections(log, out, changes=args.changes)
            print("\n".join(line for _, lines in quick for line in lines), file=out)
            path = REPO_ROOT / "BENCHMARKS.md"
            path.write_text(replace_sections(path.read_text(), quick, machine()))
            return 0
        events = [] if args.only_scale else event_sections(args, out)
        quick = [] if args.only_scale else quick_sections(log, out, changes=args.changes)
        scale = (
            []
            if args.skip_scale
            else scale_sections(
                reconciled, log, out, accounts=args.backfill, changes=args.changes, sizes=tuple(args.reconcile)
            )
        )
    path = REPO_ROOT / "BENCHMARKS.md"
    sections = [*quick, *events[:-1], *scale, *events[-1:]]  # the notes last
    print("\n" + "\n".join(f"## {title}\n\n" + "\n".join(lines) + "\n" for title, lines in sections), file=out)
    if args.only_scale or args.skip_scale:
        path.write_text(replace_sections(path.read_text(), sections, machine()))
        print(f"{', '.join(title for title, _ in sections)}: replaced in BENCHMARKS.md", file=out)
        return 0
    text = [f"# Benchmarks\n\nMeasured by `make bench` on {machine()}; every figure beside its floor or baseline.\n"]
    text += [f"## {title}\n\n" + "\n".join(lines) + "\n" for title, lines in sections]
    path.write_text("\n".join(text))
    print(f"Written to BENCHMARKS.md (handler logs: {log_path.relative_to(REPO_ROOT)})", file=out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
