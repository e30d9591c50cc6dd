"""template.yaml's deployment wiring: token secret, mapping source and its permission, concurrency, alarms."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from devtools.sam.template_tables import load_template
from tests.build.lambda_env import NO_VALUE, LocalStack

TEMPLATE = load_template(Path(__file__).resolve().parents[2] / "template.yaml")
RESOURCES = TEMPLATE["Resources"]


def _stack(**parameters: Any) -> LocalStack:
    """Evaluates intrinsics with these parameters; no resource may be needed (no emulators here)."""
    return LocalStack(TEMPLATE, parameters=parameters, sqs=None, dynamodb=None, secretsmanager=None, secret_values={})


def _worker_env() -> dict[str, Any]:
    return dict(RESOURCES["SyncWorkerFunction"]["Properties"]["Environment"]["Variables"])


def test_the_stack_generates_the_url_token() -> None:
    # Given the receiver; Then its token is a secret the stack generates, URL-safe, and only it may read it
    secret = RESOURCES["OutboundTokenSecret"]
    assert secret["Type"] == "AWS::SecretsManager::Secret"
    assert secret["Properties"]["GenerateSecretString"]["ExcludePunctuation"] is True
    assert "SecretStringTemplate" not in secret["Properties"]["GenerateSecretString"]  # the value is the token
    receiver = RESOURCES["OutboundMessageFunction"]["Properties"]
    assert receiver["Environment"]["Variables"]["OUTBOUND_TOKEN_SECRET_NAME"] == {"Ref": "OutboundTokenSecret"}
    assert {
        "Effect": "Allow",
        "Action": "secretsmanager:GetSecretValue",
        "Resource": {"Ref": "OutboundTokenSecret"},
    } in _statements(receiver)
    assert "OutboundTokenSecretName" not in TEMPLATE["Parameters"]
    assert {"OutboundMessageUrl", "OutboundTokenCommand", "OutboundTokenSecretArn"} <= set(TEMPLATE["Outputs"])


@pytest.mark.parametrize(
    ("mapping_config", "preset", "ssm_parameter"),
    [
        ("standard", "standard", ""),
        ("standard_picklists", "standard_picklists", ""),
        ("/salesforce-stripe-sync/mapping", "default", "/salesforce-stripe-sync/mapping"),
    ],
)
def test_mapping_comes_from_a_preset_or_an_ssm_parameter(mapping_config: str, preset: str, ssm_parameter: str) -> None:
    # Given the MappingConfig parameter; Then the worker gets the preset, or the SSM parameter's name
    stack = _stack(MappingConfig=mapping_config)
    env = _worker_env()
    assert stack.resolve(env["MAPPING_CONFIG"]) == preset
    assert stack.resolve(env["MAPPING_CONFIG_SSM_PARAMETER"]) == ssm_parameter


@pytest.mark.parametrize(("mapping_config", "allowed"), [("standard", False), ("/sss/mapping", True)])
def test_worker_may_read_ssm_only_when_the_mapping_is_there(mapping_config: str, allowed: bool) -> None:
    # Given the worker's policies evaluated for a MappingConfig
    worker = RESOURCES["SyncWorkerFunction"]["Properties"]
    policies = _stack(MappingConfig=mapping_config).resolve(_role(worker)["Properties"]["Policies"])
    statements = [s for p in policies for s in p["PolicyDocument"]["Statement"] if isinstance(s, dict)]
    ssm = [s for s in statements if "ssm:" in str(s["Action"])]
    # Then reading that one parameter (and its earlier versions, for the fallback to the last mapping that
    # fits the org) is allowed exactly when the mapping comes from SSM
    if allowed:
        assert ssm == [
            {
                "Effect": "Allow",
                "Action": ["ssm:GetParameter", "ssm:GetParameterHistory"],
                "Resource": "arn:aws:ssm:us-east-1:123456789012:parameter/sss/mapping",
            }
        ]
    else:
        assert ssm == []
        assert NO_VALUE not in policies[0]["PolicyDocument"]["Statement"]


FUNCTIONS = ("SyncWorkerFunction", "OutboundMessageFunction", "PlatformEventFunction", "ReconcileFunction")


def _reservations(stack: LocalStack) -> dict[str, Any]:
    """Each function's ReservedConcurrentExecutions as the stack resolves it (NO_VALUE when absent)."""
    found = {f: RESOURCES[f]["Properties"].get("ReservedConcurrentExecutions") for f in FUNCTIONS}
    return {f: NO_VALUE if value is None else stack.resolve(value) for f, value in found.items()}


def test_the_default_stack_reserves_no_concurrency_so_it_deploys_on_a_new_account() -> None:
    # Given the template's defaults (a new AWS account: a concurrency quota of 10, of which AWS keeps the
    # unreserved minimum, so any reservation fails the deploy)
    # When its functions are resolved, Then none reserves concurrency
    assert TEMPLATE["Parameters"]["ReserveConcurrency"]["Default"] == "false"
    assert set(_reservations(_stack()).values()) == {NO_VALUE}


