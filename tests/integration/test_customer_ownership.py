"""Ownership before any update, against the whole local stack (Salesforce simulator, Stripe emulator, dynalite).

The sync changes a Stripe customer it does not know only when the customer's metadata names the account
(``salesforce_account_id``: https://docs.stripe.com/api/metadata; the key Stripe's connector writes too). The
two victims of an id typed into the Stripe ID field — another account's customer, and a web-shop sign-up
with no Salesforce reference — are never rewritten; the second can be adopted explicitly (``sfsync adopt``, or
the adoption field, the admin's consent given in Salesforce). A merge whose master takes the loser's Stripe ID
(Salesforce's merge wizard lets the admin choose each field's value: "Merge Duplicate Accounts",
https://help.salesforce.com/s/articleView?id=sf.account_combine.htm) never rewrites the loser's customer.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.integration.stack import Stack
from tests.integration.test_operations import customer_account, customer_of, messages_dropped, sfsync, stack
from tests.integration.test_reconcile_identity import stripe_client

STRIPE_ID = "Stripe_Customer_ID__c"
ADOPT = "Stripe_Adopt_Customer_ID__c"
__all__ = ["stack"]  # the fixture, re-used


def account_fields(stack: Stack, account_id: str) -> dict[str, Any]:
    return dict(stack.sim.get("Account", account_id) or {})


def web_shop_customer(stack: Stack) -> Any:
    """A customer made outside Salesforce (a web-shop sign-up): no Salesforce reference in its metadata."""
    return stripe_client(stack).v1.customers.create(
        params={"name": "Shop Käufer", "email": "shop@example.com", "metadata": {"shop_order": "42"}}
    )


def typed_in(stack: Stack, account_id: str, customer_id: str, **more: Any) -> None:
    """An admin types ``customer_id`` into the account's Stripe ID field (and edits it): the worker syncs."""
    stack.sim.update("Account", account_id, {STRIPE_ID: customer_id, **more})
    stack.settle()


