"""An org id with the allowed org's 15 characters and another checksum suffix is not the org.

Salesforce documents the 18-character id as the 15-character id plus a checksum of its letters' case (SOAP
API Developer Guide, "ID Field Type": https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/
field_types.htm) and never sends one whose suffix does not match. Accepted, such an alias became part of the
state key, the idempotency key and the Stripe create key: a namespace of its own, and a second customer for
the same account.
"""

from __future__ import annotations

import requests

from devtools.sam.make_events import soap_message
from shared.salesforce.ids import checksum
from tests.integration.stack import Stack
from tests.integration.test_operations import customer_account, messages_dropped


def alias_of(org_id: str) -> str:
    """The org's 15 characters with a suffix that is not their checksum."""
    return org_id[:15] + ("AAA" if checksum(org_id[:15]) != "AAA" else "BAA")


def post(stack: Stack, org_id: str, account_id: str, notification_id: str) -> requests.Response:
    fields = {"Id": account_id, "SystemModstamp": "2026-12-07T09:00:00.000Z"}
    body = soap_message([(notification_id, "Account", fields)], org_id=org_id)
    headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}
    return requests.post(stack.endpoint_url, data=body, headers=headers, timeout=10)


def test_an_org_id_alias_never_makes_a_second_customer(stack: Stack) -> None:
    # Given an account whose order was activated while Salesforce's messages were not delivered (no customer)
    with messages_dropped(stack):
        account_id = customer_account(stack, Name="Alias AG")
    # When its message arrives from the org, and the same message once more under an alias of the org id
    genuine = post(stack, stack.sim.org_id, account_id, "04l5g0000000001AAA")
    forged = post(stack, alias_of(stack.sim.org_id), account_id, "04l5g0000000002AAA")
    stack.settle()
    # Then the alias is refused with a 403 whose fault names the checksum (not "organization not allowed",
    # which would send the admin looking for a missing allow-list entry), and the account has exactly one customer
    assert (genuine.status_code, forged.status_code) == (200, 403)
    assert "checksum" in forged.text and "organization not allowed" not in forged.text
    named = [c for c in stack.stripe.customers() if c["metadata"].get("salesforce_account_id") == account_id]
    assert len(named) == 1
