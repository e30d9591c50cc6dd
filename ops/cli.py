"""sfsync: reconcile, resync, status, adopt, pause/resume/go-live, redrive, doctor (the pre-flight check),
mapping, forget and migrate, for operators.

Uses the worker's settings, and so the same Salesforce connection, Stripe key, mapping, state table and queues:
with ``--stack .local/stack.json`` (the local stack) or ``--stack-name NAME`` (a deployed stack; or
``SFSYNC_STACK_NAME``) it takes them from the stack itself (``ops.stack_env``); without either, from the worker's
environment variables (``WorkerSettings``, docs/reference/environment.md; ``SYNC_DLQ_URL`` for ``redrive``). Exit
status: 0 done, 1 an outage or error on the way (a reconcile run can continue with ``--resume``), 2 a
configuration or usage error (the message names the variable), 130 interrupted. A reconcile run that finished
exits 0 even when some accounts could not be checked (each is listed with its reason); with ``--strict`` it exits
1 then, and when an account shows identity damage.
"""

from __future__ import annotations

import argparse
import os
import sys
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from ops import (
    adopt,
    dlq,
    doctor,
    doctor_endpoint,
    gate_cli,
    glossary,
    mapping_cli,
    privacy_cli,
    report,
    secrets_cli,
    stack_env,
)
from shared.components import Components
from shared.errors import ConfigurationError, SyncError
from shared.mapping import MappingConfigError
from shared.reconcile import IDENTITY_VERDICTS, PAGE_SIZE, CheckpointMismatch, RunOptions, RunResult, Verdict, run
from shared.redaction import redact
from shared.salesforce import AccountQuery, is_salesforce_id, to_18
from shared.salesforce.ids import NOT_AN_ID, id_problem
from shared.settings import SettingsError, WorkerSettings
from shared.state import FileCheckpoints
from shared.sync import EnqueueError, SyncRequest, TriggerSource

DEFAULT_CHECKPOINT = Path(".local/reconcile-checkpoint.json")
Command = Callable[[argparse.Namespace, Components], int]


def _account_id(value: str) -> str:
    problem = id_problem(value)
    if problem is not None and problem != NOT_AN_ID:
        raise argparse.ArgumentTypeError(f"{value!r} {problem}")
    if not is_salesforce_id(value, "001"):
        raise argparse.ArgumentTypeError(f"{value!r} is not an Account id (15 or 18 characters, starting 001)")
    return to_18(value)


def _page_size(value: str) -> int:
    size = int(value)
    if not 1 <= size <= PAGE_SIZE:
        raise argparse.ArgumentTypeError(f"must be 1 to {PAGE_SIZE}")
    return size


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def parser() -> argparse.ArgumentParser:
    """The command line."""
    top = argparse.ArgumentParser(
        prog="sfsync",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
        epilog=glossary.help_text(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    where = top.add_mutually_exclusive_group()
    where.add_argument("--stack", type=Path, help="the local stack's description (make serve: .local/stack.json)")
    where.add_argument(
        "--stack-name",
        help=f"a deployed stack's CloudFormation name (your AWS credentials; default ${stack_env.STACK_NAME_VARIABLE})",
    )
    top.add_argument("--region", help="with --stack-name: the stack's AWS region (default: your AWS config)")
    commands = top.add_subparsers(dest="command", required=True)
    recon = commands.add_parser("reconcile", help="compare every account that should have a customer with Stripe")
    mode = recon.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true", help="only report (the default)")
    mode.add_argument("--apply", action="store_true", help="also queue a sync for each account that needs one")
    recon.add_argument("--resume", action="store_true", help="continue the interrupted run from its checkpoint")
    recon.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT, help=f"default {DEFAULT_CHECKPOINT}")
    recon.add_argument(
        "--page-size",
        type=_page_size,
        default=PAGE_SIZE,
        help=f"rows per query batch (Salesforce takes 200 to {PAGE_SIZE})",
    )
    recon.add_argument("--max-accounts", type=_positive, help="stop after this many accounts (continue with --resume)")
    recon.add_argument("--all", action="store_true", help="list ok accounts too")
    recon.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 when an account could not be checked or shows identity damage (default: 0 once the run finished)",
    )
    resync = commands.add_parser("resync", help="queue a sync of one account")
    resync.add_argument("account_id", type=_account_id)
    status = commands.add_parser("status", help="the gate's holds, and what the state store and Salesforce say "
                                 "about one account")  # fmt: skip
    status.add_argument("account_id", type=_account_id, nargs="?", help="an account (default: only the gate)")

    adopting = commands.add_parser(
        "adopt", help="hand the sync a Stripe customer that names no account (tag it, point the account at it)"
    )
    adopting.add_argument("account_id", type=_account_id, nargs="?")
    adopting.add_argument("customer_id", nargs="?", help="the Stripe customer id (cus_…)")
    adopting.add_argument("--from", dest="from_file", type=Path, help="adopt every (001…, cus_…) pair in this file")
    for sub in (recon, resync, status, adopting):
        sub.add_argument("--org", help="the Salesforce org id (default: the only one in ORGANIZATION_IDS)")
    redrive = commands.add_parser("redrive", help="move the dead-letter queue's messages back to the sync queue")
    redrive.add_argument(
        "--dry-run", action="store_true", help="only count them: those that can succeed, and poison ones (stay)"
    )
    redrive.add_argument("--limit", type=_positive, default=10_000, help="move at most this many (default 10000)")
    secrets_cli.add_commands(commands)
    mapping_cli.add_commands(commands, _account_id)
    gate_cli.add_commands(commands)
    privacy_cli.add_commands(commands, _account_id)
    check = commands.add_parser("doctor", help="check the org, Stripe and the stack before the first message")
    check.add_argument("--endpoint", help="the Outbound Message URL Salesforce posts to, WITHOUT ?token= (default: "
                       "the stack's, with --stack or --stack-name)")  # fmt: skip
    check.add_argument("--token-secret", help="the Secrets Manager secret holding the endpoint token (name or ARN; "
                       "default with --stack-name: the stack's OutboundTokenSecretArn)")  # fmt: skip
    return top


