"""Delivery scenarios: a duplicate storm, and older notifications arriving after newer ones.

The scenario posts its own SOAP messages (the simulator's Outbound Messages are switched off), so it
controls exactly what is delivered, how often and in which order; the data comes from the simulator.
"""

from __future__ import annotations

import random
import time
import uuid

from devtools.reliability.accounts import account_fields, differences, expected_customer
from devtools.reliability.figures import Figures
from devtools.reliability.harness import Deliveries, Harness
from devtools.reliability.sizes import Size
from devtools.sam.make_events import soap_message

MAX_PER_MESSAGE = 100  # Salesforce's limit per Outbound Message
Notification = tuple[str, str, dict[str, str]]


def notification(account_id: str, stamp: str, name: str) -> Notification:
    """An Account notification as Salesforce sends it (the fields an admin selects)."""
    return ("04l" + uuid.uuid4().hex[:15].upper(), "Account", {"Id": account_id, "Name": name, "SystemModstamp": stamp})


def messages(h: Harness, notifications: list[Notification], rng: random.Random | None = None) -> list[bytes]:
    """SOAP messages of at most 100 notifications each (of random sizes from 1 to 100, given ``rng``)."""
    bodies = []
    start = 0
    while start < len(notifications):
        count = rng.randint(1, MAX_PER_MESSAGE) if rng else MAX_PER_MESSAGE
        bodies.append(soap_message(notifications[start : start + count], org_id=h.org_id))
        start += count
    return bodies


def check_customers(h: Harness, prefix: str, ids: list[str], version: int) -> dict[str, int]:
    """Per account: no customer, extra customers, or a customer not at ``version`` (counts)."""
    found = h.customers_by_account()
    counts = {"missing": 0, "extra": 0, "not_latest": 0, "customers": 0}
    for index, account_id in enumerate(ids):
        customers = found.get(account_id, [])
        counts["customers"] += len(customers)
        counts["extra"] += max(0, len(customers) - 1)
        if not customers:
            counts["missing"] += 1
        elif differences(customers[0], expected_customer(account_fields(prefix, index, version))):
            counts["not_latest"] += 1
    return counts


def _add_delivery(total: Deliveries, part: Deliveries) -> None:
    total.messages += part.messages
    total.not_acked += part.not_acked
    total.given_up += part.given_up
    total.server_errors += part.server_errors


def _storm_rounds(h: Harness, ids: list[str], size: Size, rng: random.Random) -> Deliveries:
    """Apply each change and post that round's shuffled copies; returns what posting took."""
    changes = size.storm_changes
    # For every (account, change): the rounds its copies go out in.
    schedule = {
        (a, c): [rng.randint(c, changes) for _ in range(size.storm_copies)] for a in ids for c in range(1, changes + 1)
    }
    pending: dict[int, list[Notification]] = {r: [] for r in range(1, changes + 1)}
    total = Deliveries()
    for round_ in range(1, changes + 1):
        stamps = h.update_accounts("Storm", ids, round_)
        for index, account_id in enumerate(ids):
            item = notification(account_id, stamps[account_id], account_fields("Storm", index, round_)["Name"])
            for target in schedule[(account_id, round_)]:
                pending[target].append(item)
        batch = pending.pop(round_)
        rng.shuffle(batch)
        bodies = messages(h, batch, rng)
        # Waves of one message per client, drained in between: moto's SQS slows down with the queue's
        # length (every call scans all messages), so the queue is kept to a few hundred messages.
        for start in range(0, len(bodies), size.storm_clients):
            _add_delivery(total, h.deliver(bodies[start : start + size.storm_clients], clients=size.storm_clients))
            h.settle()
    return total


def duplicate_storm(h: Harness, size: Size) -> Figures:
    """Notifications for several changes per account, each delivered several times, shuffled, in parallel.

    Round r applies change r in Salesforce, then posts a shuffled mix of copies of notifications for
    changes ≤ r (each copy in a random round at or after its change) in messages of 1 to 100
    notifications, so the worker sees intermediate states, duplicates within and across batches (and
    within one message), and older notifications after newer ones.
    """
    started = time.monotonic()
    accounts, changes, copies = size.storm_accounts, size.storm_changes, size.storm_copies
    h.outbound(active=False)
    ids = h.create_accounts("Storm", accounts)
    h.settle()
    writes_before = len(h.stripe.write_requests())
    offset = h.log_offset()
    total = _storm_rounds(h, ids, size, random.Random(20_261_102))
    counts = check_customers(h, "Storm", ids, changes)
    writes = h.stripe.write_requests()[writes_before:]
    outcomes = h.outcomes(offset, ids)
    return Figures(
        scenario="duplicate storm",
        size=(
            f"{accounts * changes:,} notifications ({accounts} accounts × {changes} changes) × {copies} deliveries"
            f" in {total.messages} SOAP messages, {size.storm_clients} clients"
        ),
        lost=counts["missing"] + counts["not_latest"],
        duplicates=counts["extra"],
        zero={
            "customers_off": abs(counts["customers"] - accounts),
            "not_latest": counts["not_latest"],
            "never_acked": total.given_up,
            "dlq": h.queue_depth(h.stack.dlq_url),
        },
        other={
            "customers": counts["customers"],
            "http_retries": total.not_acked,
            "stripe_creates": sum(1 for w in writes if w["path"] == "/v1/customers"),
            "stripe_updates": sum(1 for w in writes if w["path"] != "/v1/customers"),
            **{f"outcome_{name}": count for name, count in sorted(outcomes.items())},
        },
        seconds=time.monotonic() - started,
    )


def reordering(h: Harness, size: Size) -> Figures:
    """The newest notification first, then older ones (older ``SystemModstamp``) → never applied, ``stale``."""
    started = time.monotonic()
    count = size.reorder_accounts
    h.outbound(active=False)
    ids = h.create_accounts("Reorder", count)
    versions = 3
    stamps = {version: h.update_accounts("Reorder", ids, version) for version in range(1, versions + 1)}
    newest = [notification(a, stamps[versions][a], f"Reorder {i}") for i, a in enumerate(ids)]
    deliveries = h.deliver(messages(h, newest), clients=4)
    h.settle()
    applied = check_customers(h, "Reorder", ids, versions)
    writes_before = len(h.stripe.write_requests())
    offset = h.log_offset()
    older = [notification(a, stamps[v][a], f"Reorder {i}") for v in range(1, versions) for i, a in enumerate(ids)]
    random.Random(7).shuffle(older)
    late = h.deliver(messages(h, older), clients=4)
    h.settle()
    counts = check_customers(h, "Reorder", ids, versions)
    outcomes = h.outcomes(offset, ids)
    older_writes = len(h.stripe.write_requests()) - writes_before
    return Figures(
        scenario="reordering",
        size=f"{count} accounts: newest of {versions} versions first, then {len(older)} older notifications",
        lost=counts["missing"] + counts["not_latest"] + applied["missing"] + applied["not_latest"],
        duplicates=counts["extra"],
        zero={
            "older_applied": older_writes,
            "not_reported_stale": len(older) - outcomes.get("stale", 0),
            "never_acked": deliveries.given_up + late.given_up,
        },
        other={f"outcome_{name}": n for name, n in sorted(outcomes.items())},
        seconds=time.monotonic() - started,
    )
