"""The functions as `sam build` packages them, imported and run the way Lambda does.

`make sam-check` (part of `make test` and so of CI) builds template.yaml into .aws-sam/check without Docker.
Here every `AWS::Serverless::Function` of the built template is

- inspected: only functions/ + shared/ and its requirements are in its folder; the light functions ship
  neither stripe nor simple-salesforce; nothing ships aiohttp;
- imported cold in a fresh CPython 3.13 (the Lambda runtime's version) whose `sys.path` holds only the
  function's build folder (plus, for functions that don't ship boto3, the boto3 the runtime provides) and the
  standard library: nothing from the repository or .venv can leak in;
- invoked on its sample event from events/, with the environment the template gives it (Globals + its own
  variables, every `!Ref` resolved to a local queue, table or secret), against moto server (SQS, Secrets
  Manager), dynalite, the Stripe emulator and the Salesforce simulator.

Without a build these tests skip locally (run `make sam-check`) and fail in CI.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from devtools.local_runtime.salesforce_login import jwt_credentials
from devtools.salesforce_sim import SalesforceSimulator
from devtools.sam.lambda_build import find_lambda_python
from devtools.sam.make_events import ORG_ID, TOKEN
from devtools.sam.template_tables import load_template
from tests.build.lambda_env import LocalStack, makefile_requirements

pytestmark = pytest.mark.build

REPO = Path(__file__).resolve().parents[2]
BUILD_DIR = REPO / ".aws-sam" / "check"
RUNTIME_SDK = REPO / ".aws-sam" / "lambda-runtime-sdk"
EVENTS = REPO / "events"
DRIVER = Path(__file__).with_name("lambda_driver.py")
# What the build is made from: a build older than any of these is stale.
BUILD_INPUTS = ("functions", "shared", "requirements", "template.yaml", "Makefile", "devtools/sam/lambda_build.py")
HEAVY_PACKAGES = ("stripe", "simple_salesforce", "zeep", "lxml")
NEVER_SHIPPED = ("aiohttp", "tests", "devtools", ".venv", "node_modules", "events", "docs")
WORKER_HANDLER = "functions.sync_worker.app.lambda_handler"
LIGHT_SET = "requirements/receiver.txt"
LAMBDA_UNZIPPED_LIMIT_MB = 250


def _unavailable(reason: str) -> None:
    """Skip locally, fail in CI (CI runs `make test`, which builds first)."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI runs `make sam-check` before the tests, so this is a build failure)")
    pytest.skip(f"{reason}: run `make sam-check` (or `make test`) first")


def _newest_input_mtime() -> float:
    newest = 0.0
    for name in BUILD_INPUTS:
        path = REPO / name
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        files = [p for p in files if "__pycache__" not in p.parts]
        newest = max([newest, *(p.stat().st_mtime for p in files)])
    return newest


@dataclass(frozen=True)
class Built:
    """The build output: its template, and the python3.13 to run it with."""

    template: dict[str, Any]
    python: str

    def functions(self) -> dict[str, dict[str, Any]]:
        """Logical id -> properties of every AWS::Serverless::Function."""
        resources = self.template["Resources"]
        return {
            logical_id: resource["Properties"]
            for logical_id, resource in resources.items()
            if resource["Type"] == "AWS::Serverless::Function"
        }

    def folder(self, logical_id: str) -> Path:
        """The function's build folder (its CodeUri after `sam build`)."""
        if logical_id not in self.functions():
            _unavailable(f"{logical_id} is not in the build in {BUILD_DIR.relative_to(REPO)} (a stale build)")
        return BUILD_DIR / self.functions()[logical_id]["CodeUri"]


@pytest.fixture(scope="module")
def built() -> Built:
    """The `make sam-check` build, fresh, and a CPython 3.13 to import it with."""
    template_file = BUILD_DIR / "template.yaml"
    if not template_file.is_file():
        _unavailable(f"no build output in {BUILD_DIR.relative_to(REPO)}")
    if template_file.stat().st_mtime < _newest_input_mtime():
        _unavailable(f"the build in {BUILD_DIR.relative_to(REPO)} is older than its sources")
    python = find_lambda_python()
    if python is None:
        _unavailable("no CPython 3.13 (the Lambda runtime's version) to import the build with; set LAMBDA_PYTHON_BIN")
    return Built(load_template(template_file), str(python))


def _function_ids() -> list[str]:
    # Parametrise over the source template's functions; the built template has the same logical ids.
    template = load_template(REPO / "template.yaml")
    return sorted(k for k, v in template["Resources"].items() if v["Type"] == "AWS::Serverless::Function")


def _handler(built: Built, logical_id: str) -> str:
    properties = built.functions()[logical_id]
    return str(properties.get("Handler") or built.template["Globals"]["Function"]["Handler"])


def _timeout(built: Built, logical_id: str) -> int:
    """The function's Timeout (seconds): what its context's remaining time counts down from."""
    properties = built.functions()[logical_id]
    return int(properties.get("Timeout") or built.template["Globals"]["Function"].get("Timeout", 3))


