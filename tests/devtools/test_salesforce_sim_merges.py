"""Salesforce simulator: the unique Stripe ID field and merges, as Salesforce documents them.

- ``Account.Stripe_Customer_ID__c`` is ``<unique>true</unique>`` and ``<caseSensitive>true</caseSensitive>``
  in the package (salesforce/): a second account with the same value is refused with ``DUPLICATE_VALUE``
  (SOAP API Developer Guide, "StatusCode": https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/
  sforce_api_calls_concepts_core_data_objects.htm); Recycle Bin records count (Salesforce Help 000385434).
- A merge (SOAP API ``merge()``: https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/
  sforce_api_calls_merge.htm) takes 1 or 2 records into a master, which may take field values the admin
  picked (e.g. a loser's Stripe ID); the losers are deleted with ``MasterRecordId`` set.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from simple_salesforce import Salesforce, format_soql
from simple_salesforce.exceptions import SalesforceMalformedRequest

from devtools.salesforce_sim import SalesforceSimulator
from devtools.salesforce_sim.errors import SalesforceError

STRIPE_ID = "Stripe_Customer_ID__c"


@pytest.fixture
def sim(monkeypatch: pytest.MonkeyPatch) -> Iterator[SalesforceSimulator]:
    with SalesforceSimulator() as simulator:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", simulator.ca_bundle_path)
        yield simulator


@pytest.fixture
def sf(sim: SalesforceSimulator) -> Salesforce:
    return Salesforce(instance_url=sim.instance_url, session_id=sim.issue_token())


def _error(exc: pytest.ExceptionInfo[SalesforceMalformedRequest]) -> dict[str, Any]:
    content: Any = exc.value.content
    return dict(content[0])


def test_a_second_account_with_the_same_stripe_id_is_refused_with_duplicate_value(
    sim: SalesforceSimulator, sf: Salesforce
) -> None:
    # Given an account holding a customer id
    first = sim.create("Account", {"Name": "Erste AG", STRIPE_ID: "cus_A"})
    # When another account is created, or updated, with the same id over REST
    with pytest.raises(SalesforceMalformedRequest) as created:
        sf.Account.create({"Name": "Zweite AG", STRIPE_ID: "cus_A"})
    second = sf.Account.create({"Name": "Zweite AG"})["id"]
    with pytest.raises(SalesforceMalformedRequest) as updated:
        sf.Account.update(second, {STRIPE_ID: "cus_A"})
    # Then both are refused with DUPLICATE_VALUE naming the field and the record that holds the value
    for refused in (created, updated):
        error = _error(refused)
        assert error["errorCode"] == "DUPLICATE_VALUE"
        assert error["message"] == f"duplicate value found: {STRIPE_ID} duplicates value on record with id: {first}"
    assert sim.get("Account", second)[STRIPE_ID] is None  # type: ignore[index]
    # And the account holding it may write it again (the sync's write-back), and the field is case-sensitive
    sf.Account.update(first, {STRIPE_ID: "cus_A", "Name": "Erste AG"})
    sf.Account.update(second, {STRIPE_ID: "cus_a"})


def test_duplicate_value_in_a_collection_update_refuses_only_that_record(
    sim: SalesforceSimulator, sf: Salesforce
) -> None:
    # Given two accounts, one holding a customer id
    holder = sim.create("Account", {"Name": "Halter AG", STRIPE_ID: "cus_A"})
    other = sim.create("Account", {"Name": "Andere AG"})
    third = sim.create("Account", {"Name": "Dritte AG"})
    # When one sObject Collections update gives the other the same id and the third a new one
    records = [
        {"attributes": {"type": "Account"}, "id": other, STRIPE_ID: "cus_A"},
        {"attributes": {"type": "Account"}, "id": third, STRIPE_ID: "cus_C"},
    ]
    results = sf.restful("composite/sobjects", method="PATCH", json={"allOrNone": False, "records": records})
    # Then only the duplicate is refused, per record, and the other is written
    assert results[0]["success"] is False and results[0]["errors"][0]["statusCode"] == "DUPLICATE_VALUE"
    assert holder in results[0]["errors"][0]["message"]
    assert results[1]["success"] is True and sim.get("Account", third)[STRIPE_ID] == "cus_C"  # type: ignore[index]


def test_a_deleted_account_still_holds_its_stripe_id(sim: SalesforceSimulator, sf: Salesforce) -> None:
    # Given an account holding a customer id, deleted (in the Recycle Bin)
    deleted = sim.create("Account", {"Name": "Geloescht AG", STRIPE_ID: "cus_D"})
    sim.delete("Account", deleted)
    # Then its value still counts: another account can't take it
    with pytest.raises(SalesforceMalformedRequest) as refused:
        sf.Account.create({"Name": "Neu AG", STRIPE_ID: "cus_D"})
    assert _error(refused)["errorCode"] == "DUPLICATE_VALUE"


def test_a_merge_master_may_keep_the_losers_stripe_id(sim: SalesforceSimulator, sf: Salesforce) -> None:
    # Given two accounts with customers, and the admin keeping the loser's Stripe ID on the master
    winner = sim.create("Account", {"Name": "Gewinner AG", STRIPE_ID: "cus_W"})
    loser = sim.create("Account", {"Name": "Verlierer AG", STRIPE_ID: "cus_L"})
    # When they are merged
    sim.merge("Account", winner, [loser], master_fields={STRIPE_ID: "cus_L"})
    # Then the master holds the loser's id; the loser is deleted with MasterRecordId = master, its value kept
    assert sim.get("Account", winner)[STRIPE_ID] == "cus_L"  # type: ignore[index]
    row = sf.query_all(
        format_soql("SELECT IsDeleted, MasterRecordId, Stripe_Customer_ID__c FROM Account WHERE Id = {}", loser),
        include_deleted=True,
    )["records"][0]
    assert (row["IsDeleted"], row["MasterRecordId"], row[STRIPE_ID]) == (True, winner, "cus_L")
    # And the master stays writable with that id (the sync's write-back)
    sf.Account.update(winner, {STRIPE_ID: "cus_L"})


def test_a_merge_whose_master_fields_collide_changes_nothing(sim: SalesforceSimulator) -> None:
    # Given a third account holding an id, and a merge that would give the master that id
    third = sim.create("Account", {"Name": "Dritte AG", STRIPE_ID: "cus_T"})
    winner = sim.create("Account", {"Name": "Gewinner AG"})
    loser = sim.create("Account", {"Name": "Verlierer AG"})
    # When merged; Then DUPLICATE_VALUE, and the loser is still live (the merge did not half happen)
    with pytest.raises(SalesforceError, match="DUPLICATE_VALUE") as refused:
        sim.merge("Account", winner, [loser], master_fields={STRIPE_ID: "cus_T"})
    assert third in refused.value.message
    assert sim.get("Account", loser)["IsDeleted"] is False  # type: ignore[index]
    assert sim.get("Account", winner)[STRIPE_ID] is None  # type: ignore[index]


def test_a_merge_takes_one_or_two_records(sim: SalesforceSimulator) -> None:
    # Given a master and three other accounts; Then merging three (Salesforce's limit is two) is refused
    master, *others = (sim.create("Account", {"Name": f"Konto {i}"}) for i in range(4))
    with pytest.raises(SalesforceError, match="INVALID_OPERATION"):
        sim.merge("Account", master, others)
