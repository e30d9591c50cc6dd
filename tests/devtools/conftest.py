"""Fixtures for the emulators' own tests: a fresh Stripe emulator, a REST client on the Salesforce simulator."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from simple_salesforce import Salesforce

from devtools.salesforce_sim import SalesforceSimulator
from devtools.stripe_emulator import StripeEmulator


@pytest.fixture
def emu() -> Iterator[StripeEmulator]:
    """A Stripe emulator of its own (not the session's: these tests change its keys and timings)."""
    with StripeEmulator() as emulator:
        emulator.timeout_seconds = 0.2  # keep simulated timeouts short
        yield emulator


@pytest.fixture
def sf(sim: SalesforceSimulator) -> Salesforce:
    """simple-salesforce on the simulator (``sim``, tests/conftest.py), as the default user."""
    return Salesforce(instance_url=sim.instance_url, session_id=sim.issue_token())
