"""The org changes under a warm worker: a rotated certificate, a renamed My Domain, a retired API version,
the org's API allowance spent or its concurrent requests at their limit — against the org simulator and
moto's Secrets Manager.

Salesforce documents each: a new certificate refuses assertions signed with the old key (``invalid_grant``);
after a My Domain rename "old URLs redirect for a while, then stop", and a fresh login returns the current
``instance_url`` (Help, "Update Your My Domain"); a retired API version answers 410 GONE (REST API Developer
Guide, "API End-of-Life"); ``REQUEST_LIMIT_EXCEEDED`` is the org's 24-hour allowance, shared by all its
integrations, or its concurrent long-running requests at their limit ("API Request Limits and Allocations").
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from devtools.local_runtime.salesforce_login import jwt_credentials, rsa_key_pair
from devtools.salesforce_sim import SalesforceSimulator
from devtools.salesforce_sim.api_limits import PRODUCTION_LIMIT
from shared.components import Components
from shared.errors import ApiVersionRetired, ConcurrentRequestLimitExceeded, CredentialsRefused, RequestLimitExceeded
from shared.settings import WorkerSettings


@pytest.fixture
def sim(monkeypatch: pytest.MonkeyPatch) -> Iterator[SalesforceSimulator]:
    with SalesforceSimulator() as simulator:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", simulator.ca_bundle_path)
        yield simulator


@pytest.fixture
def secrets(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", moto_endpoint)
    return boto3.client("secretsmanager", endpoint_url=moto_endpoint)


def components(sim: SalesforceSimulator, secrets: Any, credentials: dict[str, str], **env: str) -> Components:
    """The worker's components with the connection secret in (moto's) Secrets Manager."""
    name = f"sync/salesforce-{uuid.uuid4().hex[:8]}"
    secrets.create_secret(Name=name, SecretString=json.dumps(credentials))
    settings = WorkerSettings.from_env(
        {
            "ORGANIZATION_IDS": sim.org_id,
            "SYNC_QUEUE_URL": "q",
            "STATE_TABLE_NAME": "state",
            "IDEMPOTENCY_TABLE_NAME": "idem",
            "STRIPE_API_KEY": "sk_test_x",
            "SALESFORCE_SECRET_NAME": name,
            **env,
        }
    )
    return Components(settings)


def accounts(parts: Components) -> list[str]:
    return [row["Name"] for row in parts.salesforce.query("SELECT Id, Name FROM Account")]


def test_a_rotated_certificate_is_read_again_from_the_secret_and_the_call_succeeds(
    sim: SalesforceSimulator, secrets: Any
) -> None:
    # Given a warm worker logged in with the JWT bearer flow (its secret cached for 300 s)
    credentials = jwt_credentials(sim)
    parts = components(sim, secrets, credentials)
    sim.create("Account", {"Name": "Muster AG"})
    assert accounts(parts) == ["Muster AG"]
    # When the admin rotates the certificate, stores the new private key, and the session expires
    private_pem, public_pem = rsa_key_pair()
    sim.auth.rotate_certificate(credentials["consumer_key"], public_pem)
    name = parts.settings.salesforce_secret_name
    secrets.put_secret_value(SecretId=name, SecretString=json.dumps({**credentials, "private_key": private_pem}))
    sim.expire_sessions()
    # Then the next call succeeds: the refused re-login dropped the client and the secret was read again
    assert accounts(parts) == ["Muster AG"]


def test_a_certificate_rotated_without_the_new_key_stored_is_credentials_refused(
    sim: SalesforceSimulator, secrets: Any
) -> None:
    # Given a warm worker, and a certificate rotated whose new key nobody stored in the secret
    credentials = jwt_credentials(sim)
    parts = components(sim, secrets, credentials)
    assert accounts(parts) == []
    sim.auth.rotate_certificate(credentials["consumer_key"], rsa_key_pair()[1])
    sim.expire_sessions()
    # When it calls Salesforce, Then it is a configuration error naming the setting, not an outage
    with pytest.raises(CredentialsRefused) as refused:
        accounts(parts)
    assert refused.value.vendor == "salesforce" and "SALESFORCE_SECRET_NAME" in str(refused.value)
    assert "invalid_grant" in str(refused.value) and "PRIVATE KEY" not in str(refused.value)


@pytest.mark.parametrize("redirect", [False, True], ids=["old-host-stopped", "old-host-redirects"])
def test_a_renamed_my_domain_is_followed_by_a_fresh_login(
    sim: SalesforceSimulator, secrets: Any, redirect: bool
) -> None:
    # Given a warm worker whose client holds the org's instance URL
    parts = components(sim, secrets, jwt_credentials(sim))
    sim.create("Account", {"Name": "Muster AG"})
    assert accounts(parts) == ["Muster AG"]
    # When My Domain is renamed (the old host redirecting, or answering a web page)
    new_url = sim.rename_instance(redirect=redirect)
    # Then the next call succeeds against the new host, through a fresh login
    assert accounts(parts) == ["Muster AG"]
    assert parts.salesforce._client.sf_instance == new_url.removeprefix("https://")


def test_a_retired_api_version_is_named_with_the_fix(sim: SalesforceSimulator, secrets: Any) -> None:
    # Given a worker configured with API 30.0, retired in Summer '25
    parts = components(sim, secrets, jwt_credentials(sim), SALESFORCE_API_VERSION="30.0")
    # When it reads, Then the error names the version and the setting to change (not "object does not exist")
    with pytest.raises(ApiVersionRetired, match=r"410 GONE: API version 30\.0 is retired .*SALESFORCE_API_VERSION"):
        accounts(parts)


def test_request_limit_exceeded_is_named_and_retried_not_a_generic_refusal(
    sim: SalesforceSimulator, secrets: Any
) -> None:
    # Given the org's 24-hour API allowance spent (Salesforce answers 403 REQUEST_LIMIT_EXCEEDED)
    parts = components(sim, secrets, jwt_credentials(sim))
    sim.fail_next("query", 403)
    # When the worker reads, Then the error names the allowance, is retried, and is counted under its own name
    with pytest.raises(RequestLimitExceeded, match="REQUEST_LIMIT_EXCEEDED") as refused:
        accounts(parts)
    assert not refused.value.permanent and refused.value.metric == "request_limit_exceeded"


@pytest.mark.vendor_doc(
    "https://developer.salesforce.com/docs/platform/salesforce-app-limits-cheatsheet/guide/"
    "salesforce-app-limits-platform-api.html",
    "REQUEST_LIMIT_EXCEEDED also when 25 long-running requests run at once; it clears when fewer run",
)
def test_the_concurrent_request_limit_is_not_reported_as_the_daily_allowance_and_is_retried(
    sim: SalesforceSimulator, secrets: Any
) -> None:
    # The public report mautic/mautic#5006 ("Receiving Salesforce Error ConcurrentPerOrgLongTxn Limit exceeded"):
    # the same code as the daily limit sent its user to a daily usage that was far from spent.
    # Given a warm worker, and other integrations running the org's 25 long-running requests at once
    parts = components(sim, secrets, jwt_credentials(sim))
    sim.create("Account", {"Name": "Muster AG"})
    assert accounts(parts) == ["Muster AG"]
    sim.concurrency.occupy(PRODUCTION_LIMIT)
    # When the worker reads (Salesforce answers 403 REQUEST_LIMIT_EXCEEDED "ConcurrentRequests … Limit exceeded.")
    with pytest.raises(ConcurrentRequestLimitExceeded) as refused:
        accounts(parts)
    # Then the operator is not sent to the daily allowance: another error and metric, Salesforce's limit named
    assert not isinstance(refused.value, RequestLimitExceeded)
    assert refused.value.metric == "concurrent_request_limit_exceeded"
    assert "ConcurrentRequests" in str(refused.value) and "24-hour" not in str(refused.value)
    # And it is retried, not dead-lettered; once the long-running requests finish, the same worker reads again
    assert not refused.value.permanent
    sim.concurrency.release()
    assert accounts(parts) == ["Muster AG"]