def cmd_reconcile(args: argparse.Namespace, components: Components) -> int:
    """Compare, print the verdicts, and with --apply queue the syncs."""
    reconciler = components.reconciler(components.org_id(args.org))
    checkpoints = FileCheckpoints(args.checkpoint)
    if args.resume and checkpoints.load() is None:
        print(f"no checkpoint in {args.checkpoint}: starting from the first account", file=sys.stderr)
    options = RunOptions(
        apply=args.apply,
        resume=args.resume,
        page_size=args.page_size,
        max_accounts=args.max_accounts,
        keep_ok=args.all,
    )
    progress = report.Progress()
    done: list[RunResult] = []

    def on_page(result: RunResult) -> None:
        done[:] = [result]
        progress.update(result)

    try:
        result = run(reconciler, checkpoints, options, queue=components.queue if args.apply else None, on_page=on_page)
    except BaseException:
        progress.finish()
        if done:  # what the finished pages found is still worth seeing
            _print_checks(done[0], args)
            print(f"interrupted after account {done[0].checkpoint.after}: continue with --resume", file=sys.stderr)
        raise
    progress.finish()
    _print_checks(result, args)
    print(report.summary(result, apply=args.apply))
    flagged = {Verdict.CHECK_FAILED.value, *(verdict.value for verdict in IDENTITY_VERDICTS)}
    return 1 if args.strict and any(result.checkpoint.counts.get(v) for v in flagged) else 0


def _print_checks(result: RunResult, args: argparse.Namespace) -> None:
    rows = report.check_rows(result.checks, show_ok=args.all)
    if rows:
        print(report.table(report.CHECK_HEADERS, rows))
        reasons = report.reason_lines(result.checks)
        if reasons:
            print("\n".join(["", "why:", *(f"  {line}" for line in reasons)]))
    elif result.accounts:
        print("every account checked is ok")


def cmd_resync(args: argparse.Namespace, components: Components) -> int:
    """Queue one sync request for the account."""
    org_id = components.org_id(args.org)
    request = SyncRequest.for_account(
        org_id, args.account_id, event_id=f"resync:{uuid.uuid4().hex}", source=TriggerSource.RECONCILE
    )
    components.queue.send([request])
    print(f"queued a sync of account {args.account_id} (event {request.event_id})")
    return 0


def cmd_status(args: argparse.Namespace, components: Components) -> int:
    """Print the gate's holds, then the account's state item and its Salesforce sync fields."""
    print("\n".join(gate_cli.gate_lines(components)))
    if args.account_id is None:
        return 0
    org_id = components.org_id(args.org)
    settings = components.settings
    state = components.state.get(org_id, args.account_id)
    print(f"account {args.account_id} (org {org_id})")
    print(report.labelled("state store:", report.state_lines(state)))
    observed = components.observe_log.get(org_id, args.account_id)
    if observed is not None:  # what observe mode decided (the latest, 30 days at most)
        print(f"observe mode:\n  {observed.describe()}")
    if state is not None and state.customer_id:
        try:
            tax = report.stripe_tax_text(components.stripe.customer_tax(state.customer_id))
        except SyncError as exc:  # a deleted customer, an outage: the rest of the status still matters
            tax = f"unavailable ({exc.message})"
        print(report.labelled("Stripe:", [("Stripe Tax", tax)]))
    fields = [f for f in (settings.salesforce_stripe_id_field, settings.salesforce_sync_status_field,
                          settings.salesforce_sync_error_field) if f]  # fmt: skip
    read = components.salesforce.read_accounts([args.account_id], AccountQuery(tuple(fields), ("Id",)))
    record = read.get(args.account_id)
    if record is None:
        print("Salesforce:\n  no such account (or purged from the recycle bin)")
        return 0
    orders = (record.get("Orders") or {}).get("records") or []
    pairs = [(name, redact(str(record.get(name) or "-"))) for name in fields]
    pairs += [
        ("deleted", "yes" if record.get("IsDeleted") else "no"),
        ("merged into", record.get("MasterRecordId") or "-"),
        ("latest activated order", orders[0]["Id"] if orders else "none"),
        ("SystemModstamp", str(record.get("SystemModstamp") or "-")),
    ]
    print(report.labelled("Salesforce:", pairs))
    return 0