def test_with_reserve_concurrency_every_function_reserves_its_share() -> None:
    # Given an account with the headroom that opts in
    reserved = _reservations(
        _stack(ReserveConcurrency="true", WorkerReservedConcurrency=6, ReceiverReservedConcurrency=3)
    )
    # Then the worker reserves its instances, each receiver its bound, the reconcile one
    assert reserved == {
        "SyncWorkerFunction": 6,
        "OutboundMessageFunction": 3,
        "PlatformEventFunction": 3,
        "ReconcileFunction": 1,
    }


def test_the_poller_never_invokes_more_workers_than_the_stripe_budget_reserved_or_not() -> None:
    # Given the worker's SQS event source; Then its MaximumConcurrency is the worker's instance budget, so the
    # worker never throttles itself (a throttle costs a receive of every message of the batch)
    worker = RESOURCES["SyncWorkerFunction"]["Properties"]
    sqs_event = worker["Events"]["SyncQueue"]["Properties"]
    assert sqs_event["ScalingConfig"]["MaximumConcurrency"] == {"Ref": "WorkerReservedConcurrency"}
    assert sqs_event["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    # And a throttle caused by the account's pool leaves room before the DLQ: receives ≥ 10, alarm on the first
    assert RESOURCES["SyncQueue"]["Properties"]["RedrivePolicy"]["maxReceiveCount"] >= 10
    assert RESOURCES["WorkerThrottlesAlarm"]["Properties"]["Threshold"] == 0
    # And by default the whole stack stays under Stripe's test-mode rate limit (25 req/s): instances × cap
    assert worker["Environment"]["Variables"]["STRIPE_MAX_REQUESTS_PER_SECOND"] == {
        "Ref": "StripeRequestsPerSecondPerWorker"
    }
    parameters = TEMPLATE["Parameters"]
    instances = parameters["WorkerReservedConcurrency"]["Default"]
    assert instances * parameters["StripeRequestsPerSecondPerWorker"]["Default"] < 25


def test_queue_is_standard_with_a_dead_letter_queue() -> None:
    queue = RESOURCES["SyncQueue"]["Properties"]
    assert not queue.get("FifoQueue")
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": "SyncDeadLetterQueue.Arn"}


@pytest.mark.parametrize(
    ("alarm", "metric"),
    [
        ("DeadLetterQueueAlarm", "ApproximateNumberOfMessagesVisible"),
        ("WorkerErrorsAlarm", "Errors"),
        ("ReconcileErrorsAlarm", "Errors"),
        ("WorkerThrottlesAlarm", "Throttles"),
        ("ReceiverServerErrorsAlarm", "5xx"),
        ("WriteBackErrorAlarm", "writeback_error"),
        ("CredentialsRefusedAlarm", "credentials_refused"),
        ("PlatformEventFailureAlarm", "ApproximateNumberOfMessagesVisible"),
    ],
)
def test_alarms_notify_the_alarm_topic(alarm: str, metric: str) -> None:
    properties = RESOURCES[alarm]["Properties"]
    assert properties["MetricName"] == metric
    assert properties["Threshold"] == 0 and properties["ComparisonOperator"] == "GreaterThanThreshold"
    assert {"Ref": "AlarmTopic"} in properties["AlarmActions"]


def test_write_back_refusals_raise_an_alarm_on_the_workers_metric() -> None:
    # Salesforce refusing a customer id for good (a validation rule) is counted by the worker as
    # writeback_error, under the namespace and service its Powertools metrics use
    alarm = RESOURCES["WriteBackErrorAlarm"]["Properties"]
    variables = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]
    assert alarm["Namespace"] == variables["POWERTOOLS_METRICS_NAMESPACE"]
    assert alarm["Dimensions"] == [{"Name": "service", "Value": variables["POWERTOOLS_SERVICE_NAME"]}]


