"""Find a stack's settings in one step: ``sfsync --stack .local/stack.json`` or ``--stack-name NAME``.

``sfsync`` needs the worker's environment (queues, tables, secret names, mapping, creation mode, fields).
Rather than a second copy an operator keeps by hand, it takes the worker's own:
- the local stack (``make serve``) writes it into ``.local/stack.json`` under ``worker_environment``;
- a deployed stack's worker is a Lambda function of the CloudFormation stack (logical id
  ``SyncWorkerFunction``): its environment variables are read with the caller's AWS credentials
  (``cloudformation:DescribeStackResource`` and ``lambda:GetFunctionConfiguration``). Secrets stay in
  Secrets Manager: the variables hold only their names.
So the mapping, creation mode and Stripe ID field are always the stack's own.

A deployed stack's name is a setting, never assumed: ``--stack-name``, else ``SFSYNC_STACK_NAME``; without
either, ``sfsync`` suggests the name ``samconfig.toml`` gives ``sam deploy`` (``stack_name``) rather than
reading a stack the operator did not name.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from shared.errors import ConfigurationError

WORKER_LOGICAL_ID = "SyncWorkerFunction"  # template.yaml's worker; tests check the template still names it
STACK_FILE_KEY = "worker_environment"
STACK_NAME_VARIABLE = "SFSYNC_STACK_NAME"
LOCAL_STACK_FILE = Path(".local/stack.json")
SAMCONFIG = Path("samconfig.toml")
# Set by Lambda, not by the template: meaningless (or misleading) for a process on the operator's machine.
_LAMBDA_ONLY = ("AWS_LAMBDA_", "_HANDLER", "LAMBDA_")


def from_stack_file(path: Path) -> dict[str, str]:
    """The worker environment of the local stack described by ``path`` (``make serve``'s stack.json).

    Raises ConfigurationError when the file is missing (the stack is not running) or holds no environment.
    """
    try:
        info = json.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigurationError(f"--stack {path}: no such file; is `make serve` running?") from None
    except ValueError:
        raise ConfigurationError(f"--stack {path}: not a stack description (invalid JSON)") from None
    environment = info.get(STACK_FILE_KEY) if isinstance(info, dict) else None
    if not isinstance(environment, dict):
        raise ConfigurationError(f"--stack {path}: no {STACK_FILE_KEY!r} in it; restart `make serve`")
    return {str(name): str(value) for name, value in environment.items()}


def from_cloudformation(stack_name: str, cloudformation: Any, lambda_client: Any) -> dict[str, str]:
    """The worker environment of the deployed stack ``stack_name`` (boto3 clients in its region).

    Raises ConfigurationError naming what is missing: the stack, its worker, or the caller's permission.
    """
    from botocore.exceptions import ClientError

    try:
        resource = cloudformation.describe_stack_resource(StackName=stack_name, LogicalResourceId=WORKER_LOGICAL_ID)
        function_name = resource["StackResourceDetail"]["PhysicalResourceId"]
        configuration = lambda_client.get_function_configuration(FunctionName=function_name)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise ConfigurationError(
            f"--stack-name {stack_name}: {error.get('Code', 'error')}: {error.get('Message', exc)} "
            "(the stack must exist in this region, and you need cloudformation:DescribeStackResource and "
            "lambda:GetFunctionConfiguration)"
        ) from None
    variables: Mapping[str, str] = (configuration.get("Environment") or {}).get("Variables") or {}
    return {name: value for name, value in variables.items() if not name.startswith(_LAMBDA_ONLY)}


def samconfig_stack_name(path: Path = SAMCONFIG, config_env: str = "default") -> str | None:
    """The ``stack_name`` ``sam deploy`` uses from ``path`` (deploy's, else global parameters); None if none.

    SAM CLI config file: https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/serverless-sam-cli-config.html
    """
    try:
        config = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return None
    environment = config.get(config_env) or {}
    for command in ("deploy", "global"):
        name = ((environment.get(command) or {}).get("parameters") or {}).get("stack_name")
        if isinstance(name, str) and name:
            return name
    return None


def which_stack_hint() -> str:
    """What to add when settings are missing and no stack was named: the two options, with this machine's."""
    local = f" (running now: {LOCAL_STACK_FILE} exists)" if LOCAL_STACK_FILE.exists() else ""
    name = samconfig_stack_name()
    deployed = f"--stack-name {name}" if name else "--stack-name NAME"
    return (
        f"name the stack to take them from: --stack {LOCAL_STACK_FILE} for the local stack of `make serve`{local}, "
        f"or {deployed} for a deployed one (or set {STACK_NAME_VARIABLE}); without either, sfsync reads the "
        "worker's variables from the environment"
    )
