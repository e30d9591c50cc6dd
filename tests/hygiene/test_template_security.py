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
    # Given no KmsKeyArn; Then SQS-managed encryption (SSE-SQS) applies to every queue
    queues = [k for k, v in RESOURCES.items() if v["Type"] == "AWS::SQS::Queue"]
    assert len(queues) == 5  # the sync queue, its DLQ, the gate's held queue, two failure queues
    for logical_id in queues:
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
        assert bound == {
            "Fn::If": ["ReservesConcurrency", {"Ref": "ReceiverReservedConcurrency"}, {"Ref": "AWS::NoValue"}]
        }, logical_id
    # And without a reservation (the default) the HTTP API's route throttling bounds the receiver
    throttling = RESOURCES["ReceiverHttpApi"]["Properties"]["DefaultRouteSettings"]
    assert throttling["ThrottlingRateLimit"] > 0 and throttling["ThrottlingBurstLimit"] > 0


def _failure_queues() -> set[str]:
    """Every queue that receives what failed: redrive targets, on-failure destinations, rules' DLQs."""
    found: set[str] = set()
    for resource in RESOURCES.values():
        properties = resource.get("Properties", {})
        redrive = properties.get("RedrivePolicy", {}).get("deadLetterTargetArn")
        on_failure = properties.get("EventInvokeConfig", {}).get("DestinationConfig", {}).get("OnFailure", {})
        rule_dlqs = [event["Properties"].get("DeadLetterConfig", {}) for event in properties.get("Events", {}).values()]
        for target in [redrive, on_failure.get("Destination"), *(d.get("Arn") for d in rule_dlqs)]:
            if target:
                found.add(target["Fn::GetAtt"].removesuffix(".Arn"))
        assert all("Type" not in d for d in rule_dlqs), "a DLQ SAM creates has no alarm and no encryption set"
    return found


def test_every_dead_letter_and_on_failure_queue_has_an_alarm_and_a_stated_retention() -> None:
    # Given the queues that keep what failed (the sync DLQ, the function's on-failure queue, the rule's DLQ)
    queues = _failure_queues()
    assert queues == {"SyncDeadLetterQueue", "PlatformEventFailureQueue", "PlatformEventRuleDeadLetterQueue"}
    alarmed = {
        alarm["Properties"]["Dimensions"][0]["Value"]["Fn::GetAtt"].removesuffix(".QueueName")
        for alarm in RESOURCES.values()
        if alarm["Type"] == "AWS::CloudWatch::Alarm" and alarm["Properties"]["Namespace"] == "AWS/SQS"
    }
    # Then each one raises an alarm as soon as it holds a message, and keeps messages a stated time
    assert queues <= alarmed
    for queue in queues:
        assert RESOURCES[queue]["Properties"]["MessageRetentionPeriod"] == 1_209_600, queue  # 14 days
        assert RESOURCES[queue]["Properties"]["KmsMasterKeyId"] == KEY, queue


def test_only_the_rule_may_send_to_its_dead_letter_queue() -> None:
    # Given the rule's DLQ policy; Then EventBridge may send to it only on behalf of the function's rule
    (statement,) = RESOURCES["PlatformEventRuleDeadLetterQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"} and statement["Action"] == "sqs:SendMessage"
    assert statement["Condition"] == {
        "ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": "PlatformEventFunctionSalesforceEvents.Arn"}}
    }


def _stack(**parameters: Any) -> Any:
    from tests.build.lambda_env import LocalStack

    return LocalStack(TEMPLATE, parameters=parameters, sqs=None, dynamodb=None, secretsmanager=None, secret_values={})


MUTUAL_TLS = {
    "EndpointProtection": "mutual_tls",
    "EndpointDomainName": "sfsync.example.com",
    "EndpointCertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/abc",
    "TruststoreUri": "s3://acme-truststore/salesforce.pem",
    "ClientCertificateSubject": "CN=proxy.salesforce.com",
}


def test_endpoint_protection_defaults_to_the_token_with_nothing_to_set_up() -> None:
    # Given the default parameters; Then the token-only execute-api endpoint, as before: no domain, no truststore
    assert TEMPLATE["Parameters"]["EndpointProtection"]["Default"] == "token"
    stack = _stack()
    assert stack.condition("MutualTls") is False
    assert stack.resolve(RESOURCES["ReceiverHttpApi"]["Properties"]["DisableExecuteApiEndpoint"]) is False
    assert ".execute-api." in stack.resolve(TEMPLATE["Outputs"]["OutboundMessageUrl"]["Value"])
    receiver = RESOURCES["OutboundMessageFunction"]["Properties"]["Environment"]["Variables"]
    assert stack.resolve(receiver["CLIENT_CERTIFICATE_SUBJECT"]) == ""


def test_mutual_tls_demands_the_certificate_on_the_only_way_in() -> None:
    # Given EndpointProtection mutual_tls with its domain, certificate, truststore and Salesforce's subject
    stack = _stack(**MUTUAL_TLS)
    assert stack.condition("MutualTls") is True
    # Then the custom domain demands a client certificate from the truststore, TLS 1.2 at least ...
    domain = RESOURCES["ReceiverDomain"]
    assert domain["Condition"] == "MutualTls"
    assert (
        stack.resolve(domain["Properties"]["MutualTlsAuthentication"]["TruststoreUri"]) == MUTUAL_TLS["TruststoreUri"]
    )
    assert domain["Properties"]["DomainNameConfigurations"][0]["SecurityPolicy"] == "TLS_1_2"
    # ... the execute-api URL, which would bypass the handshake, is switched off, and the domain maps to the API
    assert stack.resolve(RESOURCES["ReceiverHttpApi"]["Properties"]["DisableExecuteApiEndpoint"]) is True
    mapping = RESOURCES["ReceiverDomainMapping"]["Properties"]
    assert mapping["ApiId"] == {"Ref": "ReceiverHttpApi"} and mapping["DomainName"] == {"Ref": "ReceiverDomain"}
    # And Salesforce is given the domain's URL, and the receiver the certificate subject it must see
    url = stack.resolve(TEMPLATE["Outputs"]["OutboundMessageUrl"]["Value"])
    assert url == "https://sfsync.example.com/outbound-message"
    receiver = RESOURCES["OutboundMessageFunction"]["Properties"]["Environment"]["Variables"]
    assert stack.resolve(receiver["CLIENT_CERTIFICATE_SUBJECT"]) == MUTUAL_TLS["ClientCertificateSubject"]


def test_mutual_tls_without_a_domain_certificate_or_truststore_is_refused_at_deploy() -> None:
    # Given the template's rules; Then mutual_tls asserts each of the three it needs
    rule = TEMPLATE["Rules"]["MutualTlsNeedsADomainACertificateAndATruststore"]
    assert rule["RuleCondition"] == {"Fn::Equals": [{"Ref": "EndpointProtection"}, "mutual_tls"]}
    asserted = {a["Assert"]["Fn::Not"][0]["Fn::Equals"][0]["Ref"] for a in rule["Assertions"]}
    assert asserted == {"EndpointDomainName", "EndpointCertificateArn", "TruststoreUri"}
