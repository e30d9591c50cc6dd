"""Logging in with an External Client App (JWT bearer), on an org where Connected Apps can't be created.

Since Spring '26 Salesforce restricts creating new Connected Apps and recommends External Client Apps. For
the JWT bearer flow Salesforce's CLI tries the org's My Domain as token endpoint and audience first
(sfdx-core ``getLoginAudienceCombos``); External Client Apps need it (forcedotcom/cli#3482, n8n#28990).
GovCloud splits them: token at My Domain, audience login.salesforce.com (simple-salesforce#672). The secret
shapes here are docs/external-client-app.md's.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from devtools.local_runtime.processes import REPO_ROOT
from devtools.local_runtime.salesforce_login import rsa_key_pair
from devtools.salesforce_sim import SalesforceSimulator
from shared.errors import ConfigurationError, CredentialsRefused
from shared.salesforce import connect
from shared.settings import WorkerSettings

USER = "integration@acme.example"
CONSUMER_KEY = "3MVG9externalClientAppKey"


@pytest.fixture
def sim(monkeypatch: pytest.MonkeyPatch) -> Iterator[SalesforceSimulator]:
    with SalesforceSimulator() as simulator:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", simulator.ca_bundle_path)
        simulator.add_user(USER, "unused-password")
        # The org of a new customer: Connected App creation is off
        simulator.auth.connected_apps_allowed = False
        yield simulator


def external_client_app(sim: SalesforceSimulator) -> str:
    """Register the External Client App the docs' steps create; returns the private key for the secret."""
    private_pem, public_pem = rsa_key_pair()
    sim.add_connected_app(CONSUMER_KEY, public_key_pem=public_pem, kind="external_client_app")
    return private_pem


def settings(secret: dict[str, Any]) -> WorkerSettings:
    return WorkerSettings.from_env(
        {
            "ORGANIZATION_IDS": "00D000000000001EAA",
            "SYNC_QUEUE_URL": "q",
            "STATE_TABLE_NAME": "state",
            "IDEMPOTENCY_TABLE_NAME": "idem",
            "STRIPE_API_KEY": "sk_test_x",
            "SALESFORCE_CREDENTIALS_JSON": json.dumps(secret),
        }
    )


def jwt_secret(sim: SalesforceSimulator, private_pem: str, **fields: str) -> dict[str, Any]:
    return {"auth": "jwt", "username": USER, "consumer_key": CONSUMER_KEY, "private_key": private_pem,
            "login_url": sim.instance_url, **fields}  # fmt: skip


def test_the_docs_steps_work_where_connected_app_creation_is_off(sim: SalesforceSimulator) -> None:
    # Given an org that refuses new Connected Apps
    with pytest.raises(ValueError, match="restricted"):
        sim.add_connected_app("3MVG9connectedApp", public_key_pem=rsa_key_pair()[1])
    # When the admin creates the External Client App and stores the docs' secret
    # (docs/external-client-app.md), filled in with this org's user, consumer key, private key and My Domain
    private_pem = external_client_app(sim)
    example = json.loads((REPO_ROOT / "docs/examples/salesforce-secret-external-client-app.json").read_text())
    filled = {"username": USER, "consumer_key": CONSUMER_KEY, "private_key": private_pem, "domain": "simorg.my"}
    secret = {**example, **filled, "login_url": sim.instance_url}
    assert set(example) == set(filled) | {"auth", "app"}
    # Then the worker logs in and reads the org
    sim.create("Account", {"Name": "Muster AG"})
    client = connect(settings(secret))
    assert [row["Name"] for row in client.query("SELECT Name FROM Account")["records"]] == ["Muster AG"]


def test_an_external_client_app_with_the_generic_login_domain_is_refused_at_load_naming_the_fix(
    sim: SalesforceSimulator,
) -> None:
    # Given the secret of a Connected App's era: domain "login"
    secret = jwt_secret(sim, external_client_app(sim), app="external_client_app", domain="login")
    # When the worker loads it, Then it is refused before any login, naming the My Domain fix
    with pytest.raises(ConfigurationError, match=r'set "domain" to your My Domain.*"acme\.my"'):
        connect(settings(secret))
    assert sim.api_calls["token"] == 0


def test_an_external_client_app_at_the_generic_login_host_is_refused_and_the_error_names_the_fix(
    sim: SalesforceSimulator,
) -> None:
    # Given an External Client App's key in a secret that doesn't say what app it is (domain "login")
    secret = jwt_secret(sim, external_client_app(sim), domain="login")
    # When the worker logs in, Then Salesforce refuses it and the error names the app kind and the fix
    with pytest.raises(CredentialsRefused) as refused:
        connect(settings(secret))
    message = str(refused.value)
    assert "invalid_client_id" in message and '"app": "external_client_app"' in message
    assert "My Domain" in message and "PRIVATE KEY" not in message


def test_govcloud_takes_the_token_at_my_domain_with_the_login_audience(sim: SalesforceSimulator) -> None:
    # Given a GovCloud org (token at My Domain, audience login.salesforce.com)
    sim.auth.govcloud = True
    private_pem = external_client_app(sim)
    # When the secret names the My Domain as instance_url and "login" as domain, Then the login works
    split = jwt_secret(sim, private_pem, app="external_client_app", domain="login",
                       instance_url="https://simorg.my.salesforce.com")  # fmt: skip
    assert connect(settings(split)).session_id
    # And with My Domain as the audience too, Salesforce refuses it (instance_url is honoured, not ignored)
    with pytest.raises(CredentialsRefused, match="invalid_grant"):
        connect(settings(jwt_secret(sim, private_pem, app="external_client_app", domain="simorg.my")))


@pytest.mark.parametrize(
    ("auth", "fields"),
    [
        ("password", {"username": USER, "password": "pw"}),
        ("client_credentials", {"consumer_key": CONSUMER_KEY, "consumer_secret": "s"}),
    ],
)
def test_instance_url_is_refused_at_load_where_it_would_be_ignored(
    sim: SalesforceSimulator, auth: str, fields: dict[str, str]
) -> None:
    # Given a secret with instance_url for a flow whose login answers the instance URL
    secret = {"auth": auth, "instance_url": "https://acme.my.salesforce.com", **fields}
    # When it is loaded, Then it is refused naming the field (never silently ignored)
    with pytest.raises(ConfigurationError, match="instance_url is not read for auth"):
        connect(settings(secret))


def test_instance_url_for_jwt_must_name_a_salesforce_host(sim: SalesforceSimulator) -> None:
    secret = jwt_secret(sim, "key", instance_url="https://evil.example.com")
    with pytest.raises(ConfigurationError, match=r"a host under salesforce\.com"):
        connect(settings(secret))
