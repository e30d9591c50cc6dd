"""Lambda: sync SQS batches of Salesforce changes to Stripe customers (partial batch responses).

Per batch: parse the messages, read every account once from Salesforce, sync each request (idempotent per
event, leased per account), write customer ids and errors back to Salesforce in one call. Transient
failures are reported as batch item failures so SQS redelivers just those messages; the DLQ catches what
never succeeds.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config
from pydantic import ValidationError

from shared.batch_sync import BatchSync, PreparedBatch, WriteBackFields
from shared.customer_sync import CustomerSync, Outcome, SyncResult
from shared.dead_letters import DeadLetters, poison_reason
from shared.event_processor import EventProcessor
from shared.mapping import load_configured_mapping
from shared.models import SyncRequest
from shared.redaction import RedactingFormatter
from shared.salesforce_auth import connect
from shared.salesforce_gateway import SimpleSalesforceGateway
from shared.settings import WorkerSettings
from shared.state_store import AccountStateStore
from shared.stripe_gateway import StripeCustomerGateway

logger = Logger(logger_formatter=RedactingFormatter())  # no personal data or secrets in logs
metrics = Metrics()
tracer = Tracer()
processor = BatchProcessor(event_type=EventType.SQS)
SETTINGS = WorkerSettings.from_env()


@cache
def dynamodb_client() -> Any:
    """The instance's one DynamoDB client (state store and idempotency records share it)."""
    # Requests are built by this code and Powertools, not by users: skipping botocore's parameter validation
    # saves CPU on every one of the few DynamoDB calls per event. Standard retries absorb throttling.
    return boto3.client(
        "dynamodb", config=Config(parameter_validation=False, retries={"mode": "standard", "max_attempts": 5})
    )


@cache
def batch_sync() -> BatchSync:
    """The worker's components, built once per Lambda instance and reused across invocations."""
    dynamodb = dynamodb_client()
    mapping = load_configured_mapping(SETTINGS.mapping_config, SETTINGS.mapping_config_ssm_parameter)
    stripe = StripeCustomerGateway.from_settings(SETTINGS)
    state = AccountStateStore(SETTINGS.state_table_name, dynamodb, lease_seconds=SETTINGS.lease_seconds)
    persistence = DynamoDBPersistenceLayer(table_name=SETTINGS.idempotency_table_name, boto3_client=dynamodb)
    events = EventProcessor(
        CustomerSync(mapping, stripe, state), persistence, expiry_seconds=SETTINGS.idempotency_expiry_seconds
    )
    return BatchSync(
        processor=events,
        salesforce=SimpleSalesforceGateway(lambda: connect(SETTINGS)),
        mapping=mapping,
        creation_mode=SETTINGS.creation_mode,
        fields=WriteBackFields(
            SETTINGS.salesforce_stripe_id_field,
            SETTINGS.salesforce_sync_status_field,
            SETTINGS.salesforce_sync_error_field,
        ),
        contacts=state.accounts_for_contacts,
    )


def _parse(records: list[dict[str, Any]]) -> dict[str, SyncRequest | ValidationError]:
    parsed: dict[str, SyncRequest | ValidationError] = {}
    for record in records:
        try:
            parsed[record["messageId"]] = SyncRequest.model_validate_json(record["body"])
        except ValidationError as exc:
            parsed[record["messageId"]] = exc
    return parsed


def _report(result: SyncResult, request: SyncRequest) -> None:
    # A redelivered event returns its stored result without any work: counted as a duplicate.
    metrics.add_metric(name="duplicate" if result.duplicate else result.outcome.value, unit=MetricUnit.Count, value=1)
    logger.info(
        "synced",
        extra={
            "account_id": result.account_id,
            "customer_id": result.customer_id,
            "outcome": result.outcome.value,
            "error_field": result.error_field,
            "error": result.error if result.outcome is Outcome.PERMANENT_ERROR else None,
            "kept_fields": list(result.kept_fields) or None,
            "duplicate": result.duplicate or None,
            "source": request.source.value,
            "object_type": request.object_type.value,
        },
    )


@cache
def _dead_letters() -> DeadLetters | None:
    return DeadLetters(boto3.client("sqs"), SETTINGS.sync_dlq_url) if SETTINGS.sync_dlq_url else None


def _dead_letter(record: SQSRecord, error: ValidationError) -> str:
    """A body that is not a sync request fails on every receive: park it in the DLQ now, with the reason."""
    reason = poison_reason(error)
    letters = _dead_letters()
    if letters is None:
        raise ValueError(reason)  # no SYNC_DLQ_URL: the queue's redrive policy moves it after maxReceiveCount
    letters.send(record.body, reason, source_message_id=record.message_id)  # refused → retried like any failure
    logger.warning("poison message moved to the DLQ", extra={"message_id": record.message_id, "reason": reason})
    metrics.add_metric(name="dead_lettered", unit=MetricUnit.Count, value=1)
    return "dead_lettered"


def _record_handler(batch: PreparedBatch, parsed: dict[str, SyncRequest | ValidationError]) -> Any:
    def handle(record: SQSRecord) -> str:
        request = parsed[record.message_id]
        if isinstance(request, ValidationError):
            return _dead_letter(record, request)
        logger.append_keys(event_id=request.event_id, record_id=request.record_id)
        try:
            results = batch.handle(request)
        except Exception as exc:
            # Retried by SQS (batch item failure); the DLQ catches what never succeeds.
            logger.warning("sync failed, will retry", extra={"error": str(exc), "error_type": type(exc).__name__})
            metrics.add_metric(name="transient_error", unit=MetricUnit.Count, value=1)
            raise
        for result in results:
            _report(result, request)
        return ",".join(result.outcome.value for result in results)

    return handle


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    """SQS event source entry point (ReportBatchItemFailures)."""
    parsed = _parse(event["Records"])
    batch_sync().register_lambda_context(context)
    requests = [r for r in parsed.values() if isinstance(r, SyncRequest)]
    batch = batch_sync().prepare(requests)
    # Twice as many threads as Stripe requests in flight: DynamoDB and mapping work of some accounts overlaps
    # the Stripe calls of others, while the gateway keeps Stripe at its concurrency and rate limit.
    batch.sync_all(requests, concurrency=2 * SETTINGS.stripe_concurrency)
    response = process_partial_response(
        event=event, record_handler=_record_handler(batch, parsed), processor=processor, context=context
    )
    failed_accounts = set(batch.write_back())
    for account_id, error in batch.write_back_errors.items():
        logger.error("write-back refused by Salesforce", extra={"account_id": account_id, "error": error})
        metrics.add_metric(name="writeback_error", unit=MetricUnit.Count, value=1)
    if failed_accounts:
        # Retry these messages: the sync replays from the idempotency store, then the write-back again.
        failures = {str(item["itemIdentifier"]) for item in response["batchItemFailures"]}
        for message_id, request in parsed.items():
            if isinstance(request, SyncRequest) and failed_accounts & set(batch.account_of.get(request, ())):
                failures.add(message_id)
        response["batchItemFailures"] = [{"itemIdentifier": message_id} for message_id in sorted(failures)]
    logger.info("batch done", extra={"messages": len(parsed), "failed": len(response["batchItemFailures"])})
    return response
