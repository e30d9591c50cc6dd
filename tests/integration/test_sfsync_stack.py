"""`sfsync --stack-name`: a deployed stack's settings come from its own worker function (moto server)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from devtools.sam.template_tables import TEMPLATE, load_template
from ops import stack_env
from ops.cli import main, stack_environment
from shared.errors import ConfigurationError

REGION = "eu-central-1"


@pytest.fixture
def aws(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    for name, value in {
        "AWS_ENDPOINT_URL": moto_endpoint,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
    }.items():
        monkeypatch.setenv(name, value)
    return {"region_name": REGION}


def worker_variables() -> dict[str, str]:
    """The worker's environment variable names from template.yaml (values made up, as a deploy would set)."""
    template = load_template(TEMPLATE)
    worker = template["Resources"][stack_env.WORKER_LOGICAL_ID]
    names = [
        *template["Globals"]["Function"]["Environment"]["Variables"],
        *worker["Properties"]["Environment"]["Variables"],
    ]
    return {name: f"value-of-{name}" for name in names} | {"MAPPING_CONFIG": "standard_picklists"}


def deploy(aws: dict[str, Any], stack_name: str, variables: dict[str, str]) -> None:
    role = boto3.client("iam", **aws).create_role(RoleName=f"{stack_name}-role", AssumeRolePolicyDocument="{}")
    function = {
        "Type": "AWS::Lambda::Function",
        "Properties": {
            "Runtime": "python3.13",
            "Handler": "functions/sync_worker/app.lambda_handler",
            "Role": role["Role"]["Arn"],
            "Code": {"ZipFile": "def lambda_handler(event, context): pass"},
            "Environment": {"Variables": variables},
        },
    }
    template = {"Resources": {stack_env.WORKER_LOGICAL_ID: function}}
    boto3.client("cloudformation", **aws).create_stack(StackName=stack_name, TemplateBody=json.dumps(template))


def test_the_template_still_names_the_worker_sfsync_reads() -> None:
    template = load_template(TEMPLATE)
    assert template["Resources"][stack_env.WORKER_LOGICAL_ID]["Type"] == "AWS::Serverless::Function"


def test_stack_name_takes_the_deployed_workers_settings_mapping_included(aws: dict[str, Any]) -> None:
    # Given a deployed stack whose worker runs the picklist preset
    variables = worker_variables()
    deploy(aws, "sfsync-prod", variables)
    # When sfsync is pointed at it by name
    args = argparse.Namespace(stack=None, stack_name="sfsync-prod", region=REGION)
    environment = stack_environment(args)
    # Then it runs with exactly the worker's settings: the same mapping, tables, queues and secret names
    assert environment == variables


def test_stack_name_of_a_stack_that_does_not_exist_is_a_configuration_error(
    aws: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    # When sfsync is pointed at a stack name that is not deployed in the region
    code = main(["--stack-name", "no-such-stack", "--region", REGION, "status", "001000000000001AAA"])
    # Then it says so, naming the stack and the permissions it needs, and exits 2
    err = capsys.readouterr().err
    assert code == 2
    assert "--stack-name no-such-stack" in err and "cloudformation:DescribeStackResource" in err


def test_stack_file_of_a_stopped_local_stack_says_to_start_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="is `make serve` running"):
        stack_env.from_stack_file(tmp_path / "stack.json")


def test_secret_salesforce_builds_the_jwt_secret_from_the_key_file(
    aws: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the private key file made for the connected app (multi-line PEM)
    from devtools.local_runtime.salesforce_login import rsa_key_pair

    private_pem, _ = rsa_key_pair()
    key_file = tmp_path / "server.key"
    key_file.write_text(private_pem)
    command = ["secret", "salesforce", "--name", "sync/salesforce", "--username", "sync@acme.com"]
    command += ["--consumer-key", "3MVG9abc", "--key-file", str(key_file), "--domain", "test", "--region", REGION]
    # When the operator stores it, twice (a new key later)
    assert main(command) == 0
    assert main(command) == 0
    out = capsys.readouterr().out
    # Then Secrets Manager holds the JWT secret with the key's line breaks intact, and nothing was printed of it
    stored = boto3.client("secretsmanager", **aws).get_secret_value(SecretId="sync/salesforce")["SecretString"]
    secret = json.loads(stored)
    assert secret == {
        "auth": "jwt",
        "username": "sync@acme.com",
        "consumer_key": "3MVG9abc",
        "private_key": private_pem,
        "domain": "test",
    }
    assert "created secret sync/salesforce" in out and "updated secret sync/salesforce" in out
    assert "BEGIN PRIVATE KEY" not in out and f"delete {key_file}" in out


def test_secret_stripe_reads_the_key_from_stdin_and_refuses_what_is_not_one(
    aws: dict[str, Any], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    # When a value that is not a Stripe key is piped in
    monkeypatch.setattr("sys.stdin", io.StringIO("pk_live_publishable\n"))
    code = main(["secret", "stripe", "--name", "sync/stripe", "--region", REGION])
    # Then nothing is stored, and the error says what a key looks like
    assert code == 2 and "must start with sk_live_" in capsys.readouterr().err
    # When the restricted key is piped in
    monkeypatch.setattr("sys.stdin", io.StringIO("rk_test_123\n"))
    assert main(["secret", "stripe", "--name", "sync/stripe", "--region", REGION]) == 0
    # Then it is stored as the secret's whole value
    stored = boto3.client("secretsmanager", **aws).get_secret_value(SecretId="sync/stripe")["SecretString"]
    assert stored == "rk_test_123" and "rk_test_123" not in capsys.readouterr().out
