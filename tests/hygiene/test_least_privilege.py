"""Least privilege: each function's role, as SAM deploys it, grants exactly the AWS actions its code calls.

The role is read from the template SAM transforms ``template.yaml`` into (devtools/sam/sam_transform.py), so
what SAM adds by itself (managed policies, an event source's or a destination's statements) is covered too.

The actions called are read from the source (devtools/sam/aws_actions.py): every boto3 operation written in
the modules the handler imports, plus the Powertools utilities' documented permissions. A module shared by
several functions holds definitions only some of them run; NOT_CALLED lists those per function, each with
why — a wrong entry names a definition that doesn't exist and fails (function_code checks).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from devtools.sam import aws_actions, sam_transform
from devtools.sam.template_tables import load_template

REPO = Path(__file__).resolve().parents[2]
# The operators' redrive (`sfsync redrive`, with the operator's credentials) lives beside DeadLetters.send.
OPERATOR_ONLY = ["DeadLetters.receive", "DeadLetters.delete", "DeadLetters.release", "redrive"]
NOT_CALLED: dict[str, dict[str, list[str]]] = {
    # The receivers park what they can't use (DeadLetters.send): the Outbound Message receiver unusable
    # notifications in the sync DLQ, the platform-event function unusable events in its failure queue.
    "OutboundMessageFunction": {"shared.sync.dead_letters": OPERATOR_ONLY},
    "PlatformEventFunction": {"shared.sync.dead_letters": OPERATOR_ONLY},
    # The worker syncs and parks poison messages; it never enqueues (the composition root's queue is reconcile's).
    "SyncWorkerFunction": {
        "shared.sync.dead_letters": OPERATOR_ONLY,
        "shared.components": ["Components.queue"],
        "shared.sync.sync_queue": ["SyncQueue.send", "SyncQueue._send_batch"],
    },
    # Reconcile queues syncs; the worker's engine and dead letters in the composition root aren't its.
    "ReconcileFunction": {
        "shared.sync.dead_letters": [*OPERATOR_ONLY, "DeadLetters.send"],
        # The fallback to an earlier published mapping is the worker's cold start; reconcile reads the newest.
        "shared.components": [
            "Components.batch_sync",
            "Components.dead_letters",
            "Components._newest_fitting_published",
        ],
        # It redrives the held queue once the gate is open; parking is the worker's.
        "shared.sync.gate": ["HeldQueue.park"],
    },
}
# Granted without a call in the code, because an AWS service calls them for the code: with KmsKeyArn set,
# SQS needs the sender's kms:GenerateDataKey and the receiver's kms:Decrypt (SQS developer guide, "Key
# management"); Secrets Manager decrypts with the caller's kms:Decrypt. Only with a call that needs them.
KMS = {"kms:Decrypt", "kms:GenerateDataKey"}
NEEDS_KMS = {"sqs:SendMessage", "sqs:SendMessageBatch", "secretsmanager:GetSecretValue"}
# What Lambda does with the function's role, whatever the code: write its log (Lambda developer guide,
# "Sending Lambda function logs to CloudWatch Logs"), send X-Ray segments with Tracing Active ("Visualize
# Lambda function invocations using AWS X-Ray"), and for an SQS event source poll and delete ("Using Lambda
# with Amazon SQS": ReceiveMessage, DeleteMessage, GetQueueAttributes).
LAMBDA_SERVICE = {"logs:CreateLogStream", "logs:PutLogEvents", "xray:PutTraceSegments", "xray:PutTelemetryRecords"}
SQS_EVENT_SOURCE = {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"}
# X-Ray's write actions support no resource-level permission: "*" is the only Resource they take.
ONLY_ON_EVERY_RESOURCE = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}


def _functions() -> dict[str, dict[str, Any]]:
    template = load_template(REPO / "template.yaml")
    return {k: v["Properties"] for k, v in template["Resources"].items() if v["Type"] == "AWS::Serverless::Function"}


def _called(logical_id: str) -> set[str]:
    handler = _functions()[logical_id]["Handler"]
    return aws_actions.code_actions(aws_actions.function_code(handler, NOT_CALLED.get(logical_id, {})))


def _deployed() -> dict[str, Any]:
    try:
        return sam_transform.transformed()
    except FileNotFoundError as exc:  # aws-sam-translator comes with `make sam-deps`
        pytest.skip(str(exc))


def _statements(logical_id: str) -> list[dict[str, Any]]:
    """The statements of the role the function runs with, as SAM deploys it."""
    return sam_transform.role_statements(sam_transform.function_role(_deployed(), logical_id))


def _granted(logical_id: str) -> set[str]:
    return aws_actions.granted_actions([{"Statement": _statements(logical_id)}])


def _has_sqs_event_source(logical_id: str) -> bool:
    events = _functions()[logical_id].get("Events", {})
    return any(event["Type"] == "SQS" for event in events.values())


def test_every_function_is_in_the_table() -> None:
    # Given the template's functions; Then each one's shared-module exclusions were decided, not forgotten
    assert set(NOT_CALLED) == set(_functions())


@pytest.mark.parametrize("logical_id", sorted(NOT_CALLED))
def test_policy_grants_every_action_the_code_calls(logical_id: str) -> None:
    # Given what the function's code calls and what its policy grants
    called, granted = _called(logical_id), _granted(logical_id)
    # Then AWS would deny none of the calls
    assert called, f"{logical_id}: no AWS call found; the analysis is broken"
    assert not called - granted, f"{logical_id}: code calls {sorted(called - granted)}, not granted"


@pytest.mark.parametrize("logical_id", sorted(NOT_CALLED))
def test_policy_grants_nothing_the_code_does_not_call(logical_id: str) -> None:
    # Given what the function's code calls and what its policy grants
    called, granted = _called(logical_id), _granted(logical_id)
    # Then nothing else is granted, except the KMS actions an encrypted queue or secret needs for those calls
    # and what Lambda itself does with the role (its log, X-Ray, the SQS event source's polling)
    implied = KMS if called & NEEDS_KMS or _has_sqs_event_source(logical_id) else set()
    implied |= LAMBDA_SERVICE | (SQS_EVENT_SOURCE if _has_sqs_event_source(logical_id) else set())
    assert not granted - called - implied, f"{logical_id}: grants {sorted(granted - called - implied)}, never called"


@pytest.mark.parametrize("logical_id", sorted(NOT_CALLED))
def test_sam_attaches_no_managed_policy_and_no_statement_of_its_own(logical_id: str) -> None:
    # Given the template as SAM deploys it (SAM would add AWSLambdaBasicExecutionRole, AWSXrayWriteOnlyAccess
    # and, for an SQS event source, AWSLambdaSQSQueueExecutionRole: each with Resource "*")
    deployed = _deployed()
    role = sam_transform.function_role(deployed, logical_id)
    # Then the function runs with the role written in template.yaml, with no managed policy attached
    assert not role["Properties"].get("ManagedPolicyArns"), f"{logical_id}: {role['Properties']['ManagedPolicyArns']}"
    written = load_template(REPO / "template.yaml")["Resources"][f"{logical_id.removesuffix('Function')}Role"]
    assert len(sam_transform.role_statements(role)) == len(sam_transform.role_statements(written))
    # And SAM made no role or policy beside the template's own
    iam = {k for k, v in deployed["Resources"].items() if v["Type"].startswith("AWS::IAM::")}
    assert iam == {f"{name.removesuffix('Function')}Role" for name in NOT_CALLED}


@pytest.mark.parametrize("logical_id", sorted(NOT_CALLED))
def test_every_statement_names_its_resources_except_x_rays(logical_id: str) -> None:
    # Given the function's deployed statements; Then only X-Ray's writes (no resource-level permission) take "*"
    for statement in _statements(logical_id):
        actions = {statement["Action"]} if isinstance(statement["Action"], str) else set(statement["Action"])
        if statement["Resource"] == "*":
            assert actions <= ONLY_ON_EVERY_RESOURCE, f"{logical_id}: {sorted(actions)} on every resource"
    # And the function writes only its own log group
    (logs,) = [s for s in _statements(logical_id) if "logs:PutLogEvents" in s["Action"]]
    log_group = _functions()[logical_id]["LoggingConfig"]["LogGroup"]["Ref"]
    assert logs["Resource"] == {"Fn::GetAtt": [log_group, "Arn"]}


def test_an_over_broad_policy_is_caught() -> None:
    # Given SAM's CRUD template for a table, while the code only reads one item
    granted = aws_actions.granted_actions([{"DynamoDBCrudPolicy": {"TableName": "t"}}])
    # Then the comparison sees the actions granted beyond the call
    assert {"dynamodb:Scan", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"} <= granted - {"dynamodb:GetItem"}


def test_calls_are_found_as_methods_strings_and_library_use() -> None:
    # Given code that makes an SQS client, calls one operation as a method and names another in a string,
    # and uses Powertools' DynamoDB idempotency layer
    import ast

    code = ast.parse(
        'c = boto3.client("sqs")\nself._client.send_message_batch(QueueUrl=u)\ncall("delete_message")\n'
        "DynamoDBPersistenceLayer(table_name=t)\nsalesforce.query(soql)\n"
    )
    # Then those are the actions, and a non-AWS object's method of the same name as an operation is not one
    assert aws_actions.code_actions([code]) == {
        "sqs:SendMessageBatch",
        "sqs:DeleteMessage",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
    }
