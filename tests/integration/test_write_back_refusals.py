"""Write-back refusals classified as Salesforce documents them: duplicate rules and read-only mode.

- Duplicate rules fire on create and/or edit and either alert or block; an API write saves through *alert*
  rules only with ``Sforce-Duplicate-Rule-Header: allowSave=true`` ("Duplicate Rule Header", REST API
  Developer Guide), and *block* rules refuse it anyway (``DUPLICATES_DETECTED``).
- Read-only mode during maintenance (Salesforce Help, "Read-Only Mode Overview") refuses writes for the
  window; the simulator refuses record by record (``INSERT_UPDATE_DELETE_NOT_ALLOWED_DURING_MAINTENANCE``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.stack import Stack

STRIPE_ID = "Stripe_Customer_ID__c"


class Refusals(logging.Handler):
    """The worker's "write-back record refused" log lines, with their extra fields."""

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.codes: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage() == "write-back record refused":
            self.codes.append(str(getattr(record, "code", "")))


@pytest.fixture
def refusals() -> Iterator[Refusals]:
    handler = Refusals()
    logger = logging.getLogger("salesforce-stripe-sync")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


def every_account(_: Any) -> bool:
    return True


def activate(stack: Stack, order_id: str) -> None:
    stack.sim.update("Order", order_id, {"Status": "Activated"})
    stack.settle()


def test_an_alerting_duplicate_rule_on_edit_does_not_refuse_the_write_back(stack: Stack) -> None:
    # Given an org whose Account duplicate rule alerts on edit, and an account it matches
    account_id, _, order_id = stack.new_customer_account()
    stack.settle()
    stack.sim.rest.faults.duplicate_rule("Account", every_account, action="alert", on_create=False)
    # When its order is activated
    activate(stack, order_id)
    # Then the customer id is written back (the write-back saves through alerts: allowSave=true)
    (customer,) = stack.stripe.customers()
    assert stack.sim.get("Account", account_id)[STRIPE_ID] == customer["id"]
    assert stack.sim.rest.faults.refused == []


def test_a_blocking_duplicate_rule_is_recorded_and_says_that_it_blocks(stack: Stack) -> None:
    # Given a duplicate rule that blocks on edit
    account_id, _, order_id = stack.new_customer_account()
    stack.settle()
    stack.sim.rest.faults.duplicate_rule("Account", every_account, action="block", on_create=False)
    # When its order is activated
    activate(stack, order_id)
    # Then the refusal is permanent and the account's state says a blocking rule refused it
    (customer,) = stack.stripe.customers()
    assert stack.sim.get("Account", account_id)[STRIPE_ID] is None
    state = stack.state.get(stack.sim.org_id, account_id)
    assert state is not None and state.customer_id == customer["id"]
    assert state.write_back_error is not None and state.write_back_error.startswith("DUPLICATES_DETECTED")
    assert "blocks saving" in state.write_back_error
    assert stack.dlq_messages() == []


def test_read_only_mode_is_retried_until_the_maintenance_window_ends(stack: Stack, refusals: Refusals) -> None:
    # Given an org in read-only mode (maintenance)
    account_id, _, order_id = stack.new_customer_account()
    stack.settle()
    stack.sim.rest.faults.read_only_mode("Account")
    # When its order is activated
    activate(stack, order_id)
    # Then the write-back is retried, not recorded as an error, and the refusal is logged by its code
    assert stack.sim.get("Account", account_id)[STRIPE_ID] is None
    state = stack.state.get(stack.sim.org_id, account_id)
    assert state is not None and state.write_back_error is None
    assert "INSERT_UPDATE_DELETE_NOT_ALLOWED_DURING_MAINTENANCE" in refusals.codes
    # When the window ends and SQS redelivers (visibility timeout: 1 s here)
    stack.sim.rest.faults.clear()
    time.sleep(1.2)
    stack.settle()
    # Then the id lands, on one customer, and nothing reached the DLQ
    (customer,) = stack.stripe.customers()
    assert stack.sim.get("Account", account_id)[STRIPE_ID] == customer["id"]
    assert stack.dlq_messages() == []
