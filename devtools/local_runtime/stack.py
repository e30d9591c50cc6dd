"""The whole product running locally: emulators + the real handlers on a local Lambda runtime.

Salesforce org simulator → receiver (HTTP gateway) → SQS (moto server) → worker (SQS poller) → Stripe
emulator, with DynamoDB on dynalite. Used by ``make run`` (scripted demo) and ``make serve`` (left running).
Any part can be swapped for the real service through environment variables (see README "Local stack").
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import sys
import uuid
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import boto3
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from devtools.local_runtime import EventBridgeInvoker, HttpGateway, SqsPoller
from devtools.local_runtime.processes import ManagedProcess, dynalite, moto_server
from devtools.sam.template_tables import create_table, queue_attributes
from shared.state.account_state import AccountStateStore
from shared.state.holds import HoldReason, HoldStore

TOKEN_BYTES = 24
FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_SERVICE_NAME": "salesforce-stripe-sync",
    "POWERTOOLS_METRICS_NAMESPACE": "SalesforceStripeSyncLocal",
}


def rsa_key_pair() -> tuple[str, str]:
    """(private PEM, public PEM) for the JWT bearer flow against the simulator."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def jwt_credentials(sim: Any) -> dict[str, str]:
    """Register a connected app and an integration user in the simulator; the JWT-bearer secret for them."""
    private_pem, public_pem = rsa_key_pair()
    consumer_key = f"3MVG9{uuid.uuid4().hex}"
    sim.add_connected_app(consumer_key, public_key_pem=public_pem)
    sim.add_user("integration@example.com", uuid.uuid4().hex)
    # README "Salesforce setup" step 5: the integration user holds the package's permission set, whose custom
    # permission keeps the Account and Contact Flows from sending the sync's own write-backs back.
    sim.assign_permission_set("integration@example.com", "Stripe_Sync_Integration")
    return {
        "auth": "jwt",
        "username": "integration@example.com",
        "consumer_key": consumer_key,
        "private_key": private_pem,
        "domain": "login",
        "login_url": sim.instance_url,
    }


class SyncResultCollector(logging.Handler):
    """Collects the worker's "synced" log records (account id, outcome, field warnings): what an operator reads."""

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.results: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage() == "synced":
            self.results.append(
                {name: getattr(record, name, None) for name in ("account_id", "outcome", "source", "warnings")}
            )


def load_handler(module_name: str) -> ModuleType:
    """Import a handler module afresh (a cold start) with the current environment."""
    sys.modules.pop(module_name, None)
    return importlib.import_module(module_name)


@dataclass
class StackOptions:
    """What to run; defaults are all-local. Real services are opt-in through the environment."""

    creation_mode: str = "order_activation"
    mapping: str = "standard"
    gateway_port: int = 0
    visibility_timeout: int = 2
    max_receive_count: int = 4
    # Publish change events and platform events through Event Relay as well (the demo turns it on per step).
    event_relay: bool = False
    # "dynalite" (race-free, the default) or "moto" (returns the old item on a refused condition, like
    # DynamoDB does, so call counts match AWS; not race-free).
    dynamodb: str = "dynalite"
    stripe_api_key: str | None = None  # a Stripe test-mode key: use real Stripe instead of the emulator
    salesforce_credentials: str | None = None  # JSON: use a real sandbox instead of the simulator
    extra_env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, **overrides: Any) -> StackOptions:
        """Options from LOCAL_* / STRIPE_API_KEY / SALESFORCE_CREDENTIALS_JSON environment variables."""
        key = os.environ.get("STRIPE_API_KEY") or None
        if key and not key.startswith(("sk_test_", "rk_test_")):
            raise SystemExit("STRIPE_API_KEY must be a test-mode key (sk_test_… or rk_test_…) for local runs")
        return cls(
            creation_mode=os.environ.get("CREATION_MODE", "order_activation"),
            mapping=os.environ.get("MAPPING_CONFIG", "standard"),
            gateway_port=int(os.environ.get("LOCAL_GATEWAY_PORT", "0")),
            stripe_api_key=key,
            salesforce_credentials=os.environ.get("SALESFORCE_CREDENTIALS_JSON") or None,
            **overrides,
        )


