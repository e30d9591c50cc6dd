"""Settings are validated once, with errors that name the environment variable."""

from __future__ import annotations

import pytest

from shared.salesforce.ids import to_18
from shared.settings import CreationMode, ReceiverSettings, SettingsError, WorkerSettings

WORKER_ENV = {
    "ORGANIZATION_IDS": "00D5g000004ABCD, 00D5g000004WXYZEA4",
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


PASSWORD_LOGIN = '{"auth": "password", "username": "u@acme.example", "password": "pw"}'


def test_password_login_with_an_api_version_without_soap_login_is_refused_naming_both_settings() -> None:
    # Given auth 'password' (SOAP login()) and API 65.0, which has no login() (Salesforce, article 005132110)
    env = {**WORKER_ENV, "SALESFORCE_CREDENTIALS_JSON": PASSWORD_LOGIN, "SALESFORCE_API_VERSION": "65.0"}
    # When the settings are read at cold start, Then they are refused, naming the settings and the way out
    with pytest.raises(SettingsError) as err:
        WorkerSettings.from_env(env)
    message = str(err.value)
    assert "SALESFORCE_API_VERSION 65.0 with auth 'password' in SALESFORCE_CREDENTIALS_JSON" in message
    assert "'jwt' or 'client_credentials'" in message and "64.0" in message
    assert "pw" not in message.replace("password", "")  # the password itself is never echoed
    # And API 64.0 is still accepted
    assert WorkerSettings.from_env({**env, "SALESFORCE_API_VERSION": "64.0"}).salesforce_api_version == "64.0"


def test_the_sandbox_setting_is_refused_for_a_live_mode_stack() -> None:
    env = {**WORKER_ENV, "STRIPE_MODE": "live", "STRIPE_REPLACE_OTHER_MODE_IDS": "true"}
    with pytest.raises(SettingsError, match="STRIPE_REPLACE_OTHER_MODE_IDS is for sandbox stacks"):
        WorkerSettings.from_env(env)
    assert WorkerSettings.from_env({**env, "STRIPE_MODE": "test"}).stripe_replace_other_mode_ids is True
