"""Salesforce simulator: Outbound Messages, the /_sim/ control API and the CLI."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from defusedxml import ElementTree as SafeET

from devtools.salesforce_sim import SalesforceSimulator
from tests.devtools.salesforce_sim_helpers import ACK, Receiver

NS = {
    "soapenv": "http://schemas.xmlsoap.org/soap/envelope/",
    "om": "http://soap.sforce.com/2005/09/outbound",
    "sf": "urn:sobject.enterprise.soap.sforce.com",
}
SAMPLE = Path("/work/shared/salesforce/samples/outbound_message_create_account.xml")


@pytest.fixture
def sim(sim: SalesforceSimulator) -> SalesforceSimulator:
    """The running simulator (tests/conftest.py), retrying failed deliveries within a test's time."""
    sim.outbound.retry_base_seconds = 0.02
    sim.outbound.retry_max_seconds = 0.1
    return sim


def _notifications(body: str) -> list[Any]:
    root = SafeET.fromstring(body)
    return root.findall("./soapenv:Body/om:notifications/om:Notification", NS)


def _tags(body: str) -> list[str]:
    return [el.tag.split("}")[1] for el in _notifications(body)[0].find("om:sObject", NS)]


def test_acknowledged_message_matches_the_sample_shape_and_omits_nulls(sim) -> None:
    with Receiver().running() as receiver:
        # Given an outbound message on Account selecting fields, Phone left null
        handle = sim.add_outbound_message("AccountSync", "Account", ["Name", "Phone", "LastModifiedDate"], receiver.url)
        # When an account is created
        account = sim.create("Account", {"Name": "Ben & Jerry's <Ice>"})
        assert sim.outbound.wait_idle(5)
        # Then one acknowledged delivery is recorded
        [delivery] = sim.outbound.deliveries
        assert delivery["acked"] and delivery["status"] == 200 and delivery["attempt"] == 1
        assert delivery["record_ids"] == [account] and delivery["notification_ids"] == handle.notification_ids
        # And the POST looks like Salesforce's: headers, envelope, ids, escaping, null field absent
        request = receiver.requests[0]
        assert request["headers"]["Content-Type"] == "text/xml; charset=UTF-8"
        assert request["headers"]["SOAPAction"] == '""'
        body = request["body"]
        root = SafeET.fromstring(body)
        notifications = root.find("./soapenv:Body/om:notifications", NS)
        assert notifications.findtext("om:OrganizationId", namespaces=NS) == sim.org_id
        assert re.fullmatch(r"04k\w{15}", notifications.findtext("om:ActionId", namespaces=NS))
        assert '<SessionId xsi:nil="true"/>' in body
        assert notifications.findtext("om:PartnerUrl", namespaces=NS) == (
            f"{sim.instance_url}/services/Soap/u/59.0/{sim.org_id[:15]}"
        )
        assert re.fullmatch(r"04l\w{15}", _notifications(body)[0].findtext("om:Id", namespaces=NS))
        assert 'xsi:type="sf:Account" xmlns:sf="urn:sobject.enterprise.soap.sforce.com"' in body
        assert _tags(body) == ["Id", "Name", "LastModifiedDate"]
        assert "Ben &amp; Jerry's &lt;Ice&gt;" in body
        assert re.search(r"<sf:LastModifiedDate>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z<", body)
        # And the element layout is the sample's
        sample_tags = [el.tag for el in SafeET.parse(SAMPLE).getroot().iter()][:8]
        assert [el.tag for el in root.iter()][:8] == sample_tags


@pytest.mark.vendor_doc(
    "https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_om_outboundmessaging_notifications.htm",
    "a SOAP message carries up to 100 notifications; more calls are batched into several messages",
)
def test_150_notifications_while_paused_go_out_as_two_messages(sim) -> None:
    with Receiver().running() as receiver:
        sim.add_outbound_message("AccountSync", "Account", ["Name"], receiver.url)
        # Given deliveries are held while 150 accounts are created
        sim.outbound.pause()
        for i in range(150):
            sim.create("Account", {"Name": f"A{i}"})
        assert sim.outbound.pending() == 150 and not sim.outbound.deliveries
        # When deliveries resume
        sim.outbound.resume()
        assert sim.outbound.wait_idle(5)
        # Then 2 SOAP messages carry 100 and 50 notifications
        assert sorted(len(d["notification_ids"]) for d in sim.outbound.deliveries) == [50, 100]
        assert sorted(len(_notifications(r["body"])) for r in receiver.requests) == [50, 100]


