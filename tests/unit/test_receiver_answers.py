"""Every answer of the receiver must be one Salesforce's delivery monitor can read (aspnet/WebHooks#101)."""

from __future__ import annotations

from devtools.reliability.hostile import readable_by_salesforce
from shared.salesforce import soap


def test_an_ack_and_a_soap_fault_are_readable() -> None:
    assert readable_by_salesforce(200, soap.ACK, "text/xml; charset=utf-8")
    assert readable_by_salesforce(401, soap.fault("missing or wrong token"), "text/xml; charset=utf-8")


def test_a_json_error_body_is_not_readable() -> None:
    # The public report: a receiver that answered a wrong org id with JSON left Salesforce's monitor blank.
    assert not readable_by_salesforce(400, '{"message": "organization not allowed"}', "application/json")
    assert not readable_by_salesforce(400, '{"message": "organization not allowed"}', None)


def test_a_fault_for_a_200_or_an_ack_without_true_is_not_an_ack() -> None:
    assert not readable_by_salesforce(200, soap.fault("nope"), "text/xml")
    assert not readable_by_salesforce(200, soap.ACK.replace("true", "false"), "text/xml")
