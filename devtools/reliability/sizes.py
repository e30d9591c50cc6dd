"""How big each scenario runs: ``full`` for ``make reliability``, ``ci`` for the test suite (< 90 s)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Size:
    """Scenario sizes."""

    name: str
    storm_accounts: int  # accounts in the duplicate storm
    storm_changes: int  # changes per account (one notification each)
    storm_copies: int  # deliveries per notification
    storm_clients: int  # parallel HTTP clients
    reorder_accounts: int
    fault_accounts: int
    fault_rounds: int  # rounds of changes, with session expiry and REST 503s between them
    crash_accounts: int
    crashes: int  # worker processes killed after a Stripe create
    poison_messages: int
    transient_messages: int  # valid messages that reach the DLQ through the redrive policy
    hostile_direct: int  # bodies through the receiver's lambda_handler
    hostile_http: int  # bodies through the real HTTP gateway
    expired_accounts: int  # creates whose replies were lost, redriven after their keys expired
    event_fuzz: int  # generated EventBridge events through the Event Relay (platform-event) function
    identity_accounts: int  # accounts per org-id alias round (batch, one at a time); typed ids and merges use both
    rotation_accounts: int = 40  # accounts changed around each credential rotation and host move


SIZES = {
    "full": Size(
        name="full",
        storm_accounts=200,
        storm_changes=5,
        storm_copies=5,
        storm_clients=8,
        reorder_accounts=50,
        fault_accounts=100,
        fault_rounds=3,
        crash_accounts=20,
        crashes=5,
        poison_messages=30,
        transient_messages=5,
        hostile_direct=10_000,
        hostile_http=300,
        expired_accounts=30,
        event_fuzz=10_000,
        identity_accounts=20,
    ),
    "ci": Size(
        name="ci",
        storm_accounts=20,
        storm_changes=3,
        storm_copies=3,
        storm_clients=4,
        reorder_accounts=8,
        fault_accounts=10,
        fault_rounds=1,
        crash_accounts=3,
        crashes=1,
        poison_messages=8,
        transient_messages=2,
        hostile_direct=800,
        hostile_http=30,
        expired_accounts=4,
        event_fuzz=400,
        identity_accounts=4,
        rotation_accounts=6,
    ),
}
