"""``sfsync pause`` / ``resume`` / ``go-live`` / ``observe`` and the holds part of ``sfsync status``.

Every pause is a hold of the gate (``shared.state.holds``): the operator's own (``pause``), observe mode
(a new deployment until ``go-live``), and those placed by the sync itself (the admin's live switch, the API
budget, refused credentials). ``resume`` releases the operator's hold, or with ``--reason`` any other one
(a person may release what the sync placed); when no hold is left it redrives the held queue at once.
"""

from __future__ import annotations

import argparse
import getpass
from collections.abc import Iterable
from typing import Any

from shared.components import Components
from shared.errors import ConfigurationError
from shared.state.holds import Hold, HoldReason
from shared.sync.gate import redrive_held
from shared.sync.observe import ObservedOutcome, ObservedSync


def add_commands(commands: Any) -> None:
    """Add the gate's sub-commands to ``sfsync``'s sub-parsers."""
    pause = commands.add_parser("pause", help="hold the sync: messages wait in the held queue until resume")
    pause.add_argument("--note", default="", help="why (shown by sfsync status; no personal data)")
    resume = commands.add_parser("resume", help="release your hold (or --reason another); redrive if none is left")
    resume.add_argument(
        "--reason",
        type=HoldReason,
        choices=[r for r in HoldReason if r is not HoldReason.OBSERVE],
        default=HoldReason.OPERATOR,
        metavar="REASON",
        help="the hold to release: operator (default), live_switch, api_budget, credentials",
    )
    commands.add_parser("go-live", help="end observe mode: the sync writes to Stripe and Salesforce from now on")
    observe = commands.add_parser(
        "observe", help="back to observe mode: decide and report, write nothing; 'observe report': what it decided"
    )
    observe.add_argument("action", nargs="?", choices=["report"], help="report: counts and accounts per outcome")
    observe.add_argument("--org", help="the Salesforce org id (default: the only one in ORGANIZATION_IDS)")


def hold_lines(holds: list[Hold], waiting: int | None = None) -> list[str]:
    """``sfsync status``'s gate lines: open, or one line per hold with its reason; ``waiting``: held messages."""
    count = "messages" if waiting is None else f"{waiting} message(s)"
    if not holds:
        return ["gate: open (syncing)" + (f"; {count} still in the held queue" if waiting else "")]
    return [f"gate: held ({len(holds)}) — {count} wait in the held queue", *(f"  {h.describe()}" for h in holds)]


def gate_lines(components: Components) -> list[str]:
    """The gate's holds (a consistent read) and how many messages wait (SQS's approximate count)."""
    held = components.held_queue
    if held is None:
        return ["gate: none (HELD_QUEUE_URL not set: a stack from before the gate)"]
    attributes = components.sqs.get_queue_attributes(QueueUrl=held.url, AttributeNames=["ApproximateNumberOfMessages"])
    waiting = int(attributes["Attributes"]["ApproximateNumberOfMessages"])
    return hold_lines(components.holds.holds(consistent=True), waiting)


def _held_url(components: Components) -> str:
    held = components.held_queue
    if held is None:
        raise ConfigurationError("HELD_QUEUE_URL is not set: this stack has no gate (deploy this release)")
    return held.url


def _after_release(components: Components) -> int:
    if not components.holds.holds(consistent=True):
        moved = redrive_held(components.sqs, _held_url(components), components.settings.sync_queue_url)
        print(f"redriven: {moved.moved} held message(s) back to the sync queue")
    print("\n".join(gate_lines(components)))
    return 0


def cmd_pause(args: argparse.Namespace, components: Components) -> int:
    """Place the operator's hold."""
    _held_url(components)
    components.holds.place(HoldReason.OPERATOR, by=f"sfsync ({getpass.getuser()})", note=args.note)
    print("\n".join(gate_lines(components)))
    return 0


def cmd_resume(args: argparse.Namespace, components: Components) -> int:
    """Release one hold (the operator's by default); redrive when the gate is open."""
    _held_url(components)
    components.holds.release(args.reason)
    return _after_release(components)


def cmd_go_live(args: argparse.Namespace, components: Components) -> int:
    """End observe mode; redrive when the gate is open."""
    _held_url(components)
    components.holds.release(HoldReason.OBSERVE)
    return _after_release(components)


def cmd_observe(args: argparse.Namespace, components: Components) -> int:
    """Back to observe mode; or, with ``report``, what observe mode decided per account."""
    if getattr(args, "action", None) == "report":
        print("\n".join(observe_report(components.observe_log.all(components.org_id(args.org)))))
        return 0
    _held_url(components)
    components.holds.place(HoldReason.OBSERVE, by="sfsync")
    print("\n".join(gate_lines(components)))
    return 0


def observe_report(observed: Iterable[ObservedSync]) -> list[str]:
    """``sfsync observe report``: accounts per outcome, then one line per account (names only, no values)."""
    by_outcome: dict[ObservedOutcome, list[ObservedSync]] = {outcome: [] for outcome in ObservedOutcome}
    for item in observed:
        by_outcome[item.outcome].append(item)
    total = sum(len(items) for items in by_outcome.values())
    counts = ", ".join(f"{len(items)} {outcome.value.replace('_', ' ')}" for outcome, items in by_outcome.items())
    lines = [f"observe mode decided {total} account(s) in the last 30 days: {counts}"]
    for items in by_outcome.values():
        lines += [f"  {item.account_id}: {item.describe()}" for item in sorted(items, key=lambda i: i.account_id)]
    return lines


COMMANDS = {"pause": cmd_pause, "resume": cmd_resume, "go-live": cmd_go_live, "observe": cmd_observe}
