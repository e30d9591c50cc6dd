"""The receiver behind the mutual_tls endpoint option (EndpointProtection in template.yaml).

With mutual TLS, API Gateway refuses a connection without a certificate its truststore accepts, and passes the
accepted certificate to the function in ``requestContext.authentication.clientCert`` (API Gateway developer
guide, "Working with AWS Lambda proxy integrations for HTTP APIs", payload format 2.0:
https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html).
The truststore holds a certificate authority, which also issues certificates to others; Salesforce's
guidance is that the endpoint "checks that the certificate used in the SSL/TLS handshake matches the one you
downloaded" (https://developer.salesforce.com/docs/atlas.en-us.ajax.meta/ajax/sforce_api_ajax_client_cert_for_om.htm).
So the receiver also compares the certificate's subject with ClientCertificateSubject, and still checks the token.
"""

from __future__ import annotations

import uuid
from types import ModuleType
from typing import Any

import boto3
import pytest

from devtools.local_runtime.stack import load_handler
from devtools.sam.lambda_events import FakeLambdaContext, http_api_event
from tests.factories import ORG_ID
from tests.integration.test_outbound_receiver import TOKEN, queued, receiver_env
from tests.unit.test_outbound_message import account_notification, envelope

SALESFORCE_SUBJECT = "CN=proxy.salesforce.com,O=Salesforce.com\\, Inc.,L=San Francisco,ST=California,C=US"
DOMAIN = "sfsync.example.com"


@pytest.fixture
def sqs(moto_endpoint: str) -> Any:
    return boto3.client("sqs", endpoint_url=moto_endpoint)


@pytest.fixture
def queue_url(sqs: Any) -> str:
    return str(sqs.create_queue(QueueName=f"sync-{uuid.uuid4().hex[:8]}")["QueueUrl"])


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch, queue_url: str, moto_endpoint: str) -> ModuleType:
    env = {**receiver_env(queue_url, moto_endpoint), "CLIENT_CERTIFICATE_SUBJECT": SALESFORCE_SUBJECT}
    return load_handler("functions.outbound_message.app", monkeypatch, env)


def through_custom_domain(subject: str | None, token: str = TOKEN) -> dict[str, Any]:
    """An Outbound Message as the HTTP API passes it from the mutual-TLS custom domain (API mapping, no key)."""
    event = http_api_event(envelope(account_notification(), org_id=ORG_ID), query=f"token={token}")
    event["requestContext"]["domainName"] = DOMAIN
    if subject is not None:
        event["requestContext"]["authentication"] = {
            "clientCert": {
                "clientCertPem": "-----BEGIN CERTIFICATE-----\nMIIB...\n-----END CERTIFICATE-----",
                "subjectDN": subject,
                "issuerDN": "CN=DigiCert Global G2 TLS RSA SHA256 2020 CA1,O=DigiCert Inc,C=US",
                "serialNumber": "0a:1b:2c:3d",
                "validity": {"notBefore": "Jan  1 00:00:00 2026 GMT", "notAfter": "Jan  1 00:00:00 2027 GMT"},
            }
        }
    return event


def test_salesforces_certificate_and_the_token_are_acknowledged_and_queued(
    receiver: ModuleType, sqs: Any, queue_url: str
) -> None:
    # Given a message through the custom domain, with Salesforce's client certificate and the token
    response = receiver.lambda_handler(through_custom_domain(SALESFORCE_SUBJECT), FakeLambdaContext("receiver"))
    # Then it is acknowledged and queued, as on the execute-api URL
    assert response["statusCode"] == 200 and "<Ack>true</Ack>" in response["body"]
    assert len(queued(sqs, queue_url)) == 1


@pytest.mark.parametrize(
    "subject", ["CN=someone-else.example.com,O=Example Ltd,C=GB", None], ids=["same-ca-other-subject", "no-cert"]
)
def test_another_certificate_of_the_same_authority_is_refused_before_the_queue(
    receiver: ModuleType, sqs: Any, queue_url: str, subject: str | None
) -> None:
    # Given the right token but a certificate the truststore's authority issued to someone else (or none)
    response = receiver.lambda_handler(through_custom_domain(subject), FakeLambdaContext("receiver"))
    # Then it is refused with a SOAP fault saying why, and nothing is queued
    assert response["statusCode"] == 403
    assert "client certificate not allowed" in response["body"]
    assert queued(sqs, queue_url) == []


def test_salesforces_certificate_without_the_token_is_still_refused(
    receiver: ModuleType, sqs: Any, queue_url: str
) -> None:
    # Given Salesforce's certificate (any org's Outbound Message presents it) but a wrong token
    response = receiver.lambda_handler(
        through_custom_domain(SALESFORCE_SUBJECT, token="wrong"), FakeLambdaContext("receiver")
    )
    # Then the token still decides: 401, nothing queued
    assert response["statusCode"] == 401 and queued(sqs, queue_url) == []
