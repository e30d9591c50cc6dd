"""A function's environment as CloudFormation would set it, with local stand-ins for the stack's resources.

The built template (``.aws-sam/check/template.yaml``) says which variables each function gets, from Globals
and its own ``Environment``; this module evaluates those values (``Ref``, ``Fn::GetAtt``, ``Fn::Join``,
``Fn::Sub``, ``Fn::If`` with the template's ``Conditions``, ...) with parameter values chosen by the test and
with every referenced resource created in the local emulators: SQS queues in moto server, DynamoDB tables
(from the template's own definitions) in dynalite, Secrets Manager secrets in moto server. So the deployed
wiring is what the build test runs, not a hand-written copy of it.
"""

from __future__ import annotations

import re
import subprocess
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from devtools.sam.template_tables import create_table

PSEUDO_PARAMETERS = {
    "AWS::Region": "us-east-1",
    "AWS::AccountId": "123456789012",
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": "salesforce-stripe-sync-build-check",
}
NO_VALUE = object()


def makefile_requirements(repo: Path, logical_id: str) -> str | None:
    """The requirements file the Makefile's ``build-<LogicalId>`` target installs; None without that target."""
    done = subprocess.run(
        ["make", "--no-print-directory", "-n", f"build-{logical_id}", "ARTIFACTS_DIR=/nonexistent"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    match = re.search(r"--requirements (\S+)", done.stdout)
    return match.group(1) if done.returncode == 0 and match else None


class _Placeholder(dict[str, str]):
    """A resource that was not created (no emulator clients given): its Ref and attributes are names."""

    def __init__(self, logical_id: str) -> None:
        super().__init__(Ref=logical_id)
        self._logical_id = logical_id

    def __missing__(self, attribute: str) -> str:
        return f"{self._logical_id}.{attribute}"


class LocalStack:
    """Evaluates a template's intrinsics against local resources, creating each resource on first use."""

    def __init__(
        self,
        template: Mapping[str, Any],
        *,
        parameters: Mapping[str, Any],
        sqs: Any,
        dynamodb: Any,
        secretsmanager: Any,
        secret_values: Mapping[str, str],
    ) -> None:
        self._template = template
        self._parameters = dict(parameters)
        self._sqs = sqs
        self._dynamodb = dynamodb
        self._secretsmanager = secretsmanager
        self._secret_values = dict(secret_values)
        self.created: dict[str, dict[str, str]] = {}  # logical id -> {"Ref": ..., attribute: ...}

    @property
    def offline(self) -> bool:
        """No emulator clients: resources and parameters without a value evaluate to placeholders."""
        return self._sqs is None and self._dynamodb is None and self._secretsmanager is None

    # --- the function's environment -------------------------------------------------------------------
    def function_environment(self, logical_id: str) -> dict[str, str]:
        """Globals' and the function's own environment variables, evaluated."""
        global_vars = self._template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
        own_vars = self._template["Resources"][logical_id]["Properties"].get("Environment", {}).get("Variables", {})
        env: dict[str, str] = {}
        for name, value in {**global_vars, **own_vars}.items():
            resolved = self.resolve(value)
            if resolved is not NO_VALUE:
                env[name] = str(resolved)
        return env

    # --- intrinsics -----------------------------------------------------------------------------------
    def resolve(self, value: Any) -> Any:
        """The value CloudFormation would produce (lists stay lists)."""
        if isinstance(value, list):
            return [item for item in (self.resolve(v) for v in value) if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) != 1:
            return {key: self.resolve(item) for key, item in value.items()}
        ((key, arg),) = value.items()
        if key == "Ref":
            return self._ref(arg)
        if key == "Condition":
            return self.condition(arg)
        handler = getattr(self, "_fn_" + key.removeprefix("Fn::").lower(), None)
        if key.startswith("Fn::") and handler is not None:
            return handler(arg)
        if key.startswith("Fn::"):
            raise NotImplementedError(f"no local evaluation for {key}")
        return {key: self.resolve(arg)}

    def condition(self, name: str) -> bool:
        """A named condition of the template."""
        return bool(self.resolve(self._template["Conditions"][name]))

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in PSEUDO_PARAMETERS:
            return PSEUDO_PARAMETERS[name]
        if name in self._template.get("Parameters", {}):
            return self._parameter(name)
        return self._resource(name)["Ref"]

    def _parameter(self, name: str) -> Any:
        spec = self._template["Parameters"][name]
        if name in self._parameters:
            value = self._parameters[name]
        elif "Default" in spec:
            value = spec["Default"]
        elif self.offline:
            value = f"<{name}>"
        else:
            raise KeyError(f"template parameter {name} has no default: give the test a value for it")
        if spec.get("Type") == "CommaDelimitedList" and isinstance(value, str):
            return [part.strip() for part in value.split(",")]
        return value

    def _fn_getatt(self, arg: Any) -> Any:
        logical_id, attribute = arg.split(".", 1) if isinstance(arg, str) else arg
        return self._resource(logical_id)[attribute]

    def _fn_join(self, arg: list[Any]) -> str:
        separator, items = arg
        return str(separator).join(str(item) for item in self.resolve(items))

    def _fn_select(self, arg: list[Any]) -> Any:
        index, items = arg
        return self.resolve(items)[int(self.resolve(index))]

    def _fn_split(self, arg: list[Any]) -> list[str]:
        separator, text = arg
        return str(self.resolve(text)).split(separator)

    def _fn_equals(self, arg: list[Any]) -> bool:
        left, right = (self.resolve(item) for item in arg)
        return bool(str(left) == str(right))

    def _fn_not(self, arg: list[Any]) -> bool:
        return not self.resolve(arg[0])

    def _fn_and(self, arg: list[Any]) -> bool:
        return all(self.resolve(item) for item in arg)

    def _fn_or(self, arg: list[Any]) -> bool:
        return any(self.resolve(item) for item in arg)

    def _fn_if(self, arg: list[Any]) -> Any:
        name, when_true, when_false = arg
        return self.resolve(when_true if self.condition(name) else when_false)

    def _fn_sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else arg

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(self.resolve(variables[name]))
            if "." in name:
                return str(self._fn_getatt(name))
            return str(self._ref(name))

        return re.sub(r"\$\{([^}!]+)\}", substitute, text)

    # --- local stand-ins ------------------------------------------------------------------------------
    def _resource(self, logical_id: str) -> dict[str, str]:
        if self.offline:
            return _Placeholder(logical_id)  # evaluating the template alone (unit tests)
        if logical_id not in self.created:
            resource_type = self._template["Resources"][logical_id]["Type"]
            suffix = uuid.uuid4().hex[:8]
            if resource_type == "AWS::SQS::Queue":
                url = self._sqs.create_queue(QueueName=f"{logical_id}-{suffix}")["QueueUrl"]
                arn = self._sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
                self.created[logical_id] = {"Ref": url, "Arn": arn["QueueArn"], "QueueName": url.rsplit("/", 1)[1]}
            elif resource_type == "AWS::DynamoDB::Table":
                name = create_table(self._dynamodb, logical_id, f"{logical_id}-{suffix}")
                self.created[logical_id] = {"Ref": name}
            elif resource_type == "AWS::SecretsManager::Secret":
                if logical_id not in self._secret_values:
                    raise KeyError(f"give the test a value for the stack's secret {logical_id}")
                secret = self._secretsmanager.create_secret(
                    Name=f"{logical_id}-{suffix}", SecretString=self._secret_values[logical_id]
                )
                self.created[logical_id] = {"Ref": secret["ARN"], "Id": secret["ARN"]}
            else:
                raise NotImplementedError(f"no local stand-in for {logical_id} ({resource_type})")
        return self.created[logical_id]
