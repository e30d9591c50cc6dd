"""Salesforce simulator: describe, field-level security per user, API versions, SOAP login's end, CPQ.

Salesforce applies the running user's field-level security to describe (hidden fields are left out,
read-only ones are not updateable), to SOQL (a hidden field is "No such column") and to writes
(INVALID_FIELD_FOR_INSERT_UPDATE for read-only); see devtools/salesforce_sim/security.py for the sources.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceAuthenticationFailed, SalesforceMalformedRequest

from devtools.salesforce_sim import SalesforceSimulator, mount_login_redirect

USER = "integration@acme.example"


@pytest.fixture
def sim(sim: SalesforceSimulator) -> SalesforceSimulator:
    """The running simulator (tests/conftest.py) with the integration user."""
    sim.add_user(USER, "pw")
    return sim


def as_user(sim: SalesforceSimulator, username: str = USER) -> Salesforce:
    return Salesforce(instance_url=sim.instance_url, session_id=sim.issue_token(username))


def fields_of(describe: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["name"]: f for f in describe["fields"]}


@pytest.mark.vendor_doc(
    "https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_sobject_describe.htm",
    "describe lists each field with its type and whether the user may update it",
)
def test_describe_lists_fields_with_type_and_update_access(sim: SalesforceSimulator) -> None:
    # Given an org with a custom checkbox; When the Account is described
    sim.add_field("Account", "Tax_Exempt__c", "boolean")
    described = as_user(sim).Account.describe()
    fields = fields_of(described)
    # Then each field carries its type, updateability and relationship as Salesforce names them
    assert described["name"] == "Account" and described["keyPrefix"] == "001"
    assert fields["Tax_Exempt__c"]["type"] == "boolean" and fields["Tax_Exempt__c"]["custom"] is True
    assert fields["Name"]["updateable"] is True and fields["Id"]["updateable"] is False
    assert fields["ParentId"]["relationshipName"] == "Parent" and fields["ParentId"]["referenceTo"] == ["Account"]
    assert {"childSObject": "Order", "field": "AccountId", "relationshipName": "Orders"} in described[
        "childRelationships"
    ]


@pytest.mark.vendor_doc(
    "https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_sobject_describe.htm",
    "field-level security hides a field from describe and SOQL for that user",
)
def test_a_field_hidden_from_the_integration_user_is_missing_from_describe_and_soql(sim: SalesforceSimulator) -> None:
    # Given field-level security hiding Description from the integration user only
    sim.set_field_access("Account", "Description", "none", user=USER)
    sim.create("Account", {"Name": "Acme", "Description": "secret"})
    # When that user describes and queries, Then the field is not there and SOQL says "No such column"
    assert "Description" not in fields_of(as_user(sim).Account.describe())
    with pytest.raises(SalesforceMalformedRequest) as err:
        as_user(sim).query("SELECT Id, Description FROM Account")
    assert err.value.content[0]["errorCode"] == "INVALID_FIELD"
    assert "No such column 'Description' on entity 'Account'" in err.value.content[0]["message"]
    # And another user still sees it
    assert "Description" in fields_of(as_user(sim, "").Account.describe())


def test_a_hidden_lookup_hides_its_relationship(sim: SalesforceSimulator) -> None:
    sim.set_field_access("Order", "SBQQ__Quote__c", "none")
    with pytest.raises(SalesforceMalformedRequest) as err:
        as_user(sim).query("SELECT Id, SBQQ__Quote__r.SBQQ__PrimaryContact__c FROM Order")
    assert "Didn't understand relationship 'SBQQ__Quote__r'" in err.value.content[0]["message"]


def test_a_read_only_field_is_not_updateable_and_its_write_is_refused(sim: SalesforceSimulator) -> None:
    # Given the Stripe ID field read-only for the integration user
    sim.set_field_access("Account", "Stripe_Customer_ID__c", "read", user=USER)
    account = sim.create("Account", {"Name": "Acme"})
    sf = as_user(sim)
    # When described, Then it is readable but not updateable
    field = fields_of(sf.Account.describe())["Stripe_Customer_ID__c"]
    assert field["updateable"] is False and field["createable"] is False
    # When written through sObject Collections, Then Salesforce's INVALID_FIELD_FOR_INSERT_UPDATE
    body = {"allOrNone": False, "records": [{"attributes": {"type": "Account"}, "id": account,
                                             "Stripe_Customer_ID__c": "cus_1"}]}  # fmt: skip
    [result] = sf.restful("composite/sobjects", method="PATCH", json=body)
    assert result["success"] is False
    assert result["errors"][0]["statusCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    assert (sim.get("Account", account) or {}).get("Stripe_Customer_ID__c") is None


def test_sessions_from_a_login_run_as_the_logged_in_user(sim: SalesforceSimulator) -> None:
    # Given Description hidden from the user who logs in with username and password (SOAP login)
    sim.set_field_access("Account", "Description", "none", user=USER)
    session = mount_login_redirect(requests.Session(), sim.instance_url, ("login",))
    sf = Salesforce(username=USER, password="pw", security_token="", session=session)
    # Then that session's describe applies the user's field-level security
    assert "Description" not in fields_of(sf.Account.describe())


@pytest.mark.vendor_doc(
    "https://help.salesforce.com/s/articleView?id=005132110&type=1",
    "SOAP login() is not available from API version 65.0 and is retired in Summer '27",
)
def test_soap_login_is_not_offered_from_api_version_65(sim: SalesforceSimulator) -> None:
    # Given / When a password login at API 65.0 (Salesforce: login() is not available in 65.0 and later)
    session = mount_login_redirect(requests.Session(), sim.instance_url, ("login",))
    with pytest.raises(SalesforceAuthenticationFailed) as err:
        Salesforce(username=USER, password="pw", security_token="", session=session, version="65.0")
    # Then it fails; at 64.0 it still works
    assert err.value.code == "UNSUPPORTED_API_VERSION"
    Salesforce(username=USER, password="pw", security_token="", session=session, version="64.0")


@pytest.mark.vendor_doc(
    "https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_versions.htm",
    "the versions resource lists the API versions the org offers",
)
def test_versions_resource_lists_the_supported_api_versions(sim: SalesforceSimulator) -> None:
    # When GET /services/data/ is asked (no session needed)
    versions = requests.get(f"{sim.instance_url}/services/data/", timeout=5).json()
    # Then it lists 31.0 (the oldest not retired) up to the org's newest, and older ones answer 404
    assert versions[0]["version"] == "31.0" and versions[-1]["version"] == "66.0"
    assert versions[0]["url"] == "/services/data/v31.0"
    sf = as_user(sim)
    assert requests.get(f"{sim.instance_url}/services/data/v30.0/limits", timeout=5,
                        headers={"Authorization": f"Bearer {sf.session_id}"}).status_code == 404  # fmt: skip


def test_an_org_without_cpq_has_no_quote_object(monkeypatch: pytest.MonkeyPatch) -> None:
    with SalesforceSimulator(cpq=False) as sim:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", sim.ca_bundle_path)
        sf = Salesforce(instance_url=sim.instance_url, session_id=sim.issue_token())
        assert "SBQQ__Quote__c" not in fields_of(sf.Order.describe())
        assert sf.restful("sobjects/Account/describe")["name"] == "Account"
        with pytest.raises(Exception) as err:
            sf.restful("sobjects/SBQQ__Quote__c/describe")
        assert getattr(err.value, "status", None) == 404
