"""A crash between the Stripe call and the bookkeeping: the worker process is killed, the retry makes no
duplicate.

Each round starts ``crashing_worker`` in a child process on the same queue; it dies right after Stripe
created a customer (state not committed, messages not deleted). Once its leases lapse the next child takes
the batch again and crashes too (on another account, or replaying a create it finds pending). Then the
accounts change in Salesforce and a normal worker finishes: the retry must replay the stored create (same
params, same Idempotency-Key) instead of creating a second customer, then apply the change.
"""

from __future__ import annotations

import subprocess
import sys
import time

from devtools.local_runtime.processes import REPO_ROOT
from devtools.reliability.crashing_worker import KILLED
from devtools.reliability.delivery import check_customers, messages, notification
from devtools.reliability.figures import Figures
from devtools.reliability.harness import LEASE_SECONDS, VISIBILITY_SECONDS, Harness
from devtools.reliability.sizes import Size


def _crash_once(h: Harness) -> int:
    """Run one crashing worker to its end; its output goes to the run's log. Returns its exit code."""
    h.log.flush()
    child = subprocess.run(
        [sys.executable, "-m", "devtools.reliability.crashing_worker"],
        cwd=REPO_ROOT,
        stdout=h.log,
        stderr=h.log,
        timeout=120,
        check=False,
    )
    return child.returncode


def crash(h: Harness, size: Size) -> Figures:
    """Kill workers after Stripe creates, then let a normal worker finish."""
    started = time.monotonic()
    h.outbound(active=False)
    ids = h.create_accounts("Crash", size.crash_accounts)
    stamps = h.update_accounts("Crash", ids, 1)
    h.deliver(messages(h, [notification(a, stamps[a], "Crash") for a in ids]), clients=1)
    writes_before = len(h.stripe.write_requests())
    exits = []
    for _ in range(size.crashes):
        exits.append(_crash_once(h))
        if exits[-1] != KILLED:
            break  # nothing left to create: no point in more rounds
        # The dead worker's messages become visible again and its leases lapse: the next one crashes too,
        # on a new account or while replaying a create it finds pending.
        time.sleep(max(VISIBILITY_SECONDS, LEASE_SECONDS) + 0.5)
    creates_by_crashed = len(h.stripe.write_requests()) - writes_before
    # The data changes before the retry: the replayed create must be followed by an update.
    stamps = h.update_accounts("Crash", ids, 2)
    h.deliver(messages(h, [notification(a, stamps[a], "Crash") for a in ids]), clients=1)
    h.settle()
    counts = check_customers(h, "Crash", ids, 2)
    creates = [w for w in h.stripe.write_requests()[writes_before:] if w["path"] == "/v1/customers"]
    killed = sum(code == KILLED for code in exits)
    return Figures(
        scenario="crash after Stripe create",
        size=f"{size.crash_accounts} accounts, {size.crashes} worker processes killed",
        lost=counts["missing"] + counts["not_latest"],
        duplicates=counts["extra"],
        zero={
            "not_latest": counts["not_latest"],
            "crashes_missing": size.crashes - killed,
            "dlq": h.queue_depth(h.stack.dlq_url),
        },
        other={
            "creates_before_kill": creates_by_crashed,
            "replayed_creates": sum(1 for w in creates if w["replayed"]),
            "customers": counts["customers"],
        },
        seconds=time.monotonic() - started,
    )
