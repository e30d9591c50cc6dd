"""``sfsync mapping check|preview|publish FILE``: a mapping change in three steps, against the stack's org.

- ``check``: the file is valid, and every field it reads exists in the org and is readable by the integration
  user, with a type that fits its Stripe field: the worker's own cold-start check (``shared.mapping.org_check``).
- ``preview``: what the file would change in Stripe for a sample of accounts (or all, or named ones), without
  writing (``ops.mapping_preview``).
- ``publish``: check, then write the file as a new version of the stack's SSM mapping parameter
  (``MappingConfig`` = ``/...``); with ``--resync``, queue a sync of every account so the newly mapped fields
  arrive. The worker applies the queued syncs at its Stripe rate limit.
Exit status: 0 done (check: no errors), 1 the mapping does not fit the org, 2 a usage or configuration error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any

from ops import mapping_preview
from shared.components import Components
from shared.errors import ConfigurationError
from shared.mapping import CustomerMapping, Finding, errors_of, load_mapping
from shared.reconcile import PAGE_SIZE
from shared.reconcile.reconciler import page_soql
from shared.salesforce import AccountQuery
from shared.sync import SyncRequest, TriggerSource

DEFAULT_SAMPLE = 20
RESYNC_BATCH = 500


def add_commands(commands: Any, account_id: Any) -> None:
    """Add ``mapping check|preview|publish`` to the ``sfsync`` sub-command parser."""
    mapping = commands.add_parser("mapping", help="check, preview and publish a mapping change against the org")
    steps = mapping.add_subparsers(dest="step", required=True)
    check = steps.add_parser("check", help="is FILE valid, and does every field it reads exist in the org?")
    preview = steps.add_parser("preview", help="what FILE would change in Stripe, per account, without writing")
    which = preview.add_mutually_exclusive_group()
    which.add_argument("--sample", type=int, default=DEFAULT_SAMPLE, help=f"the first N (default {DEFAULT_SAMPLE})")
    which.add_argument("--all", action="store_true", help="every account that should have a customer")
    which.add_argument("--account", type=account_id, action="append", help="this account (repeat for more)")
    preview.add_argument("--values", action="store_true", help="print the values even when the output is no terminal")
    publish_step = steps.add_parser("publish", help="check FILE, then publish it to the stack's SSM parameter")
    publish_step.add_argument("--resync", action="store_true", help="then queue a sync of every account")
    for step in (check, preview, publish_step):
        step.add_argument("file", type=Path, metavar="FILE", help="the mapping JSON file")
        step.add_argument("--org", help="the Salesforce org id (default: the only one in ORGANIZATION_IDS)")


def cmd_mapping(args: argparse.Namespace, ops: Components) -> int:
    """Run the step named by ``args.step``."""
    new = load_mapping(args.file)  # MappingConfigError (exit 2) names the entry
    findings = ops.org_findings(new)
    if args.step == "check":
        return _report(args.file, findings)
    if errors_of(findings):
        _report(args.file, findings)
        return 1
    if args.step == "preview":
        return _preview(args, ops, new)
    return _publish(args, ops, new)


def _report(file: Path, findings: list[Finding]) -> int:
    for finding in findings:
        print(f"{finding.level}: {finding}")
    errors = errors_of(findings)
    if errors:
        print(f"{file}: {len(errors)} error(s): the worker would not use this mapping in this org")
        return 1
    print(f"{file}: fits the org (every field exists, is readable by the integration user and fits its Stripe field)")
    return 0


def _records(args: argparse.Namespace, ops: Components, new: CustomerMapping) -> Iterator[dict[str, Any]]:
    query = mapping_preview.query_for(new, ops.mapping, ops.settings.salesforce_stripe_id_field)
    if args.account:
        found = ops.salesforce.read_accounts(args.account, query)
        for account_id in args.account:
            if account_id not in found:
                print(f"account {account_id}: no such account (or purged from the recycle bin)")
        yield from (found[account_id] for account_id in args.account if account_id in found)
        return
    limit = None if args.all else args.sample
    soql = page_soql(query, ops.settings.creation_mode, after=None, limit=limit)
    for page in ops.salesforce.query_batches(soql, PAGE_SIZE):
        yield from page


def _preview(args: argparse.Namespace, ops: Components, new: CustomerMapping) -> int:
    show_values = args.values or sys.stdout.isatty()
    totals = mapping_preview.Totals()
    records = _records(args, ops, new)
    field = ops.settings.salesforce_stripe_id_field
    for preview in mapping_preview.preview_accounts(records, new, ops.mapping, ops.stripe, field):
        totals.add(preview)
        print("\n".join(mapping_preview.lines(preview, show_values=show_values)))
    print(mapping_preview.summary(totals))
    print("nothing was written: publish with `sfsync mapping publish FILE`")
    return 0


def _publish(args: argparse.Namespace, ops: Components, new: CustomerMapping) -> int:
    name = ops.settings.mapping_config_ssm_parameter
    if not name:
        raise ConfigurationError(
            f"this stack's mapping is {ops.settings.mapping_config!r} (a preset or a file in the deployment): "
            "deploy once with MappingConfig=/<parameter name> (an SSM parameter) to publish mappings; see "
            "docs/configure/mapping.md"
        )
    import boto3

    ssm = boto3.session.Session(region_name=getattr(args, "region", None)).client("ssm")
    version = publish(ssm, name, args.file.read_text(encoding="utf-8"), f"sfsync mapping publish {args.file.name}")
    print(f"published {args.file} as version {version} of {name}: each worker uses it within 5 minutes")
    if args.resync:
        org_id = ops.org_id(args.org)
        queued = _queue_every_account(ops, new, org_id, f"mapping:{version}")
        print(f"queued a sync of {queued} accounts; the worker applies them at its Stripe rate limit")
    return 0


def publish(ssm: Any, name: str, text: str, description: str) -> int:
    """Write ``text`` as the new version of String parameter ``name``; returns SSM's new version number.

    Intelligent-Tiering: Standard up to 4 KB, Advanced above, and never a refused downgrade of an Advanced
    parameter (https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html).
    """
    answer = ssm.put_parameter(
        Name=name, Value=text, Type="String", Overwrite=True, Tier="Intelligent-Tiering", Description=description[:1024]
    )
    return int(answer["Version"])


def _queue_every_account(ops: Components, new: CustomerMapping, org_id: str, run_id: str) -> int:
    query = AccountQuery((*new.account_fields,), new.order_fields)
    soql = page_soql(query, ops.settings.creation_mode, after=None, limit=None)
    ids = (str(record["Id"]) for page in ops.salesforce.query_batches(soql, PAGE_SIZE) for record in page)
    queued = 0
    while batch := list(islice(ids, RESYNC_BATCH)):
        ops.queue.send([_resync(org_id, account_id, run_id) for account_id in batch])
        queued += len(batch)
    return queued


def _resync(org_id: str, account_id: str, run_id: str) -> SyncRequest:
    # One event id per account and published version: queuing twice syncs once (the worker's idempotency).
    return SyncRequest.for_account(
        org_id, account_id, event_id=f"{run_id}:{account_id}", source=TriggerSource.RECONCILE
    )