def test_ownership_another_accounts_customer_typed_into_the_field_is_never_rewritten(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given two synced accounts; the second's customer id is typed into the first (cleared on the second:
    # the field is unique)
    first = customer_account(stack, Name="Erste AG")
    second = customer_account(stack, Name="Zweite AG")
    first_customer, second_customer = customer_of(stack, first)["id"], customer_of(stack, second)["id"]
    with messages_dropped(stack):
        stack.sim.update("Account", second, {STRIPE_ID: None})
    before = stripe_client(stack).v1.customers.retrieve(second_customer)
    writes_before = len(stack.stripe.write_requests())
    # When the first account is edited and synced
    typed_in(stack, first, second_customer, Name="Erste AG (neu)")
    # Then the other account's customer is not changed at all
    assert [w for w in stack.stripe.write_requests()[writes_before:] if second_customer in w["path"]] == []
    after = stripe_client(stack).v1.customers.retrieve(second_customer)
    assert (after.name, after.metadata["salesforce_account_id"]) == (before.name, second)
    # And Salesforce's error field names the other account and both customers
    fields = account_fields(stack, first)
    assert fields["Stripe_Sync_Status__c"] == "Error"
    assert all(i in fields["Stripe_Sync_Error__c"] for i in (second, second_customer, first_customer))
    # And so does sfsync status
    code, out, _ = sfsync(capsys, "status", first)
    assert code == 0 and re.search(rf"last error\s+Stripe customer {second_customer} belongs to account {second}", out)


def test_ownership_a_web_shop_sign_up_waits_for_adoption_and_sfsync_adopt_adopts_it(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a new account whose Stripe ID field an admin filled with a web-shop sign-up's id
    account_id = customer_account(stack, Name="Webshop AG")
    own = customer_of(stack, account_id)["id"]
    shop = web_shop_customer(stack)
    # When the account is synced
    typed_in(stack, account_id, shop.id, Name="Webshop AG (neu)")
    # Then the web-shop customer is untouched, and the account waits with how to adopt it
    assert stripe_client(stack).v1.customers.retrieve(shop.id).name == "Shop Käufer"
    error = account_fields(stack, account_id)["Stripe_Sync_Error__c"]
    assert f"sfsync adopt {account_id} {shop.id}" in error and ADOPT in error and own in error
    # When an operator adopts it
    code, out, _ = sfsync(capsys, "adopt", account_id, shop.id)
    stack.settle()
    # Then the adoption is logged, the customer names the account (its other metadata kept) and is synced
    assert code == 0 and f"adopted: customer {shop.id} for account {account_id}" in out
    adopted = stripe_client(stack).v1.customers.retrieve(shop.id)
    assert adopted.metadata["salesforce_account_id"] == account_id and adopted.metadata["shop_order"] == "42"
    assert adopted.name == "Webshop AG (neu)"
    assert account_fields(stack, account_id)["Stripe_Sync_Status__c"] == "Synced"


def test_ownership_an_admin_adopts_a_web_shop_sign_up_from_salesforce_with_the_adoption_field(
    stack: Stack,
) -> None:
    # Given a synced account whose Stripe ID field holds a web-shop sign-up the sync refused to change
    account_id = customer_account(stack, Name="Feld AG")
    shop = web_shop_customer(stack)
    typed_in(stack, account_id, shop.id)
    assert account_fields(stack, account_id)["Stripe_Sync_Status__c"] == "Error"
    # When an admin types the same id into the adoption field (the consent, kept in Salesforce)
    stack.sim.update("Account", account_id, {ADOPT: shop.id})
    stack.settle()
    # Then the customer is adopted: tagged with the account and synced
    adopted = stripe_client(stack).v1.customers.retrieve(shop.id)
    assert (adopted.metadata["salesforce_account_id"], adopted.name) == (account_id, "Feld AG")
    assert account_fields(stack, account_id)["Stripe_Sync_Status__c"] == "Synced"


def test_ownership_sfsync_adopt_refuses_another_accounts_customer_and_adopts_in_bulk_from_a_file(
    stack: Stack, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Given a synced account, another account's customer, and two web-shop sign-ups typed into two accounts
    owner = customer_account(stack, Name="Eigentümer AG")
    owned = customer_of(stack, owner)["id"]
    first, second = customer_account(stack, Name="Eins AG"), customer_account(stack, Name="Zwei AG")
    shops = [web_shop_customer(stack), web_shop_customer(stack)]
    for account_id, shop in zip((first, second), shops, strict=True):
        typed_in(stack, account_id, shop.id)
    # When an operator tries to adopt the other account's customer
    code, out, _ = sfsync(capsys, "adopt", first, owned)
    # Then it is refused, naming the owner, and nothing changes
    assert code == 1 and f"refused: customer {owned} belongs to account {owner}" in out
    assert stripe_client(stack).v1.customers.retrieve(owned).metadata["salesforce_account_id"] == owner
    # When the operator adopts the two sign-ups from a list (e.g. lines of a saved reconcile report)
    listing = tmp_path / "adopt.txt"
    listing.write_text(f"{first[:15]}  claimed_by_other_customer: {shops[0].id}\nnoise\n{second} {shops[1].id}\n")
    code, out, _ = sfsync(capsys, "adopt", "--from", str(listing))
    stack.settle()
    # Then both are adopted and synced
    assert code == 0 and out.count("adopted: customer") == 2
    for account_id, shop in zip((first, second), shops, strict=True):
        assert stripe_client(stack).v1.customers.retrieve(shop.id).metadata["salesforce_account_id"] == account_id


def test_rule_r13_a_merge_whose_master_takes_the_losers_stripe_id_never_rewrites_the_losers_customer(
    stack: Stack,
) -> None:
    # Given two synced accounts, merged with the master taking the loser's Stripe ID (the wizard's choice)
    master = customer_account(stack, Name="Gewinner AG")
    loser = customer_account(stack, Name="Verlierer AG")
    master_customer, loser_customer = customer_of(stack, master)["id"], customer_of(stack, loser)["id"]
    before = stripe_client(stack).v1.customers.retrieve(loser_customer)
    stack.sim.merge("Account", master, [loser], master_fields={STRIPE_ID: loser_customer})
    # When the master is edited afterwards (its message reaches the worker)
    stack.sim.update("Account", master, {"Name": "Gewinner AG (fusioniert)"})
    stack.settle()
    # Then the loser's customer keeps the loser's data, and the master's error names the loser and both customers
    after = stripe_client(stack).v1.customers.retrieve(loser_customer)
    assert (after.name, after.metadata["salesforce_account_id"]) == (before.name, loser)
    error = account_fields(stack, master)["Stripe_Sync_Error__c"]
    assert all(i in error for i in (loser, loser_customer, master_customer))
    # And the master's own customer is neither deleted nor rewritten (R12, R13)
    assert stripe_client(stack).v1.customers.retrieve(master_customer).name == "Gewinner AG"


def test_ownership_reconcile_reports_an_unclaimed_customer_and_its_report_adopts_it(
    stack: Stack, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Given an account whose Stripe ID field was filled with a web-shop sign-up before it ever had a customer
    with messages_dropped(stack):
        account_id = customer_account(stack, Name="Nur Shop AG")
    shop = web_shop_customer(stack)
    with messages_dropped(stack):
        stack.sim.update("Account", account_id, {STRIPE_ID: shop.id})
    # When reconcile applies
    code, out, _ = sfsync(capsys, "reconcile", "--apply")
    # Then the account is unclaimed_customer with the command that adopts it, and no sync is queued
    assert code == 0 and "unclaimed_customer 1" in out
    assert f"sfsync adopt {account_id} {shop.id}" in out
    stack.settle()
    assert stripe_client(stack).v1.customers.retrieve(shop.id).name == "Shop Käufer"
    # When the operator adopts from the saved report
    report = tmp_path / "reconcile.txt"
    report.write_text(out)
    code, adopted, _ = sfsync(capsys, "adopt", "--from", str(report))
    stack.settle()
    # Then that customer is the account's, synced
    assert code == 0 and adopted.count("adopted: customer") == 1
    customer = stripe_client(stack).v1.customers.retrieve(shop.id)
    assert (customer.metadata["salesforce_account_id"], customer.name) == (account_id, "Nur Shop AG")
