"""A worker process that dies right after its first Stripe create, before any bookkeeping.

``python -m devtools.reliability.crashing_worker`` (run by the crash scenario, with the parent's
environment: queue URL, endpoints, tables, credentials): takes one batch from the sync queue, invokes the
real worker handler and, as soon as ``StripeCustomerGateway.create`` has returned, ends the process with
``os._exit(137)`` — no ``finally``, no state commit, no message deletion, as when Lambda's sandbox is killed.
Exits 0 when its batch made no create (nothing to crash on).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Any

import boto3

from devtools.local_runtime import SqsPoller
from devtools.reliability.harness import LAMBDA_TIMEOUT_MS, VISIBILITY_SECONDS, LambdaContext
from shared.stripe.gateway import StripeCustomerGateway

KILLED = 137  # what a SIGKILL'd process reports


def _die_after_create() -> None:
    original = StripeCustomerGateway.create

    def create_then_die(self: StripeCustomerGateway, params: dict[str, Any], idempotency_key: str) -> str:
        original(self, params, idempotency_key)
        sys.stdout.flush()
        os._exit(KILLED)

    StripeCustomerGateway.create = create_then_die  # type: ignore[method-assign]


def main(argv: list[str] | None = None) -> int:
    """Process one batch; never returns from a batch that created a customer."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batch-size", type=int, default=100)
    args = parser.parse_args(argv)
    _die_after_create()
    worker = importlib.import_module("functions.sync_worker.app")
    poller = SqsPoller(
        boto3.client("sqs"),
        os.environ["SYNC_QUEUE_URL"],
        lambda event, _: worker.lambda_handler(event, LambdaContext("worker", timeout_ms=LAMBDA_TIMEOUT_MS)),
        batch_size=args.batch_size,
        visibility_timeout=VISIBILITY_SECONDS,
    )
    poller.poll_once(wait_seconds=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