@pytest.mark.vendor_doc(
    "https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_om_outboundmessaging_notifications.htm",
    "an undelivered message is retried, with growing intervals, for 24 hours",
)
def test_failed_deliveries_are_retried_until_acknowledged(sim) -> None:
    # Given a receiver that answers 500 twice, then acks
    with Receiver([(500, b"oops"), (500, b"oops")]).running() as receiver:
        sim.add_outbound_message("AccountSync", "Account", ["Name"], receiver.url)
        # When a record is created
        sim.create("Account", {"Name": "Acme"})
        assert sim.outbound.wait_idle(5)
        # Then the same message went 3 times and only the last was acknowledged
        deliveries = sim.outbound.deliveries
        assert [(d["attempt"], d["status"], d["acked"]) for d in deliveries] == [
            (1, 500, False),
            (2, 500, False),
            (3, 200, True),
        ]
        assert len({d["message_id"] for d in deliveries}) == 1
        assert sim.outbound.pending() == 0


@pytest.mark.vendor_doc(
    "https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_om_outboundmessaging_notifications.htm",
    "only an Ack counts as delivered; anything else is retried",
)
def test_http_200_without_ack_true_is_not_delivered(sim) -> None:
    nack = ACK.replace(b"<Ack>true</Ack>", b"<Ack>false</Ack>")
    with Receiver([(200, nack), (200, b"not xml")]).running() as receiver:
        sim.add_outbound_message("AccountSync", "Account", ["Name"], receiver.url)
        sim.create("Account", {"Name": "Acme"})
        assert sim.outbound.wait_idle(5)
        assert [d["acked"] for d in sim.outbound.deliveries] == [False, False, True]


@pytest.mark.vendor_doc(
    "https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_om_outboundmessaging_notifications.htm",
    "a record changed after its notification was queued is delivered with its latest data only",
)
def test_latest_data_is_sent_when_the_record_changed_before_delivery(sim) -> None:
    with Receiver().running() as receiver:
        sim.add_outbound_message("AccountSync", "Account", ["Name", "Phone"], receiver.url)
        # Given a paused queue, a create then an update clearing Phone
        sim.outbound.pause()
        account = sim.create("Account", {"Name": "Old", "Phone": "123"})
        sim.update("Account", account, {"Name": "New", "Phone": None})
        # When delivered now
        results = sim.outbound.send_now()
        # Then both notifications carry the current data: new name, no Phone element
        assert len(results) == 1 and results[0]["acked"]
        body = receiver.requests[0]["body"]
        assert len(_notifications(body)) == 2
        assert "<sf:Name>New</sf:Name>" in body and "Old" not in body and "Phone" not in body


@pytest.mark.vendor_doc(
    "https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_om_outboundmessaging_notifications.htm",
    "messages are retried independently of their order: delivery can be out of order",
)
def test_send_now_filter_reorders_and_criteria_limit_firing(sim) -> None:
    with Receiver().running() as receiver:
        # Given a definition firing only when an order becomes Activated
        sim.add_outbound_message(
            "OrderActivated",
            "Order",
            ["Status", "AccountId"],
            receiver.url,
            criteria=lambda old, new: new["Status"] == "Activated" and (old is None or old["Status"] != "Activated"),
        )
        sim.outbound.pause()
        account = sim.create("Account", {"Name": "Acme"})
        first = sim.create("Order", {"AccountId": account, "EffectiveDate": "2026-01-01"})
        second = sim.create("Order", {"AccountId": account, "EffectiveDate": "2026-01-02"})
        sim.update("Order", first, {"Status": "Activated"})
        sim.update("Order", second, {"Status": "Activated"})
        sim.update("Order", second, {"EffectiveDate": "2026-02-02"})  # no new firing
        assert sim.outbound.pending() == 2
        # When the second order's notification is sent before the first
        sim.outbound.send_now(lambda n: n["record_id"] == second)
        sim.outbound.send_now()
        # Then deliveries arrive out of creation order
        assert [d["record_ids"] for d in sim.outbound.deliveries] == [[second], [first]]


