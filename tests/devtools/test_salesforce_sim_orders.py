"""Salesforce simulator: org-defined order statuses and SOQL ordering, as Salesforce documents them."""

from __future__ import annotations

import pytest
from simple_salesforce import Salesforce, format_soql
from simple_salesforce.exceptions import SalesforceMalformedRequest

from devtools.salesforce_sim import SalesforceError, SalesforceSimulator


def _order(sim: SalesforceSimulator, account_id: str, status: str = "Draft") -> str:
    return sim.create("Order", {"AccountId": account_id, "EffectiveDate": "2026-11-01", "Status": status})


@pytest.mark.vendor_doc(
    "https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_order.htm",
    "Order.StatusCode is the status category (Draft, Activated) of the org's own status values",
)
def test_org_defined_status_carries_its_category_in_status_code(sim: SalesforceSimulator) -> None:
    # Salesforce Help "Set Up Order Status Values": each value belongs to the category Draft or Activated;
    # Object Reference, Order.StatusCode: "the status category for the order".
    # Given an org that added "Provisioned" and "Fulfilled" to the Activated category
    sim.add_order_status("Provisioned", "Activated")
    sim.add_order_status("Fulfilled", "Activated")
    account_id = sim.create("Account", {"Name": "Muster AG"})
    order_id = _order(sim, account_id)
    # When the order moves to "Provisioned", then to "Fulfilled"
    sim.update("Order", order_id, {"Status": "Provisioned"})
    provisioned = sim.get("Order", order_id)
    sim.update("Order", order_id, {"Status": "Fulfilled"})
    fulfilled = sim.get("Order", order_id)
    # Then StatusCode is the category, stamped with ActivatedDate once, on entering the category
    assert provisioned is not None and fulfilled is not None
    assert (provisioned["Status"], provisioned["StatusCode"]) == ("Provisioned", "Activated")
    assert (fulfilled["Status"], fulfilled["StatusCode"]) == ("Fulfilled", "Activated")
    assert provisioned["ActivatedDate"] is not None and fulfilled["ActivatedDate"] == provisioned["ActivatedDate"]


def test_status_the_org_does_not_define_is_refused_like_a_restricted_picklist(sf: Salesforce) -> None:
    account_id = sf.Account.create({"Name": "Muster AG"})["id"]
    with pytest.raises(SalesforceMalformedRequest) as refused:
        sf.Order.create({"AccountId": account_id, "EffectiveDate": "2026-11-01", "Status": "Shipped"})
    assert refused.value.content[0]["errorCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"  # type: ignore[index]


@pytest.mark.vendor_doc(
    "https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_order.htm",
    "StatusCode is read-only: set through Status",
)
def test_status_code_is_read_only(sim: SalesforceSimulator) -> None:
    account_id = sim.create("Account", {"Name": "Muster AG"})
    order_id = _order(sim, account_id)
    with pytest.raises(SalesforceError, match="StatusCode"):
        sim.update("Order", order_id, {"StatusCode": "Activated"})


@pytest.mark.parametrize("direction", ["ASC", "DESC"])
@pytest.mark.vendor_doc(
    "https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_select_orderby.htm",
    "ORDER BY sorts null values first unless NULLS LAST",
)
def test_order_by_puts_nulls_first_in_both_directions_unless_nulls_last(
    sim: SalesforceSimulator, sf: Salesforce, direction: str
) -> None:
    # SOQL reference, ORDER BY: "By default, null values are sorted first" (ascending and descending).
    # Given two activated orders, one migrated without ActivatedDate
    account_id = sim.create("Account", {"Name": "Muster AG"})
    undated, dated = _order(sim, account_id, "Activated"), _order(sim, account_id, "Activated")
    sim.load_system_fields("Order", undated, {"ActivatedDate": None})
    soql = f"SELECT Id FROM Order WHERE AccountId = {{}} ORDER BY ActivatedDate {direction}"  # noqa: S608
    # When they are sorted by ActivatedDate, with and without NULLS LAST
    default = [r["Id"] for r in sf.query(format_soql(soql, account_id))["records"]]
    nulls_last = [r["Id"] for r in sf.query(format_soql(soql + " NULLS LAST", account_id))["records"]]
    # Then the undated order comes first by default and last with NULLS LAST
    assert default == [undated, dated]
    assert nulls_last == [dated, undated]


def test_ties_come_back_in_no_fixed_order_and_a_unique_tiebreaker_fixes_it(
    sim: SalesforceSimulator, sf: Salesforce
) -> None:
    # SOQL reference, ORDER BY: the order of rows with equal sort values is not guaranteed.
    sim.rest.engine.tie_rng.seed(15)
    account_id = sim.create("Account", {"Name": "Muster AG"})
    orders = [_order(sim, account_id) for _ in range(4)]
    tied = format_soql("SELECT Id FROM Order WHERE AccountId = {} ORDER BY EffectiveDate DESC", account_id)
    # When the same query runs several times
    firsts = {sf.query(tied)["records"][0]["Id"] for _ in range(12)}
    stable = {sf.query(tied + ", Id DESC")["records"][0]["Id"] for _ in range(12)}
    # Then the tie is broken differently between runs, but never with Id as tiebreaker
    assert len(firsts) > 1
    assert stable == {max(orders)}
