"""Per-record write-back refusals: row locks are retried, permanent refusals recorded.

sObject Collections answers record by record. Salesforce documents ``UNABLE_TO_LOCK_ROW`` ("unable to
obtain exclusive access to this record") as a lock held by another transaction — the same write succeeds
later — while ``FIELD_CUSTOM_VALIDATION_EXCEPTION`` (a validation rule) and
``INSUFFICIENT_ACCESS_OR_READONLY`` refuse every write until the admin changes something (SOAP API
Developer Guide, StatusCode). The simulator refuses single records of a Collections call that way.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import pytest

from ops.cli import main
from tests.integration.stack import Stack


class LogLines(logging.Handler):
    """The worker's log messages (Powertools logs to the service's logger)."""

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def worker_log() -> Iterator[LogLines]:
    lines = LogLines()
    logger = logging.getLogger("salesforce-stripe-sync")
    logger.addHandler(lines)
    yield lines
    logger.removeHandler(lines)


def activate(stack: Stack, order_id: str) -> None:
    stack.sim.update("Order", order_id, {"Status": "Activated"})
    stack.settle()


@pytest.mark.vendor_doc(
    "https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_composite_sobjects_collections_update.htm",
    "sObject Collections answer record by record: one locked record fails, the others are saved",
)
def test_row_lock_on_the_write_back_is_retried_until_the_customer_id_lands(stack: Stack) -> None:
    # Given an account another transaction keeps locked for the next two writes
    account_id, _, order_id = stack.new_customer_account()
    stack.settle()
    stack.sim.rest.faults.lock_row("Account", account_id, times=2)
    # When its order is activated, and SQS redelivers what failed (visibility timeout: 1 s here)
    activate(stack, order_id)
    for _ in range(2):
        time.sleep(1.2)
        stack.settle()
    # Then the customer's id is written back after the lock is gone, and there is still one customer
    (customer,) = stack.stripe.customers()
    assert stack.sim.get("Account", account_id)["Stripe_Customer_ID__c"] == customer["id"]
    assert [code for _, code in stack.sim.rest.faults.refused] == ["UNABLE_TO_LOCK_ROW"] * 2
    assert len([w for w in stack.stripe.write_requests() if w["path"] == "/v1/customers"]) == 1
    assert stack.dlq_messages() == []


@pytest.mark.parametrize("refusal", ["validation_rule", "no_access"])
def test_permanent_write_back_refusal_is_recorded_in_the_state_counted_and_shown_by_status(
    stack: Stack,
    refusal: str,
    worker_log: LogLines,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given an account Salesforce refuses to save through the API (a validation rule, or no edit access)
    account_id, _, order_id = stack.new_customer_account()
    stack.settle()
    if refusal == "validation_rule":
        stack.sim.rest.faults.validation_rule("Account", "VAT number is required for customers")
    else:
        stack.sim.rest.faults.no_access("Account", account_id)
    # When its order is activated
    activate(stack, order_id)
    # Then the customer exists once, the refusal is not retried, and the account's state holds it
    (customer,) = stack.stripe.customers()
    assert stack.sim.get("Account", account_id)["Stripe_Customer_ID__c"] is None
    assert stack.poller.stats.failed == 0 and stack.dlq_messages() == []
    state = stack.state.get(stack.sim.org_id, account_id)
    assert state is not None and state.customer_id == customer["id"]
    code = "FIELD_CUSTOM_VALIDATION_EXCEPTION" if refusal == "validation_rule" else "INSUFFICIENT_ACCESS_OR_READONLY"
    assert state.write_back_error is not None and state.write_back_error.startswith(code)
    # And it was logged and counted (the metric behind the WriteBackErrorAlarm)
    assert "write-back refused by Salesforce" in worker_log.messages
    # And `sfsync status` shows it to the operator
    assert main(["status", account_id]) == 0
    assert f"write-back refused  {code}" in capsys.readouterr().out
    # When the admin fixes the cause and the account changes again
    stack.sim.rest.faults.clear()
    stack.sim.update("Account", account_id, {"Phone": "+49 30 000000"})
    stack.settle()
    # Then the id lands and the refusal is cleared from the state
    assert stack.sim.get("Account", account_id)["Stripe_Customer_ID__c"] == customer["id"]
    cleared = stack.state.get(stack.sim.org_id, account_id)
    assert cleared is not None and cleared.write_back_error is None
