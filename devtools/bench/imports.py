"""Cold start: import wall time of each handler module beside a naive eager import, in fresh interpreters."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass

from devtools.processes import REPO_ROOT

# What a handler would import if it loaded everything eagerly (the libraries' own entry points).
NAIVE = (
    "import stripe, simple_salesforce, boto3, pydantic; "
    "from aws_lambda_powertools import Logger, Metrics, Tracer; "
    "from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, idempotent_function; "
    "from aws_lambda_powertools.utilities.batch import BatchProcessor"
)
# The same, plus what every Powertools handler does at import: create its Logger, Metrics and Tracer (the
# Tracer builds an X-Ray recorder, which creates botocore clients, ~0.1 s).
NAIVE_HANDLER = NAIVE + "; Logger(); Metrics(); Tracer()"
HANDLERS = {
    "receiver (outbound_message)": "import functions.outbound_message.app",
    "platform_event": "import functions.platform_event.app",
    "worker (sync_worker)": "import functions.sync_worker.app",
}
# Settings are validated at import (cold start), so the modules need a plausible environment.
ENV = {
    "ORGANIZATION_IDS": "00D5g000004ABCD",
    "SYNC_QUEUE_URL": "http://127.0.0.1:1/000000000000/q",
    "OUTBOUND_TOKEN": "bench",
    "STATE_TABLE_NAME": "bench-state",
    "IDEMPOTENCY_TABLE_NAME": "bench-idem",
    "STRIPE_API_KEY": "sk_test_bench",
    "SALESFORCE_CREDENTIALS_JSON": "{}",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "true",
}


@dataclass
class ImportFigure:
    """Median wall time of a fresh interpreter importing something, minus an empty interpreter."""

    name: str
    wall_ms: float
    importtime_ms: float


def _wall_ms(code: str, runs: int) -> float:
    env = {**os.environ, **ENV}
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=env, check=True, capture_output=True)
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def _importtime_ms(code: str) -> float:
    """Sum of the top-level cumulative times reported by ``python -X importtime`` (imports only)."""
    env = {**os.environ, **ENV}
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        cwd=REPO_ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stderr
    total = 0
    for line in out.splitlines():
        parts = line.split("|")
        # Top-level imports have no indentation before the module name.
        if len(parts) == 3 and parts[1].strip().isdigit() and not parts[2].startswith("  "):
            total += int(parts[1])
    return total / 1000


def measure(runs: int = 7) -> tuple[ImportFigure, list[ImportFigure]]:
    """The naive baseline and each handler (the naive handler first), all measured now, in this run."""
    empty = _wall_ms("pass", runs)
    naive = ImportFigure("naive eager import", _wall_ms(NAIVE, runs) - empty, _importtime_ms(NAIVE))
    figures = [
        ImportFigure(
            "naive handler (same imports + Logger(), Metrics(), Tracer())",
            _wall_ms(NAIVE_HANDLER, runs) - empty,
            _importtime_ms(NAIVE_HANDLER),
        )
    ]
    for name, code in HANDLERS.items():
        module = code.removeprefix("import ")
        if not (REPO_ROOT / (module.replace(".", "/") + ".py")).exists():
            continue
        figures.append(ImportFigure(name, _wall_ms(code, runs) - empty, _importtime_ms(code)))
    return naive, figures
