"""The whole product running locally: emulators + the real handlers on a local Lambda runtime.

Salesforce org simulator → receiver (HTTP gateway) → SQS (moto server) → worker (SQS poller) → Stripe
emulator, with DynamoDB on dynalite. Used by ``make run`` (scripted demo) and ``make serve`` (left running).
Any part can be swapped for the real service through environment variables (docs/try-it.md).
The integration tests run on this stack too (tests/integration/stack.py), on their session's dynalite, moto
server and Stripe emulator (``RunningParts``).
"""

from __future__ import annotations

import functools
import importlib
import json
import logging
import os
import sys
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Protocol

import boto3

from devtools.local_runtime import EventBridgeInvoker, HttpGateway, SqsPoller
from devtools.local_runtime.processes import ManagedProcess, dynalite, moto_server
from devtools.local_runtime.salesforce_login import jwt_credentials
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


@functools.cache
def _template_queue(logical_id: str) -> tuple[tuple[str, str], ...]:
    """The template's attributes for queue ``logical_id``, read once per process (a stack per test reads them)."""
    return tuple(queue_attributes(logical_id).items())


class EnvironmentSetter(Protocol):
    """Sets one environment variable (pytest's ``monkeypatch``, which undoes it after the test)."""

    def setenv(self, name: str, value: str) -> None: ...


def load_handler(
    module_name: str, environ: EnvironmentSetter | None = None, env: Mapping[str, str] | None = None
) -> ModuleType:
    """Import a handler module afresh (a cold start): its settings are read from the environment at import.

    ``env`` is set first through ``environ`` (a test's ``monkeypatch``); without them, the current environment.
    """
    for name, value in (env or {}).items():
        if environ is None:
            raise ValueError("load_handler: env needs an environ that sets it")
        environ.setenv(name, value)
    sys.modules.pop(module_name, None)
    return importlib.import_module(module_name)


