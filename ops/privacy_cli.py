"""``sfsync forget ACCOUNT…`` (erase what the stack holds about accounts) and ``sfsync migrate`` (rewrite
state items of an earlier release, so no value stays in clear). docs/operate/personal-data.md."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from shared.components import Components
from shared.state.erasure import NOT_ERASED, Eraser
from shared.state.migration import sweep


def add_commands(commands: Any, account_id: Callable[[str], str]) -> None:
    """Add ``forget`` and ``migrate`` to ``sfsync``'s sub-parsers (``account_id``: the id argument type)."""
    forget = commands.add_parser(
        "forget", help="erase what the stack holds about accounts (state, idempotency records); list what it can't"
    )
    forget.add_argument("account_ids", type=account_id, nargs="+", metavar="ACCOUNT")
    forget.add_argument("--org", help="the Salesforce org id (default: the only one in ORGANIZATION_IDS)")
    commands.add_parser("migrate", help="rewrite state items of an earlier release now (no value left in clear)")


def cmd_forget(args: argparse.Namespace, components: Components) -> int:
    """Erase each account's items; print what was erased, then what the stack can't erase. Exit 1 when an
    account could not be erased now (a sync was running for it)."""
    org_id = components.org_id(args.org)
    settings = components.settings
    eraser = Eraser(components.dynamodb, settings.state_table_name, settings.idempotency_table_name)
    erased = eraser.forget(org_id, list(dict.fromkeys(args.account_ids)))
    for entry in erased:
        what = (
            f"{entry.state_items} state item, {entry.contact_entries} contact index entries, "
            f"{entry.idempotency_records} idempotency records"
        )
        print(f"account {entry.account_id}: erased {what}")
        for reason in entry.skipped:
            print(f"  not erased: {reason}")
    print("\nnot erased by the stack (handle these by their own processes):")
    print("\n".join(f"  - {place}" for place in NOT_ERASED))
    return 1 if any(entry.skipped for entry in erased) else 0


def cmd_migrate(args: argparse.Namespace, components: Components) -> int:
    """Rewrite every earlier state item; print how many (the rest are being written by a sync right now)."""
    swept = sweep(components.dynamodb, components.settings.state_table_name, components.field_digests)
    left = f"; {swept.left} written meanwhile (the sync migrates those itself)" if swept.left else ""
    print(f"migrated {swept.migrated} state items to the current version{left}")
    return 0


COMMANDS = {"forget": cmd_forget, "migrate": cmd_migrate}
