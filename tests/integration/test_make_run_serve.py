"""`make run` and `make serve` as a user runs them: real processes, real HTTP, nothing left running."""

from __future__ import annotations

import json
import os
import re
import signal
import ssl
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from devtools.sam.make_events import soap_message

REPO = Path(__file__).parents[2]
STACK_JSON = REPO / ".local" / "stack.json"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for good; only a running process counts as "left running".
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split()[2] == "Z")


@pytest.fixture(scope="module")
def demo_run() -> subprocess.CompletedProcess[str]:
    """`make run` (the demo), run once for the tests of this module."""
    return subprocess.run(
        [sys.executable, "-m", "devtools.demo.run"], cwd=REPO, capture_output=True, text=True, timeout=240, check=False
    )


def test_make_run_prints_the_table_exits_0_and_leaves_nothing_running(
    demo_run: subprocess.CompletedProcess[str],
) -> None:
    # When the demo runs
    result = demo_run
    # Then it exits 0 with every step as expected and the table of what happened
    assert result.returncode == 0, result.stdout + result.stderr
    assert "29/29 steps as expected" in result.stdout
    # And the admin's preferences show: Live Sync off holds an activation, an order before the start date is skipped
    assert "Admin unticks Live Sync in Setup; order activated — Pause GmbH … held" in result.stdout
    assert "Order activated before the admin's start date — Altkunde AG …\n      no_customer" in result.stdout
    # And the API budget defers work: the change after the usage passed it waits, the probe syncs it
    assert "Next change waits for the API budget — Pause GmbH … held" in result.stdout
    assert "Usage back under the budget: the 5-minute probe syncs it — Pause GmbH …\n      updated" in result.stdout
    # And beside Stripe's connector the update-only sync waits for the connector's customer, then fills it in
    assert "Beside Stripe's connector: the connector creates, we update — Nebenan GmbH …" in result.stdout
    # A refused sync shows in the account's Stripe Sync Records; fixed, then Sync to Stripe now shows its result
    assert "Stripe Sync Records: Error (Outbound Message) → Created (Outbound Message) → Unchanged (Manual)" in (
        result.stdout
    )
    assert "Salesforce account" in result.stdout and "Stripe ID (written back)" in result.stdout
    assert "Stopped every process." in result.stdout
    # And it says which mapping it runs (its own demo mapping, not the preset make serve uses)
    assert "Mapping: make run's own, devtools/demo/mapping.json" in result.stdout
    # And the customer with a complete billing address and a country-only shipping address is placed by Stripe Tax
    assert "Stripe Tax: supported, location US OR (billing_address)" in result.stdout
    # And it ends with `sfsync doctor` on the local stack: every check ok
    doctor = result.stdout[result.stdout.index("Checking the installation") : result.stdout.index("Stopped every")]
    assert "all 13 checks passed" in doctor and "warning" not in doctor and "error" not in doctor
    # And every line fits a 120-column terminal, and every outcome in the table is explained below it
    assert max(len(line) for line in result.stdout.splitlines()) <= 120
    table = result.stdout[result.stdout.index("Salesforce account") : result.stdout.index("Outcomes:")]
    legend = result.stdout[result.stdout.index("Outcomes:") :]
    for row in table.splitlines()[2:]:
        if row.strip() and not row.startswith(" "):  # notes and their wrapped lines are indented
            outcome = row.split()[-1] if not row.rstrip().endswith("]") else row.split()[-2]
            assert f"  {outcome} " in legend, (outcome, legend)
    # And none of the processes it started (dynalite, moto server) is left running
    started = json.loads((REPO / ".local" / "run-pids.json").read_text())
    assert len(started) == 2
    assert [pid for pid in started if _alive(pid)] == []