@dataclass(frozen=True)
class RunningParts:
    """Parts already running that a stack uses instead of starting its own, and leaves running.

    The integration tests' session parts: one dynalite, one moto server and one Stripe emulator for all
    tests, and fresh tables per test (the tests read them too).
    """

    aws_endpoint_url: str  # moto server (SQS)
    dynamodb_endpoint_url: str
    stripe: Any  # a started devtools.stripe_emulator.StripeEmulator
    state_table: str
    idempotency_table: str


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
    # moto's server as released, its SQS attribute reads scanning the queue (``make bench``'s before-figures).
    stock_moto: bool = False
    stripe_api_key: str | None = None  # a Stripe test-mode key: use real Stripe instead of the emulator
    salesforce_credentials: str | None = None  # JSON: use a real sandbox instead of the simulator
    # STRIPE_MODE with the emulator ("test"); None leaves it unset (the key's mode is then not checked).
    stripe_mode: str | None = "test"
    # Salesforce's Outbound Message retry backoff in the simulator (seconds: first retry, longest wait).
    outbound_retry_seconds: tuple[float, float] = (0.2, 2.0)
    running: RunningParts | None = None  # reuse these instead of starting dynalite, moto and the emulator
    # Go live at start (the gate's observe hold released); False: start in observe mode, as a deployed stack.
    start_live: bool = True
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

    def __init__(self, options: StackOptions | None = None, environ: EnvironmentSetter | None = None) -> None:
        """``environ``: sets the handlers' environment (a test's ``monkeypatch``); by default os.environ, put
        back as it was by stop()."""
        self.options = options or StackOptions()
        self._environ = environ
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
        self._set_environ(FAKE_AWS)
        moto_url, dynamo_url = self._aws_endpoints()
        self.dynamodb = boto3.client("dynamodb", endpoint_url=dynamo_url)
        self.sqs = boto3.client("sqs", endpoint_url=moto_url)
        suffix = uuid.uuid4().hex[:6]
        self._tables(suffix)
        self.state = AccountStateStore(self.state_table, self.dynamodb)
        self.queue_url, self.dlq_url, self.failure_queue_url = self._queues(suffix)
        self.held_queue_url = str(self.sqs.create_queue(QueueName=f"held-{suffix}")["QueueUrl"])
        if self.options.start_live:
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
            "FAILURE_QUEUE_URL": self.failure_queue_url,
            "AWS_ENDPOINT_URL_SQS": moto_url,
            "AWS_ENDPOINT_URL_DYNAMODB": dynamo_url,
            "STATE_TABLE_NAME": self.state_table,
            "IDEMPOTENCY_TABLE_NAME": self.idempotency_table,
            "CREATION_MODE": self.options.creation_mode,
            "MAPPING_CONFIG": self.options.mapping,
            "SALESFORCE_SYNC_STATUS_FIELD": "Stripe_Sync_Status__c",
            "SALESFORCE_SYNC_ERROR_FIELD": "Stripe_Sync_Error__c",
            "SALESFORCE_ADOPT_FIELD": "Stripe_Adopt_Customer_ID__c",
            "WRITE_BACK_FIELDS": "Stripe_Customer_ID__c,Stripe_Sync_Status__c,Stripe_Sync_Error__c,"
            "Stripe_Adopt_Customer_ID__c",
            "LEASE_SECONDS": "10",
            **stripe_env,
            **salesforce_env,
            **self.options.extra_env,
        }
        self._set_environ(env)
        # What a deployed function's environment would hold (for processes that stand in for one).
        self.function_env = {**FAKE_AWS, **env}
        self._start_runtime(moto_url, dynamo_url)

    def _set_environ(self, values: Mapping[str, str]) -> None:
        """Set the handlers' environment in this process; stop() puts back what was there before."""
        if self._environ is not None:
            for name, value in values.items():
                self._environ.setenv(name, value)
            return
        before = {name: os.environ.get(name) for name in values}
        os.environ.update(values)

        def restore() -> None:
            for name, value in before.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value

        self._stoppers.append(restore)

    def _aws_endpoints(self) -> tuple[str, str]:
        """(moto server's URL, DynamoDB's URL): the running parts', or processes started for this stack."""
        if self.options.running is not None:
            return self.options.running.aws_endpoint_url, self.options.running.dynamodb_endpoint_url
        moto = self._process(moto_server(stock=self.options.stock_moto))
        dynamo = moto if self.options.dynamodb == "moto" else self._process(dynalite())
        return moto.endpoint_url, dynamo.endpoint_url

    def _tables(self, suffix: str) -> None:
        """The account-state and idempotency tables: the running parts', or new ones from template.yaml."""
        if self.options.running is not None:
            self.state_table = self.options.running.state_table
            self.idempotency_table = self.options.running.idempotency_table
            return
        self.state_table = create_table(self.dynamodb, "AccountStateTable", f"account-state-{suffix}")
        self.idempotency_table = create_table(self.dynamodb, "IdempotencyTable", f"idempotency-{suffix}")

    def _process(self, process: ManagedProcess) -> ManagedProcess:
        process.start()
        self._stoppers.append(process.stop)
        if process.pid:
            self.child_pids.append(process.pid)
        return process

    def _queues(self, suffix: str) -> tuple[str, str, str]:
        """The template's queues: (SyncQueue, its DLQ, the platform_event function's on-failure queue)."""
        dlq_url = self.sqs.create_queue(QueueName=f"sync-dlq-{suffix}")["QueueUrl"]
        dlq_arn = self.sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]
        attributes = dict(_template_queue("SyncQueue"))
        # Local runs redeliver faster than AWS (the poller passes a short visibility timeout per receive).
        attributes["RedrivePolicy"] = json.dumps(
            {"deadLetterTargetArn": dlq_arn["QueueArn"], "maxReceiveCount": str(self.options.max_receive_count)}
        )
        queue_url = self.sqs.create_queue(QueueName=f"sync-{suffix}", Attributes=attributes)["QueueUrl"]
        # EventInvokeConfig's on-failure destination: unusable events are kept there, with the reason.
        failure_attributes = dict(_template_queue("PlatformEventFailureQueue"))
        failure_url = self.sqs.create_queue(QueueName=f"pe-failure-{suffix}", Attributes=failure_attributes)["QueueUrl"]
        return str(queue_url), str(dlq_url), str(failure_url)

    def _start_stripe(self) -> dict[str, str]:
        if self.options.stripe_api_key:
            self.stripe_api_base = "https://api.stripe.com"
            return {"STRIPE_API_KEY": self.options.stripe_api_key, "STRIPE_MODE": "test"}
        if self.options.running is not None:
            self.stripe = self.options.running.stripe
        else:
            from devtools.stripe_emulator import StripeEmulator

            self.stripe = StripeEmulator(port=0).start()
            self._stoppers.append(self.stripe.stop)
        self.stripe_api_base = self.stripe.base_url
        mode = {"STRIPE_MODE": self.options.stripe_mode} if self.options.stripe_mode else {}
        return {"STRIPE_API_KEY": "sk_test_local", "STRIPE_API_BASE": self.stripe.base_url, **mode}

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
        self.sim.outbound.retry_base_seconds, self.sim.outbound.retry_max_seconds = self.options.outbound_retry_seconds
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

    def reload_worker(self, mapping: str | None = None, env: Mapping[str, str] | None = None) -> None:
        """A new cold start of the worker (e.g. with a changed mapping or other ``env`` settings), keeping the
        org, queues and Stripe."""
        changed = {**(env or {}), **({"MAPPING_CONFIG": mapping} if mapping is not None else {})}
        if changed:
            self.function_env.update(changed)
            self._set_environ(changed)
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
