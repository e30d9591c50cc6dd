"""Salesforce login problems become the product's ConfigurationError naming the setting, at cold start.

Against the org simulator: SOAP login() refuses a wrong password with INVALID_LOGIN, and is not offered from
API 65.0 (Salesforce, "Platform SOAP API login() Retirement"); a connected app unknown to the org is
``invalid_client_id`` on the OAuth token endpoint.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from devtools.salesforce_sim import SalesforceSimulator
from shared.errors import ConfigurationError
from shared.salesforce import connect
from shared.settings import WorkerSettings

USER, PASSWORD = "integration@acme.example", "right-password"


@pytest.fixture
def sim(sim: SalesforceSimulator) -> SalesforceSimulator:
    """The running simulator (tests/conftest.py) with the integration user."""
    sim.add_user(USER, PASSWORD)
    return sim


def settings(credentials: dict[str, Any], **env: str) -> WorkerSettings:
    return WorkerSettings.from_env(
        {
            "ORGANIZATION_IDS": "00D000000000001EAA",
            "SYNC_QUEUE_URL": "q",
            "STATE_TABLE_NAME": "state",
            "IDEMPOTENCY_TABLE_NAME": "idem",
            "STRIPE_API_KEY": "sk_test_x",
            "SALESFORCE_CREDENTIALS_JSON": json.dumps(credentials),
            **env,
        }
    )


def password(sim: SalesforceSimulator, secret: str) -> dict[str, Any]:
    return {"auth": "password", "username": USER, "password": secret, "login_url": sim.instance_url}


def test_a_refused_password_login_is_a_configuration_error_naming_the_setting(sim: SalesforceSimulator) -> None:
    # Given the wrong password; When the worker logs in
    with pytest.raises(ConfigurationError) as err:
        connect(settings(password(sim, "wrong-password")))
    # Then the product's own error names the setting and Salesforce's reason, never the password
    message = str(err.value)
    assert message.startswith("SALESFORCE_CREDENTIALS_JSON: Salesforce refused the login (auth 'password'")
    assert "INVALID_LOGIN" in message and "wrong-password" not in message
    # And the right password logs in
    assert connect(settings(password(sim, PASSWORD))).sf_instance


def test_an_unknown_connected_app_is_a_configuration_error(sim: SalesforceSimulator) -> None:
    credentials = {"auth": "client_credentials", "consumer_key": "3MVG9unknown", "consumer_secret": "s",
                   "domain": "acme.my", "login_url": sim.instance_url}  # fmt: skip
    with pytest.raises(ConfigurationError, match=r"SALESFORCE_CREDENTIALS_JSON: .*invalid_client"):
        connect(settings(credentials))


def test_password_login_from_a_secret_at_api_65_is_refused_before_any_call(
    sim: SalesforceSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the credentials in Secrets Manager (only known at cold start) and API 65.0
    import shared.salesforce.auth as auth

    monkeypatch.setattr(auth, "resolve_secret", lambda plain, name: json.dumps(password(sim, PASSWORD)))
    configured = settings({"auth": "jwt"}, SALESFORCE_API_VERSION="65.0")
    configured = configured.model_copy(update={"salesforce_secret_name": "sfsync/salesforce",
                                               "salesforce_credentials_json": None})  # fmt: skip
    # When the worker connects, Then the product refuses, naming the setting, without calling Salesforce
    with pytest.raises(ConfigurationError, match="SALESFORCE_API_VERSION 65.0 with auth 'password' "
                       r"\(SALESFORCE_SECRET_NAME\)"):  # fmt: skip
        connect(configured)
    assert sim.api_calls["soap_login"] == 0


def test_a_login_outage_is_transient_not_a_configuration_error(sim: SalesforceSimulator) -> None:
    # Given Salesforce's login answering 503 once (an outage); When the worker logs in
    from shared.errors import TransientSyncError

    sim.fail_next("soap_login", 503)
    # Then it is an outage to retry, not a configuration error; the next login works
    with pytest.raises(TransientSyncError, match="Salesforce login unavailable"):
        connect(settings(password(sim, PASSWORD)))
    assert connect(settings(password(sim, PASSWORD))).sf_instance
