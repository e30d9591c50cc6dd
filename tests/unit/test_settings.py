"""Settings are validated once, with errors that name the environment variable."""

from __future__ import annotations

import pytest

from shared.salesforce.ids import to_18
from shared.settings import CreationMode, ReceiverSettings, SettingsError, WorkerSettings

WORKER_ENV = {
    "ORGANIZATION_IDS": "00D5g000004ABCD, 00D5g000004WXYZEAA",
    "SYNC_QUEUE_URL": "http://127.0.0.1:1/q",
    "STATE_TABLE_NAME": "state",
    "IDEMPOTENCY_TABLE_NAME": "idem",
    "STRIPE_API_KEY": "sk_test_x",
    "SALESFORCE_CREDENTIALS_JSON": "{}",
}


def test_worker_settings_parse_and_default() -> None:
    settings = WorkerSettings.from_env(WORKER_ENV)
    assert settings.creation_mode is CreationMode.ORDER_ACTIVATION
    assert settings.salesforce_stripe_id_field == "Stripe_Customer_ID__c"
    assert settings.idempotency_expiry_seconds > 86_400  # outlives Salesforce's 24 h of retries


def test_org_allow_list_accepts_15_and_18_char_forms() -> None:
    settings = WorkerSettings.from_env(WORKER_ENV)
    assert settings.is_allowed_org(to_18("00D5g000004ABCD"))
    assert settings.is_allowed_org("00D5g000004WXYZ")
    assert not settings.is_allowed_org("00D5g000004OTHER")
    assert not settings.is_allowed_org("someOrganizationId")


@pytest.mark.parametrize(
    ("variable", "value"),
    [("CREATION_MODE", "sometimes"), ("LEASE_SECONDS", "1"), ("SALESFORCE_STRIPE_ID_FIELD", "bad field")],
)
def test_invalid_variable_is_named_in_the_error(variable: str, value: str) -> None:
    with pytest.raises(SettingsError, match=variable):
        WorkerSettings.from_env({**WORKER_ENV, variable: value})


def test_missing_required_variable_is_named() -> None:
    env = {k: v for k, v in WORKER_ENV.items() if k != "STATE_TABLE_NAME"}
    with pytest.raises(SettingsError, match="STATE_TABLE_NAME"):
        WorkerSettings.from_env(env)


def test_receiver_needs_a_token_source() -> None:
    with pytest.raises(SettingsError, match="OUTBOUND_TOKEN"):
        ReceiverSettings.from_env({"ORGANIZATION_IDS": "00D5g000004ABCD", "SYNC_QUEUE_URL": "q"})