def _is_light(logical_id: str) -> bool:
    return makefile_requirements(REPO, logical_id) == LIGHT_SET


def _size_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1_000_000


# --- the packages --------------------------------------------------------------------------------------
@pytest.mark.parametrize("logical_id", _function_ids())
def test_package_holds_only_the_application_and_its_requirements(built: Built, logical_id: str) -> None:
    # Given the function's build folder
    folder = built.folder(logical_id)
    names = {p.name for p in folder.iterdir()}
    # Then it holds functions/ and shared/ and nothing of the repository's tooling
    assert {"functions", "shared"} <= names
    assert not names & set(NEVER_SHIPPED), sorted(names & set(NEVER_SHIPPED))
    assert not list((folder / "shared").rglob("test_*.py"))
    # And the light functions (built from the light set) ship neither stripe nor simple-salesforce
    if _is_light(logical_id):
        assert not names & set(HEAVY_PACKAGES), sorted(names & set(HEAVY_PACKAGES))
    # And it fits Lambda's unzipped size limit with room to spare
    assert _size_mb(folder) < LAMBDA_UNZIPPED_LIMIT_MB / 2


def test_worker_ships_its_compiled_dependencies_for_lambda(built: Built) -> None:
    # Given the worker's folder (the only one with compiled code beyond pydantic_core)
    folder = built.folder("SyncWorkerFunction")
    # Then its extension modules are CPython 3.13 Linux builds, not this machine's Python's
    extensions = [p.name for p in folder.rglob("*.so")]
    assert extensions and all("cpython-313" in name or "abi3" in name or ".so." in name for name in extensions)
    assert any(p.name.startswith("_pydantic_core.cpython-313-") for p in folder.rglob("_pydantic_core*.so"))


# --- import and run, like Lambda -----------------------------------------------------------------------
@dataclass(frozen=True)
class Local:
    """The local stand-ins a run used, to check its effects."""

    stack: LocalStack
    sqs: Any
    dynamodb: Any
    salesforce_calls: Callable[[], dict[str, int]]


@dataclass(frozen=True)
class Scenario:
    """A sample event for a handler (a file in events/, or the event itself) and what must come of it."""

    event: str | dict[str, Any]
    check: Callable[[dict[str, Any], Local], None]


def _queued(local: Local) -> int:
    queue_url = local.stack.created["SyncQueue"]["Ref"]
    attributes = local.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def _receiver_acks_and_enqueues(result: dict[str, Any], local: Local) -> None:
    assert result["statusCode"] == 200, result
    assert "<Ack>true</Ack>" in result["body"]
    assert _queued(local) == 1


def _worker_handles_the_batch(result: dict[str, Any], local: Local) -> None:
    # The sample's records don't exist in the simulator: read once, nothing to sync, no message failed.
    assert result == {"batchItemFailures": []}
    assert local.salesforce_calls().get("queryAll") == 1
    # And each of the 2 messages was recorded for idempotency in the stack's table
    table = local.stack.created["IdempotencyTable"]["Ref"]
    assert local.dynamodb.scan(TableName=table, Select="COUNT")["Count"] == 2


def _platform_event_enqueues(result: dict[str, Any], local: Local) -> None:
    assert result["dropped"] == 0 and result["enqueued"] >= 1, result
    assert _queued(local) == result["enqueued"]


def _reconcile_completes(result: dict[str, Any], local: Local) -> None:
    # The simulated org has no account that should have a customer: a complete run that queues nothing.
    assert result["complete"] is True and result["queued"] == 0, result
    assert _queued(local) == 0


SCHEDULED_EVENT = {
    "version": "0",
    "id": "00000000-0000-0000-0000-000000000000",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "123456789012",
    "time": "2026-11-02T09:30:00Z",
    "region": "us-east-1",
    "resources": ["arn:aws:events:us-east-1:123456789012:rule/reconcile"],
    "detail": {},
}

SCENARIOS = {
    "functions.outbound_message.app.lambda_handler": Scenario(
        "outbound_message_account.json", _receiver_acks_and_enqueues
    ),
    WORKER_HANDLER: Scenario("sqs_sync_batch.json", _worker_handles_the_batch),
    "functions.platform_event.app.lambda_handler": Scenario(
        "eventbridge_contact_change_event.json", _platform_event_enqueues
    ),
    "functions.reconcile.app.lambda_handler": Scenario(SCHEDULED_EVENT, _reconcile_completes),
}


@pytest.fixture(scope="module")
def salesforce() -> Iterator[SalesforceSimulator]:
    """The Salesforce simulator, with a connected app for the worker's JWT login."""
    with SalesforceSimulator(port=0) as sim:
        yield sim


def _salesforce_secret(sim: SalesforceSimulator) -> str:
    return json.dumps(jwt_credentials(sim))


