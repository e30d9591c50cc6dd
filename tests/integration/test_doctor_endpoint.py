"""``sfsync --stack-name NAME doctor``: the probe's URL and token come from the stack, never from argv.

The stack's outputs name the endpoint (``OutboundMessageUrl``) and the token's secret
(``OutboundTokenSecretArn``); the token is read from Secrets Manager with the operator's credentials
(moto server's CloudFormation and Secrets Manager here).
"""

from __future__ import annotations

import argparse
import json
import uuid
from typing import Any

import boto3
import pytest

from ops import doctor_endpoint
from shared.errors import ConfigurationError

REGION = "us-east-1"
URL = "https://abc123.execute-api.us-east-1.amazonaws.com/outbound-message"


@pytest.fixture
def clients(moto_endpoint: str) -> Any:
    def client(service: str) -> Any:
        return boto3.client(service, endpoint_url=moto_endpoint, region_name=REGION)

    return client


def _args(**given: Any) -> argparse.Namespace:
    return argparse.Namespace(**{"endpoint": None, "token_secret": None, "stack": None, "stack_name": None, **given})


def _deployed_stack(clients: Any, token: str) -> str:
    """A CloudFormation stack with the two outputs template.yaml declares; its name."""
    secret_arn = clients("secretsmanager").create_secret(Name=f"token-{uuid.uuid4().hex[:8]}", SecretString=token)
    template = {
        "Resources": {"Anchor": {"Type": "AWS::SQS::Queue"}},
        "Outputs": {
            "OutboundMessageUrl": {"Value": URL},
            "OutboundTokenSecretArn": {"Value": secret_arn["ARN"]},
        },
    }
    name = f"sfsync-{uuid.uuid4().hex[:8]}"
    clients("cloudformation").create_stack(StackName=name, TemplateBody=json.dumps(template))
    return name


def test_a_deployed_stack_gives_the_url_and_the_token_from_its_secret(clients: Any) -> None:
    # Given a deployed stack whose token secret holds the token
    name = _deployed_stack(clients, "t0k3nFromTheSecret")
    # When doctor is run with --stack-name only
    url = doctor_endpoint.endpoint_url(_args(stack_name=name), clients, lambda _: None)
    # Then it posts to the stack's URL with the secret's token
    assert url == f"{URL}?token=t0k3nFromTheSecret"


def test_an_endpoint_without_a_token_source_is_a_usage_error(clients: Any) -> None:
    # Given --endpoint alone (no stack, no secret); Then doctor says where the token must come from
    with pytest.raises(ConfigurationError, match="--token-secret"):
        doctor_endpoint.endpoint_url(_args(endpoint=URL), clients, lambda _: None)
    # And without any endpoint, there is nothing to check (a warning, not an error)
    assert doctor_endpoint.endpoint_url(_args(), clients, lambda _: None) is None
