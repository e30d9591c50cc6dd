"""Fixtures for the emulators' own tests: a REST client on the running Salesforce simulator."""

from __future__ import annotations

import pytest
from simple_salesforce import Salesforce

from devtools.salesforce_sim import SalesforceSimulator


@pytest.fixture
def sf(sim: SalesforceSimulator) -> Salesforce:
    """simple-salesforce on the simulator (``sim``, tests/conftest.py), as the default user."""
    return Salesforce(instance_url=sim.instance_url, session_id=sim.issue_token())
