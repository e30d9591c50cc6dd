"""Salesforce simulator: REST/SOQL, OAuth and SOAP logins, driven through the real simple-salesforce client."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
import requests
from simple_salesforce import Salesforce, format_soql
from simple_salesforce.exceptions import (
    SalesforceAuthenticationFailed,
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

from devtools.local_runtime.salesforce_login import rsa_key_pair
from devtools.salesforce_sim import SalesforceSimulator, mount_login_redirect
from devtools.salesforce_sim.ids import canonical, to18


def _first_error(exc: Exception) -> dict[str, Any]:
    """First item of the JSON error array simple-salesforce keeps on `.content`."""
    content: Any = getattr(exc, "content", None)
    return dict(content[0])


def _redirected_session(sim: SalesforceSimulator, *domains: str) -> requests.Session:
    return mount_login_redirect(requests.Session(), sim.instance_url, ("login", "test", *domains))


# ---- ids ------------------------------------------------------------------------------------------
@pytest.mark.vendor_doc(
    "https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/field_types.htm",
    "an 18-character id is the 15-character id plus a case-safe checksum suffix",
)
def test_ids_checksum_matches_published_vectors_and_restores_case() -> None:
    # Given the published 15 → 18 vectors; When converted; Then the checksums match
    assert to18("001D000000IqhSL") == "001D000000IqhSLIAZ"
    assert to18("003RO0000035WQg") == "003RO0000035WQgYAM"
    # And an 18-char id with its case mangled is restored, a bad checksum is rejected
    assert canonical("001d000000iqhslIAZ") == "001D000000IqhSLIAZ"
    assert canonical("001D000000IqhSL999") is None


# ---- query shapes ---------------------------------------------------------------------------------
def test_query_renders_relationship_paths_null_lookups_and_child_subqueries(sim, sf) -> None:
    # Given an activated order whose quote has a primary contact, and an account without orders
    acme = sim.create("Account", {"Name": "Acme", "BillingCity": "Paris"})
    empty = sim.create("Account", {"Name": "Empty"})
    jane = sim.create("Contact", {"AccountId": acme, "FirstName": "Jane", "LastName": "Doe", "Email": "j@x.io"})
    quote = sim.create("SBQQ__Quote__c", {"SBQQ__Account__c": acme, "SBQQ__PrimaryContact__c": jane})
    order = sim.create("Order", {"AccountId": acme, "SBQQ__Quote__c": quote, "EffectiveDate": "2026-01-01"})
    sim.update("Order", order, {"Status": "Activated"})

    # When the product-style queries run
    orders = sf.query(
        "SELECT Id, Status, SBQQ__Quote__r.SBQQ__PrimaryContact__r.Email, Account.Name, BillToContact.Email "
        "FROM Order WHERE Status = 'Activated'"
    )
    accounts = sf.query(
        format_soql(
            "SELECT Name, (SELECT Id, Status FROM Orders ORDER BY CreatedDate DESC LIMIT 1), "
            "(SELECT Email FROM Contacts) FROM Account WHERE Id IN {ids} ORDER BY Name",
            ids=[acme, empty],
        )
    )

    # Then records carry attributes first, fields in SELECT order, nested parents, null lookups
    record = orders["records"][0]
    assert list(record) == ["attributes", "Id", "Status", "SBQQ__Quote__r", "Account", "BillToContact"]
    assert record["attributes"] == {"type": "Order", "url": f"/services/data/v59.0/sobjects/Order/{order}"}
    assert record["SBQQ__Quote__r"]["attributes"]["type"] == "SBQQ__Quote__c"
    assert record["SBQQ__Quote__r"]["SBQQ__PrimaryContact__r"]["Email"] == "j@x.io"
    assert record["Account"]["Name"] == "Acme"
    assert record["BillToContact"] is None
    # And a child subquery is {totalSize, done, records}, or null when empty
    acme_row, empty_row = accounts["records"]
    assert acme_row["Orders"]["totalSize"] == 1 and acme_row["Orders"]["done"] is True
    assert acme_row["Orders"]["records"][0]["Status"] == "Activated"
    assert acme_row["Contacts"]["records"][0]["Email"] == "j@x.io"
    assert empty_row["Orders"] is None and empty_row["Contacts"] is None


@pytest.mark.vendor_doc(
    "https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_calls_merge.htm",
    "a merge deletes the losers (queryAll sees them, with MasterRecordId) and moves their children to the winner",
)
def test_query_all_sees_merged_loser_with_master_record_id_and_children_move(sim, sf) -> None:
    # Given a winner and a loser that has a contact and an order
    winner = sim.create("Account", {"Name": "Winner"})
    loser = sim.create("Account", {"Name": "Loser"})
    contact = sim.create("Contact", {"AccountId": loser, "LastName": "Moved"})
    sim.create("Order", {"AccountId": loser, "EffectiveDate": "2026-01-01"})

    # When they are merged
    sim.merge("Account", winner, [loser])

    # Then query no longer sees the loser, queryAll does, with MasterRecordId = winner
    assert sf.query("SELECT Id FROM Account")["totalSize"] == 1
    deleted = sf.query_all(
        format_soql("SELECT Id, IsDeleted, MasterRecordId FROM Account WHERE Id = {}", loser), include_deleted=True
    )
    assert deleted["records"][0]["IsDeleted"] is True
    assert deleted["records"][0]["MasterRecordId"] == winner
    # And the loser's children now belong to the winner
    assert sim.get("Contact", contact)["AccountId"] == winner
    rows = sf.query(
        format_soql("SELECT (SELECT Id FROM Orders), (SELECT Id FROM Contacts) FROM Account WHERE Id = {}", winner)
    )
    assert rows["records"][0]["Orders"]["totalSize"] == 1 and rows["records"][0]["Contacts"]["totalSize"] == 1


def test_fifteen_char_ids_are_accepted_and_answered_as_eighteen(sim, sf) -> None:
    # Given an account
    account = sim.create("Account", {"Name": "Acme"})
    short = account[:15]
    # When addressed with its 15-char id in WHERE and in the path
    found = sf.query(format_soql("SELECT Id FROM Account WHERE Id = {}", short))
    got = sf.Account.get(short)
    status = sf.Account.update(short, {"Phone": "+1 555"})
    # Then the API answers 18-char ids and the update lands
    assert found["records"][0]["Id"] == account and got["Id"] == account
    assert status == 204 and sim.get("Account", account)["Phone"] == "+1 555"


@pytest.mark.vendor_doc(
    "https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_query.htm",
    "query results come in batches followed through nextRecordsUrl",
)
def test_query_more_follows_next_records_url_in_pages_of_2000(sim, sf) -> None:
    # Given 2100 accounts
    for i in range(2100):
        sim.create("Account", {"Name": f"A{i:04d}"})
    # When the first page is read
    first = sf.query("SELECT Id, Name FROM Account ORDER BY Name")
    # Then it holds 2000 records, done is false and nextRecordsUrl is an absolute path
    assert (first["totalSize"], first["done"], len(first["records"])) == (2100, False, 2000)
    assert first["nextRecordsUrl"].startswith("/services/data/v59.0/query/01g")
    # And query_all follows it to the end
    everything = sf.query_all("SELECT Id, Name FROM Account ORDER BY Name")
    assert len(everything["records"]) == 2100 and everything["records"][-1]["Name"] == "A2099"


@pytest.mark.vendor_doc(
    "https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/headers_queryoptions.htm",
    "Sforce-Query-Options batchSize sets the batch (200 to 2,000 rows)",
)
def test_batch_size_header_sets_the_page_and_child_records_count_towards_it(sim, sf) -> None:
    # Given 300 accounts, the first 100 (by name) with a contact each
    accounts = [sim.create("Account", {"Name": f"A{i:04d}"}) for i in range(300)]
    for account in accounts[:100]:
        sim.create("Contact", {"AccountId": account, "LastName": "C"})
    options = {"Sforce-Query-Options": "batchSize=200"}
    # When read in batches of 200 (Sforce-Query-Options), parents alone and then with their contacts
    plain = sf.query("SELECT Id FROM Account ORDER BY Name", headers=options)
    with_children = sf.query("SELECT Id, (SELECT Id FROM Contacts) FROM Account ORDER BY Name", headers={**options})
    rest = sf.query_more(with_children["nextRecordsUrl"], identifier_is_url=True, headers=options)
    # Then a batch holds 200 records, each child counting as one (Salesforce "Query Options Header")
    assert len(plain["records"]) == 200 and plain["done"] is False
    assert len(with_children["records"]) == 100 and len(rest["records"]) == 200
    assert rest["done"] is True
    # And a batch size under 200 is raised to Salesforce's minimum of 200
    small = sf.query("SELECT Id FROM Account", headers={"Sforce-Query-Options": "batchSize=10"})
    assert len(small["records"]) == 200


def test_where_operators_keywords_case_and_semi_joins(sim, sf) -> None:
    # Given accounts with and without contacts
    acme = sim.create("Account", {"Name": "Acme Corp", "BillingCountry": "France"})
    beta = sim.create("Account", {"Name": "beta", "BillingCountry": "Spain"})
    sim.create("Account", {"Name": "Gamma"})
    sim.create("Contact", {"AccountId": acme, "LastName": "O'Brien", "Email": "ob@acme.io"})

    def ids(soql: str) -> list[str]:
        return [r["Id"] for r in sf.query(soql)["records"]]

    # When/Then lower-case keywords, case-insensitive text, LIKE, NOT IN, null checks, relationship paths
    assert ids("select id from account where name = 'ACME CORP'") == [acme]
    assert ids("SELECT Id FROM Account WHERE Name LIKE 'a%' OR Name LIKE 'B%' ORDER BY Name DESC") == [beta, acme]
    assert ids("SELECT Id FROM Account WHERE BillingCountry NOT IN ('France') AND BillingCountry != null") == [beta]
    assert ids("SELECT Id FROM Account WHERE Id IN (SELECT AccountId FROM Contact WHERE Email LIKE '%acme.io')") == [
        acme
    ]
    assert len(ids("SELECT Id FROM Account WHERE Id NOT IN (SELECT AccountId FROM Contact)")) == 2
    assert len(ids("SELECT Id FROM Contact WHERE Account.BillingCountry = 'France' AND LastName = 'O\\'Brien'")) == 1
    assert (
        len(
            ids("SELECT Id FROM Account WHERE (Name = 'beta' OR Name = 'Gamma') AND CreatedDate > 2020-01-01T00:00:00Z")
        )
        == 2
    )
    # And the keys are the API names, whatever case the query used
    assert list(sf.query("select id, billingcountry from account limit 1")["records"][0]) == [
        "attributes",
        "Id",
        "BillingCountry",
    ]
    # And mixing AND/OR without parentheses is rejected, as in Salesforce
    with pytest.raises(SalesforceMalformedRequest):
        sf.query("SELECT Id FROM Account WHERE Name = 'a' AND Name = 'b' OR Name = 'c'")


# ---- errors ---------------------------------------------------------------------------------------
def test_unknown_fields_are_invalid_field_in_select_where_and_patch(sim, sf) -> None:
    account = sim.create("Account", {"Name": "Acme"})
    # Given/When a SELECT, a WHERE and a PATCH name a field that does not exist (no picklists here)
    for soql in ("SELECT Id, Billing_Email__c FROM Account", "SELECT Id FROM Account WHERE BillingCountryCode = 'US'"):
        with pytest.raises(SalesforceMalformedRequest) as caught:
            sf.query(soql)
        # Then Salesforce's INVALID_FIELD body comes back
        assert _first_error(caught.value)["errorCode"] == "INVALID_FIELD"
        assert "No such column" in _first_error(caught.value)["message"]
        assert "on entity 'Account'" in _first_error(caught.value)["message"]
    with pytest.raises(SalesforceMalformedRequest) as patched:
        sf.Account.update(account, {"Billing_Email__c": "a@b.c"})
    assert _first_error(patched.value)["errorCode"] == "INVALID_FIELD"
    # And once the custom field is added it works
    sim.add_field("Account", "Billing_Email__c")
    assert sf.Account.update(account, {"Billing_Email__c": "a@b.c"}) == 204


def test_state_country_code_fields_exist_only_with_picklists(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given an org with State/Country picklists
    with SalesforceSimulator(state_country_picklists=True) as sim:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", sim.ca_bundle_path)
        sf = Salesforce(instance_url=sim.instance_url, session_id=sim.issue_token())
        sim.create("Account", {"Name": "Acme", "BillingCountryCode": "US", "BillingStateCode": "CA"})
        # When queried; Then the code columns exist and fill the names
        row = sf.query("SELECT BillingCountry, BillingCountryCode, BillingState FROM Account")["records"][0]
        assert (row["BillingCountry"], row["BillingCountryCode"], row["BillingState"]) == (
            "United States",
            "US",
            "California",
        )


def test_malformed_query_names_the_problem(sf) -> None:
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.query("SELECT Id FRM Account")
    error = _first_error(caught.value)
    assert error["errorCode"] == "MALFORMED_QUERY"
    assert "unexpected token: FRM" in error["message"] and "ERROR at Row:1:Column:11" in error["message"]


def test_patch_of_deleted_or_unknown_record_is_not_found(sim, sf) -> None:
    account = sim.create("Account", {"Name": "Gone"})
    sim.delete("Account", account)
    for record_id in (account, "001000000000000AAA"):
        with pytest.raises(SalesforceResourceNotFound) as caught:
            sf.Account.update(record_id, {"Name": "x"})
        assert _first_error(caught.value)["errorCode"] == "NOT_FOUND"


def test_injected_failures_then_recovery_and_limit_header(sim, sf) -> None:
    # Given the next query is made to fail with 503
    sim.fail_next("query", status=503)
    # When queried twice; Then the first fails, the second succeeds
    with pytest.raises(SalesforceGeneralError):
        sf.query("SELECT Id FROM Account")
    assert sf.query("SELECT Id FROM Account")["totalSize"] == 0
    # And the Sforce-Limit-Info header was parsed by the client, both calls counted
    assert sf.api_usage["api-usage"].used == 2 and sf.api_usage["api-usage"].total == 15000
    assert sim.api_calls["query"] == 2
    assert [entry["status"] for entry in sim.request_log] == [503, 200]


@pytest.mark.vendor_doc(
    "https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/headers_api_usage.htm",
    "Sforce-Limit-Info api-usage on each REST response; REQUEST_LIMIT_EXCEEDED once the daily allowance is spent",
)
def test_the_daily_allowance_is_reported_on_every_response_and_refused_once_spent(sim, sf) -> None:
    # Given other integrations used 14,998 of the org's 15,000 daily requests
    sim.set_api_usage(14_998)
    # When the sync queries, the response's Sforce-Limit-Info (and the Limits resource) report the usage
    sf.query("SELECT Id FROM Account")
    assert (sf.api_usage["api-usage"].used, sf.api_usage["api-usage"].total) == (14_999, 15_000)
    limits = sf.limits()["DailyApiRequests"]
    assert (limits["Max"], limits["Remaining"]) == (15_000, 0)
    # Then, the allowance spent, every call is refused with 403 REQUEST_LIMIT_EXCEEDED, and not counted
    with pytest.raises(SalesforceRefusedRequest) as refused:
        sf.query("SELECT Id FROM Account")
    assert _first_error(refused.value)["errorCode"] == "REQUEST_LIMIT_EXCEEDED" and sim.rest.used == 15_000
    # When older requests leave the rolling 24 h window, calls are answered again
    sim.set_api_usage(9_000)
    assert sf.query("SELECT Id FROM Account")["totalSize"] == 0


def test_timestamps_strictly_increase_even_back_to_back(sim) -> None:
    account = sim.create("Account", {"Name": "Acme"})
    stamps = [sim.get("Account", account)["SystemModstamp"]]
    for i in range(20):
        sim.update("Account", account, {"Phone": str(i)})
        stamps.append(sim.get("Account", account)["SystemModstamp"])
    assert all(b > a for a, b in itertools.pairwise(stamps))
    assert all(s.microsecond % 1000 == 0 for s in stamps)  # millisecond resolution
    record = sim.get("Account", account)
    assert record["LastModifiedDate"] == record["SystemModstamp"] > record["CreatedDate"]


# ---- sObject Collections --------------------------------------------------------------------------
@pytest.mark.vendor_doc(
    "https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_composite_sobjects_collections_update.htm",
    "SaveResults come back in the order of the request",
)
def test_collections_patch_reports_each_record_in_request_order(sim, sf) -> None:
    # Given a live account, a deleted one, a malformed id and an unknown field
    good = sim.create("Account", {"Name": "Good"})
    deleted = sim.create("Account", {"Name": "Deleted"})
    sim.delete("Account", deleted)
    other = sim.create("Account", {"Name": "Other"})
    records = [
        {"attributes": {"type": "Account"}, "id": good, "Stripe_Customer_ID__c": "cus_1"},
        {"attributes": {"type": "Account"}, "id": deleted, "Stripe_Customer_ID__c": "cus_2"},
        {"attributes": {"type": "Account"}, "id": "001xx000003DGb2999", "Stripe_Customer_ID__c": "cus_3"},
        {"attributes": {"type": "Account"}, "id": other, "Nope__c": "x"},
    ]
    # When sent with allOrNone false
    results = sf.restful("composite/sobjects", method="PATCH", json={"allOrNone": False, "records": records})
    # Then the good record is saved and each failure carries its statusCode
    assert results[0] == {"id": good, "success": True, "errors": []}
    assert [r["errors"][0]["statusCode"] for r in results[1:]] == ["ENTITY_IS_DELETED", "MALFORMED_ID", "INVALID_FIELD"]
    assert sim.get("Account", good)["Stripe_Customer_ID__c"] == "cus_1"
    assert sim.api_calls["composite_patch"] == 1


@pytest.mark.vendor_doc(
    "https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_composite_sobjects_collections_update.htm",
    "allOrNone rolls the whole request back when one record fails",
)
def test_collections_patch_all_or_none_rolls_everything_back(sim, sf) -> None:
    good = sim.create("Account", {"Name": "Good"})
    records = [
        {"attributes": {"type": "Account"}, "id": good, "Name": "Changed"},
        {"attributes": {"type": "Account"}, "id": good[:3] + "000000000000", "Name": "Missing"},
    ]
    results = sf.restful("composite/sobjects", method="PATCH", json={"allOrNone": True, "records": records})
    assert results[0]["success"] is False
    assert results[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert (
        results[1]["success"] is False and results[1]["errors"][0]["statusCode"] != "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    )
    assert sim.get("Account", good)["Name"] == "Good"


@pytest.mark.vendor_doc(
    "https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_composite_sobjects_collections_update.htm",
    "a collection holds at most 200 records",
)
def test_collections_patch_over_200_records_or_an_outage_fails_whole(sim, sf) -> None:
    account = sim.create("Account", {"Name": "A"})
    records = [{"attributes": {"type": "Account"}, "id": account, "Name": "x"}] * 201
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.restful("composite/sobjects", method="PATCH", json={"allOrNone": False, "records": records})
    assert _first_error(caught.value)["errorCode"] == "EXCEEDED_ID_LIMIT"
    # Given an injected 500; When a valid batch is sent; Then it fails whole and nothing changed
    sim.fail_next("composite_patch", status=500)
    with pytest.raises(SalesforceGeneralError):
        sf.restful("composite/sobjects", method="PATCH", json={"allOrNone": False, "records": records[:1]})
    assert sim.get("Account", account)["Name"] == "A"


# ---- logins ---------------------------------------------------------------------------------------
@pytest.mark.vendor_doc(
    "https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_jwt_flow.htm&type=5",
    "the OAuth JWT bearer flow issues an access token for a pre-authorized user; no refresh token",
)
def test_jwt_bearer_login_and_transparent_relogin_after_session_expiry(sim) -> None:
    # Given a connected app with the test's RSA public key and a known user
    private_pem, public_pem = rsa_key_pair()
    sim.add_connected_app("ck-jwt", public_key_pem=public_pem)
    sim.add_user("integration@acme.test", "unused")
    sim.create("Account", {"Name": "Acme"})
    # When simple-salesforce logs in with the JWT bearer flow (login URL redirected to the simulator)
    sf = Salesforce(
        username="integration@acme.test",
        consumer_key="ck-jwt",
        privatekey=private_pem,
        session=_redirected_session(sim),
    )
    assert sf.query("SELECT Name FROM Account")["records"][0]["Name"] == "Acme"
    # And every session expires
    sim.expire_sessions()
    # Then the next call re-logs in transparently and succeeds
    assert sf.query("SELECT Name FROM Account")["totalSize"] == 1
    assert sim.api_calls["token"] == 2
    assert [e["status"] for e in sim.request_log if e["kind"] == "query"] == [200, 401, 200]


@pytest.mark.vendor_doc(
    "https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_jwt_flow.htm&type=5",
    "a JWT not signed with the connected app's certificate key is refused",
)
def test_jwt_signed_by_another_key_is_refused(sim) -> None:
    _, public_pem = rsa_key_pair()
    other_private, _ = rsa_key_pair()
    sim.add_connected_app("ck-jwt", public_key_pem=public_pem)
    sim.add_user("integration@acme.test", "unused")
    with pytest.raises(SalesforceAuthenticationFailed) as caught:
        Salesforce(
            username="integration@acme.test",
            consumer_key="ck-jwt",
            privatekey=other_private,
            session=_redirected_session(sim),
        )
    assert caught.value.code == "invalid_grant"


def test_soap_password_login_and_relogin(sim) -> None:
    # Given a user with a security token
    sim.add_user("ops@acme.test", "p&ss<word>", security_token="TOKEN123")
    # When logging in with username + password + token (SOAP login)
    sf = Salesforce(
        username="ops@acme.test", password="p&ss<word>", security_token="TOKEN123", session=_redirected_session(sim)
    )
    sim.expire_sessions()
    # Then REST calls work, also after the session expired
    assert sf.query("SELECT Id FROM Account")["totalSize"] == 0
    assert sim.api_calls["soap_login"] == 2
    # And a wrong password is INVALID_LOGIN
    with pytest.raises(SalesforceAuthenticationFailed) as caught:
        Salesforce(
            username="ops@acme.test", password="bad", security_token="TOKEN123", session=_redirected_session(sim)
        )
    assert caught.value.code == "INVALID_LOGIN"


def test_oauth_password_and_client_credentials_flows(sim) -> None:
    sim.add_user("ops@acme.test", "pw", security_token="TOK")
    sim.add_connected_app("ck", consumer_secret="cs")
    by_password = Salesforce(
        username="ops@acme.test",
        password="pwTOK",
        consumer_key="ck",
        consumer_secret="cs",
        session=_redirected_session(sim),
    )
    by_client = Salesforce(
        consumer_key="ck", consumer_secret="cs", domain="acme.my", session=_redirected_session(sim, "acme.my")
    )
    assert by_password.query("SELECT Id FROM Account")["totalSize"] == 0
    sim.fail_next("token", status=503)
    with pytest.raises(SalesforceAuthenticationFailed):
        Salesforce(
            consumer_key="ck", consumer_secret="cs", domain="acme.my", session=_redirected_session(sim, "acme.my")
        )
    assert by_client.query("SELECT Id FROM Account")["totalSize"] == 0
    with pytest.raises(SalesforceAuthenticationFailed):
        Salesforce(
            consumer_key="ck", consumer_secret="wrong", domain="acme.my", session=_redirected_session(sim, "acme.my")
        )


def test_direct_session_expiry_raises_expired_session(sim, sf) -> None:
    sim.expire_sessions()
    with pytest.raises(SalesforceExpiredSession):
        sf.query("SELECT Id FROM Account")
