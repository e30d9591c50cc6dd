"""The composition root: builds the adapters and the sync engine from settings, once.

The sync worker, the scheduled reconcile function and the operator's command line (``sfsync``) all wire
their parts here, from the worker's environment variables (docs/reference/environment.md), so they reach the same
Salesforce org, Stripe account, state table and queues with the same timeouts and rates. Everything is
built on first use: ``sfsync status`` never logs in to Stripe, and a Lambda instance builds its clients on
its first invocation and reuses them for the ones after.
"""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

import boto3
from botocore.config import Config

from shared.errors import ConfigurationError, SyncError
from shared.mapping import (
    CustomerMapping,
    Finding,
    MappingConfigError,
    check_mapping,
    check_query_basics,
    check_write_back,
    errors_of,
    load_configured_mapping,
)
from shared.mapping.published import PublishedVersion, newest_fitting, versions_newest_first
from shared.reconcile import Reconciler
from shared.salesforce import OrgSchema, SimpleSalesforceGateway, connect, to_18
from shared.salesforce.ids import id_problem
from shared.salesforce.preferences import PreferencesReader
from shared.settings import CreationMode, OtherStripeWriters, WorkerSettings
from shared.state import AccountStateStore, ReconcileStateStore
from shared.state.field_digests import FieldDigests
from shared.state.holds import HoldStore
from shared.stripe import StripeCustomerGateway
from shared.sync import BatchSync, CustomerSync, DeadLetters, EventProcessor, SyncQueue, WriteBackFields
from shared.sync.account_snapshot import latest_activated_order
from shared.sync.automatic_holds import ApiBudget, ApiUsage, AutomaticHolds, usage_of_limits
from shared.sync.gate import HeldQueue
from shared.sync.gate_probe import GateProbe
from shared.sync.history import SyncHistory
from shared.sync.live_switch import LiveSwitch
from shared.sync.observe import ObservedSync, ObserveLog, Observer

PUBLISHED_MAPPING_MAX_AGE_SECONDS = 300


