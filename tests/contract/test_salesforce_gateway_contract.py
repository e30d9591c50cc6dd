"""The Salesforce port's contract, run on the in-memory fake and on ``SimpleSalesforceGateway`` against the
Salesforce simulator (the simulator's half is marked ``integration``).

What the batch relies on: one read returns each Account by its 18-char id, deleted ones too (``queryAll``);
an order's AccountId; a CPQ quote's accounts through its activated orders only; and sObject Collections
answering record by record (REST API Developer Guide, "sObject Collections"; SOAP API Developer Guide,
"StatusCode": ``UNABLE_TO_LOCK_ROW`` is transient, ``FIELD_CUSTOM_VALIDATION_EXCEPTION`` needs the admin).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from shared.salesforce.gateway import AccountQuery, SalesforceGateway, SimpleSalesforceGateway
from tests.factories import account_record, order_record
from tests.fakes import FakeSalesforce

QUERY = AccountQuery(account_fields=("Name", "Description"), order_fields=("Status",))


@dataclass
class Side:
    """The gateway under test and how to arrange the org behind it."""

    gateway: SalesforceGateway
    new_account: Callable[[str], str]  # name → account id (18 chars)
    new_order: Callable[[str, bool], tuple[str, str]]  # account id, activated → (order id, quote id)
    delete: Callable[[str], None]
    lock_row: Callable[[str], None]  # the account's next write fails with UNABLE_TO_LOCK_ROW
    validation_rule: Callable[[str], None]  # every write of the account is refused


def _fake_side() -> Side:
    fake = FakeSalesforce()

    def new_account(name: str) -> str:
        return fake.add_account(account_record(Name=name, order=None))

    def new_order(account_id: str, activated: bool) -> tuple[str, str]:
        order = order_record()
        quote_id = f"a0q{order['Id'][3:]}"
        fake.order_account[order["Id"]] = account_id
        fake.quote_orders.setdefault(quote_id, []).append((account_id, activated))
        if activated:
            fake.accounts[account_id]["Orders"] = {"totalSize": 1, "done": True, "records": [order]}
        return order["Id"], quote_id

    def delete(account_id: str) -> None:
        fake.accounts[account_id]["IsDeleted"] = True

    return Side(
        fake,
        new_account,
        new_order,
        delete,
        fake.lock_row,
        lambda account_id: fake.validation_rule(account_id, "Billing data is locked"),
    )


@pytest.fixture(params=["in_memory", pytest.param("simulator", marks=pytest.mark.integration)])
def side(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Side]:
    if request.param == "in_memory":
        yield _fake_side()
        return
    from simple_salesforce import Salesforce

    from devtools.salesforce_sim import SalesforceSimulator

    with SalesforceSimulator(port=0) as sim:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", sim.ca_bundle_path)

        def new_order(account_id: str, activated: bool) -> tuple[str, str]:
            contact_id = sim.create("Contact", {"AccountId": account_id, "LastName": "Buyer", "Email": "b@x.example"})
            quote_id = sim.create(
                "SBQQ__Quote__c",
                {"SBQQ__Account__c": account_id, "SBQQ__PrimaryContact__c": contact_id, "SBQQ__Primary__c": True},
            )
            order = {"AccountId": account_id, "SBQQ__Quote__c": quote_id, "Status": "Draft"}
            order_id = sim.create("Order", {**order, "EffectiveDate": "2026-11-01"})
            if activated:
                sim.update("Order", order_id, {"Status": "Activated"})
            return order_id, quote_id

        yield Side(
            SimpleSalesforceGateway(lambda: Salesforce(instance_url=sim.instance_url, session_id=sim.issue_token())),
            lambda name: sim.create("Account", {"Name": name}),
            new_order,
            lambda account_id: sim.delete("Account", account_id),
            lambda account_id: sim.rest.faults.lock_row("Account", account_id),
            lambda account_id: sim.rest.faults.validation_rule(
                "Account", "Billing data is locked", condition=lambda saved: saved.get("Id") == account_id
            ),
        )


def test_one_read_returns_each_account_deleted_ones_too(side: Side) -> None:
    # Given a live account, a deleted one, and an id that names no account
    live, deleted = side.new_account("Live AG"), side.new_account("Gone AG")
    side.delete(deleted)
    order_id, _ = side.new_order(live, True)
    # When they are read at once
    records = side.gateway.read_accounts([live, deleted, "001000000000000AAA"], QUERY)
    # Then both accounts come back by id, the deleted one as deleted, with the live one's activated order
    assert set(records) == {live, deleted}
    assert records[live]["Name"] == "Live AG" and not records[live]["IsDeleted"]
    assert records[deleted]["IsDeleted"] is True
    assert [o["Id"] for o in records[live]["Orders"]["records"]] == [order_id]


def test_orders_and_quotes_lead_to_their_accounts(side: Side) -> None:
    # Given an account with an activated order and another with a draft one
    active, draft = side.new_account("Active AG"), side.new_account("Draft AG")
    active_order, active_quote = side.new_order(active, True)
    _, draft_quote = side.new_order(draft, False)
    # When the orders' and the quotes' accounts are looked up
    orders = side.gateway.order_accounts([active_order, "801000000000000AAA"])
    quotes = side.gateway.quote_accounts([active_quote, draft_quote])
    # Then the order names its account, and only the quote with an activated order leads to one
    assert orders == {active_order: active}
    assert quotes == {active_quote: (active,)}


def test_a_write_back_answers_per_record(side: Side) -> None:
    # Given three accounts: one free, one locked by another transaction, one under a validation rule
    free, locked, ruled = side.new_account("Free AG"), side.new_account("Locked AG"), side.new_account("Ruled AG")
    side.lock_row(locked)
    side.validation_rule(ruled)
    # When all three are written in one call, then the locked one again
    updates = [{"Id": account_id, "Description": "cus_1"} for account_id in (free, locked, ruled)]
    first = side.gateway.update_accounts(updates)
    second = side.gateway.update_accounts([{"Id": locked, "Description": "cus_2"}])
    # Then the free one was written, the lock was transient, the rule is not
    assert first[free] is None and second[locked] is None
    lock, rule = first[locked], first[ruled]
    assert lock is not None and lock.status_code == "UNABLE_TO_LOCK_ROW" and lock.transient
    assert rule is not None and rule.status_code == "FIELD_CUSTOM_VALIDATION_EXCEPTION" and not rule.transient
    records = side.gateway.read_accounts([free, locked], QUERY)
    assert (records[free]["Description"], records[locked]["Description"]) == ("cus_1", "cus_2")
