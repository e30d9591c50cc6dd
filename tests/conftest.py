"""Shared fixtures: the real local parts every integration test runs against.

dynalite (race-free local DynamoDB), moto server (SQS), the Stripe emulator and the Salesforce simulator
are started here on 127.0.0.1 and stopped at the end of the session; each test gets fresh tables, queues
and a reset emulator.
"""

from __future__ import annotations

import os
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

# Fake AWS credentials: nothing here may ever reach a real AWS account.
for _name, _value in {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "SalesforceStripeSyncTests",
    "POWERTOOLS_SERVICE_NAME": "salesforce-stripe-sync",
}.items():
    os.environ[_name] = _value

from devtools.local_runtime.processes import dynalite, moto_server  # noqa: E402
from devtools.sam.template_tables import create_table  # noqa: E402

TESTS_DIR = Path(__file__).parent
INTEGRATION_DIRS = ("integration", "devtools")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/integration and tests/devtools uses the emulators."""
    for item in items:
        relative = Path(str(item.fspath)).relative_to(TESTS_DIR)
        if relative.parts and relative.parts[0] in INTEGRATION_DIRS:
            item.add_marker(pytest.mark.integration)


class CallCounter:
    """Counts AWS API calls made through a boto3 client (botocore events), by operation name."""

    def __init__(self, client: Any) -> None:
        self.calls: Counter[str] = Counter()
        client.meta.events.register("before-call.*.*", self._count)

    def _count(self, model: Any, **_: Any) -> None:
        self.calls[model.name] += 1

    def total(self) -> int:
        """All calls so far."""
        return sum(self.calls.values())

    def reset(self) -> None:
        """Start counting from zero."""
        self.calls.clear()


@pytest.fixture(scope="session")
def dynamodb_endpoint() -> Iterator[str]:
    """A dynalite server for the whole test session."""
    with dynalite() as server:
        yield server.endpoint_url


@pytest.fixture
def dynamodb(dynamodb_endpoint: str) -> Any:
    """A DynamoDB client on dynalite; its calls are counted in ``dynamodb.counter``."""
    client = boto3.client("dynamodb", endpoint_url=dynamodb_endpoint)
    client.counter = CallCounter(client)  # type: ignore[attr-defined]
    return client


@pytest.fixture
def state_table(dynamodb: Any) -> str:
    """A fresh account-state table built from template.yaml's definition."""
    return create_table(dynamodb, "AccountStateTable", f"state-{uuid.uuid4().hex[:8]}")


@pytest.fixture
def idempotency_table(dynamodb: Any) -> str:
    """A fresh idempotency table built from template.yaml's definition."""
    return create_table(dynamodb, "IdempotencyTable", f"idem-{uuid.uuid4().hex[:8]}")


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A moto server (SQS and other AWS APIs) for the whole test session."""
    with moto_server() as server:
        yield server.endpoint_url


@pytest.fixture
def sim(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A running Salesforce org simulator (HTTPS on 127.0.0.1) whose certificate ``requests`` trusts."""
    from devtools.salesforce_sim import SalesforceSimulator

    with SalesforceSimulator() as simulator:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", simulator.ca_bundle_path)
        yield simulator


@pytest.fixture(scope="session")
def _stripe_emulator_session() -> Iterator[Any]:
    from devtools.stripe_emulator import StripeEmulator

    with StripeEmulator(port=0) as emulator:
        yield emulator


@pytest.fixture
def stripe_emulator(_stripe_emulator_session: Any) -> Any:
    """The Stripe emulator, reset for this test."""
    _stripe_emulator_session.reset()
    return _stripe_emulator_session