def cmd_adopt(args: argparse.Namespace, components: Components) -> int:
    """Adopt one customer, or every pair in ``--from``; 1 when any was refused."""
    if args.from_file is not None:
        pairs = adopt.pairs_from_file(args.from_file)
    elif args.account_id and args.customer_id and args.customer_id.startswith("cus_"):
        pairs = [(args.account_id, args.customer_id)]
    else:
        print("sfsync adopt: give ACCOUNT CUSTOMER (cus_…), or --from FILE", file=sys.stderr)
        return 2
    org_id = components.org_id(args.org)
    done = [adopt.adopt(components, org_id, account_id, customer_id) for account_id, customer_id in pairs]
    for adoption in done:
        print(adoption.text)
    if not done:
        print(f"no (001…, cus_…) pair in {args.from_file}")
    return 0 if all(adoption.done for adoption in done) else 1


def cmd_redrive(args: argparse.Namespace, components: Components) -> int:
    """Move dead letters back to the sync queue (or only count them)."""
    dlq_url = components.dlq_url()
    if args.dry_run:
        summary = dlq.peek(components.sqs, dlq_url, limit=args.limit)
    else:
        summary = dlq.move_back(components.sqs, dlq_url, components.settings.sync_queue_url, limit=args.limit)
    print(dlq.summary_text(summary, dry_run=args.dry_run))
    return 0


def cmd_doctor(args: argparse.Namespace, components: Components) -> int:
    """Run every pre-flight check; 1 when any is an error."""
    # The token is read from its secret, never from the command line (ps, shell history).
    import boto3

    session = boto3.session.Session(region_name=args.region)
    endpoint = doctor_endpoint.endpoint_url(args, session.client, doctor.endpoint_from_stack)
    return doctor.report(doctor.run_checks(components, endpoint))


COMMANDS: dict[str, Command] = {
    "reconcile": cmd_reconcile,
    "resync": cmd_resync,
    "status": cmd_status,
    "adopt": cmd_adopt,
    "redrive": cmd_redrive,
    "doctor": cmd_doctor,
    "mapping": mapping_cli.cmd_mapping,
    **gate_cli.COMMANDS,
    **privacy_cli.COMMANDS,
}


def stack_environment(args: argparse.Namespace) -> dict[str, str]:
    """The worker environment of the stack named by ``--stack`` / ``--stack-name`` / ``SFSYNC_STACK_NAME``; empty
    when none is given."""
    if args.stack:
        return stack_env.from_stack_file(args.stack)
    stack_name = args.stack_name or os.environ.get(stack_env.STACK_NAME_VARIABLE)
    if stack_name:
        import boto3

        session = boto3.session.Session(region_name=args.region)
        return stack_env.from_cloudformation(stack_name, session.client("cloudformation"), session.client("lambda"))
    return {}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``sfsync``; returns the exit status."""
    args = parser().parse_args(argv)
    try:
        if args.command == "secret":  # before a stack exists: needs no settings
            return secrets_cli.cmd_secret(args)
        # The stack's own settings win over the shell's: the mapping and fields are always the stack's.
        os.environ.update(stack_environment(args))
        components = Components(WorkerSettings.from_env())
        return COMMANDS[args.command](args, components)
    except SettingsError as exc:
        named = args.stack or args.stack_name or os.environ.get(stack_env.STACK_NAME_VARIABLE)
        hint = "" if named else f"\n{stack_env.which_stack_hint()}"
        print(f"sfsync: configuration error: {exc}{hint}", file=sys.stderr)
        return 2
    except (ConfigurationError, MappingConfigError, CheckpointMismatch) as exc:
        print(f"sfsync: configuration error: {exc}", file=sys.stderr)
        return 2
    except (SyncError, EnqueueError) as exc:
        print(f"sfsync: {exc}", file=sys.stderr)
        return 1
    except (BotoCoreError, ClientError) as exc:
        print(f"sfsync: AWS: {redact(str(exc))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("sfsync: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `sfsync status … | head`: the reader left; nothing more to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
