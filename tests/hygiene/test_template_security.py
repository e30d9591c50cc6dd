"""The template's security posture: `make checkov` passes, each suppression says why, one optional customer key.

`make checkov` (part of `make test`) runs the scan itself; these tests keep its suppressions honest and the
customer managed key (KmsKeyArn) applied everywhere data rests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from devtools.sam.template_tables import load_template

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = load_template(REPO / "template.yaml")
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
KEY = {"Fn::If": ["HasKmsKey", {"Ref": "KmsKeyArn"}, {"Ref": "AWS::NoValue"}]}
# Where data rests, and the property that takes the key.
KEY_PROPERTY = {
    "AWS::SQS::Queue": ("KmsMasterKeyId",),
    "AWS::SNS::Topic": ("KmsMasterKeyId",),
    "AWS::SecretsManager::Secret": ("KmsKeyId",),
    "AWS::Logs::LogGroup": ("KmsKeyId",),
    "AWS::DynamoDB::Table": ("SSESpecification", "KMSMasterKeyId"),
}


def _skips() -> list[tuple[str, dict[str, Any]]]:
    return [
        (logical_id, skip)
        for logical_id, resource in RESOURCES.items()
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]


def test_every_checkov_suppression_names_its_check_and_reason() -> None:
    # Given the inline suppressions; Then each names a check and explains itself in a sentence
    assert _skips(), "no suppression found: the Metadata layout changed?"
    for logical_id, skip in _skips():
        assert str(skip.get("id", "")).startswith("CKV_"), (logical_id, skip)
        assert len(str(skip.get("comment", ""))) >= 40, f"{logical_id}: {skip.get('id')} needs its reason"


def test_only_checks_that_do_not_apply_are_suppressed() -> None:
    # Given the suppressions; Then they are the VPC and Lambda-DLQ checks, which don't fit these functions
    assert {skip["id"] for _, skip in _skips()} == {"CKV_AWS_116", "CKV_AWS_117"}


def test_customer_key_is_optional_and_encrypts_everything_that_rests() -> None:
    # Given the KmsKeyArn parameter; Then it is empty by default (AWS managed encryption, no KMS cost)
    assert TEMPLATE["Parameters"]["KmsKeyArn"]["Default"] == ""
    # And every queue, topic, secret, log group and table takes it when given
    for logical_id, resource in RESOURCES.items():
        path = KEY_PROPERTY.get(resource["Type"])
        if path is None:
            continue
        value: Any = resource["Properties"]
        for key in path:
            value = value[key]
        assert value == KEY, f"{logical_id}: {'/'.join(path)} should follow KmsKeyArn"
    # And so do the functions' environments
    assert TEMPLATE["Globals"]["Function"]["KmsKeyArn"] == KEY


def test_queues_stay_encrypted_without_a_customer_key() -> None:
    # Given no KmsKeyArn; Then SQS-managed encryption (SSE-SQS) applies to both queues
    for logical_id in ("SyncQueue", "SyncDeadLetterQueue"):
        sse = RESOURCES[logical_id]["Properties"]["SqsManagedSseEnabled"]
        assert sse == {"Fn::If": ["HasKmsKey", {"Ref": "AWS::NoValue"}, True]}, logical_id


def test_endpoint_access_log_never_holds_the_token() -> None:
    # Given the HTTP API's access log format; Then it logs the route, not the path with its query string
    settings = RESOURCES["ReceiverHttpApi"]["Properties"]["AccessLogSettings"]
    assert settings["DestinationArn"] == {"Fn::GetAtt": "ReceiverAccessLogGroup.Arn"}
    assert "$context.routeKey" in settings["Format"]
    for leaky in ("querystring", "$context.path", "$request", "$input"):
        assert leaky not in settings["Format"].lower()


def test_receiving_functions_have_a_concurrency_bound() -> None:
    # Given the two receiving functions; Then a flood can't take the account's whole Lambda concurrency
    for logical_id in ("OutboundMessageFunction", "PlatformEventFunction"):
        bound = RESOURCES[logical_id]["Properties"]["ReservedConcurrentExecutions"]
        assert bound == {"Ref": "ReceiverReservedConcurrency"}, logical_id
