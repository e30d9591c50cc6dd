"""``make run``: the whole flow on the embedded emulators, printing what happened.

Seeds a demo org (a parent/child hierarchy, contacts, CPQ quotes, orders), then drives a scripted scenario
through real HTTP and SOAP: a change held in observe mode and synced at go-live, order activations, account
and contact updates, duplicate and out-of-order deliveries, an invalid email, a merged-away account, a VAT
number synced as a tax ID, a primary contact switched on the CPQ quote, the admin's preferences (Live Sync off
holds an activation until it is on, an order activated before the start date is skipped), and Stripe's CPQ
connector as a second writer (``beside``). The demo mapping, ``devtools/demo/mapping.json``, adds the tax ID.
Ends with a table of Salesforce record → Stripe customer and stops every process it started. Handler logs go to
``.local/run.log``.
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
import time
import urllib.request
import uuid
import warnings
from collections.abc import Callable
from contextlib import redirect_stdout
from dataclasses import dataclass
from typing import Any, TextIO

from devtools.demo import preferences
from devtools.demo.beside import beside_the_connector
from devtools.local_runtime.processes import REPO_ROOT
from devtools.local_runtime.stack import LocalStack, StackOptions
from devtools.salesforce_sim.connector import STRIPE_ID_FIELD as CONNECTOR_STRIPE_ID_FIELD
from devtools.sam.make_events import soap_message
from ops import doctor, gate_cli
from shared.components import Components
from shared.settings import WorkerSettings

LOG_PATH = REPO_ROOT / ".local" / "run.log"
PIDS_PATH = REPO_ROOT / ".local" / "run-pids.json"
DEMO_MAPPING = REPO_ROOT / "devtools" / "demo" / "mapping.json"
WIDTH = 120  # what make run prints fits a 120-column terminal
MISTYPED_ID = "cus_Tippfehler000001"  # a customer id no Stripe account has
WITH_WARNINGS = "Synced with warnings"  # the status the worker writes back when fields were left out or adjusted


@dataclass
class Step:
    """One scripted step and what it showed."""

    title: str
    account: str
    expected: str
    outcome: str = ""
    writes: int = 0
    detail: str = ""


class Demo:
    """Seeds the simulator and runs the scenario against a started ``LocalStack``."""

    def __init__(self, stack: LocalStack, out: TextIO) -> None:
        self.stack = stack
        self.outcomes: dict[str, str] = {}
        self.sim = stack.sim
        self.out = out
        self.accounts: dict[str, str] = {}
        self.contacts: dict[str, str] = {}
        self.orders: dict[str, str] = {}
        self.quotes: dict[str, str] = {}
        self.steps: list[Step] = []

    # -- seeding ---------------------------------------------------------------------------------------
    def seed(self) -> None:
        """Accounts (one hierarchy), contacts, primary quotes and draft orders."""
        self.sim.add_field("Account", "VAT_Number__c")  # the custom field the demo mapping reads
        holding = self._account("Muster Holding AG", BillingCity="München", BillingCountry="Deutschland")
        self._customer_candidate(
            "Muster GmbH",
            "ada@muster.example",
            ParentId=holding,
            Phone="+49 30 1234567",
            BillingStreet="Hauptstraße 1\n2. OG",
            BillingCity="Berlin",
            BillingPostalCode="10115",
            BillingCountry="Deutschland",
        )
        self._customer_candidate(
            "Example Ltd",
            "bob@example.co.uk",
            BillingCity="London",
            BillingCountry="United Kingdom",
            ShippingCity="Leeds",
            ShippingCountry="GB",
        )
        # Messy but ordinary CRM data: an email Stripe refuses, a phone with an extension (24 characters,
        # Stripe takes 20), the country in German. Synced anyway, with field warnings on the account.
        self._customer_candidate(
            "Kaputt KG", "buchhaltung@kaputt", Phone="+1 555-010-4477 ext. 725", BillingCountry="Niederlande"
        )
        # A complete US billing address beside ShippingCountry alone: Stripe Tax would use the shipping address
        # first and place nothing, so it is left out with a warning (docs/stripe-tax.md).
        us_billing = {"BillingCity": "Brothers", "BillingState": "OR", "BillingPostalCode": "97712"}
        self._customer_candidate(
            "Tax Place Inc", "ap@taxplace.example", **us_billing, BillingCountry="United States", ShippingCountry="US"
        )
        self._customer_candidate("Alt GmbH", "alt@alt.example", BillingCountry="AT")
        self._customer_candidate("Relay SAS", "compta@relay.example", BillingCity="Lyon", BillingCountry="France")
        # The org activates some orders with its own status "Provisioned", in the status category Activated.
        self.sim.add_order_status("Provisioned", "Activated")
        self._customer_candidate("Bereit GmbH", "einkauf@bereit.example", BillingCountry="DE")
        # Served by Stripe's CPQ connector too (the "beside the connector" steps).
        self._customer_candidate(
            "Nebenan GmbH", "ap@nebenan.example", BillingStreet="Kai 5\nHaus B", BillingCountry="Deutschland"
        )
        # A second contact of Example Ltd, who becomes the quote's primary contact during the scenario.
        self.contacts["Example Ltd (accounts)"] = self.sim.create(
            "Contact",
            {"AccountId": self.accounts["Example Ltd"], "LastName": "Accounts", "Email": "accounts@example.co.uk"},
        )
        # A data migration left a Stripe customer id that does not exist: the sync refuses to guess (R10).
        self._customer_candidate("Tippfehler GmbH", "rechnung@tippfehler.example", BillingCountry="DE")
        self._account("Neu GmbH", BillingCountry="Austria")
        self._account("Interessent AG", BillingCountry="CH")
        self.stack.settle()
        # Once the creations are synced (no customer yet): what the migration left, without any trigger.
        self.sim.load_system_fields("Account", self.accounts["Tippfehler GmbH"], {"Stripe_Customer_ID__c": MISTYPED_ID})

    def _account(self, name: str, **fields: Any) -> str:
        self.accounts[name] = self.sim.create("Account", {"Name": name, **fields})
        return str(self.accounts[name])

    def _customer_candidate(self, name: str, email: str, **fields: Any) -> None:
        account_id = self._account(name, **fields)
        first, last = email.split("@")[0].title(), name.split()[0]
        contact_id = self.sim.create(
            "Contact", {"AccountId": account_id, "FirstName": first, "LastName": last, "Email": email}
        )
        quote_id = self.sim.create(
            "SBQQ__Quote__c",
            {"SBQQ__Account__c": account_id, "SBQQ__PrimaryContact__c": contact_id, "SBQQ__Primary__c": True},
        )
        self.contacts[name] = contact_id
        self.quotes[name] = quote_id
        self.orders[name] = self.sim.create(
            "Order",
            {"AccountId": account_id, "SBQQ__Quote__c": quote_id, "Status": "Draft", "EffectiveDate": "2026-11-01"},
        )

    # -- scenario --------------------------------------------------------------------------------------
    def run(self) -> None:
        """Every step of the scenario, with a progress line each."""
        activate = lambda name: self.sim.update("Order", self.orders[name], {"Status": "Activated"})  # noqa: E731
        self.step(
            "New stack in observe mode: order activated (R1)",
            "Muster GmbH",
            "held",
            lambda: self._observe(lambda: activate("Muster GmbH")),
        )
        self.step("sfsync go-live: the held change is synced", "Muster GmbH", "created", self._go_live)
        self.step("Order activated, country name → ISO code", "Example Ltd", "created", lambda: activate("Example Ltd"))
        self.step(
            "Account moves to Hamburg (R7)",
            "Muster GmbH",
            "updated",
            lambda: self.sim.update(
                "Account", self.accounts["Muster GmbH"], {"BillingCity": "Hamburg", "BillingPostalCode": "20095"}
            ),
        )
        self.step(
            "Primary contact's email changes (R7)",
            "Muster GmbH",
            "updated",
            lambda: self.sim.update("Contact", self.contacts["Muster GmbH"], {"Email": "rechnung@muster.example"}),
        )
        self.step("Every message delivered twice", "Example Ltd", "updated", self._duplicates)
        self.step(
            "VAT number entered: synced as the customer's tax ID",
            "Muster GmbH",
            "updated",
            lambda: self.sim.update("Account", self.accounts["Muster GmbH"], {"VAT_Number__c": "DE 123 456 789"}),
        )
        self.step(
            "Primary contact switched on the CPQ quote",
            "Example Ltd",
            "updated",
            lambda: self.sim.update(
                "SBQQ__Quote__c",
                self.quotes["Example Ltd"],
                {"SBQQ__PrimaryContact__c": self.contacts["Example Ltd (accounts)"]},
            ),
        )
        self.step("Older message arrives after a newer one", "Muster GmbH", "stale", self._out_of_order)
        self.step(
            "Invalid email, 24-character phone, country in German",
            "Kaputt KG",
            "created with warnings",
            lambda: activate("Kaputt KG"),
        )
        self.step(
            "US billing address, shipping country only",
            "Tax Place Inc",
            "created with warnings",
            lambda: activate("Tax Place Inc"),
        )
        self._stripe_tax_line("Tax Place Inc")
        self.step("Order activated", "Alt GmbH", "created", lambda: activate("Alt GmbH"))
        self.step(
            "Order set to the org's own status Provisioned (category Activated, R1)",
            "Bereit GmbH",
            "created",
            lambda: self.sim.update("Order", self.orders["Bereit GmbH"], {"Status": "Provisioned"}),
        )
        self.step("Account merged away before delivery (R13)", "Alt GmbH", "skipped_merged", self._merge)
        self.step(
            "Account without activated order (R1)",
            "Interessent AG",
            "no_customer",
            lambda: self.sim.update("Account", self.accounts["Interessent AG"], {"Phone": "+41 44 000 00 00"}),
        )
        self.step(
            "Parent account of a customer (R2)",
            "Muster Holding AG",
            "no_customer",
            lambda: self.sim.update("Account", self.accounts["Muster Holding AG"], {"Description": "Holding"}),
        )
        self.step(
            "Order activated, announced by a platform event (Event Relay)",
            "Relay SAS",
            "created",
            lambda: self._via_event_relay(lambda: activate("Relay SAS")),
        )
        self.step(
            "Billing street changes: change data capture (Event Relay)",
            "Relay SAS",
            "updated",
            lambda: self._via_event_relay(
                lambda: self.sim.update("Account", self.accounts["Relay SAS"], {"BillingStreet": "1 place Bellecour"})
            ),
        )
        for title, account, expected, action in preferences.steps(self):
            self.step(title, account, expected, action)
        beside_the_connector(self, "Nebenan GmbH")

        self.step(
            "Order activated, Stripe Customer ID wrong: in Stripe Sync Records",
            "Tippfehler GmbH",
            "permanent_error",
            lambda: activate("Tippfehler GmbH"),
        )
        self._history_line("Tippfehler GmbH")
        self.step(
            "Admin clears the wrong ID (fixing the data syncs it)",
            "Tippfehler GmbH",
            "created",
            lambda: self.sim.update("Account", self.accounts["Tippfehler GmbH"], {"Stripe_Customer_ID__c": None}),
        )
        self.step(
            "Admin presses Sync to Stripe now (forced, manual)",
            "Tippfehler GmbH",
            "unchanged",
            lambda: self.sim.quick_action("Account", self.accounts["Tippfehler GmbH"], "Sync_to_Stripe_Now"),
        )
        self._history_line("Tippfehler GmbH")

    def _history_line(self, account: str) -> None:
        """The account's Stripe Sync Records (the related list an admin reads), oldest first."""
        account_id = self.accounts[account]
        with self.sim.store.lock:
            history = [
                dict(r)
                for r in self.sim.store.records("Stripe_Sync_Record__c").values()
                if r["Account__c"] == account_id and not r["IsDeleted"]
            ]
        entries = [f"{r['Outcome__c']} ({r['Source__c']})" for r in sorted(history, key=lambda r: r["Name"])]
        print(f"      Stripe Sync Records: {' → '.join(entries)}", file=self.out, flush=True)
        if history and (fix := max(history, key=lambda r: r["Name"]).get("Fix__c")):
            wrapped = textwrap.fill(
                f"How to fix: {fix}", width=WIDTH, initial_indent=" " * 6, subsequent_indent=" " * 8
            )
            print(wrapped, file=self.out, flush=True)

    def step(self, title: str, account: str, expected: str, action: Callable[[], None]) -> None:
        """Run one action, wait for the pipeline to settle, record outcome and Stripe writes."""
        number = len(self.steps) + 1
        print(f"  {number:>2}. {title} — {account} …", end="", file=self.out, flush=True)
        writes_before = len(self.stack.stripe.write_requests())
        seen = len(self.stack.collector.results)
        held_before = self._held_depth()
        action()
        self.stack.settle()
        # The worker's own "synced" log records: what an operator would read, too.
        results = [r for r in self.stack.collector.results[seen:] if r["account_id"] == self.accounts[account]]
        outcomes = [str(r["outcome"]) for r in results]
        headline = _headline(outcomes)
        if headline == "-" and self._held_depth() > held_before:
            headline = "held"  # the gate parked the change: nothing synced, nothing written
        # Synced, but some fields Stripe could not take as they are: the account says "Synced with warnings".
        warned = any(r.get("warnings") for r in results if r["outcome"] == headline)
        step = Step(
            title,
            account,
            expected,
            f"{headline} with warnings" if warned else headline,
            len(self.stack.stripe.write_requests()) - writes_before,
        )
        sources = sorted({str(r["source"]) for r in results if r["outcome"] == headline})
        step.detail = f" via {', '.join(sources)}" if sources else ""
        self.outcomes[account] = headline  # the table's column; its note says "Synced with warnings"
        self.steps.append(step)
        mark = "ok" if step.outcome == expected else f"expected {expected}"
        result = f" {step.outcome}{step.detail}, {step.writes} Stripe write(s) [{mark}]"
        if len(f"  {number:>2}. {title} — {account} …{result}") > WIDTH:
            result = "\n      " + result.lstrip()
        print(result, file=self.out, flush=True)

    def _stripe_tax_line(self, account: str) -> None:
        """Stripe Tax's view of the account's customer (the emulator's; real Stripe: see sfsync status)."""
        customer_tax = getattr(self.stack.stripe, "customer_tax", None)
        customer_id = self.stack_state(account).get("customer_id")
        if customer_tax is None or not customer_id:
            return
        tax = customer_tax(customer_id)
        where = tax["location"] or {}
        located = f"{where.get('country')} {where.get('state') or ''} ({where.get('source')})" if where else "none"
        print(f"      Stripe Tax: {tax['automatic_tax']}, location {located}", file=self.out, flush=True)

    def stack_state(self, account: str) -> dict[str, Any]:
        """What the state store knows about the account (outcome, customer id, error)."""
        state = self.stack.state.get(self.sim.org_id, self.accounts[account])
        return (
            {} if state is None else {"outcome": state.outcome, "customer_id": state.customer_id, "error": state.error}
        )

    def _held_depth(self) -> int:
        """Messages waiting in the gate's held queue."""
        attributes = self.stack.sqs.get_queue_attributes(
            QueueUrl=self.stack.held_queue_url, AttributeNames=["ApproximateNumberOfMessages"]
        )
        return int(attributes["Attributes"]["ApproximateNumberOfMessages"])

    def _observe(self, action: Callable[[], None]) -> None:
        # What a deployed stack starts in (the local stack starts live): sfsync observe, then the change.
        gate_cli.cmd_observe(argparse.Namespace(), Components(WorkerSettings.from_env()))
        action()

    def _go_live(self) -> None:
        # sfsync go-live: the observe hold released, the held queue redriven to the sync queue at once.
        gate_cli.cmd_go_live(argparse.Namespace(), Components(WorkerSettings.from_env()))

    def _via_event_relay(self, action: Callable[[], None]) -> None:
        # The change reaches AWS through Event Relay → EventBridge → platform_event; the outbound message
        # for the same change is held back until the step has been measured (then it is simply unchanged).
        self.sim.outbound.pause()
        self.stack.relay.active = True
        try:
            action()
            self.stack.settle(outbound=False)
        finally:
            self.stack.relay.active = False
            self.sim.outbound.resume()

    def _duplicates(self) -> None:
        self.sim.outbound.duplicate_rate = 1.0
        self.sim.update("Account", self.accounts["Example Ltd"], {"Phone": "+44 20 7946 0000"})
        self.stack.settle()
        self.sim.outbound.duplicate_rate = 0.0

    def _out_of_order(self) -> None:
        # A message that was enqueued long ago (its Ack got lost, so it was also retried) reaches the worker
        # after newer data was applied: its SystemModstamp is older than what the state store holds.
        notification = (
            "04l" + uuid.uuid4().hex[:15].upper(),
            "Account",
            {"Id": self.accounts["Muster GmbH"], "SystemModstamp": "2026-01-01T00:00:00.000Z"},
        )
        body = soap_message([notification], org_id=self.sim.org_id)
        request = urllib.request.Request(
            self.stack.outbound_message_url,
            data=body,
            method="POST",
            headers={"Content-Type": "text/xml; charset=UTF-8", "SOAPAction": '""'},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            if b"<Ack>true</Ack>" not in response.read():
                raise RuntimeError("the receiver did not acknowledge the delayed message")

    def _merge(self) -> None:
        self.sim.outbound.pause()
        self.sim.update("Account", self.accounts["Alt GmbH"], {"Phone": "+43 1 000"})
        self.sim.merge("Account", self.accounts["Neu GmbH"], [self.accounts["Alt GmbH"]])
        self.sim.outbound.resume()

    # -- report ----------------------------------------------------------------------------------------
    def table(self) -> str:
        """Salesforce account → Stripe customer (≤ 120 columns); errors as numbered notes, then the legend."""
        header = ("Salesforce account", "Stripe ID (written back)", "customer email", "city", "country", "outcome")
        rows: list[tuple[str, ...]] = [header]
        notes: list[str] = []
        for name, account_id in self.accounts.items():
            account = self.sim.get("Account", account_id) or {}
            state = self.stack_state(name)
            customer = self.stack.stripe.customer(state["customer_id"]) if state.get("customer_id") else None
            address = (customer or {}).get("address") or {}
            outcome = self.outcomes.get(name, "-")
            error = account.get("Stripe_Sync_Error__c")
            if error and account.get("Stripe_Sync_Status__c") == WITH_WARNINGS:
                error = f"{WITH_WARNINGS}: {error}"
            tax_ids = self.stack.stripe.tax_ids(customer["id"]) if customer else []
            for note in (
                error,
                ", ".join(f"tax ID {t['type']} {t['value']}" for t in tax_ids),
                "merged away; its customer is kept (R13)" if account.get("MasterRecordId") else None,
            ):
                if note:
                    text = f"  [{len(notes) + 1}] {name}: {note}"
                    notes.append(textwrap.fill(text, width=WIDTH, subsequent_indent=" " * 6))
                    outcome += f" [{len(notes)}]"
            email = (customer or {}).get("email") or "-"
            rows.append(
                (
                    name[:20],
                    account.get("Stripe_Customer_ID__c") or account.get(CONNECTOR_STRIPE_ID_FIELD) or "-",
                    email if len(email) <= 26 else email[:25] + "…",
                    address.get("city") or "-",
                    address.get("country") or "-",
                    outcome,
                )
            )
        widths = [max(len(str(row[i])) for row in rows) for i in range(len(header))]
        lines = [
            "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
        ]
        lines.insert(1, "  ".join("-" * width for width in widths))
        return "\n".join([*lines, *notes, "", self.legend()])

    def legend(self) -> str:
        """What each outcome in the table and the steps means (the glossary of `sfsync --help` and README)."""
        from ops.glossary import OUTCOMES

        shown = {step.outcome for step in self.steps} | {self.outcomes.get(name, "-") for name in self.accounts}
        shown |= {"with warnings"} if any(step.outcome.endswith(" with warnings") for step in self.steps) else set()
        meanings = {
            **OUTCOMES,
            "with warnings": f"synced, but fields Stripe can't take as they are were left out or adjusted: the account "
            f"reads {WITH_WARNINGS!r} and its error field names them (docs: Field warnings)",
            "-": "no change of this account reached the sync during the scenario",
            "held": "the gate held the change (observe mode, a pause, Live Sync off): nothing written; synced when "
            "the gate opens (sfsync go-live, Live Sync on)",
        }
        entries = [
            textwrap.fill(meaning, width=WIDTH, initial_indent=f"  {word:<16} ", subsequent_indent=" " * 19)
            for word, meaning in meanings.items()
            if word in shown
        ]
        return "\n".join(["Outcomes:", *entries])

    def summary(self) -> str:
        """Counts the user can check at a glance."""
        customers = self.stack.stripe.customers(include_deleted=True)
        ok = sum(step.outcome == step.expected for step in self.steps)
        api = dict(self.sim.api_calls)
        return (
            f"{ok}/{len(self.steps)} steps as expected · {len(customers)} Stripe customers "
            f"({len(self.stack.stripe.write_requests())} Stripe writes in all, "
            f"{len(self.stack.stripe.customer_deletions())} customer deletions)\n"
            f"Salesforce API calls: {api.get('queryAll', 0) + api.get('query', 0)} queries, "
            f"{api.get('composite_patch', 0) + api.get('composite', 0)} write-backs, {api.get('token', 0)} logins · "
            f"DLQ: {self.stack.dlq_depth()} messages"
        )


# What a step "did" when several messages touched the account (e.g. the write-back's own echo message).
_PRIORITY = (
    "permanent_error",
    "created",
    "updated",
    "stale",
    "skipped_merged",
    "skipped_deleted",
    "no_customer",
    "unchanged",
)


def _headline(outcomes: list[str]) -> str:
    for outcome in _PRIORITY:
        if outcome in outcomes:
            return outcome
    return "-"


def main() -> int:
    """Start the stack, run the demo, print the table, stop everything."""
    out = sys.stdout
    # Powertools warns on invocations that recorded no metric (e.g. a rejected request): expected here.
    warnings.filterwarnings("ignore", "No application metrics to publish")
    LOG_PATH.parent.mkdir(exist_ok=True)
    started = time.monotonic()
    with LOG_PATH.open("w") as log, redirect_stdout(log):
        print(
            "Starting dynalite, moto server (SQS), the Stripe emulator, the Salesforce org simulator and the "
            "local Lambda runtime …",
            file=out,
            flush=True,
        )
        with LocalStack(StackOptions(mapping=str(DEMO_MAPPING))) as stack:
            demo = Demo(stack, out)
            print(
                f"Mapping: make run's own, {DEMO_MAPPING.relative_to(REPO_ROOT)} (the standard preset plus the "
                "VAT number as a tax ID);\n  `make serve` runs the standard preset, or yours: MAPPING_CONFIG=my.json "
                "make serve",
                file=out,
                flush=True,
            )
            print(
                f"Seeding the demo org {stack.org_id} (accounts with a parent/child hierarchy, contacts, CPQ "
                "quotes, orders) …",
                file=out,
                flush=True,
            )
            demo.seed()
            print("Running the scenario (real HTTP + SOAP from the org simulator):", file=out, flush=True)
            demo.run()
            print("\n" + demo.table() + "\n", file=out)
            print(demo.summary(), file=out)
            print('\nChecking the installation (sfsync doctor, see the docs: "Check the installation"):', file=out)
            doctor_status = doctor.report(
                doctor.run_checks(Components(WorkerSettings.from_env()), stack.outbound_message_url), out
            )
            # So a test (or a wary user) can check that nothing was left running.
            PIDS_PATH.write_text(json.dumps(stack.child_pids))
        failed = [step for step in demo.steps if step.outcome != step.expected]
    print(
        f"Stopped every process. Handler logs: {LOG_PATH.relative_to(REPO_ROOT)}. "
        f"The run took {time.monotonic() - started:.1f} s.",
        file=out,
    )
    return 1 if failed or doctor_status else 0


if __name__ == "__main__":
    sys.exit(main())
