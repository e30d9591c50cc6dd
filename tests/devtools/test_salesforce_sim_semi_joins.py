"""The simulator refuses the semi-join forms Salesforce refuses, with Salesforce's MALFORMED_QUERY.

SOQL and SOSL Reference, "Comparison Operators" → "Semi-Join and Anti-Join Restrictions"
(https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_select_comparisonoperators.htm).
A query the simulator accepted but Salesforce refuses would pass every test here and fail in the first real org.
"""

from __future__ import annotations

from typing import Any

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from devtools.salesforce_sim import SalesforceSimulator
from shared.reconcile.reconciler import page_soql
from shared.salesforce.gateway import ACTIVATED_ORDER, AccountQuery
from shared.settings import CreationMode

QUERY = AccountQuery(("Name", "Stripe_Customer_ID__c"), ("Status",))


def _refusal(sf: Salesforce, soql: str) -> dict[str, Any]:
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.query(soql)
    content = caught.value.content
    error: dict[str, Any] = content[0] if isinstance(content, list) else content
    return error


@pytest.mark.parametrize(
    ("soql", "message"),
    [
        pytest.param(
            "SELECT Id FROM Account WHERE Id IN (SELECT AccountId FROM Contact ORDER BY LastName)",
            "ORDER BY is not allowed in a semi join sub-select",
            id="order-by-in-subquery",
        ),
        pytest.param(
            "SELECT Id FROM Account WHERE Id IN (SELECT AccountId FROM Contact LIMIT 1)",
            "LIMIT and OFFSET are not allowed in a semi join sub-select",
            id="limit-in-subquery",
        ),
        pytest.param(
            "SELECT Id FROM Account WHERE Name = 'Acme' OR Id IN (SELECT AccountId FROM Contact)",
            "Semi join sub-selects are not allowed with the 'OR' operator",
            id="semi-join-with-or",
        ),
        pytest.param(
            "SELECT Id FROM Account WHERE Name = 'Acme' AND (Name = 'Beta' OR Id IN (SELECT AccountId FROM Contact))",
            "Semi join sub-selects are only allowed at the top level WHERE expressions",
            id="semi-join-under-nested-or",
        ),
        pytest.param(
            "SELECT Id FROM Account WHERE NOT Id IN (SELECT AccountId FROM Contact)",
            "Semi join sub-selects are not allowed with the 'NOT' operator",
            id="not-operator",
        ),
        pytest.param(
            "SELECT Id FROM Account WHERE Id IN (SELECT ParentId FROM Account)",
            "The inner and outer selects should not be on the same object type",
            id="same-object",
        ),
        pytest.param(
            "SELECT Id FROM Account WHERE Id IN (SELECT AccountId FROM Contact)"
            " AND Id IN (SELECT AccountId FROM Order) AND Id NOT IN (SELECT AccountId FROM Opportunity)",
            "Maximum 2 semi join sub-selects are allowed",
            id="three-semi-joins",
        ),
    ],
)
def test_refused_semi_join_forms_answer_malformed_query(sf: Salesforce, soql: str, message: str) -> None:
    # Given a query in a form the SOQL reference lists under "Semi-Join and Anti-Join Restrictions"
    # When it is sent to the simulator's query endpoint
    error = _refusal(sf, soql)
    # Then it is refused as Salesforce refuses it: MALFORMED_QUERY, naming the restriction
    assert error["errorCode"] == "MALFORMED_QUERY"
    assert message in error["message"]


def test_two_semi_joins_joined_by_and_are_still_answered(sim: SalesforceSimulator, sf: Salesforce) -> None:
    # Given an account with a contact and one without
    with_contact = sim.create("Account", {"Name": "Acme"})
    sim.create("Account", {"Name": "Beta"})
    sim.create("Contact", {"LastName": "Doe", "AccountId": with_contact})
    # When a query uses the two semi-joins Salesforce allows, joined by AND
    rows = sf.query(
        "SELECT Id FROM Account WHERE Id IN (SELECT AccountId FROM Contact)"
        " AND Id NOT IN (SELECT AccountId FROM Order) AND Name != null"
    )["records"]
    # Then only the account with a contact and no order comes back
    assert [r["Id"] for r in rows] == [with_contact]


def test_reconcile_page_query_is_accepted_by_the_strict_rules(sim: SalesforceSimulator, sf: Salesforce) -> None:
    # Given an account with an activated order and the reconciler's own page query in order-activation mode
    # (a semi-join on Order beside other conditions, joined by AND)
    account = sim.create("Account", {"Name": "Acme"})
    sim.create("Order", {"AccountId": account, "EffectiveDate": "2026-11-01", "Status": "Activated"})
    soql = page_soql(QUERY, CreationMode.ORDER_ACTIVATION, after=None, limit=10)
    assert "Id IN (SELECT AccountId FROM Order WHERE" in soql and ACTIVATED_ORDER in soql
    # When it runs against the simulator
    rows = sf.query(soql)["records"]
    # Then it is answered, not refused
    assert [r["Id"] for r in rows] == [account]