def test_unusable_event_relay_events_and_notifications_are_kept_where_the_functions_can_write() -> None:
    # The platform-event function's on-failure destination is the queue it also writes unusable events to
    function = RESOURCES["PlatformEventFunction"]["Properties"]
    on_failure = function["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]
    assert on_failure["Destination"] == {"Fn::GetAtt": "PlatformEventFailureQueue.Arn"}
    assert function["Environment"]["Variables"]["FAILURE_QUEUE_URL"] == {"Ref": "PlatformEventFailureQueue"}
    assert {
        "Effect": "Allow",
        "Action": "sqs:SendMessage",
        "Resource": {"Fn::GetAtt": "PlatformEventFailureQueue.Arn"},
    } in (_statements(function))
    # And the receiver may park unusable notifications in the sync DLQ
    receiver = RESOURCES["OutboundMessageFunction"]["Properties"]
    assert receiver["Environment"]["Variables"]["SYNC_DLQ_URL"] == {"Ref": "SyncDeadLetterQueue"}
    assert {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": {"Fn::GetAtt": "SyncDeadLetterQueue.Arn"}} in (
        _statements(receiver)
    )


def _role(function: dict[str, Any]) -> dict[str, Any]:
    """The execution role (template.yaml writes one per function: ``Role: !GetAtt <X>Role.Arn``)."""
    return dict(RESOURCES[function["Role"]["Fn::GetAtt"].split(".")[0]])


def _statements(function: dict[str, Any]) -> list[dict[str, Any]]:
    """The role's statements that apply whatever the conditions (no ``!If``)."""
    policies = _role(function)["Properties"]["Policies"]
    return [s for policy in policies for s in policy["PolicyDocument"]["Statement"] if "Fn::If" not in s]


def test_alarm_email_subscribes_only_when_given() -> None:
    subscription = RESOURCES["AlarmEmailSubscription"]
    assert subscription["Condition"] == "HasAlarmEmail"
    assert _stack(AlarmEmail="ops@example.com").condition("HasAlarmEmail") is True
    assert _stack().condition("HasAlarmEmail") is False


def test_tables_are_on_demand_encrypted_and_recoverable() -> None:
    for name in ("AccountStateTable", "IdempotencyTable"):
        table = RESOURCES[name]["Properties"]
        assert table["BillingMode"] == "PAY_PER_REQUEST"
        assert table["SSESpecification"]["SSEEnabled"] is True
        assert table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert RESOURCES["IdempotencyTable"]["Properties"]["TimeToLiveSpecification"]["Enabled"] is True


@pytest.mark.parametrize(("tracing", "tracer_disabled"), [("Active", "false"), ("PassThrough", "true")])
def test_tracing_parameter_sets_xray_and_the_powertools_tracer_together(tracing: str, tracer_disabled: str) -> None:
    # Given the Tracing parameter (PassThrough saves the tracer's CPU on every SDK call)
    stack = _stack(Tracing=tracing)
    function_globals = TEMPLATE["Globals"]["Function"]
    # Then the functions' X-Ray mode and Powertools' switch agree: no half-on tracer
    assert stack.resolve(function_globals["Tracing"]) == tracing
    assert stack.resolve(function_globals["Environment"]["Variables"]["POWERTOOLS_TRACE_DISABLED"]) == tracer_disabled
    # And tracing is off by default: X-Ray's default sampling traces nearly every invocation of a quiet stack,
    # which would be about half of what a change costs when changes come one at a time (BENCHMARKS.md)
    assert TEMPLATE["Parameters"]["Tracing"]["Default"] == "PassThrough"


def test_stripe_mode_and_the_sandbox_setting_reach_the_worker_and_live_mode_refuses_the_sandbox_setting() -> None:
    # Given the StripeMode / ReplaceOtherModeIds parameters; Then the worker gets them as its settings
    env = _worker_env()
    stack = _stack(StripeMode="test", ReplaceOtherModeIds="true")
    assert stack.resolve(env["STRIPE_MODE"]) == "test"
    assert stack.resolve(env["STRIPE_REPLACE_OTHER_MODE_IDS"]) == "true"
    assert TEMPLATE["Parameters"]["ReplaceOtherModeIds"]["Default"] == "false"
    # And CloudFormation refuses the sandbox setting unless StripeMode is test (never in live mode)
    rule = TEMPLATE["Rules"]["ReplaceOtherModeIdsOnlyInTestMode"]
    assert rule["RuleCondition"] == {"Fn::Equals": [{"Ref": "ReplaceOtherModeIds"}, "true"]}
    assert rule["Assertions"][0]["Assert"] == {"Fn::Equals": [{"Ref": "StripeMode"}, "test"]}


# A full batch of 100 new accounts at 4 Stripe requests/s, with 300 ms Stripe latency and 5 % 429s (measured).
FULL_BATCH_SECONDS = 52.6


def test_worker_timeout_leaves_twice_a_full_batch_after_its_reserve() -> None:
    # Given the worker's timeout, batch size, Stripe rate and the reserve it keeps free at the end
    from devtools.local_runtime.sqs_poller import WORKER_TIMEOUT_SECONDS
    from shared.settings import WorkerSettings

    worker = RESOURCES["SyncWorkerFunction"]["Properties"]
    timeout = worker["Timeout"]
    reserve = WorkerSettings.model_fields["stop_before_timeout_seconds"].default
    # Then the measured full batch (its batch size and rate) fits twice into the time the worker may start
    # work in; the visibility timeout is 6 x the timeout; the local poller gives the worker the same timeout
    assert worker["Events"]["SyncQueue"]["Properties"]["BatchSize"] == 100
    assert TEMPLATE["Parameters"]["StripeRequestsPerSecondPerWorker"]["Default"] == 4
    assert timeout - reserve >= 2 * FULL_BATCH_SECONDS
    assert RESOURCES["SyncQueue"]["Properties"]["VisibilityTimeout"] == 6 * timeout
    assert timeout == WORKER_TIMEOUT_SECONDS