@pytest.mark.vendor_doc(
    "https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_om_outboundmessaging_notifications.htm",
    "a message can be delivered more than once",
)
def test_duplicates_are_redelivered_when_asked(sim) -> None:
    with Receiver().running() as receiver:
        sim.outbound.duplicate_rate = 1.0
        sim.add_outbound_message("AccountSync", "Account", ["Name"], receiver.url)
        sim.create("Account", {"Name": "Acme"})
        assert sim.outbound.wait_idle(5)
        first, again = sim.outbound.deliveries
        assert again["duplicate"] and again["notification_ids"] == first["notification_ids"]


@pytest.mark.vendor_doc(
    "https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_om_outboundmessaging_notifications.htm",
    "messages older than 24 hours are dropped",
)
def test_delete_never_fires_and_undelivered_notifications_expire(sim) -> None:
    with Receiver([(503, b"down")] * 50).running() as receiver:
        sim.add_outbound_message("AccountSync", "Account", ["Name"], receiver.url)
        sim.outbound.expire_after_seconds = 0.3
        account = sim.create("Account", {"Name": "Acme"})
        sim.delete("Account", account)
        assert sim.outbound.wait_idle(3)  # gave up after expiry
        assert sim.outbound.expired and not any(d["acked"] for d in sim.outbound.deliveries)
        assert all(d["record_ids"] == [account] for d in sim.outbound.deliveries)


def test_control_api_drives_records_outbound_and_sessions(sim) -> None:
    base = f"{sim.instance_url}/_sim"
    with Receiver().running() as receiver:
        # Given an outbound definition with declarative criteria, added over HTTP
        definition = {
            "name": "OrderActivated",
            "sobject": "Order",
            "fields": ["Status"],
            "endpoint_url": receiver.url,
            "criteria": {"field": "Status", "equals": "Activated", "on": "change"},
        }
        assert requests.post(f"{base}/outbound", json=definition, timeout=5).status_code == 201
        # When records are created and updated over HTTP
        account = requests.post(f"{base}/records/Account", json={"Name": "Acme"}, timeout=5).json()["id"]
        order = requests.post(
            f"{base}/records/Order", json={"AccountId": account, "EffectiveDate": "2026-01-01"}, timeout=5
        ).json()["id"]
        requests.patch(f"{base}/records/Order/{order}", json={"Status": "Activated"}, timeout=5).raise_for_status()
        requests.patch(f"{base}/records/Order/{order}", json={"Status": "Activated"}, timeout=5).raise_for_status()
        assert sim.outbound.wait_idle(5)
        # Then the record reads back and exactly one activation was delivered
        record = requests.get(f"{base}/records/Order/{order}", timeout=5).json()
        assert record["Status"] == "Activated" and record["ActivatedDate"].endswith("+0000")
        deliveries = requests.get(f"{base}/outbound/deliveries", timeout=5).json()
        assert [d["record_ids"] for d in deliveries] == [[order]]
        # And merge, session expiry and unknown fields work over HTTP too
        loser = requests.post(f"{base}/records/Account", json={"Name": "Dup"}, timeout=5).json()["id"]
        assert requests.post(f"{base}/merge", json={"winner": account, "losers": [loser]}, timeout=5).ok
        assert sim.get("Account", loser)["MasterRecordId"] == account
        token = sim.issue_token()
        assert requests.post(f"{base}/expire_sessions", timeout=5).ok
        assert not sim.auth.is_valid(token)
        bad = requests.post(f"{base}/records/Account", json={"Nope__c": 1}, timeout=5)
        assert bad.status_code == 400 and bad.json()[0]["errorCode"] == "INVALID_FIELD"


def test_cli_prints_instance_url_and_stops_on_sigterm() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "devtools.salesforce_sim", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert process.stdout is not None
    try:
        info = json.loads(process.stdout.readline())
        assert re.fullmatch(r"https://127\.0\.0\.1:\d+", info["instance_url"])
        bundle = Path(info["ca_bundle_path"])
        response = requests.get(f"{info['instance_url']}/_sim/api_calls", verify=str(bundle), timeout=5)
        assert response.json() == {}
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        time.sleep(0.05)
        assert not bundle.exists()
    finally:
        process.kill()
        process.stdout.close()
