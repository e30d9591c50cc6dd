"""A Stripe key rolled, expired or missing a permission, against the Stripe emulator and moto's Secrets Manager.

Stripe: "If a request includes a deleted or expired key, Stripe returns an authentication error"
(https://docs.stripe.com/keys); Dashboard "Roll key…" lets the old key expire "now". A restricted key beyond
its permissions gets a 403 naming the permission (https://docs.stripe.com/keys/restricted-api-keys). A warm
worker holding the old key must re-read the secret (bypassing its cache) and retry once, not retry the 401
until the DLQ; fresh credentials still refused are a configuration error naming the fix.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from shared.errors import CredentialsRefused
from shared.settings import WorkerSettings
from shared.stripe import StripeCustomerGateway
from tests.integration.conftest import StackFactory

OLD_KEY = "sk_test_rotation_old_0001"
NEW_KEY = "sk_test_rotation_new_0002"


def stripe_key_secret(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, key: str) -> tuple[Any, str]:
    """A Stripe key secret in moto's Secrets Manager (unique name: Powertools caches secrets per name)."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", moto_endpoint)
    client = boto3.client("secretsmanager", endpoint_url=moto_endpoint)
    name = f"sync/stripe-{uuid.uuid4().hex[:8]}"
    client.create_secret(Name=name, SecretString=key)
    return client, name


@pytest.fixture
def stripe_secret(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, str]]:
    """The Stripe key (this module's OLD_KEY) in moto's Secrets Manager."""
    yield stripe_key_secret(moto_endpoint, monkeypatch, OLD_KEY)


def gateway(stripe_emulator: Any, secret_name: str) -> StripeCustomerGateway:
    settings = WorkerSettings.model_validate(
        {
            "ORGANIZATION_IDS": "00D000000000001EAA",
            "SYNC_QUEUE_URL": "http://127.0.0.1:1/q",
            "STATE_TABLE_NAME": "state",
            "IDEMPOTENCY_TABLE_NAME": "idempotency",
            "STRIPE_API_KEY_SECRET_NAME": secret_name,
            "STRIPE_API_BASE": stripe_emulator.base_url,
            "STRIPE_MODE": "test",
            "SALESFORCE_SECRET_NAME": "sync/salesforce",
        }
    )
    return StripeCustomerGateway.from_settings(settings)


def test_a_rolled_key_is_read_again_at_once_and_the_request_succeeds(
    stripe_emulator: Any, stripe_secret: tuple[Any, str]
) -> None:
    # Given a gateway that used the old key (its secret cached for 300 s)
    secrets, name = stripe_secret
    stripe = gateway(stripe_emulator, name)
    customer_id = stripe.create({"name": "Muster AG"}, "create-1")
    # When the key is rolled in the Dashboard, the old one expiring now, and the secret holds the new key
    stripe_emulator.roll_key(OLD_KEY, NEW_KEY)
    secrets.put_secret_value(SecretId=name, SecretString=NEW_KEY)
    # Then the next request succeeds: the refused key made the gateway read the secret again
    stripe.update(customer_id, {"name": "Muster GmbH"})
    assert stripe_emulator.customer(customer_id)["name"] == "Muster GmbH"
    refused = [r for r in stripe_emulator.requests if r["status"] == 401]
    assert len(refused) == 1 and refused[0]["method"] == "POST"


def test_a_key_refused_again_after_the_re_read_is_credentials_refused_naming_the_fix(
    stripe_emulator: Any, stripe_secret: tuple[Any, str]
) -> None:
    # Given a gateway whose key expired and whose secret still holds it (nobody stored the new key)
    _, name = stripe_secret
    stripe = gateway(stripe_emulator, name)
    stripe_emulator.expire_key(OLD_KEY)
    # When it syncs
    with pytest.raises(CredentialsRefused) as refused:
        stripe.create({"name": "Muster AG"}, "create-2")
    # Then the error is a configuration problem naming the setting and the fix, never the key
    assert refused.value.vendor == "stripe" and not refused.value.permanent
    assert "STRIPE_API_KEY_SECRET_NAME" in str(refused.value) and "api_key_expired" in str(refused.value)
    assert "sfsync secret stripe" in str(refused.value) and OLD_KEY not in str(refused.value)
    # And the re-read secret held the same key, so it was not sent again: one request, not a retry storm
    assert len(stripe_emulator.requests) == 1