class Components:
    """Lazily built clients, gateways and engine parts for one set of worker settings."""

    def __init__(self, settings: WorkerSettings) -> None:
        self.settings = settings
        self._mapping_text: str | None = None  # the SSM parameter's value ``mapping`` was read from

    @cached_property
    def mapping(self) -> CustomerMapping:
        """The configured mapping (preset, file, or the newest version of the SSM parameter)."""
        name = self.settings.mapping_config_ssm_parameter
        if not name:
            return load_configured_mapping(self.settings.mapping_config)
        self._mapping_text = text = self._published_text(name)
        try:
            data = json.loads(text)
        except ValueError:
            raise MappingConfigError(f"{name}: invalid JSON") from None
        return CustomerMapping.from_dict(data)

    @staticmethod
    def _published_text(name: str) -> str:
        # Imported here: only deployments that keep the mapping in SSM pay for the Parameters utility.
        from aws_lambda_powertools.utilities import parameters

        # Cached for 5 minutes: checking for a newly published mapping costs one SSM call per 5 minutes.
        return str(parameters.get_parameter(name, max_age=PUBLISHED_MAPPING_MAX_AGE_SECONDS))

    def mapping_outdated(self) -> bool:
        """Whether a mapping was published to SSM since ``mapping`` was read (seen within 5 minutes)."""
        name = self.settings.mapping_config_ssm_parameter
        return bool(name) and "mapping" in self.__dict__ and self._published_text(name or "") != self._mapping_text

    def forget_mapping(self) -> None:
        """Read, check and build with the mapping afresh on next use, as a cold start does."""
        for built in ("mapping", "org_schema", "batch_sync"):
            self.__dict__.pop(built, None)

    @cached_property
    def salesforce(self) -> SimpleSalesforceGateway:
        """The one Salesforce client: the worker's batched reads and write-back, describes, and reconcile's
        paged reads of the whole org; logged in on the first call."""
        settings = self.settings
        # A refused login, a moved host or an expired session: the next client reads the secret bypassing its
        # cache (a rotated consumer secret or certificate is used at once) and logs in at the current host.
        return SimpleSalesforceGateway(lambda: connect(settings), lambda: connect(settings, fresh=True))

    @cached_property
    def org_schema(self) -> OrgSchema:
        """The org's objects as the integration user sees them (one describe per object, kept)."""
        return OrgSchema(self.salesforce.describe)

    def write_back_fields(self) -> WriteBackFields:
        """The Account fields the worker writes back (SALESFORCE_*_FIELD)."""
        settings = self.settings
        return WriteBackFields(
            settings.salesforce_stripe_id_field,
            settings.salesforce_sync_status_field,
            settings.salesforce_sync_error_field,
            settings.salesforce_adopt_field,
        )

    def org_findings(self, mapping: CustomerMapping | None = None) -> list[Finding]:
        """The mapping (default: the configured one), the write-back fields and the sync's own query checked
        against the org's describes."""
        fields = self.write_back_fields()
        named = [
            ("SALESFORCE_STRIPE_ID_FIELD", fields.stripe_id),
            ("SALESFORCE_SYNC_STATUS_FIELD", fields.status),
            ("SALESFORCE_SYNC_ERROR_FIELD", fields.error),
            ("SALESFORCE_ADOPT_FIELD", fields.adopt),
        ]
        return [
            *check_query_basics(self.org_schema),
            *check_mapping((mapping or self.mapping).config, self.org_schema),
            *check_write_back([(setting, name) for setting, name in named if name], self.org_schema),
        ]

    def validate_against_org(self) -> str | None:
        """Check the mapping against the org (the worker calls it once per cold start).

        Returns None when the configured mapping fits. When a mapping published to SSM does not fit, the
        newest earlier version that does is used instead (``shared.mapping.published``) and the returned text
        says which version was refused and why (the worker logs it and raises the configuration alarm): a bad
        publish never stops the sync. Raises ConfigurationError listing every error when no version fits.
        """
        published = self.settings.mapping_config_ssm_parameter
        try:
            errors = [str(finding) for finding in errors_of(self.org_findings())]
        except MappingConfigError as exc:
            if not published:
                raise
            errors = [str(exc)]  # the newest version is no valid mapping at all
        if not errors:
            return None
        kept = self._newest_fitting_published() if published else None
        listed = "; ".join(errors)
        if kept is None or kept.mapping is None:
            # Describe again next time: the admin may fix the org (a new field, field-level security) meanwhile.
            self.__dict__.pop("org_schema", None)
            raise ConfigurationError(f"the mapping does not fit the Salesforce org ({len(errors)}): {listed}")
        self.__dict__["mapping"] = kept.mapping
        return (
            f"the published mapping does not fit the Salesforce org ({len(errors)}): {listed}; "
            f"using version {kept.version} of {published}, the newest that fits"
        )

    def _newest_fitting_published(self) -> PublishedVersion | None:
        name = self.settings.mapping_config_ssm_parameter or ""
        ssm = boto3.client("ssm")
        return newest_fitting(
            versions_newest_first(ssm, name), lambda mapping: [str(f) for f in errors_of(self.org_findings(mapping))]
        )

    @cached_property
    def stripe(self) -> StripeCustomerGateway:
        """Stripe, with the configured timeouts, retries and request rate (reads count against the same limit)."""
        return StripeCustomerGateway.from_settings(self.settings)

    @cached_property
    def dynamodb(self) -> Any:
        """The one DynamoDB client (state store, checkpoints and idempotency records share it)."""
        # Requests are built by this code and Powertools, not by users: skipping botocore's parameter validation
        # saves CPU on every one of the few DynamoDB calls per event. Standard retries absorb throttling.
        return boto3.client(
            "dynamodb", config=Config(parameter_validation=False, retries={"mode": "standard", "max_attempts": 5})
        )

    @cached_property
    def sqs(self) -> Any:
        """An SQS client."""
        return boto3.client("sqs")

    @cached_property
    def state(self) -> ReconcileStateStore:
        """The account state store (STATE_TABLE_NAME), with the reconcile's reads."""
        return ReconcileStateStore(
            self.settings.state_table_name,
            self.dynamodb,
            lease_seconds=self.settings.lease_seconds,
            digests=self.field_digests,
        )

    @cached_property
    def field_digests(self) -> FieldDigests:
        """The keyed digests the state keeps instead of values (STATE_DIGEST_KEY_SECRET_NAME; unset: local runs)."""
        name = self.settings.state_digest_key_secret_name
        if not name:
            return FieldDigests.local()
        from shared.secrets import resolve_secret

        return FieldDigests(str(resolve_secret(None, name)).encode())

    @cached_property
    def queue(self) -> SyncQueue:
        """The sync queue (SYNC_QUEUE_URL)."""
        return SyncQueue(self.settings.sync_queue_url, self.sqs)

    @cached_property
    def dead_letters(self) -> DeadLetters | None:
        """The DLQ for messages that can never succeed; None when SYNC_DLQ_URL is not set."""
        return DeadLetters(self.sqs, self.settings.sync_dlq_url) if self.settings.sync_dlq_url else None

    @cached_property
    def holds(self) -> HoldStore:
        """The gate's holds (an item of the state table)."""
        return HoldStore(self.settings.state_table_name, self.dynamodb)

    @cached_property
    def preferences(self) -> PreferencesReader:
        """The Salesforce admin's sync preferences, read at most once per 5 minutes per instance."""
        return PreferencesReader(self.salesforce.query)

    @cached_property
    def live_switch(self) -> LiveSwitch:
        """The gate's holds with the admin's Live Sync preference (and a refused Order Filter) applied."""
        return LiveSwitch(self.preferences, self.holds)

    @cached_property
    def held_queue(self) -> HeldQueue | None:
        """The held queue (HELD_QUEUE_URL); None when unset: no gate, nothing is ever held."""
        return HeldQueue(self.sqs, self.settings.held_queue_url) if self.settings.held_queue_url else None

    @cached_property
    def observe_log(self) -> ObserveLog:
        """Observe mode's would-do per account (items of the state table)."""
        return ObserveLog(self.settings.state_table_name, self.dynamodb)

    def observer(self) -> Observer:
        """Observe mode's decisions: the batch's reads, the mapping, Stripe reads; nothing written but the log."""
        every = self.settings.creation_mode is CreationMode.EVERY_ACCOUNT
        return Observer(
            lambda requests: self.batch_sync.read(requests),
            lambda: self.mapping,
            self.stripe,
            self.observe_log,
            stripe_id_field=self.settings.salesforce_stripe_id_field,
            adopt_field=self.settings.salesforce_adopt_field,
            may_create=lambda record: every or latest_activated_order(record) is not None,
        )

    def automatic_holds(self, logger: Any, metrics: Any) -> AutomaticHolds:
        """The holds the worker places by itself: refused credentials, the API budget (Sforce-Limit-Info)."""

        def usage() -> ApiUsage | None:
            reported = self.salesforce.api_usage()
            return ApiUsage(*reported) if reported else None

        return AutomaticHolds(
            lambda reason, note: self.holds.place(reason, by="sync", note=note),
            usage=usage,
            budget=self.api_budget,
            logger=logger,
            metrics=metrics,
        )

    def record_observed(self, observed: list[ObservedSync]) -> None:
        """Observe mode's would-do into the admin's sync history in Salesforce (the history level in force):
        history records only — no account field is written — in one Composite call."""
        history = self.history_in_force()
        now = datetime.now(UTC)
        records = [r for item in observed if (r := history.observed(item, now)) is not None]
        if records:
            self.salesforce.write_back([], records)

    def api_budget(self) -> ApiBudget:
        """The share of the org's daily API requests the sync may use: the lower of the stack's
        ``API_BUDGET_PERCENT`` and the admin's *API Budget Percent* preference (read at most once per 5 minutes;
        the stack's alone while the preferences can't be read)."""
        percent = float(self.settings.api_budget_percent)
        # Salesforce unreachable and nothing read yet: the stack's budget holds meanwhile.
        with contextlib.suppress(SyncError):
            percent = min(percent, float(self.preferences.current().api_budget_percent))
        return ApiBudget(percent)

    def gate_probe(self, logger: Any, metrics: Any) -> GateProbe:
        """Releases the automatic holds whose cause is gone (one Stripe read, one Limits call per probe)."""
        return GateProbe(
            self.holds,
            stripe_read=lambda: next(iter(self.stripe.list_all()), None),
            salesforce_usage=lambda: usage_of_limits(self.salesforce.limits()),
            budget=self.api_budget,
            logger=logger,
            metrics=metrics,
        )

    @cached_property
    def batch_sync(self) -> BatchSync:
        """The worker's engine: batched Salesforce read, idempotent per-event sync, write-back."""
        from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

        settings = self.settings
        state = AccountStateStore(
            settings.state_table_name, self.dynamodb, lease_seconds=settings.lease_seconds, digests=self.field_digests
        )
        persistence = DynamoDBPersistenceLayer(table_name=settings.idempotency_table_name, boto3_client=self.dynamodb)
        events = EventProcessor(
            CustomerSync(
                self.mapping,
                self.stripe,
                state,
                replace_other_mode_ids=settings.stripe_replace_other_mode_ids,
                look_before_create=settings.other_stripe_writers is OtherStripeWriters.MIGRATING_FROM_CONNECTOR,
            ),
            persistence,
            expiry_seconds=settings.idempotency_expiry_seconds,
        )
        return BatchSync(
            processor=events,
            salesforce=self.salesforce,
            mapping=self.mapping,
            creation_mode=settings.creation_mode,
            fields=self.write_back_fields(),
            contacts=state.accounts_for_contacts,
            write_back_log=state.record_write_back_error,
            history=self.history_in_force,
            order_conditions=self.preferences.order_conditions,
            other_writers=settings.other_stripe_writers,
        )

    @property
    def sync_history(self) -> SyncHistory:
        """What the sync history in Salesforce keeps (``shared.sync.history``): level and retention, as the
        admin's preferences say now (read at most once per 5 minutes: see ``history_in_force``)."""
        return self.history_in_force()

    def history_in_force(self) -> SyncHistory:
        """The history the admin's preferences ask for; the product's defaults while they can't be read (the
        history never costs a batch its sync)."""
        try:
            return SyncHistory.of(self.preferences.current())
        except SyncError:
            return SyncHistory()

    def dlq_url(self) -> str:
        """The dead-letter queue's URL; ConfigurationError when SYNC_DLQ_URL is not set."""
        if not self.settings.sync_dlq_url:
            raise ConfigurationError("SYNC_DLQ_URL is not set: the dead-letter queue's URL is needed here")
        return self.settings.sync_dlq_url

    def org_id(self, requested: str | None = None) -> str:
        """The org to work on: ``requested`` (must be allowed), else the only one in ORGANIZATION_IDS."""
        allowed = self.settings.organization_ids
        if requested:
            problem = id_problem(requested)
            if problem is not None:
                raise ConfigurationError(f"organization {requested} {problem}")
            org_id = to_18(requested)
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
        """The reconciler for ``org_id`` with the configured mapping, creation mode and Stripe ID field."""
        return Reconciler(
            org_id=org_id,
            mapping=self.mapping,
            salesforce=self.salesforce,
            stripe=self.stripe,
            state=self.state,
            creation_mode=self.settings.creation_mode,
            stripe_id_field=self.settings.salesforce_stripe_id_field,
            concurrency=self.settings.stripe_concurrency,
            order_conditions=self.preferences.order_conditions,
        )
