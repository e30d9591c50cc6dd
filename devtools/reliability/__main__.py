"""``python -m devtools.reliability [--size full|ci]``: run every scenario, print the figures, write the report.

Exits 1 when any figure that must be 0 is not (or a scenario failed), 0 otherwise. Handler logs go to
``.local/reliability.log`` (``--log``); the log-leak scan runs last, over the whole run's log.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
import traceback
import warnings
from collections.abc import Callable
from pathlib import Path

from devtools.local_runtime.processes import REPO_ROOT
from devtools.reliability.figures import Figures, machine, table, write_report
from devtools.reliability.harness import Harness
from devtools.reliability.sizes import SIZES, Size

Scenario = Callable[[Harness, Size], Figures]
# (name, module, function); the leak scan must stay last: it reads everything the others logged.
SCENARIOS = (
    ("storm", "delivery", "duplicate_storm"),
    ("reordering", "delivery", "reordering"),
    ("faults", "faults", "faults"),
    ("crash", "crash", "crash"),
    ("poison", "poison", "poison"),
    ("hostile", "hostile", "hostile_input"),
    ("expired", "key_expiry", "lost_reply_key_expired"),
    ("events", "event_fuzz", "event_relay_fuzz"),
    ("identity", "identity", "identity"),
    ("rotation", "rotation", "rotation"),  # after the others: it rolls the Stripe key and renames the org's host
    ("leaks", "leaks", "log_leaks"),
)


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m devtools.reliability", description=__doc__)
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    parser.add_argument("--report", type=Path, default=REPO_ROOT / "RELIABILITY.md", help="Markdown report")
    parser.add_argument("--log", type=Path, default=REPO_ROOT / ".local" / "reliability.log", help="handler logs")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    parser.add_argument("--only", nargs="+", choices=[name for name, _, _ in SCENARIOS], help="run only these")
    return parser.parse_args(argv)


def _run(name: str, scenario: Scenario, h: Harness, size: Size) -> Figures:
    started = time.monotonic()
    deletions_before = len(h.stripe.customer_deletions())
    try:
        figures = scenario(h, size)
    except Exception as exc:  # one broken scenario must not hide the others' figures
        print(f"scenario {name} failed:\n{traceback.format_exc()}", file=sys.stderr)  # into the handler log
        figures = Figures(scenario=name, error=f"{type(exc).__name__}: {exc}", seconds=time.monotonic() - started)
    # R12: whatever a scenario did, the Stripe request log must hold no customer deletion.
    figures.zero["stripe_customer_deletions"] = len(h.stripe.customer_deletions()) - deletions_before
    return figures


def main(argv: list[str] | None = None) -> int:
    """Run the scenarios and report; the exit code says whether every required figure is 0."""
    args = _arguments(argv)
    size = SIZES[args.size]
    out = sys.stdout
    # Powertools warns on invocations that recorded no metric (a rejected request): expected here.
    warnings.filterwarnings("ignore", "No application metrics to publish")
    started = time.monotonic()
    print(f"Reliability suite, size {size.name}, on {machine()}; handler logs: {args.log}", file=out, flush=True)
    figures: list[Figures] = []
    with Harness(args.log) as h:
        for name, module, function in SCENARIOS:
            if args.only and name not in args.only:
                continue
            print(f"  {name} …", end="", file=out, flush=True)
            scenario = getattr(importlib.import_module(f"devtools.reliability.{module}"), function)
            result = _run(name, scenario, h, size)
            figures.append(result)
            verdict = "ok" if not result.failures() else "FAILED: " + ", ".join(result.failures())
            print(f" {result.seconds:.1f} s, {verdict}", file=out, flush=True)
    total = time.monotonic() - started
    print("\n" + table(figures) + "\n", file=out)
    write_report(args.report, figures, size=size.name, total_seconds=total, partial=bool(args.only))
    if args.json:
        args.json.write_text(json.dumps([f.to_dict() for f in figures], indent=2) + "\n")
    failed = [f.scenario for f in figures if f.failures()]
    print(f"{'FAILED: ' + ', '.join(failed) if failed else 'Every required figure is 0'} ({total:.0f} s)", file=out)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