class LocalStack:
    """Starts every part, wires the handlers, and stops everything it started."""

    def __init__(self, options: StackOptions | None = None) -> None:
        self.options = options or StackOptions()
        self.token = uuid.uuid4().hex
        self._processes: list[ManagedProcess] = []
        self._stoppers: list[Any] = []
        self.sim: Any = None
        self.relay: Any = None
        self.stripe: Any = None
        self.info: dict[str, Any] = {}
        self.child_pids: list[int] = []  # the processes this stack started (all stopped by stop())

    # -- lifecycle -------------------------------------------------------------------------------------
    def start(self) -> LocalStack:
        """Start everything; on failure, stop what was started and re-raise."""
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop in reverse order; every process this stack started is gone afterwards."""
        while self._stoppers:
            stopper = self._stoppers.pop()
            try:
                stopper()
            except Exception as exc:  # keep stopping the rest
                print(f"warning: stopping a component failed: {exc}", file=sys.stderr)

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _start(self) -> None:
        os.environ.update(FAKE_AWS)
        moto = self._process(moto_server())
        dynamo = moto if self.options.dynamodb == "moto" else self._process(dynalite())
        self.dynamodb = boto3.client("dynamodb", endpoint_url=dynamo.endpoint_url)
        self.sqs = boto3.client("sqs", endpoint_url=moto.endpoint_url)
        suffix = uuid.uuid4().hex[:6]
        self.state_table = create_table(self.dynamodb, "AccountStateTable", f"account-state-{suffix}")
        self.idempotency_table = create_table(self.dynamodb, "IdempotencyTable", f"idempotency-{suffix}")
        self.state = AccountStateStore(self.state_table, self.dynamodb)
        self.queue_url, self.dlq_url = self._queues(suffix)
        self.held_queue_url = str(self.sqs.create_queue(QueueName=f"held-{suffix}")["QueueUrl"])
        # The gate (shared/sync/gate.py) as deployed, but live from the start: a deployed stack starts in
        # observe mode until `sfsync go-live`; the local trial's data is the simulator's, so it syncs at once.
        HoldStore(self.state_table, self.dynamodb).release(HoldReason.OBSERVE)
        stripe_env = self._start_stripe()
        salesforce_env = self._start_salesforce()
        env = {
            "ORGANIZATION_IDS": self.org_id,
            "SYNC_QUEUE_URL": self.queue_url,
            "SYNC_DLQ_URL": self.dlq_url,
            "HELD_QUEUE_URL": self.held_queue_url,
            "OUTBOUND_TOKEN": self.token,
            "AWS_ENDPOINT_URL_SQS": moto.endpoint_url,
            "AWS_ENDPOINT_URL_DYNAMODB": dynamo.endpoint_url,
            "STATE_TABLE_NAME": self.state_table,
            "IDEMPOTENCY_TABLE_NAME": self.idempotency_table,
            "CREATION_MODE": self.options.creation_mode,
            "MAPPING_CONFIG": self.options.mapping,
            "SALESFORCE_SYNC_STATUS_FIELD": "Stripe_Sync_Status__c",
            "SALESFORCE_SYNC_ERROR_FIELD": "Stripe_Sync_Error__c",
            "LEASE_SECONDS": "10",
            **stripe_env,
            **salesforce_env,
            **self.options.extra_env,
        }
        os.environ.update(env)
        # What a deployed function's environment would hold (for processes that stand in for one).
        self.function_env = {**FAKE_AWS, **env}
        self._start_runtime(moto.endpoint_url, dynamo.endpoint_url)

    def _process(self, process: ManagedProcess) -> ManagedProcess:
        process.start()
        self._stoppers.append(process.stop)
        if process.pid:
            self.child_pids.append(process.pid)
        return process

    def _queues(self, suffix: str) -> tuple[str, str]:
        dlq_url = self.sqs.create_queue(QueueName=f"sync-dlq-{suffix}")["QueueUrl"]
        dlq_arn = self.sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]
        attributes = queue_attributes("SyncQueue")
        # Local runs redeliver faster than AWS (the poller passes a short visibility timeout per receive).
        attributes["RedrivePolicy"] = json.dumps(
            {"deadLetterTargetArn": dlq_arn["QueueArn"], "maxReceiveCount": str(self.options.max_receive_count)}
        )
        queue_url = self.sqs.create_queue(QueueName=f"sync-{suffix}", Attributes=attributes)["QueueUrl"]
        return str(queue_url), str(dlq_url)

    def _start_stripe(self) -> dict[str, str]:
        if self.options.stripe_api_key:
            self.stripe_api_base = "https://api.stripe.com"
            return {"STRIPE_API_KEY": self.options.stripe_api_key, "STRIPE_MODE": "test"}
        from devtools.stripe_emulator import StripeEmulator

        self.stripe = StripeEmulator(port=0).start()
        self._stoppers.append(self.stripe.stop)
        self.stripe_api_base = self.stripe.base_url
        return {"STRIPE_API_KEY": "sk_test_local", "STRIPE_API_BASE": self.stripe.base_url, "STRIPE_MODE": "test"}

    def _start_salesforce(self) -> dict[str, str]:
        if self.options.salesforce_credentials:
            credentials = json.loads(self.options.salesforce_credentials)
            self.org_id = os.environ.get("ORGANIZATION_IDS", "")
            if not self.org_id:
                raise SystemExit("with a real Salesforce org, set ORGANIZATION_IDS to its organization id")
            self.salesforce_instance_url = credentials.get("instance_url", "https://login.salesforce.com")
            return {"SALESFORCE_CREDENTIALS_JSON": self.options.salesforce_credentials}
        from devtools.salesforce_sim import SalesforceSimulator

        self.sim = SalesforceSimulator(port=0).start()
        self._stoppers.append(self.sim.stop)
        self.sim.outbound.retry_base_seconds = 0.2
        self.sim.outbound.retry_max_seconds = 2.0
        self.org_id = self.sim.org_id
        self.salesforce_instance_url = self.sim.instance_url
        credentials = jwt_credentials(self.sim)
        # The simulator's self-signed certificate must be trusted by requests (Salesforce client only).
        return {"SALESFORCE_CREDENTIALS_JSON": json.dumps(credentials), "REQUESTS_CA_BUNDLE": self.sim.ca_bundle_path}

    def _start_runtime(self, moto_url: str, dynamo_url: str) -> None:
        self.receiver = load_handler("functions.outbound_message.app")
        self.worker = load_handler("functions.sync_worker.app")
        self.platform_event = load_handler("functions.platform_event.app")
        # EventBridge rule target: the platform_event function, invoked with Lambda's async retries.
        self.invoker = EventBridgeInvoker(self.platform_event.lambda_handler)
        self._stoppers.append(self.invoker.stop)
        self.collector = SyncResultCollector()
        logging.getLogger(os.environ["POWERTOOLS_SERVICE_NAME"]).addHandler(self.collector)
        self._stoppers.append(
            lambda: logging.getLogger(os.environ["POWERTOOLS_SERVICE_NAME"]).removeHandler(self.collector)
        )
        self.gateway = HttpGateway(self.receiver.lambda_handler, port=self.options.gateway_port).start()
        self._stoppers.append(self.gateway.stop)
        self.outbound_message_url = f"{self.gateway.url}/outbound-message?token={self.token}"
        self.poller = SqsPoller(
            self.sqs,
            self.queue_url,
            # Through self.worker, so reload_worker() takes effect on the next batch.
            lambda event, context: self.worker.lambda_handler(event, context),
            batch_size=100,
            visibility_timeout=self.options.visibility_timeout,
        )
        if self.sim is not None:
            # Event Relay (change data capture + the order-activation platform event) → EventBridge.
            self.relay = self.sim.add_event_relay(self.invoker.submit)
            self.relay.active = self.options.event_relay
            # The Outbound Messages and Flows of the Salesforce DX package (salesforce/), as an admin deploys them.
            self.sim.install_package(self.outbound_message_url)
        self.info = {
            "outbound_message_url": self.outbound_message_url,
            "stripe_api_base": self.stripe_api_base,
            "salesforce_instance_url": self.salesforce_instance_url,
            "aws_endpoint_url": moto_url,
            "dynamodb_endpoint_url": dynamo_url,
            "organization_id": self.org_id,
            "sync_queue_url": self.queue_url,
            "dead_letter_queue_url": self.dlq_url,
            "state_table": self.state_table,
            "salesforce_ca_bundle": self.sim.ca_bundle_path if self.sim else None,
            "salesforce_control_url": f"{self.sim.instance_url}/_sim" if self.sim else None,
            # What `sfsync --stack .local/stack.json` runs with: the worker's own settings (local values only).
            "worker_environment": self._shareable_env(),
        }

    def _shareable_env(self) -> dict[str, str]:
        # The emulators' throwaway keys may be written to .local/stack.json; a real Stripe key or Salesforce
        # login (opted into through the environment) never is: sfsync takes those from the user's environment.
        real = {"STRIPE_API_KEY"} if self.options.stripe_api_key else set()
        real |= {"SALESFORCE_CREDENTIALS_JSON"} if self.options.salesforce_credentials else set()
        return {name: value for name, value in self.function_env.items() if name not in real}

    def reload_worker(self, mapping: str | None = None) -> None:
        """A new cold start of the worker (e.g. with a changed mapping), keeping the org, queues and Stripe."""
        if mapping is not None:
            os.environ["MAPPING_CONFIG"] = self.function_env["MAPPING_CONFIG"] = mapping
        self.worker = load_handler("functions.sync_worker.app")

    # -- driving ---------------------------------------------------------------------------------------
    @property
    def outcomes(self) -> list[str]:
        """Every outcome the worker reported so far, in order."""
        return [str(result["outcome"]) for result in self.collector.results]

    def start_polling(self) -> None:
        """Run the worker continuously in the background (``make serve``)."""
        self.poller.start()
        self._stoppers.append(self.poller.stop)

    def dlq_depth(self) -> int:
        """Messages waiting in the dead-letter queue."""
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.dlq_url, AttributeNames=["ApproximateNumberOfMessages"]
        )
        return int(attributes["Attributes"]["ApproximateNumberOfMessages"])

    def settle(self, timeout: float = 30.0, *, outbound: bool = True) -> None:
        """Wait until Salesforce delivered everything and the worker drained the queue."""
        for _ in range(5):
            if outbound and self.sim is not None and not self.sim.outbound.wait_idle(timeout=timeout):
                raise TimeoutError("Salesforce outbound messages are still pending")
            if not self.invoker.wait_idle(timeout=timeout):
                raise TimeoutError("EventBridge events are still pending")
            delivered = self.invoker.stats.events
            self.poller.drain(timeout=timeout)
            # The worker's write-back publishes change events of its own: settle those too.
            if self.invoker.pending() == 0 and self.invoker.stats.events == delivered:
                return
