"""The simulated org runs the package's sync history and "Sync to Stripe now" as Salesforce documents them.

- The ``Stripe_Sync_Record__c`` object, its master-detail to Account (child relationship
  ``Stripe_Sync_Records__r``) and its formula link come from ``salesforce/`` (Metadata API Developer Guide,
  "CustomObject", "CustomField").
- Composite (REST API Developer Guide, "Send Multiple Requests Using Composite",
  https://developer.salesforce.com/docs/platform/api-rest/guide/resources-composite-composite-post.html):
  one API call for every subrequest, up to 25 subrequests of which up to 5 sObject Collections or queries,
  per-subrequest results; with ``allOrNone: false`` a refused record costs only itself.
- The quick action (Metadata API, "QuickAction": ``type`` Update, ``fieldOverrides``) saves its field as the
  person who pressed it, so the record-triggered Flow sends the Stripe Sync Now outbound message.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
from simple_salesforce import format_soql

from devtools.salesforce_sim import SalesforceSimulator
from shared.salesforce.outbound_message import parse_outbound_message
from shared.salesforce.outbound_requests import from_outbound_message
from shared.sync.models import TriggerSource
from tests.devtools.salesforce_sim_helpers import Receiver

VERSION = "62.0"
COLLECTIONS = f"/services/data/v{VERSION}/composite/sobjects"


def _composite(sim: SalesforceSimulator, body: dict[str, Any]) -> requests.Response:
    return requests.post(
        f"{sim.instance_url}/services/data/v{VERSION}/composite",
        json=body,
        headers={"Authorization": f"Bearer {sim.issue_token()}"},
        verify=sim.ca_bundle_path,
        timeout=10,
    )


def _history(account: str, outcome: str = "Updated") -> dict[str, Any]:
    return {"attributes": {"type": "Stripe_Sync_Record__c"}, "Account__c": account, "Outcome__c": outcome}


def _collection(reference: str, method: str, records: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "method": method,
        "url": COLLECTIONS,
        "referenceId": reference,
        "body": {"allOrNone": False, "records": records},
    }


def test_account_updates_and_history_inserts_are_one_api_call_with_per_subrequest_results(
    sim: SalesforceSimulator,
) -> None:
    # Given two accounts, one of them deleted since the batch read it
    live = sim.create("Account", {"Name": "Muster AG"})
    gone = sim.create("Account", {"Name": "Gone GmbH"})
    sim.delete("Account", gone)
    before = sim.rest.used
    # When the worker sends the write-back and the history together, allOrNone false
    response = _composite(
        sim,
        {
            "allOrNone": False,
            "compositeRequest": [
                _collection(
                    "accounts0",
                    "PATCH",
                    [
                        {"attributes": {"type": "Account"}, "Id": live, "Stripe_Sync_Status__c": "Synced"},
                        {"attributes": {"type": "Account"}, "Id": gone, "Stripe_Sync_Status__c": "Synced"},
                    ],
                ),
                _collection("history0", "POST", [_history(live), _history(gone)]),
            ],
        },
    )
    # Then it counted as one API call, and each subrequest answered per record, in order
    assert response.status_code == 200 and sim.rest.used == before + 1
    answers = {item["referenceId"]: item for item in response.json()["compositeResponse"]}
    assert [r["success"] for r in answers["accounts0"]["body"]] == [True, False]
    assert [r["success"] for r in answers["history0"]["body"]] == [True, False]
    # And the refused records cost only themselves: the live account's update and history are saved
    assert sim.get("Account", live)["Stripe_Sync_Status__c"] == "Synced"  # type: ignore[index]
    saved = sim.get("Stripe_Sync_Record__c", answers["history0"]["body"][0]["id"])
    assert saved is not None and saved["Account__c"] == live and saved["Name"].startswith("SSR-")


def test_more_than_five_collection_subrequests_are_refused_as_salesforce_documents(sim: SalesforceSimulator) -> None:
    # Given six sObject Collections subrequests in one Composite request
    account = sim.create("Account", {"Name": "Muster AG"})
    subrequests = [_collection(f"history{i}", "POST", [_history(account)]) for i in range(6)]
    # Then Salesforce's limit refuses the request, and nothing is written
    response = _composite(sim, {"allOrNone": False, "compositeRequest": subrequests})
    assert response.status_code == 400
    assert not sim.store.records("Stripe_Sync_Record__c")


def test_history_is_the_accounts_child_relationship_and_links_to_the_stripe_dashboard(
    sim: SalesforceSimulator,
) -> None:
    # Given a history record of a synced account, in an org whose Stripe Dashboard setting says test mode
    sim.set_org_default("Stripe_Sync_Dashboard__c", {"Test_Mode__c": True})
    account = sim.create("Account", {"Name": "Muster AG"})
    sim.create("Stripe_Sync_Record__c", {**_history(account), "Stripe_Customer_ID__c": "cus_Q1w2E3r4"})
    # When the account is read with its related list, as a report or the record page does
    sf_records = requests.get(
        f"{sim.instance_url}/services/data/v{VERSION}/query",
        params={
            "q": format_soql(
                "SELECT Id, (SELECT Outcome__c, Stripe_Dashboard_Link__c FROM Stripe_Sync_Records__r) "
                "FROM Account WHERE Id = {}",
                account,
            )
        },
        headers={"Authorization": f"Bearer {sim.issue_token()}"},
        verify=sim.ca_bundle_path,
        timeout=10,
    ).json()["records"]
    # Then the record is there, its link opening the customer in the test-mode Dashboard
    (history,) = sf_records[0]["Stripe_Sync_Records__r"]["records"]
    assert history["Outcome__c"] == "Updated"
    assert history["Stripe_Dashboard_Link__c"].startswith('<a href="https://dashboard.stripe.com/test/customers/cus_')


def test_collections_delete_removes_expired_history(sim: SalesforceSimulator) -> None:
    # Given two history records
    account = sim.create("Account", {"Name": "Muster AG"})
    first = sim.create("Stripe_Sync_Record__c", _history(account))
    second = sim.create("Stripe_Sync_Record__c", _history(account))
    # When retention deletes one of them with sObject Collections
    response = requests.delete(
        f"{sim.instance_url}{COLLECTIONS}",
        params={"ids": first, "allOrNone": "false"},
        headers={"Authorization": f"Bearer {sim.issue_token()}"},
        verify=sim.ca_bundle_path,
        timeout=10,
    )
    # Then only that one is gone
    assert response.status_code == 200 and response.json()[0]["success"] is True
    assert sim.get("Stripe_Sync_Record__c", first)["IsDeleted"] is True  # type: ignore[index]
    assert sim.get("Stripe_Sync_Record__c", second)["IsDeleted"] is False  # type: ignore[index]


@pytest.fixture
def receiver() -> Any:
    with Receiver().running() as running:
        yield running


def test_sync_now_sends_the_sync_now_message_which_the_receiver_turns_into_a_forced_manual_sync(
    sim: SalesforceSimulator, receiver: Receiver
) -> None:
    # Given the package deployed, and an account an admin just fixed
    sim.install_package(receiver.url)
    account = sim.create("Account", {"Name": "Muster AG"})
    assert sim.outbound.wait_idle()
    receiver.requests.clear()
    # When the admin presses "Sync to Stripe now"
    sim.quick_action("Account", account, "Sync_to_Stripe_Now")
    assert sim.outbound.wait_idle()
    # Then the Stripe Sync Now message arrives, carrying when it was pressed
    requests_ = [
        r
        for body in receiver.requests
        for r in from_outbound_message(parse_outbound_message(body["body"].encode(), max_bytes=1_000_000)).requests
    ]
    manual = [r for r in requests_ if r.source is TriggerSource.MANUAL]
    assert len(manual) == 1 and manual[0].force and manual[0].account_id == account
    # And the account's ordinary message (the save is a person's edit) stays an ordinary, unforced one
    assert all(not r.force for r in requests_ if r.source is TriggerSource.OUTBOUND_MESSAGE)
    # When someone else edits the account, no manual sync is queued
    receiver.requests.clear()
    sim.update("Account", account, {"Phone": "+49 30 1234567"})
    assert sim.outbound.wait_idle()
    bodies = [parse_outbound_message(b["body"].encode(), max_bytes=1_000_000) for b in receiver.requests]
    assert bodies and all(
        r.source is TriggerSource.OUTBOUND_MESSAGE for m in bodies for r in from_outbound_message(m).requests
    )


def test_history_follows_its_account_deleted_with_it_and_moved_by_a_merge(sim: SalesforceSimulator) -> None:
    # Given two accounts with a history record each
    kept, merged, deleted = (sim.create("Account", {"Name": n}) for n in ("Kept", "Merged", "Deleted"))
    kept_history = sim.create("Stripe_Sync_Record__c", _history(merged))
    gone_history = sim.create("Stripe_Sync_Record__c", _history(deleted))
    # When one account is merged into another and a third is deleted
    sim.merge("Account", kept, [merged])
    sim.delete("Account", deleted)
    # Then the merged account's history moved to the survivor, and the deleted account's went with it
    assert (sim.get("Stripe_Sync_Record__c", kept_history) or {})["Account__c"] == kept
    assert (sim.get("Stripe_Sync_Record__c", gone_history) or {})["IsDeleted"] is True
