"""Salesforce in memory: ``SalesforceGateway`` over a dict of Account records, without HTTP.

Records are in the REST shape tests/factories.py builds (the Account row with its ``Orders`` subquery).
Writes answer record by record as sObject Collections does, with the per-record codes the simulator
models (``devtools/salesforce_sim/record_faults.py``; SOAP API Developer Guide, "StatusCode"):
``UNABLE_TO_LOCK_ROW`` (transient) and ``FIELD_CUSTOM_VALIDATION_EXCEPTION`` (a validation rule).
tests/contract/test_salesforce_gateway_contract.py runs the same checks against the simulator.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shared.salesforce.gateway import AccountQuery, RecordError, SalesforceGateway


class FakeSalesforce(SalesforceGateway):
    """Accounts by id, orders' accounts, CPQ quotes' accounts; ``calls`` counts the API calls by method."""

    def __init__(self) -> None:
        self.accounts: dict[str, dict[str, Any]] = {}
        self.order_account: dict[str, str | None] = {}
        self.quote_orders: dict[str, list[tuple[str, bool]]] = {}  # quote id → (account id, activated) per order
        self.calls: dict[str, int] = {}
        self._locked: dict[str, int] = {}
        self._rules: dict[str, str] = {}
        self._faults: dict[str, list[Exception]] = {}

    # -- test controls -------------------------------------------------------------------------------
    def add_account(self, record: dict[str, Any]) -> str:
        """Store an Account row (``tests.factories.account_record``); its order, if any, is on file too."""
        self.accounts[record["Id"]] = record
        for order in (record.get("Orders") or {}).get("records") or []:
            self.order_account[order["Id"]] = record["Id"]
        return str(record["Id"])

    def lock_row(self, account_id: str, *, times: int = 1) -> None:
        """The next ``times`` writes of the account fail with UNABLE_TO_LOCK_ROW."""
        self._locked[account_id] = times

    def validation_rule(self, account_id: str, message: str) -> None:
        """Every write of the account is refused with FIELD_CUSTOM_VALIDATION_EXCEPTION."""
        self._rules[account_id] = message

    def fail_next(self, method: str, error: Exception) -> None:
        """The next call of ``method`` raises ``error`` (an outage: ``TransientSyncError``)."""
        self._faults.setdefault(method, []).append(error)

    # -- SalesforceGateway ----------------------------------------------------------------------------
    def read_accounts(self, account_ids: Sequence[str], query: AccountQuery) -> dict[str, dict[str, Any]]:
        self._called("read_accounts")
        return {a: dict(self.accounts[a]) for a in sorted(set(account_ids)) if a in self.accounts}

    def order_accounts(self, order_ids: Sequence[str]) -> dict[str, str | None]:
        self._called("order_accounts")
        return {o: self.order_account[o] for o in set(order_ids) if o in self.order_account}

    def quote_accounts(self, quote_ids: Sequence[str]) -> dict[str, tuple[str, ...]]:
        self._called("quote_accounts")
        found = {q: sorted({a for a, activated in self.quote_orders.get(q, []) if activated}) for q in set(quote_ids)}
        return {quote: tuple(accounts) for quote, accounts in found.items() if accounts}

    def update_accounts(self, updates: Sequence[dict[str, Any]]) -> dict[str, RecordError | None]:
        self._called("update_accounts")
        outcome: dict[str, RecordError | None] = {}
        for update in updates:
            account_id = update["Id"]
            if self._locked.get(account_id):
                self._locked[account_id] -= 1
                outcome[account_id] = RecordError("UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access")
            elif account_id in self._rules:
                outcome[account_id] = RecordError("FIELD_CUSTOM_VALIDATION_EXCEPTION", self._rules[account_id])
            elif account_id not in self.accounts or self.accounts[account_id].get("IsDeleted"):
                outcome[account_id] = RecordError("ENTITY_IS_DELETED", "entity is deleted")
            else:
                self.accounts[account_id].update({k: v for k, v in update.items() if k != "Id"})
                outcome[account_id] = None
        return outcome

    def _called(self, method: str) -> None:
        self.calls[method] = self.calls.get(method, 0) + 1
        queued = self._faults.get(method)
        if queued:
            raise queued.pop(0)
