"""Cold start: import wall time of each handler module beside a naive eager import, in fresh interpreters."""

from __future__ import annotations

import compileall
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass

from devtools.local_runtime.processes import REPO_ROOT

# What a handler would import if it loaded everything eagerly (the libraries' own entry points).
NAIVE = (
    "import stripe, simple_salesforce, boto3, pydantic; "
    "from aws_lambda_powertools import Logger, Metrics, Tracer; "
    "from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, idempotent_function; "
    "from aws_lambda_powertools.utilities.batch import BatchProcessor"
)
# The same, plus what every Powertools handler does at import: create its Logger, Metrics and Tracer.
NAIVE_HANDLER = NAIVE + "; Logger(); Metrics(); Tracer()"
# What the light functions (receiver, platform_event) are built from and can't go below: boto3 for SQS (and
# for Powertools Parameters, which fetches the receiver's token), pydantic with a model built (settings and
# the queue message; `import pydantic` alone defers nearly everything), Powertools Logger and Metrics.
LIGHT_FLOOR = (
    "import boto3; from pydantic import create_model; create_model('Model', x=(int, ...)); "
    "from aws_lambda_powertools import Logger, Metrics; Logger(); Metrics()"
)
LIGHT_FLOOR_NAME = "light floor (boto3, one pydantic model, Logger(), Metrics())"
RUNS = 11
NAIVE_HANDLER_NAME = "naive handler (same imports + Logger(), Metrics(), Tracer())"
HANDLERS = {
    "receiver (outbound_message)": "import functions.outbound_message.app",
    "platform_event": "import functions.platform_event.app",
    "worker (sync_worker)": "import functions.sync_worker.app",
}
# Settings are validated at import (cold start), so the modules need a plausible environment. The Lambda
# variables matter: with LAMBDA_TASK_ROOT set, the X-Ray SDK behind Tracer() uses its Lambda context (the
# function's tracing is Active in template.yaml); without it, it builds an X-Ray API client for centralised
# sampling (~0.1 s) that no Lambda cold start pays. Both the baselines and the handlers run with them.
ENV = {
    "LAMBDA_TASK_ROOT": str(REPO_ROOT),
    "AWS_LAMBDA_FUNCTION_NAME": "bench",
    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
    "ORGANIZATION_IDS": "00D5g000004ABCD",
    "SYNC_QUEUE_URL": "http://127.0.0.1:1/000000000000/q",
    "OUTBOUND_TOKEN": "bench",
    "STATE_TABLE_NAME": "bench-state",
    "IDEMPOTENCY_TABLE_NAME": "bench-idem",
    "STRIPE_API_KEY": "sk_test_bench",
    "SALESFORCE_CREDENTIALS_JSON": "{}",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@dataclass
class ImportFigure:
    """Median wall time of a fresh interpreter importing something, minus an empty interpreter."""

    name: str
    wall_ms: float
    importtime_ms: float


def _wall_ms(codes: list[str], runs: int) -> list[float]:
    """Median wall ms of a fresh interpreter running each of ``codes``.

    Round-robin (every code once per round), so a slow spell of the machine hits all of them alike and the
    ratios stay comparable.
    """
    env = {**os.environ, **ENV}
    samples: list[list[float]] = [[] for _ in codes]
    for _ in range(runs):
        for code, times in zip(codes, samples, strict=True):
            started = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=env, check=True, capture_output=True)
            times.append((time.perf_counter() - started) * 1000)
    return [statistics.median(times) for times in samples]


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


def measure(runs: int = RUNS) -> tuple[ImportFigure, list[ImportFigure]]:
    """The naive baseline, then the naive handler, the light floor and each handler, all measured in this run."""
    # Lambda packages ship compiled bytecode (devtools/sam/lambda_build.py) like the installed libraries do; this
    # machine may not write any (PYTHONDONTWRITEBYTECODE), which would charge compiling to the handlers alone.
    for package in ("shared", "functions"):
        compileall.compile_dir(REPO_ROOT / package, quiet=1)
    named = {"naive eager import": NAIVE, NAIVE_HANDLER_NAME: NAIVE_HANDLER, LIGHT_FLOOR_NAME: LIGHT_FLOOR}
    for name, code in HANDLERS.items():
        module = code.removeprefix("import ")
        if (REPO_ROOT / (module.replace(".", "/") + ".py")).exists():
            named[name] = code
    empty, *walls = _wall_ms(["pass", *named.values()], runs)
    figures = [
        ImportFigure(name, wall - empty, _importtime_ms(code))
        for (name, code), wall in zip(named.items(), walls, strict=True)
    ]
    return figures[0], figures[1:]