def test_rule_r12_make_run_sends_stripe_no_customer_deletion(demo_run: subprocess.CompletedProcess[str]) -> None:
    # When the whole flow runs (creates, updates, a deleted account, a merge, a customer deleted in Stripe…)
    # Then the Stripe emulator's request log holds writes, but not one DELETE of a customer
    match = re.search(r"\((\d+) Stripe writes in all, (\d+) customer deletions\)", demo_run.stdout)
    assert match is not None, demo_run.stdout[-3000:]
    assert int(match.group(1)) > 0 and int(match.group(2)) == 0


def _get(url: str, *, headers: dict[str, str] | None = None, context: ssl.SSLContext | None = None) -> Any:
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=10, context=context) as response:
        return json.loads(response.read())


def _post(url: str, body: bytes, headers: dict[str, str], context: ssl.SSLContext | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=10, context=context) as response:
        return response.status, response.read().decode()


class Served:
    """A running `make serve`: its stack.json, and its terminal output once stopped."""

    def __init__(self, env: dict[str, str]) -> None:
        STACK_JSON.unlink(missing_ok=True)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "devtools.demo.serve"],
            cwd=REPO,
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + 90
        while not STACK_JSON.exists():
            assert self.process.poll() is None and time.monotonic() < deadline, "make serve did not come up"
            time.sleep(0.2)
        self.info: dict[str, Any] = json.loads(STACK_JSON.read_text())
        self.output = ""

    def stop(self) -> str:
        """Ctrl-C, like the user; what the terminal showed."""
        self.process.send_signal(signal.SIGINT)
        self.output, _ = self.process.communicate(timeout=30)
        assert self.process.returncode == 0 and "Stopped every process." in self.output, self.output
        return self.output


@pytest.fixture
def served() -> Any:
    serve = Served({"CREATION_MODE": "every_account"})
    yield serve.info
    serve.stop()


def test_make_serve_acks_a_posted_message_and_the_customer_appears_in_stripe(served: dict[str, Any]) -> None:
    # Given the served stack (every-account mode) and a new account in its Salesforce org
    tls = ssl.create_default_context(cafile=served["salesforce_ca_bundle"])
    status, text = _post(
        f"{served['salesforce_control_url']}/records/Account",
        json.dumps({"Name": "Serve AG"}).encode(),
        {"Content-Type": "application/json"},
        tls,
    )
    account_id = json.loads(text)["id"]
    # When an outbound message for it is POSTed to outbound_message_url
    body = soap_message([("04l5g00000SERVE1AA", "Account", {"Id": account_id})], org_id=served["organization_id"])
    status, ack = _post(served["outbound_message_url"], body, {"Content-Type": "text/xml; charset=UTF-8"})
    # Then Salesforce's SOAP Ack comes back
    assert status == 200 and "<Ack>true</Ack>" in ack
    # And within a few seconds the customer is visible through the Stripe API (listed: Stripe's search
    # lags writes by up to a minute, https://docs.stripe.com/search#data-freshness)
    listing = f"{served['stripe_api_base']}/v1/customers?limit=100"
    deadline = time.monotonic() + 10
    found: list[Any] = []
    while not found and time.monotonic() < deadline:
        customers = _get(listing, headers={"Authorization": "Bearer sk_test_local"})["data"]
        found = [c for c in customers if c["metadata"].get("salesforce_account_id") == account_id]
        time.sleep(0.2)
    assert [customer["name"] for customer in found] == ["Serve AG"]


def _run(*command: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *command], cwd=REPO, capture_output=True, text=True, timeout=60, check=False, env=env
    )


def _bare_env() -> dict[str, str]:
    """A shell with none of the stack's variables set: only what any terminal has."""
    return {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}


