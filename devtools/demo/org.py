"""Drive the demo org of a running ``make serve`` from a second terminal: what a Salesforce user would do.

    python -m devtools.demo.org accounts                       the demo accounts, their orders and customers
    python -m devtools.demo.org send ACCOUNT_ID                POST an Outbound Message for it, print the result
    python -m devtools.demo.org activate ACCOUNT_ID            activate its order (Salesforce sends the message)
    python -m devtools.demo.org sync-now ACCOUNT_ID            press "Sync to Stripe now"; print its Stripe Sync Records
    python -m devtools.demo.org update SOBJECT ID FIELD=VALUE  edit a record, as a user in Salesforce would
    python -m devtools.demo.org add-field SOBJECT FIELD [TYPE] add a custom field (e.g. for a new mapping)

Everything goes through the stack's real interfaces: the simulator's REST API and its control API
(``/_sim``, docs/try-it.md), and the receiver's endpoint with its token, all read from
``.local/stack.json``. What the worker did is read from its log (``.local/serve.log``, the ``synced`` lines).
"""

from __future__ import annotations

import argparse
import json
import ssl
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from devtools.local_runtime.processes import REPO_ROOT
from devtools.sam.make_events import soap_message

STACK_JSON = REPO_ROOT / ".local" / "stack.json"
API_VERSION = "59.0"
WAIT_SECONDS = 20.0
SYNC_NOW = "Sync_to_Stripe_Now"  # the package's quick action (salesforce/…/quickActions)


