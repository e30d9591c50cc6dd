"""Reconcile sees the customer's tax ID as Stripe keeps it: an object of its own, not a customer field."""

from __future__ import annotations

import re
from typing import Any

import pytest

from devtools.demo.run import DEMO_MAPPING
from ops.cli import main
from tests.integration.conftest import StackFactory
from tests.integration.stack import Stack


@pytest.fixture
def stack(stack_factory: StackFactory, monkeypatch: pytest.MonkeyPatch) -> Stack:
    started = stack_factory(MAPPING_CONFIG=str(DEMO_MAPPING))  # standard + tax_id_data ← VAT_Number__c
    started.sim.add_field("Account", "VAT_Number__c")
    monkeypatch.setenv("SYNC_DLQ_URL", started.dlq_url)
    return started


def reconcile_line(capsys: pytest.CaptureFixture[str], account_id: str) -> str:
    assert main(["reconcile", "--dry-run", "--all"]) == 0
    out = capsys.readouterr().out
    return next(line for line in out.splitlines() if line.startswith(account_id))


def synced_with_vat_number(stack: Stack) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """An activated account whose customer was created with its VAT number as tax ID: (account, customer, tax ID)."""
    account_id, _, order_id = stack.new_customer_account(VAT_Number__c="DE123456789")
    stack.sim.update("Order", order_id, {"Status": "Activated"})
    stack.settle()
    (customer,) = stack.stripe.customers()
    (tax_id,) = stack.stripe.tax_ids(customer["id"])
    return account_id, customer, tax_id


def test_reconcile_finds_a_tax_id_deleted_in_stripe_and_not_a_synced_one(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a customer synced with its VAT number as tax ID
    account_id, customer, tax_id = synced_with_vat_number(stack)
    # Then reconcile finds it in step
    assert re.search(r"\bok\b", reconcile_line(capsys, account_id))
    # When someone deletes the tax ID in the dashboard
    stack.stripe.delete_tax_id(customer["id"], tax_id["id"])
    # Then reconcile names it as the difference
    line = reconcile_line(capsys, account_id)
    assert re.search(r"\bdifferent\b", line) and "tax_id_data" in line


def test_status_shows_the_tax_ids_the_sync_added_without_their_values(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    account_id, _, tax_id = synced_with_vat_number(stack)
    assert main(["status", account_id]) == 0
    out = capsys.readouterr().out
    assert re.search(rf"tax IDs added\s+{tax_id['id']} \(eu_vat\)", out) and "DE123456789" not in out
