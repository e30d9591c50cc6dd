"""The parts operators' tools need, built from the worker's settings the way the worker builds its own.

The command line (``ops.cli``) and the scheduled reconcile function share this wiring, so they read the
worker's environment variables (README "Configuration") and reach the same Salesforce org, Stripe account,
state table and queues. Everything is built on first use: ``sfsync status`` never logs in to Stripe.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import boto3
from pydantic import Field, ValidationError, field_validator

from shared.mapping import CustomerMapping, load_configured_mapping
from shared.reconcile import Reconciler, SalesforceReader
from shared.reconcile_state import ReconcileStateStore
from shared.salesforce_auth import SalesforceCredentials, connect
from shared.salesforce_ids import to_18
from shared.settings import WorkerSettings
from shared.stripe_gateway import StripeCustomerGateway
from shared.sync_queue import SyncQueue


class ConfigurationError(Exception):
    """A setting is missing or wrong; the message names the environment variable."""


class ReconcileSettings(WorkerSettings):
    """The worker's settings plus the scheduled reconcile's own."""

    # Accounts one invocation checks at most; the rest follow on the next schedule, from the checkpoint.
    reconcile_max_accounts: int = Field(default=1000, alias="RECONCILE_MAX_ACCOUNTS", ge=1, le=1_000_000)
    # The org the Salesforce connection belongs to (default: the only one in ORGANIZATION_IDS).
    reconcile_organization_id: str | None = Field(default=None, alias="RECONCILE_ORGANIZATION_ID")

    @field_validator("reconcile_organization_id", mode="before")
    @classmethod
    def _empty_org_is_none(cls, value: Any) -> Any:
        return None if value == "" else value


def _credentials(text: str) -> SalesforceCredentials:
    try:
        return SalesforceCredentials.from_json(text)
    except ValidationError as exc:
        # Only field names and pydantic's messages: the input holds the private key or password.
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'secret'}: {e['msg']}" for e in exc.errors(include_input=False)
        )
        raise ConfigurationError(f"SALESFORCE_CREDENTIALS_JSON / SALESFORCE_SECRET_NAME: {problems}") from None
    except ValueError:
        raise ConfigurationError("SALESFORCE_CREDENTIALS_JSON / SALESFORCE_SECRET_NAME: not valid JSON") from None


class Operations:
    """Lazily built clients and gateways for one set of worker settings."""

    def __init__(self, settings: WorkerSettings) -> None:
        self.settings = settings

    @cached_property
    def mapping(self) -> CustomerMapping:
        """The worker's mapping (preset, file or SSM parameter)."""
        return load_configured_mapping(self.settings.mapping_config, self.settings.mapping_config_ssm_parameter)

    @cached_property
    def salesforce(self) -> SalesforceReader:
        """Salesforce, logged in on the first call."""
        settings = self.settings
        return SalesforceReader(lambda: connect(settings, _credentials))

    @cached_property
    def stripe(self) -> StripeCustomerGateway:
        """Stripe, with the worker's timeouts, retries and request rate (reads count against the same limit)."""
        return StripeCustomerGateway.from_settings(self.settings)

    @cached_property
    def dynamodb(self) -> Any:
        """A DynamoDB client."""
        return boto3.client("dynamodb")

    @cached_property
    def sqs(self) -> Any:
        """An SQS client."""
        return boto3.client("sqs")

    @cached_property
    def state(self) -> ReconcileStateStore:
        """The account state store (STATE_TABLE_NAME)."""
        return ReconcileStateStore(
            self.settings.state_table_name, self.dynamodb, lease_seconds=self.settings.lease_seconds
        )

    @cached_property
    def queue(self) -> SyncQueue:
        """The sync queue (SYNC_QUEUE_URL)."""
        return SyncQueue(self.settings.sync_queue_url, self.sqs)

    def dlq_url(self) -> str:
        """The dead-letter queue's URL; ConfigurationError when SYNC_DLQ_URL is not set."""
        if not self.settings.sync_dlq_url:
            raise ConfigurationError("SYNC_DLQ_URL is not set: the dead-letter queue's URL is needed here")
        return self.settings.sync_dlq_url

    def org_id(self, requested: str | None = None) -> str:
        """The org to work on: ``requested`` (must be allowed), else the only one in ORGANIZATION_IDS."""
        allowed = self.settings.organization_ids
        if requested:
            org_id = to_18(requested) if len(requested) in (15, 18) and requested.isalnum() else requested
            if org_id not in allowed:
                raise ConfigurationError(f"organization {requested} is not in ORGANIZATION_IDS")
            return org_id
        if len(allowed) != 1:
            raise ConfigurationError(
                f"ORGANIZATION_IDS lists {len(allowed)} orgs: name the one of the Salesforce connection "
                "(--org, or RECONCILE_ORGANIZATION_ID for the scheduled reconcile)"
            )
        return allowed[0]

    def reconciler(self, org_id: str) -> Reconciler:
        """The reconciler for ``org_id`` with the worker's mapping, creation mode and Stripe ID field."""
        return Reconciler(
            org_id=org_id,
            mapping=self.mapping,
            salesforce=self.salesforce,
            stripe=self.stripe,
            state=self.state,
            creation_mode=self.settings.creation_mode,
            stripe_id_field=self.settings.salesforce_stripe_id_field,
            concurrency=self.settings.stripe_concurrency,
        )
