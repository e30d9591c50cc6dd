"""The stack every scenario runs against, and what the scenarios share.

One ``LocalStack`` for the whole run (dynalite, moto SQS + DLQ, Stripe emulator, Salesforce simulator, the
receiver behind ``HttpGateway``, the worker). Its handlers' output (stdout and stderr, also of child
processes) goes to one log file, which the leak scan reads last; every personal value and credential the
run uses is collected in ``sensitive`` for that scan.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import traceback
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devtools.local_runtime import SqsPoller
from devtools.local_runtime.stack import LocalStack, StackOptions, load_handler
from devtools.reliability.accounts import account_fields, personal_values
from devtools.sam.lambda_events import FakeLambdaContext

VISIBILITY_SECONDS = 3
# Below the visibility timeout, as in AWS (150 s worker timeout, 900 s visibility): an idempotency record
# left "in progress" by a failed or killed invocation has expired by the time the message comes back.
LAMBDA_TIMEOUT_MS = 2500
MAX_RECEIVE_COUNT = 10  # template.yaml's redrive policy
LEASE_SECONDS = 5  # the shortest the worker accepts: a lease left by a killed worker lapses soon
DELIVERY_ATTEMPTS = 6  # a sender retries a message that was not acknowledged, like Salesforce
QUEUE_COUNTS = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
)


class LambdaContext(FakeLambdaContext):
    """A Lambda context whose remaining time never reads 0.

    Past the simulated timeout Lambda would have ended the invocation; 0 would make Powertools store an
    in-progress record without expiry (blocking the event until the idempotency expiry), 1 ms lets it lapse.
    """

    def get_remaining_time_in_millis(self) -> int:
        return max(1, super().get_remaining_time_in_millis())


@dataclass
class WorkerStats:
    """What the worker did, over the whole run."""

    invocations: int = 0
    messages: int = 0
    item_failures: int = 0
    handler_errors: int = 0
    slowest_batch: float = 0.0


@dataclass
class Deliveries:
    """What posting SOAP messages gave: messages, attempts not acknowledged, messages never acknowledged."""

    messages: int = 0
    not_acked: int = 0
    given_up: int = 0
    server_errors: int = 0


class Harness:
    """A started local stack plus logging, sensitive values, worker driving and settling."""

    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path
        self.sensitive: dict[str, str] = {}  # value → what it is (phone, street, token…)
        self.worker_stats = WorkerStats()
        self._exit = ExitStack()
        self._lock = threading.Lock()

    def __enter__(self) -> Harness:
        try:
            self._start()
        except BaseException:
            self._exit.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._exit.close()

    def _start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log_path.write_text("")
        # Append mode: the crashing worker (a child process) writes to the same file.
        self.log = self._exit.enter_context(self.log_path.open("a", buffering=1, encoding="utf-8"))
        self._exit.enter_context(redirect_stdout(self.log))
        self._exit.enter_context(redirect_stderr(self.log))
        options = StackOptions(
            creation_mode="every_account",
            mapping="standard",
            visibility_timeout=VISIBILITY_SECONDS,
            max_receive_count=MAX_RECEIVE_COUNT,
            # The 2.5 s context timeout is scaled down for the idempotency records' in-progress expiry only: no
            # one stops the worker at it, so it must not stop starting syncs before it either (that deadline
            # has its own test: tests/integration/test_worker_deadline.py).
            extra_env={"LEASE_SECONDS": str(LEASE_SECONDS), "STOP_BEFORE_TIMEOUT_SECONDS": "0"},
        )
        self.stack = self._exit.enter_context(LocalStack(options))
        self.sim, self.stripe, self.sqs = self.stack.sim, self.stack.stripe, self.stack.sqs
        self.org_id: str = self.stack.org_id
        self.stripe.timeout_seconds = 0.3  # how long a "timeout" fault holds the connection before dropping it
        self._collect_credentials()

    def _collect_credentials(self) -> None:
        self.sensitive.update({self.stack.token: "outbound token", os.environ["STRIPE_API_KEY"]: "Stripe key"})
        credentials = json.loads(os.environ["SALESFORCE_CREDENTIALS_JSON"])
        # A leaked key would show up as a fragment, so every line of the PEM body is a value of its own.
        pem_lines = [line for line in credentials["private_key"].splitlines() if "-----" not in line]
        self.sensitive.update(dict.fromkeys(pem_lines, "Salesforce private key"))
        auth = self.sim.auth
        issue = auth.issue_token

        def recording_issue(*args: Any, **kwargs: Any) -> str:
            token = str(issue(*args, **kwargs))
            self.sensitive[token] = "Salesforce session id"
            return token

        auth.issue_token = recording_issue  # every session id the worker gets is scanned for, too

    # -- Salesforce data ---------------------------------------------------------------------------------
    def outbound(self, *, active: bool) -> None:
        """Switch the simulator's Outbound Messages on or off (off: the scenario posts its own)."""
        for definition in self.sim.outbound.definitions:
            definition.active = active

    def create_accounts(self, prefix: str, count: int) -> list[str]:
        """``count`` accounts at version 0."""
        ids = []
        for index in range(count):
            fields = account_fields(prefix, index, 0)
            self.sensitive.update(personal_values(fields))
            ids.append(self.sim.create("Account", fields))
        return ids

    def update_accounts(self, prefix: str, ids: list[str], version: int) -> dict[str, str]:
        """Apply ``version`` to every account; returns each account's new SystemModstamp (SOAP text)."""
        from devtools.salesforce_sim.values import soap_value

        stamps = {}
        for index, account_id in enumerate(ids):
            fields = account_fields(prefix, index, version)
            self.sensitive.update(personal_values(fields))
            self.sim.update("Account", account_id, fields)
            stamps[account_id] = soap_value(self.sim.get("Account", account_id)["SystemModstamp"])
        return stamps

    # -- the receiver ------------------------------------------------------------------------------------
    def post(self, body: bytes, *, url: str | None = None) -> tuple[int, bytes]:
        """POST one body to the receiver through the HTTP gateway; returns (status, body)."""
        request = urllib.request.Request(
            url or self.stack.outbound_message_url,
            data=body,
            method="POST",
            headers={"Content-Type": "text/xml; charset=UTF-8", "SOAPAction": '""'},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return int(response.status), bytes(response.read())
        except urllib.error.HTTPError as error:
            return int(error.code), bytes(error.read())
        except OSError:  # reset or timed out: not acknowledged, so it is sent again (as Salesforce does)
            return 0, b""

    def deliver(self, bodies: list[bytes], *, clients: int) -> Deliveries:
        """POST every message from ``clients`` parallel clients, each retried until acknowledged."""
        result = Deliveries(messages=len(bodies))

        def send(body: bytes) -> None:
            for _ in range(DELIVERY_ATTEMPTS):
                status, answer = self.post(body)
                if status == 200 and b"<Ack>true</Ack>" in answer:
                    return
                with self._lock:
                    result.not_acked += 1
                    result.server_errors += status >= 500
                time.sleep(0.2)
            with self._lock:
                result.given_up += 1

        with ThreadPoolExecutor(max_workers=clients) as pool:
            list(pool.map(send, bodies))
        return result

    # -- the worker ---------------------------------------------------------------------------------------
    def invoke_worker(self, event: dict[str, Any], _context: Any = None) -> Any:
        """Invoke the worker's handler as Lambda would, counting what happened."""
        started = time.monotonic()
        try:
            response = self.stack.worker.lambda_handler(event, LambdaContext("worker", timeout_ms=LAMBDA_TIMEOUT_MS))
        except Exception:
            # Lambda's runtime logs an unhandled error; the whole batch then comes back.
            print(f"worker invocation failed:\n{traceback.format_exc()}", file=sys.stderr)
            self.worker_stats.handler_errors += 1
            raise
        finally:
            stats = self.worker_stats
            stats.invocations += 1
            stats.messages += len(event["Records"])
            stats.slowest_batch = max(stats.slowest_batch, time.monotonic() - started)
        self.worker_stats.item_failures += len((response or {}).get("batchItemFailures", []))
        return response

    def poller(self) -> SqsPoller:
        """A poller feeding the worker like the event source mapping (batch size 100, as in template.yaml)."""
        return SqsPoller(
            self.sqs, self.stack.queue_url, self.invoke_worker, batch_size=100, visibility_timeout=VISIBILITY_SECONDS
        )

    def cold_start_worker(self) -> None:
        """A new worker instance (fresh module, clients and caches), like a new Lambda execution environment."""
        self.stack.worker = load_handler("functions.sync_worker.app")

    def settle(self, timeout: float = 240.0) -> None:
        """Poll until Salesforce delivered everything and the queue is empty, in-flight messages included."""
        poller = self.poller()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.sim.outbound.pending() == 0 and self.queue_depth() == 0:
                return
            poller.poll_once(wait_seconds=1)
        raise TimeoutError(f"not settled after {timeout:.0f} s (queue depth {self.queue_depth()})")

    @contextmanager
    def background_worker(self) -> Iterator[None]:
        """Run the worker continuously while the block runs (then stop it; call ``settle`` to finish)."""
        poller = self.poller().start()
        try:
            yield
        finally:
            poller.stop()

    def queue_depth(self, url: str | None = None) -> int:
        """Messages in a queue (the sync queue by default), visible, in flight or delayed."""
        attributes = self.sqs.get_queue_attributes(QueueUrl=url or self.stack.queue_url, AttributeNames=QUEUE_COUNTS)
        return sum(int(attributes["Attributes"].get(name, 0)) for name in QUEUE_COUNTS)

    # -- what happened ------------------------------------------------------------------------------------
    def customers_by_account(self) -> dict[str, list[dict[str, Any]]]:
        """Every Stripe customer (deleted ones too), by the Salesforce account id in its metadata."""
        found: dict[str, list[dict[str, Any]]] = {}
        for customer in self.stripe.customers(include_deleted=True):
            account_id = (customer.get("metadata") or {}).get("salesforce_account_id")
            found.setdefault(str(account_id), []).append(customer)
        return found

    def log_offset(self) -> int:
        """Where the log ends now (read what came after with ``outcomes``)."""
        self.log.flush()
        return self.log_path.stat().st_size

    def outcomes(self, offset: int, accounts: Iterable[str] | None = None) -> Counter[str]:
        """The worker's outcome per event and account since ``offset`` (only for ``accounts``, when given).

        A redelivered event logs its stored result again: counted once, with its last outcome.
        """
        wanted = set(accounts) if accounts is not None else None
        last: dict[tuple[str, str], str] = {}
        for entry in self.log_entries(offset):
            if entry.get("message") == "synced" and (wanted is None or entry.get("account_id") in wanted):
                last[(str(entry.get("event_id")), str(entry.get("account_id")))] = str(entry.get("outcome"))
        return Counter(last.values())

    def log_entries(self, offset: int = 0) -> Iterator[dict[str, Any]]:
        """The JSON log lines written since ``offset``."""
        self.log.flush()
        with self.log_path.open("rb") as handle:
            handle.seek(offset)
            for line in handle:
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                if isinstance(entry, dict):
                    yield entry