def test_make_serve_is_usable_from_the_readme_alone() -> None:
    # Given `make serve` in its default mode (a customer per activated order)
    serve = Served({"CREATION_MODE": "order_activation", "MAPPING_CONFIG": "standard"})
    try:
        # When the user lists the demo accounts
        listed = _run("-m", "devtools.demo.org", "accounts")
        # Then one account has an activated order and no Stripe ID yet: ready for a first message
        assert listed.returncode == 0, listed.stderr
        ready = [line.split() for line in listed.stdout.splitlines() if " yes " in line]
        assert len(ready) == 1 and ready[0][-2:] == ["-", "-"], listed.stdout
        account_id = next(word for word in ready[0] if word.startswith("001"))
        # When they send its Outbound Message (make send ACCOUNT=…)
        sent = _run("-m", "devtools.demo.org", "send", account_id)
        # Then the receiver acknowledged it and the worker created the customer
        assert sent.returncode == 0, sent.stdout + sent.stderr
        assert "receiver: acknowledged" in sent.stdout and "worker: created · customer cus_" in sent.stdout
        # When they ask sfsync about it, pointing it at the stack and nothing else
        status = _run("-m", "ops.cli", "--stack", ".local/stack.json", "status", account_id, env=_bare_env())
        # Then it answers from the stack's own state table and org
        assert status.returncode == 0, status.stderr
        assert "created" in status.stdout and "cus_" in status.stdout
        # And reconcile, with the stack's own mapping, finds the just-synced customer in step
        reconcile = _run(
            "-m", "ops.cli", "--stack", ".local/stack.json", "reconcile", "--dry-run", "--all", env=_bare_env()
        )
        assert reconcile.returncode == 0, reconcile.stderr
        line = next(row for row in reconcile.stdout.splitlines() if row.startswith(account_id))
        assert line.split()[1] == "ok", reconcile.stdout
        # When they press "Sync to Stripe now" on the account (make org ARGS='sync-now …')
        pressed = _run("-m", "devtools.demo.org", "sync-now", account_id)
        # Then the worker ran a manual sync and the account's history shows both syncs
        assert pressed.returncode == 0, pressed.stdout + pressed.stderr
        assert "worker: unchanged" in pressed.stdout, pressed.stdout
        history = [line.split(maxsplit=1)[1] for line in pressed.stdout.splitlines() if line.startswith("  SSR-")]
        assert history == ["Created (Outbound Message)", "Unchanged (Manual)"], pressed.stdout
    finally:
        output = serve.stop()
    # And the terminal listed the demo accounts and the commands to try
    assert f"make send ACCOUNT={account_id}" in output and "sfsync --stack .local/stack.json" in output


def test_make_serve_refuses_an_invalid_mapping_before_starting_anything(tmp_path: Path) -> None:
    # Given a mapping file with a Stripe field that does not exist
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"fields": {"nickname": "Name"}}))
    # When make serve starts with it
    started = _run("-m", "devtools.demo.serve", env={**os.environ, "MAPPING_CONFIG": str(mapping)})
    # Then it says why on the terminal and exits 2, leaving nothing running
    assert started.returncode == 2
    assert "can't be used, nothing started" in started.stdout and "nickname" in started.stdout


def test_make_serve_picks_up_a_changed_mapping_file_and_reports_failures(tmp_path: Path) -> None:
    # Given make serve running on a mapping file
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"fields": {"name": "Name"}}))
    serve = Served({"CREATION_MODE": "every_account", "MAPPING_CONFIG": str(mapping)})
    try:
        org = serve.info["organization_id"]
        # When the file is saved with a mistake, and then fixed with a field the demo org lacks
        time.sleep(1.5)
        mapping.write_text("{ not json")
        time.sleep(2.5)
        mapping.write_text(json.dumps({"fields": {"name": "Name", "email": "Billing_Email__c"}}))
        time.sleep(2.5)
        # And a message arrives for an account
        created = _run("-m", "devtools.demo.org", "update", "Account", _first_account(serve), "Phone=+49 30 1")
    finally:
        output = serve.stop()
    # Then the terminal said the broken file was not loaded, then that the fixed one was
    assert "not loaded, the previous one stays" in output and "reloaded" in output, output
    # And the batch that failed on the missing field was reported there, with the error
    assert created.returncode == 1 and org
    assert "message(s) failed, will be retried" in output and "Billing_Email__c" in output


def _first_account(serve: Served) -> str:
    listed = _run("-m", "devtools.demo.org", "accounts")
    return next(word for word in listed.stdout.split() if word.startswith("001"))
