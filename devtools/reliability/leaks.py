"""Leaks: the whole run's handler output, the stack's tables and its failure queues hold no personal value.

First a small workload through the error paths that are most tempted to quote data (an invalid email, a
phone Stripe refuses, a contact's email changing, orders activated through CPQ quotes), then a scan of the
log (every scenario's output, the crashing workers' included) for every value the harness collected:
verbatim, JSON-escaped and URL-encoded. After the log, the same scan of what the stack keeps at rest once
everything settled: every item of the state and idempotency tables (the state keeps keyed digests, never the
values: docs/operate/personal-data.md) and every message of the dead-letter, held and on-failure queues (read
without removing them).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any
from urllib.parse import quote, quote_plus

from devtools.reliability.accounts import account_fields, personal_values
from devtools.reliability.figures import Figures
from devtools.reliability.harness import Harness
from devtools.reliability.sizes import Size

_SHORTEST = 6  # shorter values would match by chance


def _customer_with_order(h: Harness, index: int, email: str, **overrides: str) -> str:
    """An account with a primary contact on a CPQ quote and an order that gets activated; returns the contact."""
    fields = {**account_fields("Leak", index, 0), **overrides}
    contact_phone = f"+49 40 6{index:05d}"
    h.sensitive.update({**personal_values(fields), email: "email", contact_phone: "phone"})
    account_id = h.sim.create("Account", fields)
    contact_id = h.sim.create(
        "Contact",
        {"AccountId": account_id, "LastName": f"Leak {index}", "Email": email, "Phone": contact_phone},
    )
    quote_id = h.sim.create(
        "SBQQ__Quote__c",
        {"SBQQ__Account__c": account_id, "SBQQ__PrimaryContact__c": contact_id, "SBQQ__Primary__c": True},
    )
    order_id = h.sim.create(
        "Order", {"AccountId": account_id, "SBQQ__Quote__c": quote_id, "Status": "Draft", "EffectiveDate": "2026-11-01"}
    )
    h.sim.update("Order", order_id, {"Status": "Activated"})
    return str(contact_id)


def _error_paths(h: Harness) -> int:
    """Customers through the paths that handle personal data in errors; returns how many accounts."""
    h.outbound(active=True)
    contacts = [
        _customer_with_order(h, 0, "ada.leak@example.com"),
        _customer_with_order(h, 1, "rechnung@leak-kaputt"),  # not a valid email: a permanent error
        _customer_with_order(h, 2, "bob.leak@example.co.uk", Phone="+49 30 1234 5678 9012 345"),  # > 20 chars
        _customer_with_order(h, 3, "carol.leak@example.org", BillingCountry="Atlantis"),  # no ISO code
    ]
    h.settle()
    for index, contact_id in enumerate(contacts):
        email = f"new.address.{index}@leak.example"
        h.sensitive[email] = "email"
        h.sim.update("Contact", contact_id, {"Email": email})
    h.settle()
    return len(contacts)


def forms(value: str) -> set[str]:
    """How a value can appear in a log line: verbatim, JSON-escaped, URL-encoded."""
    return {
        value,
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        quote(value),
        quote_plus(value),
    }


def scan(text: str, sensitive: dict[str, str]) -> Counter[str]:
    """Which kinds of sensitive values appear in ``text`` (each distinct value counted once).

    One ``str.find`` pass per distinct 6-character prefix, then a check of the values sharing it at each
    hit: thousands of values share a few prefixes ("+49 30", "Stormstr"), so a 40 MB log scans in seconds.
    """
    by_prefix: dict[str, list[tuple[str, str]]] = {}
    for value in sensitive:
        if len(value) >= _SHORTEST:
            for form in forms(value):
                by_prefix.setdefault(form[:_SHORTEST], []).append((form, value))
    leaked: set[str] = set()
    for prefix, candidates in by_prefix.items():
        position = text.find(prefix)
        while position != -1:
            leaked.update(value for form, value in candidates if text.startswith(form, position))
            position = text.find(prefix, position + 1)
    return Counter(sensitive[value] for value in leaked)


def table_items(h: Harness) -> list[dict[str, Any]]:
    """Every item of the stack's state and idempotency tables (attribute-value form)."""
    items: list[dict[str, Any]] = []
    for table in (h.stack.state_table, h.stack.idempotency_table):
        request: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
        while True:
            page = h.stack.dynamodb.scan(**request)
            items.extend(page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return items


def failure_messages(h: Harness) -> list[dict[str, Any]]:
    """Every message of the dead-letter, held and on-failure queues, each made visible again at once."""
    found: list[dict[str, Any]] = []
    for url in (h.stack.dlq_url, h.stack.held_queue_url, h.stack.failure_queue_url):
        seen: set[str] = set()
        while True:
            batch = h.sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60, MessageAttributeNames=["All"]
            ).get("Messages", [])
            fresh = [m for m in batch if m["MessageId"] not in seen]
            if not fresh:
                break
            seen.update(m["MessageId"] for m in fresh)
            found.extend(fresh)
        for message in found[len(found) - len(seen) :]:
            h.sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
    return found


def log_leaks(h: Harness, size: Size) -> Figures:
    """Run the error-path workload, then scan the whole run's log, the tables and the failure queues."""
    started = time.monotonic()
    accounts = _error_paths(h)
    h.log.flush()
    text = h.log_path.read_bytes().decode("utf-8", "replace")
    found = scan(text, h.sensitive)
    kinds = Counter(h.sensitive.values())
    items, messages = table_items(h), failure_messages(h)
    at_rest = scan(json.dumps(items, ensure_ascii=False), h.sensitive)
    queued = scan(json.dumps([(m["Body"], m.get("MessageAttributes")) for m in messages]), h.sensitive)
    return Figures(
        scenario="log leaks",
        size=f"{len(h.sensitive):,} values in {len(text) / 1e6:.1f} MB of logs (+{accounts} error-path accounts), "
        f"{len(items):,} table items, {len(messages):,} failure-queue messages",
        leaks=sum(found.values()),
        zero={"values_in_tables": sum(at_rest.values()), "personal_data_in_failure_queues": sum(queued.values())},
        other={
            **{f"leaked_{kind.replace(' ', '_')}": n for kind, n in sorted(found.items())},
            **{f"at_rest_{kind.replace(' ', '_')}": n for kind, n in sorted(at_rest.items())},
            **{f"queued_{kind.replace(' ', '_')}": n for kind, n in sorted(queued.items())},
            **{f"scanned_{kind.replace(' ', '_')}": n for kind, n in sorted(kinds.items())},
        },
        seconds=time.monotonic() - started,
    )