def _lambda_environment(
    built: Built, logical_id: str, folder: Path, function_env: dict[str, str], endpoints: dict[str, str]
) -> dict[str, str]:
    """What the Lambda runtime sets, the template's variables, and the local endpoints; nothing inherited."""
    path = [str(folder)]
    if not (folder / "boto3").is_dir():
        # Functions that don't ship boto3 use the Lambda runtime's, which comes after /var/task on sys.path.
        path.append(str(RUNTIME_SDK))
    return {
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "PYTHONPATH": os.pathsep.join(path),
        "LAMBDA_TASK_ROOT": str(folder),
        "AWS_LAMBDA_FUNCTION_NAME": logical_id,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        **function_env,
        **endpoints,
        # No X-Ray daemon here: with Tracing=Active (off by default) the tracer would try to send segments.
        "POWERTOOLS_TRACE_DISABLED": "true",
    }


@pytest.mark.parametrize("logical_id", _function_ids())
def test_built_function_runs_its_sample_event_in_isolation(
    built: Built,
    logical_id: str,
    tmp_path: Path,
    moto_endpoint: str,
    dynamodb: Any,
    dynamodb_endpoint: str,
    stripe_emulator: Any,
    salesforce: SalesforceSimulator,
) -> None:
    # Given the function's build folder and the scenario for its handler
    handler = _handler(built, logical_id)
    scenario = SCENARIOS.get(handler)
    assert scenario is not None, f"{logical_id}: add a sample event and expected result for {handler} to SCENARIOS"
    folder = built.folder(logical_id)
    if not (folder / "boto3").is_dir() and not (RUNTIME_SDK / "boto3").is_dir():
        _unavailable(f"the Lambda runtime's boto3 stand-in is missing in {RUNTIME_SDK.relative_to(REPO)}")
    # And the environment the template gives it, its resources created in the emulators
    sqs = boto3.client("sqs", endpoint_url=moto_endpoint)
    secrets = boto3.client("secretsmanager", endpoint_url=moto_endpoint)
    stripe_secret = secrets.create_secret(Name=f"stripe-{uuid.uuid4().hex[:8]}", SecretString="sk_test_build")
    salesforce_secret = secrets.create_secret(
        Name=f"salesforce-{uuid.uuid4().hex[:8]}", SecretString=_salesforce_secret(salesforce)
    )
    stack = LocalStack(
        built.template,
        parameters={
            "AllowedOrganizationIds": ORG_ID,
            "StripeApiKeySecretName": stripe_secret["Name"],
            "SalesforceSecretName": salesforce_secret["Name"],
        },
        sqs=sqs,
        dynamodb=dynamodb,
        secretsmanager=secrets,
        secret_values={"OutboundTokenSecret": TOKEN},  # the token the sample events carry
    )
    endpoints = {
        "AWS_ENDPOINT_URL": moto_endpoint,  # SQS, Secrets Manager, SSM
        "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_endpoint,
        "STRIPE_API_BASE": stripe_emulator.base_url,
        "REQUESTS_CA_BUNDLE": salesforce.ca_bundle_path,
    }
    env = _lambda_environment(built, logical_id, folder, stack.function_environment(logical_id), endpoints)
    calls_before = salesforce.snapshot()[0]
    # When a fresh CPython 3.13 imports the handler from the build folder alone and invokes it
    result_file = tmp_path / "result.json"
    event_file = EVENTS / scenario.event if isinstance(scenario.event, str) else tmp_path / "event.json"
    if isinstance(scenario.event, dict):
        event_file.write_text(json.dumps(scenario.event))
    driver = tmp_path / DRIVER.name
    driver.write_text(DRIVER.read_text())
    done = subprocess.run(
        [
            built.python,
            "-S",
            "-P",
            "-B",
            str(driver),
            handler,
            str(event_file),
            str(result_file),
            str(_timeout(built, logical_id)),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert done.returncode == 0, f"{logical_id} failed in the Lambda-like interpreter:\n{done.stderr[-4000:]}"
    report = json.loads(result_file.read_text())
    # Then nothing came from outside its build folder (and the runtime's boto3) or the standard library
    assert report["outside"] == {}, report["outside"]
    assert report["python"].startswith("3.13.")
    # And the light functions didn't import the heavy clients
    if _is_light(logical_id):
        assert not set(report["top_level_modules"]) & {*HEAVY_PACKAGES, "aiohttp"}

    # And the sample had the expected effect
    def salesforce_calls() -> dict[str, int]:
        return {kind: n - calls_before.get(kind, 0) for kind, n in salesforce.snapshot()[0].items()}

    scenario.check(report["result"], Local(stack, sqs, dynamodb, salesforce_calls))
    # Shown with `pytest -s`: what a cold start costs from this package
    size, init_ms, invoke_ms = _size_mb(folder), report["init_ms"], report["invoke_ms"]
    print(f"{logical_id}: {size:.1f} MB, cold import {init_ms:.0f} ms, first invocation {invoke_ms:.0f} ms")
