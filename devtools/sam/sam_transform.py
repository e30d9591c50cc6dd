"""``template.yaml`` as SAM deploys it: the CloudFormation template aws-sam-translator makes of it, offline.

What a function may do is decided by the role SAM attaches, and SAM adds to a role it makes itself
(AWSLambdaBasicExecutionRole, AWSXrayWriteOnlyAccess, AWSLambdaSQSQueueExecutionRole for an SQS event source,
an on-failure destination's policy). Checking ``template.yaml`` alone would miss those, so the least-privilege
tests read the transformed template. aws-sam-translator lives in the SAM CLI's venv (``make sam-deps``:
its pins differ from the application's), so it runs there, in a subprocess.

``transformed()`` returns the transformed template (a dict) or raises ``FileNotFoundError`` when
``.venv-sam`` is missing. Placeholders: an S3 ``CodeUri`` (the translator refuses a local path) and
the parameters that have no default.
"""

from __future__ import annotations

import json
import os
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
SAM_PYTHON = REPO / ".venv-sam" / "bin" / "python"
PARAMETERS = {
    "AllowedOrganizationIds": "00D000000000001AAA",
    "StripeApiKeySecretName": "stripe",
    "SalesforceSecretName": "salesforce",
}

_SCRIPT = """
import json, sys
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse
template = yaml_parse(open(sys.argv[1]).read())
for resource in template["Resources"].values():
    if resource["Type"] == "AWS::Serverless::Function":
        resource["Properties"]["CodeUri"] = "s3://bucket/key"
class NoManagedPolicies:
    def load(self):
        return {}
print(json.dumps(transform(template, json.loads(sys.argv[2]), NoManagedPolicies())))
"""


@cache
def transformed(template: Path = REPO / "template.yaml") -> dict[str, Any]:
    """The CloudFormation template SAM makes of ``template`` (raises FileNotFoundError without .venv-sam)."""
    if not SAM_PYTHON.exists():
        raise FileNotFoundError(f"{SAM_PYTHON} not found: run `make sam-deps`")
    environment = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1", "SAM_CLI_TELEMETRY": "0"}
    result = subprocess.run(
        [str(SAM_PYTHON), "-c", _SCRIPT, str(template), json.dumps(PARAMETERS)],
        capture_output=True,
        text=True,
        check=True,
        env=environment,
        timeout=120,
    )
    return dict(json.loads(result.stdout))


def function_role(template: dict[str, Any], function_id: str) -> dict[str, Any]:
    """The ``AWS::IAM::Role`` resource a function of the transformed ``template`` runs with."""
    role = template["Resources"][function_id]["Properties"]["Role"]
    return dict(template["Resources"][role["Fn::GetAtt"][0]])


def role_statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    """Every statement of the role's inline policies, both branches of each ``Fn::If`` (none of AWS::NoValue)."""
    statements: list[dict[str, Any]] = []
    pending = [s for p in role["Properties"].get("Policies", []) for s in p["PolicyDocument"]["Statement"]]
    while pending:
        statement = pending.pop(0)
        if "Fn::If" in statement:
            pending += [b for b in statement["Fn::If"][1:] if b != {"Ref": "AWS::NoValue"}]
        else:
            statements.append(statement)
    return statements
