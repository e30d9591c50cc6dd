"""Reconcile of 10,000 and 100,000 simulated accounts, each beside the floor of its own calls.

An org of N accounts (every-account mode, the default mapping: name and the account id in metadata), each
linked through its Stripe ID field to a customer that matches, seeded straight into the simulator and the
emulator. The reconcile function's code runs as a dry run in its own process (CPU and memory alone), at the
template's default Stripe rate (StripeRequestsPerSecondPerWorker = 4). Its floor is its Stripe calls at that
rate: the other calls (Salesforce query batches, DynamoDB BatchGetItem) have no configured rate.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from typing import Any

import boto3

from devtools.bench.throughput import lambda_environment
from devtools.local_runtime.processes import REPO_ROOT, dynalite
from devtools.local_runtime.salesforce_login import jwt_credentials
from devtools.local_runtime.stack import FAKE_AWS
from devtools.sam.template_tables import create_table, parameter_default

# The template's default Stripe rate (StripeRequestsPerSecondPerWorker): the reconcile's Stripe rate.
STRIPE_RATE = float(parameter_default("StripeRequestsPerSecondPerWorker"))


@dataclass
class ReconcileFigure:
    """One reconcile of the whole org."""

    accounts: int
    checked: int
    ok: int
    seconds: float
    cpu_seconds: float
    stripe_lists: int
    stripe_singles: int
    salesforce_calls: int
    base_rss_mb: float
    peak_rss_mb: float

    @property
    def stripe_calls(self) -> int:
        return self.stripe_lists + self.stripe_singles

    @property
    def floor_seconds(self) -> float:
        """Its Stripe calls at the configured rate: nothing can check the org faster."""
        return self.stripe_calls / STRIPE_RATE


class ReconcileOrg:
    """A simulator, an emulator and a state table (dynalite); accounts are added with ``grow``."""

    def __init__(self) -> None:
        from devtools.salesforce_sim import SalesforceSimulator
        from devtools.stripe_emulator import StripeEmulator

        self._stoppers: list[Any] = []
        self.sim = SalesforceSimulator(port=0).start()
        self._stoppers.append(self.sim.stop)
        self.stripe = StripeEmulator(port=0).start()
        self._stoppers.append(self.stripe.stop)
        dynamo = dynalite()
        dynamo.start()
        self._stoppers.append(dynamo.stop)
        client = boto3.client("dynamodb", endpoint_url=dynamo.endpoint_url, **_fake_credentials())
        table = create_table(client, "AccountStateTable", f"account-state-{uuid.uuid4().hex[:6]}")
        self.accounts = 0
        self.env = {
            **FAKE_AWS,
            "ORGANIZATION_IDS": self.sim.org_id,
            "SYNC_QUEUE_URL": "http://127.0.0.1:1/000000000000/unused",  # a dry run queues nothing
            "STATE_TABLE_NAME": table,
            "IDEMPOTENCY_TABLE_NAME": "unused",
            "AWS_ENDPOINT_URL_DYNAMODB": dynamo.endpoint_url,
            "STRIPE_API_KEY": "sk_test_bench",
            "STRIPE_API_BASE": self.stripe.base_url,
            "STRIPE_MAX_REQUESTS_PER_SECOND": str(STRIPE_RATE),
            "SALESFORCE_CREDENTIALS_JSON": json.dumps(jwt_credentials(self.sim)),
            "REQUESTS_CA_BUNDLE": self.sim.ca_bundle_path,
            "MAPPING_CONFIG": "default",
            "CREATION_MODE": "every_account",
            "SALESFORCE_API_VERSION": "59.0",
            "BENCH_TRACEMALLOC": os.environ.get("BENCH_TRACEMALLOC", ""),
        }

    def grow(self, total: int) -> None:
        """Add accounts (each with its matching, linked customer) until the org holds ``total``."""
        for n in range(self.accounts, total):
            name = f"Konto {n:06d} GmbH"
            account_id = self.sim.create("Account", {"Name": name})
            customer_id = self.stripe.add_customer({"name": name, "metadata": {"salesforce_account_id": account_id}})
            self.sim.update("Account", account_id, {"Stripe_Customer_ID__c": customer_id})
        self.accounts = max(self.accounts, total)

    def reconcile(self) -> ReconcileFigure:
        """One dry run over the whole org in a separate process; calls counted at the simulator and emulator."""
        stripe_before = len(self.stripe.requests)
        salesforce_before = sum(self.sim.snapshot()[0].values())
        process = subprocess.run(
            [sys.executable, "-m", "devtools.bench.reconcile_process"],
            cwd=REPO_ROOT,
            env=lambda_environment(self.env),
            capture_output=True,
            text=True,
            timeout=3600,
        )
        if process.returncode:
            raise RuntimeError(f"reconcile process failed:\n{process.stderr[-3000:]}")
        if os.environ.get("BENCH_TRACEMALLOC"):
            print(process.stderr[-6000:], file=sys.stderr)
        figures = json.loads(process.stdout.strip().splitlines()[-1])
        stripe = [(r["method"], r["path"]) for r in self.stripe.requests[stripe_before:]]
        lists = stripe.count(("GET", "/v1/customers"))
        return ReconcileFigure(
            accounts=self.accounts,
            checked=figures["accounts"],
            ok=figures["counts"].get("ok", 0),
            seconds=figures["seconds"],
            cpu_seconds=figures["cpu_seconds"],
            stripe_lists=lists,
            stripe_singles=len(stripe) - lists,
            salesforce_calls=sum(self.sim.snapshot()[0].values()) - salesforce_before,
            base_rss_mb=figures["base_rss_mb"],
            peak_rss_mb=figures["peak_rss_mb"],
        )

    def stop(self) -> None:
        while self._stoppers:
            self._stoppers.pop()()


def _fake_credentials() -> dict[str, str]:
    return {
        "region_name": FAKE_AWS.get("AWS_DEFAULT_REGION", "us-east-1"),
        "aws_access_key_id": FAKE_AWS.get("AWS_ACCESS_KEY_ID", "testing"),
        "aws_secret_access_key": FAKE_AWS.get("AWS_SECRET_ACCESS_KEY", "testing"),
    }


def reconcile_figures(sizes: tuple[int, ...] = (10_000, 100_000)) -> list[ReconcileFigure]:
    """Reconcile the org at each size (it grows from one size to the next)."""
    org = ReconcileOrg()
    try:
        figures = []
        for size in sizes:
            org.grow(size)
            figures.append(org.reconcile())
        return figures
    finally:
        org.stop()


def reconcile_table(figures: list[ReconcileFigure]) -> list[str]:
    """Each reconcile beside the floor of its Stripe calls at the configured rate, and its memory."""
    lines = [
        f"| accounts | Stripe calls/account (≤ 0.02): lists + single reads | Salesforce calls | wall "
        f"| floor: its Stripe calls at {STRIPE_RATE:g}/s | ratio to floor (≤ 1.3×) | CPU | memory: after imports "
        "→ peak (RSS) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for f in figures:
        lines.append(
            f"| {f.accounts:,} ({f.ok:,} ok) | {f.stripe_calls / max(1, f.checked):.4f}: {f.stripe_lists:,} + "
            f"{f.stripe_singles:,} | {f.salesforce_calls:,} | {f.seconds:.0f} s | {f.floor_seconds:.0f} s "
            f"| {f.seconds / f.floor_seconds:.2f}× | {f.cpu_seconds:.0f} s | {f.base_rss_mb:.0f} → "
            f"{f.peak_rss_mb:.0f} MB |"
        )
    return lines


if __name__ == "__main__":  # the reconcile part alone: python -m devtools.bench.reconcile 10000 100000
    sizes = tuple(int(arg) for arg in sys.argv[1:]) or (10_000, 100_000)
    print("\n".join(reconcile_table(reconcile_figures(sizes))))
