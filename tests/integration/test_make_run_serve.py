"""`make run` and `make serve` as a user runs them: real processes, real HTTP, nothing left running."""

from __future__ import annotations

import json
import os
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


def test_make_run_prints_the_table_exits_0_and_leaves_nothing_running() -> None:
    # When the demo runs
    result = subprocess.run(
        [sys.executable, "-m", "devtools.demo.run"], cwd=REPO, capture_output=True, text=True, timeout=240, check=False
    )
    # Then it exits 0 with every step as expected and the table of what happened
    assert result.returncode == 0, result.stdout + result.stderr
    assert "13/13 steps as expected" in result.stdout
    assert "Salesforce account" in result.stdout and "Stripe ID (written back)" in result.stdout
    assert "Stopped every process." in result.stdout
    # And none of the processes it started (dynalite, moto server) is left running
    started = json.loads((REPO / ".local" / "run-pids.json").read_text())
    assert len(started) == 2
    assert [pid for pid in started if _alive(pid)] == []


def _get(url: str, *, headers: dict[str, str] | None = None, context: ssl.SSLContext | None = None) -> Any:
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=10, context=context) as response:
        return json.loads(response.read())


def _post(url: str, body: bytes, headers: dict[str, str], context: ssl.SSLContext | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=10, context=context) as response:
        return response.status, response.read().decode()


@pytest.fixture
def served() -> Any:
    STACK_JSON.unlink(missing_ok=True)
    env = {**os.environ, "CREATION_MODE": "every_account"}
    process = subprocess.Popen(
        [sys.executable, "-m", "devtools.demo.serve"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not STACK_JSON.exists():
        assert process.poll() is None and time.monotonic() < deadline, "make serve did not come up"
        time.sleep(0.2)
    yield json.loads(STACK_JSON.read_text())
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 0 and "Stopped every process." in output


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
    # And within a few seconds the customer is visible through the Stripe API
    query = urllib.parse.quote(f"metadata['salesforce_account_id']:'{account_id}'")
    search = f"{served['stripe_api_base']}/v1/customers/search?query={query}"
    deadline = time.monotonic() + 10
    found: list[Any] = []
    while not found and time.monotonic() < deadline:
        found = _get(search, headers={"Authorization": "Bearer sk_test_local"})["data"]
        time.sleep(0.2)
    assert [customer["name"] for customer in found] == ["Serve AG"]