def test_a_restricted_key_without_the_tax_id_permission_names_the_permission(
    stripe_emulator: Any, stripe_secret: tuple[Any, str]
) -> None:
    # Given a restricted key with Write on Customers but no permission on Tax IDs (its own resource)
    secrets, name = stripe_secret
    restricted = "rk_test_rotation_customers_only"
    stripe_emulator.add_key(restricted, {"customers": "write"})
    secrets.put_secret_value(SecretId=name, SecretString=restricted)
    stripe = gateway(stripe_emulator, name)
    customer_id = stripe.create({"name": "Muster AG"}, "create-3")
    # When the sync adds a tax ID
    with pytest.raises(CredentialsRefused) as refused:
        stripe.add_tax_id(customer_id, "eu_vat", "DE123456789", "tax-1")
    # Then the error names the missing permission and where to give it
    assert "rak_tax_id_write" in str(refused.value) and "Dashboard" in str(refused.value)
    # When the admin gives the key Write on Tax IDs, the next try succeeds (no new key needed)
    stripe_emulator.add_key(restricted, {"customers": "write", "tax_ids": "write"})
    assert stripe.add_tax_id(customer_id, "eu_vat", "DE123456789", "tax-1").startswith("txi_")


def test_a_rolled_key_mid_load_costs_no_sync_and_nothing_reaches_the_dlq(
    stack_factory: StackFactory, stripe_secret: tuple[Any, str]
) -> None:
    # Given a running stack whose Stripe key lives in Secrets Manager, with a warm worker that synced once
    secrets, name = stripe_secret
    stack = stack_factory(STRIPE_API_KEY="", STRIPE_API_KEY_SECRET_NAME=name)
    first, _, order = stack.new_customer_account()
    stack.sim.update("Order", order, {"Status": "Activated"})
    stack.settle()
    assert (stack.sim.get("Account", first) or {}).get("Stripe_Sync_Status__c") == "Synced"
    # When the key is rolled (old key expiring now) and the new key stored in the secret
    stripe_emulator = stack.stripe
    stripe_emulator.roll_key(OLD_KEY, NEW_KEY)
    secrets.put_secret_value(SecretId=name, SecretString=NEW_KEY)
    accounts = []
    for n in range(3):
        account, _, order = stack.new_customer_account(email=f"buyer{n}@example.com")
        stack.sim.update("Order", order, {"Status": "Activated"})
        accounts.append(account)
    stack.settle()
    # Then every account syncs, none reaches the DLQ, and the old key met at most the syncs already in flight
    statuses = [(stack.sim.get("Account", a) or {}).get("Stripe_Sync_Status__c") for a in accounts]
    assert statuses == ["Synced"] * 3
    assert stack.dlq_messages() == []
    assert 1 <= len([r for r in stripe_emulator.requests if r["status"] == 401]) <= len(accounts)


def test_a_key_rolled_twice_in_a_row_is_read_again_each_time(
    stripe_emulator: Any, stripe_secret: tuple[Any, str]
) -> None:
    # Given a gateway whose key was rolled once and re-read
    secrets, name = stripe_secret
    stripe = gateway(stripe_emulator, name)
    customer_id = stripe.create({"name": "Muster AG"}, "create-4")
    stripe_emulator.roll_key(OLD_KEY, NEW_KEY)
    secrets.put_secret_value(SecretId=name, SecretString=NEW_KEY)
    stripe.update(customer_id, {"name": "Muster GmbH"})
    # When the new key is rolled again moments later (a second leak response) and stored
    third = "sk_test_rotation_third_0003"
    stripe_emulator.roll_key(NEW_KEY, third)
    secrets.put_secret_value(SecretId=name, SecretString=third)
    # Then the next request succeeds too: only a re-read that found the key unchanged pauses the re-reads
    stripe.update(customer_id, {"name": "Muster SE"})
    assert stripe_emulator.customer(customer_id)["name"] == "Muster SE"
