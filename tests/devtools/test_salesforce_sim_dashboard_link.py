"""The Account's Stripe Dashboard Link opens the customer in the right Stripe Dashboard, test or live.

Stripe's Dashboard URLs carry the mode in the path: ``https://dashboard.stripe.com/test/customers`` is the
test-mode customer list, and a Dashboard page "that include[s] ``/test/`` in the URL" is its test-mode view
(Stripe CLI reference, ``stripe open``: https://docs.stripe.com/cli/open). A ``cus_…`` id alone doesn't tell
the mode, so the package's formula reads the mode from the ``Stripe_Sync_Dashboard__c`` hierarchy custom
setting. The simulator evaluates the package's own formula (devtools/salesforce_sim/formula.py).
"""

from __future__ import annotations

import pytest
from simple_salesforce import Salesforce, format_soql
from simple_salesforce.exceptions import SalesforceMalformedRequest

from devtools.salesforce_sim import SalesforceSimulator
from devtools.salesforce_sim.formula import evaluate
from devtools.salesforce_sim.package import load_package

LINK = "Stripe_Dashboard_Link__c"
SETTING = "Stripe_Sync_Dashboard__c"


def _link(sf: Salesforce, account: str) -> str | None:
    value: str | None = sf.query(format_soql("SELECT Stripe_Dashboard_Link__c FROM Account WHERE Id = {}", account))[
        "records"
    ][0][LINK]
    return value


def test_link_opens_the_live_dashboard_by_default_and_the_test_dashboard_in_test_mode(
    sim: SalesforceSimulator, sf: Salesforce
) -> None:
    # Given an account the sync has linked to a Stripe customer, in an org without the setting saved
    account = sim.create("Account", {"Name": "Acme", "Stripe_Customer_ID__c": "cus_Q1w2E3r4"})
    # Then the link opens the customer in the live-mode Dashboard, labelled with the customer id
    assert _link(sf, account) == (
        '<a href="https://dashboard.stripe.com/customers/cus_Q1w2E3r4" target="_blank">cus_Q1w2E3r4</a>'
    )
    # When the admin ticks Test Mode in the setting's org default
    sim.set_org_default(SETTING, {"Test_Mode__c": True})
    # Then the same account's link opens the test-mode Dashboard
    assert _link(sf, account) == (
        '<a href="https://dashboard.stripe.com/test/customers/cus_Q1w2E3r4" target="_blank">cus_Q1w2E3r4</a>'
    )


def test_link_is_blank_until_the_account_has_a_stripe_customer(sim: SalesforceSimulator, sf: Salesforce) -> None:
    # Given an account the sync hasn't linked yet
    account = sim.create("Account", {"Name": "Beta"})
    # Then there is no link to a customer that doesn't exist
    assert _link(sf, account) is None
    # When the sync writes the customer id
    sim.update("Account", account, {"Stripe_Customer_ID__c": "cus_Z9x8"})
    # Then the link appears
    assert _link(sf, account) == (
        '<a href="https://dashboard.stripe.com/customers/cus_Z9x8" target="_blank">cus_Z9x8</a>'
    )


def test_link_is_read_only(sf: Salesforce, sim: SalesforceSimulator) -> None:
    # Given an account; When someone writes the formula field through the API; Then Salesforce refuses it
    account = sim.create("Account", {"Name": "Gamma"})
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Account.update(account, {LINK: "https://example.com"})
    assert "INVALID_FIELD_FOR_INSERT_UPDATE" in str(caught.value)


@pytest.mark.parametrize(
    ("test_mode", "prefix"),
    [(False, "https://dashboard.stripe.com/customers/"), (True, "https://dashboard.stripe.com/test/customers/")],
)
def test_package_formula_builds_stripes_documented_customer_urls(test_mode: bool, prefix: str) -> None:
    # Given the formula the package deploys, and the mode the setting holds
    (definition,) = [f for f in load_package().fields_of("Account") if f.name == LINK]
    assert definition.formula is not None and definition.type == "Text"
    # When it is evaluated for a customer id
    value = evaluate(definition.formula, {"Stripe_Customer_ID__c": "cus_1"}, lambda s, f: test_mode)
    # Then the link is the Dashboard's customer page in that mode
    assert value == f'<a href="{prefix}cus_1" target="_blank">cus_1</a>'
