"""The sync preferences' hierarchy custom setting as Salesforce's API shows it, and the admin's Order Filter refused
where Salesforce refuses it.

A hierarchy custom setting is an object whose records are the org default (``SetupOwnerId`` = the org id) and
profile or user overrides; the API queries them like any object (Apex Reference, "Hierarchy Custom Setting
Methods", ``getOrgDefaults()``:
https://developer.salesforce.com/docs/atlas.en-us.apexref.meta/apexref/apex_methods_system_custom_settings.htm).
The order filter is the admin's SOQL: the simulator must refuse what Salesforce refuses (``MALFORMED_QUERY``,
``INVALID_FIELD`` for an unknown field or a long text area, which Salesforce can't filter on, and the semi-join
restrictions of the SOQL reference, "Comparison Operators":
https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_select_comparisonoperators.htm).
"""

from __future__ import annotations

from typing import Any

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from devtools.salesforce_sim import SalesforceSimulator
from devtools.salesforce_sim.package import load_package
from shared.salesforce.preferences import SETTING, order_filter_check_soql, preferences_soql


def test_the_org_default_is_queryable_with_the_org_id_as_setup_owner(sim: SalesforceSimulator, sf: Salesforce) -> None:
    # Given an org where the package is deployed but nobody saved the preferences (the package ships no record)
    # Then the setting has no record
    assert sf.query(preferences_soql())["records"] == []
    # When the admin saves the org default in Setup (Custom Settings → Manage)
    sim.set_org_default(SETTING, {"Live_Sync__c": False, "Start_Date__c": "2026-11-01", "API_Budget_Percent__c": 50})
    # Then one record answers, owned by the organization, with the API's value types (Number as a double)
    (record,) = sf.query(preferences_soql())["records"]
    assert record["SetupOwnerId"] == sim.org_id
    assert record["Live_Sync__c"] is False and record["Start_Date__c"] == "2026-11-01"
    assert record["API_Budget_Percent__c"] == 50.0 and record["Order_Filter__c"] is None
    # When the admin edits it again, Then the same record changes (an org has one org default)
    sim.set_org_default(SETTING, {"Live_Sync__c": True})
    (again,) = sf.query(preferences_soql())["records"]
    assert again["attributes"]["url"] == record["attributes"]["url"] and again["Live_Sync__c"] is True


def test_the_package_ships_the_setting_without_records_and_lets_the_integration_user_read_it() -> None:
    # Given the package as deployed
    package = load_package()
    # Then the preferences are a hierarchy custom setting beside the Dashboard one
    assert set(package.custom_settings) == {"Stripe_Sync_Dashboard__c", SETTING}
    assert {f.name for f in package.fields_of(SETTING)} == {
        "Live_Sync__c",
        "Start_Date__c",
        "Order_Filter__c",
        "History_Level__c",
        "History_Retention_Days__c",
        "API_Budget_Percent__c",
    }
    # And no record of it is shipped (no data, no custom metadata records that a deploy would write back)
    assert not list(package.root.glob("**/customMetadata/*")) and not list(package.root.glob("**/data/*"))
    # And the integration user's permission set grants access to the setting
    permission_sets = package.root / "force-app/main/default/permissionsets"
    text = (permission_sets / "Stripe_Sync_Integration.permissionset-meta.xml").read_text(encoding="utf-8")
    assert f"<customSettingAccesses>\n        <enabled>true</enabled>\n        <name>{SETTING}</name>" in text


def _refusal(sf: Salesforce, soql: str) -> dict[str, Any]:
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.query(soql)
    content = caught.value.content
    error: dict[str, Any] = content[0] if isinstance(content, list) else content
    return error


@pytest.mark.parametrize(
    ("order_filter", "code", "message"),
    [
        pytest.param("Type = 'New' AND", "MALFORMED_QUERY", "unexpected token", id="syntax"),
        pytest.param("Typo__c = 'New'", "INVALID_FIELD", "No such column 'Typo__c' on entity 'Order'", id="field"),
        pytest.param("EffectiveDate = 'yesterday'", "INVALID_QUERY_FILTER_OPERATOR", "must be of type date", id="type"),
        pytest.param(
            "Account.Description LIKE '%Rahmenvertrag%'",
            "INVALID_FIELD",
            "field 'Description' can not be filtered in a query call",
            id="long-text-area",
        ),
        pytest.param(
            "Id IN (SELECT OrderId FROM Contract)",
            "MALFORMED_QUERY",
            "Nesting of semi join sub-selects is not supported",
            id="semi-join-nested-in-the-selection",
        ),
    ],
)
def test_an_order_filter_salesforce_refuses_is_refused(
    sf: Salesforce, order_filter: str, code: str, message: str
) -> None:
    # Given the admin's order filter, placed where the sync uses it (child subquery and reconcile's semi-join)
    # When it is checked, Then Salesforce's refusal answers, with its code
    error = _refusal(sf, order_filter_check_soql(order_filter))
    assert error["errorCode"] == code
    assert message in error["message"]


def test_a_valid_order_filter_is_accepted(sim: SalesforceSimulator, sf: Salesforce) -> None:
    # Given an account with an activated order
    account = sim.create("Account", {"Name": "Acme"})
    order = sim.create("Order", {"AccountId": account, "EffectiveDate": "2026-11-01", "Status": "Draft"})
    sim.update("Order", order, {"Status": "Activated"})
    # When a filter on the order's own fields and a parent's field is checked, Then it runs and finds the order
    (record,) = sf.query(order_filter_check_soql("EffectiveDate >= 2026-01-01 AND Account.Name != null"))["records"]
    assert record["Id"] == account and record["Orders"]["records"][0]["Id"] == order