class DemoOrg:
    """The running local stack's org, reached over HTTP as another process would."""

    def __init__(self, info: dict[str, Any]) -> None:
        self.info = info
        self.tls = ssl.create_default_context(cafile=info["salesforce_ca_bundle"])
        self._token: str | None = None

    @classmethod
    def from_stack_file(cls, path: Path = STACK_JSON) -> DemoOrg:
        """The org of the stack described by ``path``; SystemExit when no ``make serve`` is running."""
        if not path.exists():
            raise SystemExit(f"{path.relative_to(REPO_ROOT)} not found: start the local stack with `make serve`")
        info = json.loads(path.read_text())
        if not info.get("salesforce_control_url"):
            raise SystemExit("this stack runs against a real Salesforce org: use Salesforce itself")
        return cls(info)

    def _request(self, method: str, url: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=10, context=self.tls) as response:
            return json.loads(response.read() or b"null")

    def control(self, method: str, path: str, body: Any = None) -> Any:
        """Call the simulator's control API (``/_sim/…``)."""
        return self._request(method, f"{self.info['salesforce_control_url']}/{path}", body)

    def query(self, soql: str) -> list[dict[str, Any]]:
        """Run SOQL through the simulator's REST API, as the worker does."""
        if self._token is None:
            self._token = str(self.control("POST", "tokens")["access_token"])
        url = f"{self.info['salesforce_instance_url']}/services/data/v{API_VERSION}/query/?q={urllib.parse.quote(soql)}"
        return list(self._request("GET", url, headers={"Authorization": f"Bearer {self._token}"})["records"])

    def accounts(self) -> list[dict[str, Any]]:
        """Each account: name, id, whether it has an activated order, its Stripe ID and sync status fields."""
        activated = {o["AccountId"] for o in self.query("SELECT AccountId, Status FROM Order") if _activated(o)}
        rows = self.query("SELECT Id, Name, Stripe_Customer_ID__c, Stripe_Sync_Status__c FROM Account ORDER BY Name")
        return [{**row, "activated_order": row["Id"] in activated} for row in rows]

    def send(self, account_id: str) -> bytes:
        """POST an Outbound Message for the account to the receiver; the receiver's answer."""
        notification = ("04l" + uuid.uuid4().hex[:15].upper(), "Account", {"Id": account_id})
        body = soap_message([notification], org_id=self.info["organization_id"])
        request = urllib.request.Request(
            self.info["outbound_message_url"],
            data=body,
            method="POST",
            headers={"Content-Type": "text/xml; charset=UTF-8", "SOAPAction": '""'},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return bytes(response.read())

    def sync_now(self, account_id: str) -> None:
        """Press the package's "Sync to Stripe now" quick action on the account, as a person in Salesforce."""
        self.control("POST", "quick_actions", {"sobject": "Account", "record_id": account_id, "action": SYNC_NOW})

    def history(self, account_id: str) -> list[dict[str, Any]]:
        """The account's Stripe Sync Records (the related list on its page), oldest first."""
        fields = "Name, Outcome__c, Source__c, Error__c, Fix__c"
        where = f"Account__c = '{account_id}'"
        return self.query(f"SELECT {fields} FROM Stripe_Sync_Record__c WHERE {where} ORDER BY Name")  # noqa: S608 (an id)

    def activate(self, account_id: str) -> str:
        """Activate the account's first order that is not activated yet; its id."""
        orders = self.query(f"SELECT Id, Status, StatusCode FROM Order WHERE AccountId = '{account_id}'")  # noqa: S608 (an id)
        pending = [o for o in orders if not _activated(o)]
        if not pending:
            raise SystemExit(f"account {account_id} has no order left to activate")
        self.control("PATCH", f"records/Order/{pending[0]['Id']}", {"Status": "Activated"})
        return str(pending[0]["Id"])


def _activated(order: dict[str, Any]) -> bool:
    # The status category when the org reports it (Order.StatusCode), else the label.
    return (order.get("StatusCode") or order.get("Status")) == "Activated"


def _log_records(log_file: Path, offset: int) -> list[dict[str, Any]]:
    """The worker's JSON log records written after byte ``offset`` of its log."""
    with log_file.open("rb") as log:
        log.seek(offset)
        lines = log.read().decode(errors="replace").splitlines()
    found = []
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            found.append(record)
    return found


def worker_results(log_file: Path, offset: int, account_id: str) -> list[dict[str, Any]]:
    """The worker's ``synced`` log records for ``account_id`` written after byte ``offset`` of its log."""
    return [
        r for r in _log_records(log_file, offset) if r.get("message") == "synced" and r.get("account_id") == account_id
    ]


def held_reasons(log_file: Path, offset: int) -> list[str]:
    """The gate's holds of the batches the worker parked after byte ``offset`` (``batch held`` records)."""
    reasons = {str(r.get("holds")) for r in _log_records(log_file, offset) if r.get("message") == "batch held"}
    return sorted(reasons)


def wait_for_results(log_file: Path, offset: int, account_id: str, timeout: float = WAIT_SECONDS) -> list[Any]:
    """Wait until the worker logged a result for the account (and a moment longer for the write-back's echo)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        results = worker_results(log_file, offset, account_id)
        if results:
            time.sleep(1.0)
            return worker_results(log_file, offset, account_id)
        if held_reasons(log_file, offset):
            return []  # the gate parked the batch: no result will come until it is released
        time.sleep(0.2)
    return []


def describe(results: list[dict[str, Any]]) -> str:
    """One line per worker result: outcome, customer, error, with the glossary's meaning."""
    from ops.glossary import OUTCOMES

    lines = []
    for result in results:
        outcome = str(result.get("outcome"))
        parts = [f"worker: {outcome}"]
        if result.get("customer_id"):
            parts.append(f"customer {result['customer_id']}")
        if result.get("error"):
            parts.append(f"error in {result.get('error_field') or '-'}: {result['error']}")
        # A value Stripe can't take is left out with a warning: "unchanged" alone would hide it.
        parts.extend(f"warning: {warning}" for warning in result.get("warnings") or ())
        if result.get("duplicate"):
            outcome = "duplicate"
        lines.append(" · ".join(parts) + f"\n    ({OUTCOMES.get(outcome, '')})")
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m devtools.demo.org", description=__doc__.split("\n\n")[0])
    top.add_argument("--stack", type=Path, default=STACK_JSON, help="the stack's description (make serve)")
    commands = top.add_subparsers(dest="command", required=True)
    commands.add_parser("accounts", help="the demo accounts, their orders and customers")
    for name, text in (
        ("send", "POST an Outbound Message for the account"),
        ("activate", "activate its order"),
        ("sync-now", 'press "Sync to Stripe now" on the account'),
    ):
        commands.add_parser(name, help=text).add_argument("account_id")
    update = commands.add_parser("update", help="edit a record (FIELD=VALUE …)")
    update.add_argument("sobject")
    update.add_argument("record_id")
    update.add_argument("assignments", nargs="+", metavar="FIELD=VALUE")
    field = commands.add_parser("add-field", help="add a custom field to an object")
    field.add_argument("sobject")
    field.add_argument("field")
    field.add_argument("type", nargs="?", default="string")
    return top


def print_accounts(org: DemoOrg) -> None:
    """The demo accounts as a table."""
    rows = [("account", "id", "activated order", "Stripe ID field", "sync status")]
    for a in org.accounts():
        rows.append(
            (
                a["Name"],
                a["Id"],
                "yes" if a["activated_order"] else "no",
                a.get("Stripe_Customer_ID__c") or "-",
                a.get("Stripe_Sync_Status__c") or "-",
            )
        )
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


def main(argv: list[str] | None = None) -> int:
    """Run one command against the running local stack; 1 with Salesforce's own words when it refuses one."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "update" and any("=" not in item for item in args.assignments):
        parser.error(f"update: every change is FIELD=VALUE, got {' '.join(args.assignments)!r}")
    try:
        return _run(args)
    except urllib.error.HTTPError as exc:  # a typo: an unknown object, field, record or value
        print(f"Salesforce refused it ({exc.code}): {_refusal(exc)}", file=sys.stderr)
        return 1
    except urllib.error.URLError as exc:
        print(f"the local stack does not answer ({exc.reason}): is `make serve` still running?", file=sys.stderr)
        return 1


def _refusal(exc: urllib.error.HTTPError) -> str:
    """Salesforce's error code and message (REST API: a JSON list of {errorCode, message})."""
    try:
        body = json.loads(exc.read() or b"null")
    except ValueError:
        return str(exc.reason)
    first = body[0] if isinstance(body, list) and body and isinstance(body[0], dict) else {}
    return f"{first.get('errorCode', 'error')}: {first.get('message', exc.reason)}" if first else str(exc.reason)


def _run(args: argparse.Namespace) -> int:
    org = DemoOrg.from_stack_file(args.stack)
    log_file = Path(org.info["log_file"])
    offset = log_file.stat().st_size
    if args.command == "accounts":
        print_accounts(org)
        return 0
    if args.command == "add-field":
        org.control("POST", "fields", {"sobject": args.sobject, "field": args.field, "type": args.type})
        print(f"added {args.sobject}.{args.field} ({args.type})")
        return 0
    if args.command == "send":
        answer = org.send(args.account_id)
        acknowledged = b"<Ack>true</Ack>" in answer
        print("receiver: acknowledged (SOAP Ack true)" if acknowledged else f"receiver: refused: {answer[:300]!r}")
        if not acknowledged:
            return 1
    elif args.command == "activate":
        print(f"order {org.activate(args.account_id)} activated; Salesforce sends its Outbound Message")
    elif args.command == "sync-now":
        org.sync_now(args.account_id)
        print("Sync to Stripe now pressed; Salesforce sends the Stripe Sync Now message")
    else:
        fields = dict(item.split("=", 1) for item in args.assignments)
        org.control("PATCH", f"records/{args.sobject}/{args.record_id}", fields)
        print(f"{args.sobject} {args.record_id} updated: {', '.join(fields)}")
    account_id = args.account_id if args.command in ("send", "activate", "sync-now") else _account_of(org, args)
    results = wait_for_results(log_file, offset, account_id) if account_id else []
    held = held_reasons(log_file, offset) if not results else []
    if held:
        # A pause is no failure: the change waits in the held queue and syncs when the hold is released.
        print(f"worker: held ({', '.join(held)}): nothing written yet; `sfsync status` says why, the change syncs")
        print("        when the hold is released (sfsync resume / go-live, or the admin's Live Sync)")
        return 0
    print(describe(results) if results else f"worker: no result within {WAIT_SECONDS:.0f} s (see {log_file})")
    if args.command == "sync-now" and account_id:
        print_history(org.history(account_id))
    return 0 if results else 1


def print_history(records: list[dict[str, Any]]) -> None:
    """The account's Stripe Sync Records, one line each (what the related list shows)."""
    print("Stripe Sync Records:" if records else "Stripe Sync Records: none")
    for record in records:
        problem = f" · {record['Error__c']} · {record['Fix__c']}" if record.get("Error__c") else ""
        print(f"  {record['Name']}  {record['Outcome__c']} ({record['Source__c']}){problem}")


def _account_of(org: DemoOrg, args: argparse.Namespace) -> str | None:
    if args.sobject == "Account":
        return str(args.record_id)
    record = org.control("GET", f"records/{args.sobject}/{args.record_id}")
    return record.get("AccountId") if isinstance(record, dict) else None


if __name__ == "__main__":
    sys.exit(main())
