"""A reconcile "Lambda instance" in its own process, so its CPU time and memory are measured alone.

Runs one dry run over the whole org with the environment it is given (the reconcile function's settings)
and prints one JSON line: accounts checked, verdict counts, wall and CPU seconds, the customers Stripe
listed, and memory (RSS after imports and the peak).
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any


class NoCheckpoints:
    """Checkpoints for a bench run: from the first account, nothing kept."""

    def load(self) -> None:
        return None

    def save(self, checkpoint: Any) -> None:
        pass

    def clear(self) -> None:
        pass


def main() -> int:
    """Reconcile once and report figures on stdout (logs go to stderr)."""
    report = sys.stdout
    sys.stdout = sys.stderr
    from devtools.bench.process_memory import peak_rss_mb, rss_mb
    from shared.components import Components
    from shared.reconcile import RunOptions, run
    from shared.settings import ReconcileSettings

    components = Components(ReconcileSettings.from_env())
    reconciler = components.reconciler(components.org_id())
    base = rss_mb()
    if os.environ.get("BENCH_TRACEMALLOC"):
        import tracemalloc

        tracemalloc.start(10)
    cpu, wall = time.process_time(), time.perf_counter()
    result = run(reconciler, NoCheckpoints(), RunOptions(keep_ok=False))
    figures = {
        "accounts": result.accounts,
        "complete": result.complete,
        "counts": result.counts,
        "seconds": time.perf_counter() - wall,
        "cpu_seconds": time.process_time() - cpu,
        "listed": len(reconciler.customers()),
        "base_rss_mb": base,
        "peak_rss_mb": peak_rss_mb(),
    }
    if os.environ.get("BENCH_TRACEMALLOC"):
        current, peak = tracemalloc.get_traced_memory()
        print(f"python memory now {current / 2**20:.1f} MB, peak {peak / 2**20:.1f} MB", file=sys.stderr)
        for stat in tracemalloc.take_snapshot().statistics("traceback")[:5]:
            print(stat, *stat.traceback.format()[-6:], sep="\n  ", file=sys.stderr)
    print(json.dumps(figures), file=report, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
