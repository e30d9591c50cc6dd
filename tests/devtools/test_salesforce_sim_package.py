"""The org simulator runs on salesforce/: its fields, Outbound Messages and Flows are the package's."""

from __future__ import annotations

import pytest
import requests

from devtools.salesforce_sim import SalesforceSimulator
from devtools.salesforce_sim.outbound import OutboundMessage
from devtools.salesforce_sim.package import load_package

INTEGRATION_USER = "integration@example.com"
UNREACHABLE = "https://127.0.0.1:9/outbound-message?token=t"


@pytest.fixture
def sim(sim: SalesforceSimulator) -> SalesforceSimulator:
    """The running simulator (tests/conftest.py), its outbound queue paused."""
    sim.outbound.pause()  # keep what fires queued, to count it
    return sim


@pytest.fixture
def messages(sim: SalesforceSimulator) -> dict[str, OutboundMessage]:
    return {handle.name: handle for handle in sim.install_package(UNREACHABLE)}


def sent(message: OutboundMessage) -> int:
    return len(message.notification_ids)


def test_account_fields_and_outbound_messages_are_the_packages(
    sim: SalesforceSimulator, messages: dict[str, OutboundMessage]
) -> None:
    package = load_package()
    for definition in package.fields_of("Account"):
        field = sim.schema.require("Account").field(definition.name)
        assert field is not None and field.length == definition.length
    assert {name: m.fields for name, m in messages.items()} == {
        m.name: list(m.fields) for m in package.outbound_messages
    }


def test_rule_r1_order_message_fires_once_when_its_status_category_becomes_activated(
    sim: SalesforceSimulator, messages: dict[str, OutboundMessage]
) -> None:
    # Given a draft order
    account = sim.create("Account", {"Name": "Muster AG"})
    order = sim.create("Order", {"AccountId": account, "EffectiveDate": "2026-01-01", "Status": "Draft"})
    assert sent(messages["Stripe_Order_Activated"]) == 0
    # When it is activated, and edited afterwards
    sim.update("Order", order, {"Status": "Activated"})
    sim.update("Order", order, {"EffectiveDate": "2026-01-02"})
    # Then the Flow sent the message once: when the order was updated to meet its condition
    assert sent(messages["Stripe_Order_Activated"]) == 1


def test_integration_users_own_changes_send_no_account_message(
    sim: SalesforceSimulator, messages: dict[str, OutboundMessage]
) -> None:
    # Given the integration user with the package's permission set (the custom permission the Flow checks)
    sim.add_user(INTEGRATION_USER, "pw")
    sim.assign_permission_set(INTEGRATION_USER, "Stripe_Sync_Integration")
    account = sim.create("Account", {"Name": "Muster AG"})
    assert sent(messages["Stripe_Account_Sync"]) == 1
    # When the sync writes the customer id back through the API as that user
    token = sim.issue_token(INTEGRATION_USER)
    response = requests.patch(
        f"{sim.instance_url}/services/data/v59.0/sobjects/Account/{account}",
        json={"Stripe_Customer_ID__c": "cus_1"},
        headers={"Authorization": f"Bearer {token}"},
        verify=sim.ca_bundle_path,
        timeout=10,
    )
    assert response.status_code == 204
    # Then no message goes back; a person's change still sends one
    assert sent(messages["Stripe_Account_Sync"]) == 1
    sim.update("Account", account, {"Phone": "+49 30 1234567"})
    assert sent(messages["Stripe_Account_Sync"]) == 2


def test_a_user_without_the_permission_set_still_triggers_the_message(
    sim: SalesforceSimulator, messages: dict[str, OutboundMessage]
) -> None:
    sim.add_user("someone@example.com", "pw")
    account = sim.create("Account", {"Name": "Muster AG"})
    token = sim.issue_token("someone@example.com")
    response = requests.patch(
        f"{sim.instance_url}/services/data/v59.0/sobjects/Account/{account}",
        json={"Phone": "+49 30 1"},
        headers={"Authorization": f"Bearer {token}"},
        verify=sim.ca_bundle_path,
        timeout=10,
    )
    assert response.status_code == 204
    assert sent(messages["Stripe_Account_Sync"]) == 2


def test_unknown_permission_set_is_refused(sim: SalesforceSimulator) -> None:
    sim.add_user(INTEGRATION_USER, "pw")
    with pytest.raises(ValueError, match="Stripe_Sync_Typo"):
        sim.assign_permission_set(INTEGRATION_USER, "Stripe_Sync_Typo")
