"""Environment settings, validated once at cold start.

Each Lambda function builds its settings model from ``os.environ``; a missing or malformed variable fails
the cold start with an error that names the variable, instead of failing later on the first message.
Secrets are never stored in environment variables in AWS: the settings hold the *name* of the secret and
``shared.secrets`` fetches it (plain values are accepted for local runs against the emulators).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from shared.salesforce.ids import ORG_ID_PREFIX, id_problem, is_salesforce_id, to_18

# SOAP login() (auth "password") is not available from API version 65.0 and Salesforce retires it in
# Summer '27 (help.salesforce.com article 005132110, "Platform SOAP API login() Retirement").
SOAP_LOGIN_LAST_VERSION = 64.0


class StripeMode(StrEnum):
    """Which of Stripe's two data sets the stack works on; the key's prefix decides (sk_test_ / sk_live_)."""

    TEST = "test"
    LIVE = "live"


class SettingsError(ValueError):
    """An environment variable is missing or invalid; the message names it."""


class CreationMode(StrEnum):
    """When a Stripe customer is created (R1 vs R3)."""

    ORDER_ACTIVATION = "order_activation"
    EVERY_ACCOUNT = "every_account"


class OtherStripeWriters(StrEnum):
    """Who else writes the Stripe customers of these accounts (docs: "With or instead of Stripe's connector").

    ``none``: this sync is the only writer; it compares with its memory of what it sent. ``connector``: Stripe's
    Salesforce CPQ connector runs beside it: the sync never creates a customer (the connector creates it with
    the order's subscription) and compares every sync with the customer Stripe holds before deciding
    "unchanged", so a field the connector wrote is set back at once (Salesforce wins for the fields of the
    mapping) — one more Stripe retrieve per sync. ``migrating_from_connector``: the connector stopped (or is
    stopping); before creating a customer the sync looks for one naming the account (the connector's) and
    adopts it — one Stripe Search and one list call more per create, never a duplicate.
    """

    NONE = "none"
    CONNECTOR = "connector"
    MIGRATING_FROM_CONNECTOR = "migrating_from_connector"


def _split_csv(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class _EnvModel(BaseModel):
    """Base: fields are read by their environment variable name (the alias)."""

    # defer_build: each function builds only the settings model it uses (cold start).
    model_config = ConfigDict(populate_by_name=True, extra="ignore", frozen=True, defer_build=True)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Any:
        """Validate the settings from ``environ`` (default ``os.environ``); raise SettingsError naming the variable."""
        env = dict(os.environ if environ is None else environ)
        try:
            return cls.model_validate(env)
        except ValidationError as exc:
            problems = "; ".join(_problem(err["loc"], err["msg"]) for err in exc.errors())
            raise SettingsError(f"invalid environment for {cls.__name__}: {problems}") from None


def _problem(loc: tuple[Any, ...], message: str) -> str:
    """``VARIABLE: problem``, or only the problem when it names the variables itself (a cross-field check)."""
    message = message.removeprefix("Value error, ")
    return f"{'.'.join(str(p) for p in loc)}: {message}" if loc else message


class CommonSettings(_EnvModel):
    """Settings shared by every function."""

    organization_ids: Annotated[
        list[str],
        Field(
            alias="ORGANIZATION_IDS",
            min_length=1,
            description="Comma-separated allow-list of Salesforce organization ids (15 or 18 characters) whose "
            "messages and events are accepted.",
        ),
    ]
    sync_queue_url: str = Field(alias="SYNC_QUEUE_URL", min_length=1, description="The SQS sync queue's URL.")

    @field_validator("organization_ids", mode="before")
    @classmethod
    def _parse_org_ids(cls, value: Any) -> Any:
        return _split_csv(value)

    @field_validator("organization_ids")
    @classmethod
    def _canonical_org_ids(cls, value: list[str]) -> list[str]:
        # Allow-list entries may be 15- or 18-char; a typo (or a wrong 18-char suffix) is a configuration error
        # at cold start, never a second namespace for the same org.
        canonical = []
        for org_id in value:
            if not is_salesforce_id(org_id, ORG_ID_PREFIX):
                problem = id_problem(org_id) or f"is not an organization id (they start {ORG_ID_PREFIX})"
                raise ValueError(f"{org_id!r} {problem}")
            canonical.append(to_18(org_id))
        return canonical

    def org_refusal(self, org_id: str) -> str | None:
        """Why a message's or event's organization id is refused, or None when it is in the allow-list.

        Compared in the canonical 18-char form only: an id with the org's 15 characters and another suffix
        is not the org (Salesforce never sends one), so it can't become a key of its own.
        """
        problem = id_problem(org_id)
        if problem is not None:
            return f"OrganizationId {problem}"
        return None if to_18(org_id) in self.organization_ids else "organization not allowed"

    def is_allowed_org(self, org_id: str) -> bool:
        """True when the Salesforce organization id is in the allow-list (15- or 18-char form, suffix checked)."""
        return self.org_refusal(org_id) is None


class ReceiverSettings(CommonSettings):
    """The Outbound Message receiver: token, limits, queue."""

    outbound_token: str | None = Field(
        default=None,
        alias="OUTBOUND_TOKEN",
        description="The endpoint's `?token=` value itself (local runs); one of this and "
        "`OUTBOUND_TOKEN_SECRET_NAME` is needed.",
    )
    outbound_token_secret_name: str | None = Field(
        default=None,
        alias="OUTBOUND_TOKEN_SECRET_NAME",
        description="The Secrets Manager secret holding the endpoint's `?token=` value (AWS; the stack generates it).",
    )
    max_body_bytes: int = Field(
        default=1_048_576,
        alias="MAX_BODY_BYTES",
        gt=0,
        description="Largest Outbound Message body accepted, in bytes; a larger one is refused with HTTP 413.",
    )
    sync_dlq_url: str | None = Field(
        default=None,
        alias="SYNC_DLQ_URL",
        description="The dead-letter queue, where a notification without a usable record is kept with the reason "
        "(unset: it is only logged).",
    )
    client_certificate_subject: str | None = Field(
        default=None,
        alias="CLIENT_CERTIFICATE_SUBJECT",
        description="With `EndpointProtection` `mutual_tls`: the subject DN of Salesforce's client certificate, as "
        "API Gateway passes it; a request with another certificate is refused with HTTP 403 (unset: not checked).",
    )

    @field_validator("sync_dlq_url", "client_certificate_subject", mode="before")
    @classmethod
    def _empty_dlq_is_none(cls, value: Any) -> Any:
        return value or None

    @model_validator(mode="after")
    def _token_source_given(self) -> ReceiverSettings:
        if not (self.outbound_token or self.outbound_token_secret_name):
            raise ValueError("OUTBOUND_TOKEN or OUTBOUND_TOKEN_SECRET_NAME must be set")
        return self


_API_NAME = r"^[A-Za-z][A-Za-z0-9_]*$"


class PlatformEventSettings(CommonSettings):
    """The Event Relay receiver: which platform event announces an order activation, and its fields."""

    # Custom platform events are named ``Name__e`` (``ns__Name__e`` in a managed package).
    order_activated_event: str = Field(
        default="Stripe_Order_Activated__e",
        alias="ORDER_ACTIVATED_EVENT",
        pattern=r"^[A-Za-z][A-Za-z0-9_]*__e$",
        description="API name of the platform event a Flow publishes when an order is activated.",
    )
    order_id_field: str = Field(
        default="OrderId__c",
        alias="ORDER_ID_FIELD",
        pattern=_API_NAME,
        description="The platform event's field holding the activated order's id.",
    )
    account_id_field: str | None = Field(
        default="AccountId__c",
        alias="ACCOUNT_ID_FIELD",
        pattern=_API_NAME,
        description="The platform event's field holding the order's account id (optional: with it the worker "
        "needs no lookup).",
    )
    failure_queue_url: str | None = Field(
        default=None,
        alias="FAILURE_QUEUE_URL",
        description="The function's on-failure queue: an event it can't use is kept there with the reason, "
        "for a redrive (unset: only logged).",
    )
    write_back_fields: str = Field(
        default="",
        alias="WRITE_BACK_FIELDS",
        description="Comma-separated Account fields the worker writes back (Stripe ID, status, error, adopt): an "
        "Account change event made by the sync's own write-back (`changeOrigin` ending `client=salesforce-stripe-"
        "sync`) that changed only these is ignored without a Salesforce read (unset: every change is read).",
    )

    @property
    def write_back_field_names(self) -> frozenset[str]:
        return frozenset(name.strip() for name in self.write_back_fields.split(",") if name.strip())

    @field_validator("account_id_field", "failure_queue_url", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        # CloudFormation passes optional parameters as "" when unset.
        return None if value == "" else value


class WorkerSettings(CommonSettings):
    """The sync worker: state tables, mapping, Stripe and Salesforce access."""

    state_table_name: str = Field(
        alias="STATE_TABLE_NAME",
        min_length=3,
        description="The DynamoDB table of per-account sync state (customer id, applied version and fields, lease).",
    )
    idempotency_table_name: str = Field(
        alias="IDEMPOTENCY_TABLE_NAME",
        min_length=3,
        description="The DynamoDB table of Powertools idempotency records (one per processed notification or event).",
    )
    creation_mode: CreationMode = Field(
        default=CreationMode.ORDER_ACTIVATION,
        alias="CREATION_MODE",
        description="`order_activation`: a customer when an order is activated (R1); `every_account`: one for "
        "every account (R3).",
    )
    other_stripe_writers: OtherStripeWriters = Field(
        default=OtherStripeWriters.NONE,
        alias="OTHER_STRIPE_WRITERS",
        description="`none`: this sync alone writes the customers; `connector`: beside Stripe's CPQ connector — "
        "update-only (never creates) and every sync compares with the customer in Stripe (one more retrieve); "
        "`migrating_from_connector`: before creating, a customer naming the account (the connector's) is adopted.",
    )
    mapping_config: str = Field(
        default="default",
        alias="MAPPING_CONFIG",
        description="The field mapping: a preset name (`default`, `standard`, `standard_picklists`) or a JSON "
        "file's path.",
    )
    mapping_config_ssm_parameter: str | None = Field(
        default=None,
        alias="MAPPING_CONFIG_SSM_PARAMETER",
        description="An SSM String parameter holding the mapping JSON (re-read within 5 minutes of a change); "
        "takes precedence over `MAPPING_CONFIG`.",
    )
    stripe_api_key: str | None = Field(
        default=None,
        alias="STRIPE_API_KEY",
        description="The Stripe secret or restricted key itself (local runs); one of this and "
        "`STRIPE_API_KEY_SECRET_NAME` is needed.",
    )
    stripe_api_key_secret_name: str | None = Field(
        default=None,
        alias="STRIPE_API_KEY_SECRET_NAME",
        description="The Secrets Manager secret holding the Stripe key (AWS).",
    )
    state_digest_key_secret_name: str | None = Field(
        default=None,
        alias="STATE_DIGEST_KEY_SECRET_NAME",
        description="The Secrets Manager secret holding the key of the state table's field digests (AWS; the "
        "stack generates it). Unset: the public key of local runs (docs/operate/personal-data.md).",
    )
    stripe_api_base: str | None = Field(
        default=None,
        alias="STRIPE_API_BASE",
        description="Local runs only: the Stripe emulator's URL instead of Stripe's API.",
    )
    stripe_timeout_seconds: float = Field(
        default=10.0,
        alias="STRIPE_TIMEOUT_SECONDS",
        gt=0,
        le=60,
        description="Seconds one Stripe request may take.",
    )
    stripe_max_network_retries: int = Field(
        default=2,
        alias="STRIPE_MAX_NETWORK_RETRIES",
        ge=0,
        le=5,
        description="stripe-python's retries of a request that failed on the network or with a 5xx/409.",
    )
    stripe_rate_limit_retries: int = Field(
        default=4,
        alias="STRIPE_RATE_LIMIT_RETRIES",
        ge=0,
        le=10,
        description="Retries, with backoff, of a request Stripe answered with 429 (rate limited).",
    )
    # Reserved concurrency × the per-instance cap must stay under the account's limit (test 25/s, live 100/s).
    stripe_concurrency: int = Field(
        default=5,
        alias="STRIPE_CONCURRENCY",
        ge=1,
        le=32,
        description="Accounts one worker instance syncs in parallel.",
    )
    stripe_max_requests_per_second: float = Field(
        default=20.0,
        alias="STRIPE_MAX_REQUESTS_PER_SECOND",
        gt=0,
        le=100,
        description="One worker instance's cap on Stripe requests per second (the template sets "
        "`StripeRequestsPerSecondPerWorker`).",
    )
    stripe_mode: StripeMode | None = Field(
        default=None,
        alias="STRIPE_MODE",
        description="`test` or `live`: the mode the stack is for; a key of the other mode is refused at cold start "
        "(unset: not checked).",
    )
    stripe_replace_other_mode_ids: bool = Field(
        default=False,
        alias="STRIPE_REPLACE_OTHER_MODE_IDS",
        description="Sandbox stacks only: a Stripe ID field holding an id of the other mode (a refreshed sandbox "
        "holds production's live-mode ids) counts as empty: a test-mode customer is created and the field "
        "overwritten. Refused with `STRIPE_MODE` live.",
    )
    salesforce_secret_name: str | None = Field(
        default=None,
        alias="SALESFORCE_SECRET_NAME",
        description="The Secrets Manager secret holding the Salesforce connection JSON (AWS).",
    )
    salesforce_credentials_json: str | None = Field(
        default=None,
        alias="SALESFORCE_CREDENTIALS_JSON",
        description="The Salesforce connection JSON itself (local runs); one of this and `SALESFORCE_SECRET_NAME` "
        "is needed.",
    )
    salesforce_api_version: str = Field(
        default="59.0",
        alias="SALESFORCE_API_VERSION",
        pattern=r"^\d+\.\d$",
        description="The Salesforce REST API version (`auth: password` needs 64.0 or lower).",
    )
    salesforce_stripe_id_field: str = Field(
        default="Stripe_Customer_ID__c",
        alias="SALESFORCE_STRIPE_ID_FIELD",
        pattern=r"^[A-Za-z]\w*$",
        description="The Account field the customer id is written to (`stripeConnector__Stripe_ID__c` when coming "
        "from Stripe's connector).",
    )
    salesforce_adopt_field: str | None = Field(
        default=None,
        alias="SALESFORCE_ADOPT_FIELD",
        pattern=r"^[A-Za-z]\w*$",
        description="Optional Account text field an admin types a Stripe customer id into to let the sync adopt a "
        "customer that names no account (salesforce/ deploys `Stripe_Adopt_Customer_ID__c`); read, never written.",
    )
    salesforce_sync_status_field: str | None = Field(
        default=None,
        alias="SALESFORCE_SYNC_STATUS_FIELD",
        pattern=r"^[A-Za-z]\w*$",
        description="Optional Account text field for the last sync status (`Synced`, `Synced with warnings`, `Error`).",
    )
    salesforce_sync_error_field: str | None = Field(
        default=None,
        alias="SALESFORCE_SYNC_ERROR_FIELD",
        pattern=r"^[A-Za-z]\w*$",
        description="Optional Account text field for the last error or the field warnings.",
    )
    lease_seconds: int = Field(
        default=120,
        alias="LEASE_SECONDS",
        ge=5,
        le=900,
        description="How long one worker holds an account's lease (one writer per account at a time).",
    )
    # An account in flight makes at most 2 Stripe calls of STRIPE_TIMEOUT_SECONDS (10 s), then the write-back.
    stop_before_timeout_seconds: float = Field(
        default=25.0,
        alias="STOP_BEFORE_TIMEOUT_SECONDS",
        ge=0,
        le=600,
        description="The worker starts no sync once less than this is left of its invocation (a quarter of its "
        "time when that is less); the messages not reached are retried, never timed out.",
    )
    # Longer than Salesforce's 24 h retry window, so a late redelivery is still recognised.
    idempotency_expiry_seconds: int = Field(
        default=172_800,
        alias="IDEMPOTENCY_EXPIRY_SECONDS",
        ge=86_400,
        description="How long a processed notification or event is remembered (at least 24 h: Salesforce retries "
        "for 24 h).",
    )
    sync_dlq_url: str | None = Field(
        default=None,
        alias="SYNC_DLQ_URL",
        description="The dead-letter queue: a message that can never succeed (not a sync request) is moved there "
        "at once with the reason (unset: it waits for the queue's redrive policy).",
    )
    held_queue_url: str | None = Field(
        default=None,
        alias="HELD_QUEUE_URL",
        description="The held queue: while the gate has a hold (sfsync status), the worker parks messages there "
        "and the gate's release redrives them (unset: no gate, every message is synced at once).",
    )

    @model_validator(mode="after")
    def _stripe_key_source_given(self) -> WorkerSettings:
        if not (self.stripe_api_key or self.stripe_api_key_secret_name):
            raise ValueError("STRIPE_API_KEY or STRIPE_API_KEY_SECRET_NAME must be set")
        if not (self.salesforce_secret_name or self.salesforce_credentials_json):
            raise ValueError("SALESFORCE_SECRET_NAME or SALESFORCE_CREDENTIALS_JSON must be set")
        if self.stripe_replace_other_mode_ids and self.stripe_mode is StripeMode.LIVE:
            raise ValueError("STRIPE_REPLACE_OTHER_MODE_IDS is for sandbox stacks, never with STRIPE_MODE live")
        if self._inline_auth() == "password" and float(self.salesforce_api_version) > SOAP_LOGIN_LAST_VERSION:
            raise ValueError(
                f"SALESFORCE_API_VERSION {self.salesforce_api_version} with auth 'password' in "
                "SALESFORCE_CREDENTIALS_JSON: password login uses SOAP login(), which Salesforce does not offer "
                "from API 65.0 and retires in Summer '27; use auth 'jwt' or 'client_credentials' (recommended), "
                f"or SALESFORCE_API_VERSION {SOAP_LOGIN_LAST_VERSION:.1f} until you can"
            )
        return self

    def _inline_auth(self) -> str | None:
        """The ``auth`` of inline credentials JSON (local runs); None when unknown (secret, bad JSON)."""
        import json

        try:
            data = json.loads(self.salesforce_credentials_json or "null")
        except ValueError:
            return None
        return str(data.get("auth")) if isinstance(data, dict) else None

    @field_validator(
        "stripe_api_base",
        "salesforce_sync_status_field",
        "salesforce_sync_error_field",
        "salesforce_adopt_field",
        "mapping_config_ssm_parameter",
        "sync_dlq_url",
        "held_queue_url",
        "stripe_mode",
        mode="before",
    )
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        # CloudFormation passes optional parameters as "" when unset.
        return None if value == "" else value


class ReconcileSettings(WorkerSettings):
    """The worker's settings plus the scheduled reconcile's own."""

    # 100,000 by default: an org of that size is covered by one invocation a day (template.yaml, ReconcileFunction).
    reconcile_max_accounts: int = Field(
        default=100_000,
        alias="RECONCILE_MAX_ACCOUNTS",
        ge=1,
        le=1_000_000,
        description="Accounts one scheduled reconcile invocation checks at most; the rest follow on the next "
        "schedule, from the checkpoint.",
    )
    reconcile_organization_id: str | None = Field(
        default=None,
        alias="RECONCILE_ORGANIZATION_ID",
        description="The org the scheduled reconcile works on (default: the only one in `ORGANIZATION_IDS`; the "
        "template sets the first of `AllowedOrganizationIds`).",
    )

    @field_validator("reconcile_organization_id", mode="before")
    @classmethod
    def _empty_org_is_none(cls, value: Any) -> Any:
        return None if value == "" else value
