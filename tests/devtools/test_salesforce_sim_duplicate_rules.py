"""Salesforce simulator: duplicate rules (alert or block, on create or edit) and read-only mode.

REST API Developer Guide, "Duplicate Rule Header": ``Sforce-Duplicate-Rule-Header: allowSave=true`` saves
through rules whose action is Alert; Block rules refuse the save (``DUPLICATES_DETECTED``) either way. Rules
fire on create, on edit, or both. Salesforce Help, "Read-Only Mode Overview": writes are refused during a
maintenance window (modelled per record as ``INSERT_UPDATE_DELETE_NOT_ALLOWED_DURING_MAINTENANCE``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from simple_salesforce import Salesforce

from devtools.salesforce_sim import SalesforceSimulator

ALLOW_SAVE = {"Sforce-Duplicate-Rule-Header": "allowSave=true"}


@pytest.fixture
def sim(monkeypatch: pytest.MonkeyPatch) -> Iterator[SalesforceSimulator]:
    with SalesforceSimulator() as simulator:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", simulator.ca_bundle_path)
        yield simulator


def _write(sim: SalesforceSimulator, method: str, record: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    sf = Salesforce(instance_url=sim.instance_url, session_id=sim.issue_token())
    body = {"allOrNone": False, "records": [{"attributes": {"type": "Account"}, **record}]}
    (result,) = sf.restful("composite/sobjects", method=method, json=body, headers=headers)
    return dict(result)


def _code(result: dict[str, Any]) -> str | None:
    return None if result["success"] else str(result["errors"][0]["statusCode"])


@pytest.mark.parametrize(
    ("action", "headers", "refused"),
    [("alert", {}, "DUPLICATES_DETECTED"), ("alert", ALLOW_SAVE, None), ("block", ALLOW_SAVE, "DUPLICATES_DETECTED")],
)
def test_a_duplicate_rule_on_edit(sim: SalesforceSimulator, action: str, headers: dict[str, str], refused: Any) -> None:
    # Given an Account duplicate rule that fires on edit for accounts named like another
    account = sim.create("Account", {"Name": "Acme"})
    sim.rest.faults.duplicate_rule("Account", lambda r: r["Name"] == "Acme", action=action, on_create=False)
    # When the account is edited through the API, with or without allowSave=true
    result = _write(sim, "PATCH", {"id": account, "Stripe_Customer_ID__c": "cus_1"}, headers)
    # Then an alert is passed only with allowSave, a block never
    assert _code(result) == refused


def test_a_rule_on_create_only_does_not_fire_on_edit(sim: SalesforceSimulator) -> None:
    account = sim.create("Account", {"Name": "Acme"})
    sim.rest.faults.duplicate_rule("Account", lambda r: r["Name"] == "Acme", on_edit=False)
    assert _code(_write(sim, "PATCH", {"id": account, "Phone": "1"}, {})) is None
    assert _code(_write(sim, "POST", {"Name": "Acme"}, {})) == "DUPLICATES_DETECTED"
    assert _code(_write(sim, "POST", {"Name": "Acme"}, ALLOW_SAVE)) is None


def test_read_only_mode_refuses_every_write_until_cleared(sim: SalesforceSimulator) -> None:
    account = sim.create("Account", {"Name": "Acme"})
    sim.rest.faults.read_only_mode("Account")
    code = "INSERT_UPDATE_DELETE_NOT_ALLOWED_DURING_MAINTENANCE"
    assert _code(_write(sim, "PATCH", {"id": account, "Phone": "1"}, ALLOW_SAVE)) == code
    assert _code(_write(sim, "POST", {"Name": "Other"}, {})) == code
    sim.rest.faults.clear()
    assert _code(_write(sim, "PATCH", {"id": account, "Phone": "1"}, {})) is None
