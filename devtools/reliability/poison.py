"""Poison messages: a body that is not a sync request goes to the DLQ at its first receive, with the reason;
a transient failure goes there through the queue's redrive policy; both succeed once redriven.

The bodies are realistic corruptions of valid sync requests for real accounts (truncated, a renamed or
missing field, a wrong type, not JSON at all…). The operator's fix is ``shared.sync.dead_letters.redrive`` with
a repair function; transient letters go back as they are once Salesforce answers again.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable

from devtools.reliability.delivery import check_customers
from devtools.reliability.figures import Figures
from devtools.reliability.harness import MAX_RECEIVE_COUNT, Harness
from devtools.reliability.sizes import Size
from devtools.salesforce_sim.server import FailureInjector
from shared.salesforce.ids import to_18
from shared.sync.dead_letters import DeadLetter, DeadLetters, redrive
from shared.sync.models import SObjectType, SyncRequest, TriggerSource

CORRUPTIONS: dict[str, Callable[[str], str]] = {
    "truncated": lambda body: body[: len(body) // 2],
    "renamed_field": lambda body: body.replace('"org_id"', '"orgId"'),
    "missing_field": lambda body: json.dumps({k: v for k, v in json.loads(body).items() if k != "event_id"}),
    "wrong_type": lambda body: body.replace('"Account"', '"Acount"'),
    "not_json": lambda body: "sync " + body.replace('"', "").replace("{", "(").replace("}", ")"),
    "wrapped": lambda body: f"[{body}]",
    "extra_field": lambda body: body[:-1] + ', "priority": "high"}',
}


def request_body(h: Harness, account_id: str) -> str:
    """A valid sync request for one account, as the receiver enqueues it (JSON)."""
    return SyncRequest(
        org_id=to_18(h.org_id),
        object_type=SObjectType.ACCOUNT,
        record_id=account_id,
        event_id="04l" + uuid.uuid4().hex[:15].upper(),
        source=TriggerSource.OUTBOUND_MESSAGE,
        account_id=account_id,
    ).model_dump_json()


def _dead_letters(h: Harness) -> list[DeadLetter]:
    """Every letter in the DLQ (left there, visible again)."""
    letters = DeadLetters(h.sqs, h.stack.dlq_url)
    found: list[DeadLetter] = []
    while batch := letters.receive(visibility_seconds=30):
        found += batch
    for letter in found:
        letters.release(letter)
    return found


def _transient_to_dlq(h: Harness, bodies: list[str]) -> None:
    """Valid messages while Salesforce answers 503: the redrive policy moves them after maxReceiveCount."""
    policy = json.loads(
        h.sqs.get_queue_attributes(QueueUrl=h.stack.queue_url, AttributeNames=["All"])["Attributes"]["RedrivePolicy"]
    )
    short = {**policy, "maxReceiveCount": 2}  # two receives instead of ten, to keep the run short
    h.sqs.set_queue_attributes(QueueUrl=h.stack.queue_url, Attributes={"RedrivePolicy": json.dumps(short)})
    h.sim.fail_next("queryAll", 503, 1000)
    try:
        for body in bodies:
            h.sqs.send_message(QueueUrl=h.stack.queue_url, MessageBody=body)
        h.settle()
    finally:
        h.sim.failures = FailureInjector()  # Salesforce answers again
        policy["maxReceiveCount"] = MAX_RECEIVE_COUNT
        h.sqs.set_queue_attributes(QueueUrl=h.stack.queue_url, Attributes={"RedrivePolicy": json.dumps(policy)})


def poison(h: Harness, size: Size) -> Figures:
    """Poison → DLQ with the reason at once; transient → DLQ by the redrive policy; redrive → all succeed."""
    started = time.monotonic()
    h.outbound(active=False)
    ids = h.create_accounts("Poison", size.poison_messages + size.transient_messages)
    poisoned, transient = ids[: size.poison_messages], ids[size.poison_messages :]
    kinds = list(CORRUPTIONS)
    repairs: dict[str, str] = {}  # poison body → the valid request it was made from
    for index, account_id in enumerate(poisoned):
        valid = request_body(h, account_id)
        repairs[CORRUPTIONS[kinds[index % len(kinds)]](valid)] = valid
    failures_before = h.worker_stats.item_failures + h.worker_stats.handler_errors
    for body in repairs:
        h.sqs.send_message(QueueUrl=h.stack.queue_url, MessageBody=body)
    h.settle()
    retried_poison = h.worker_stats.item_failures + h.worker_stats.handler_errors - failures_before
    _transient_to_dlq(h, [request_body(h, account_id) for account_id in transient])
    letters = _dead_letters(h)
    with_reason = [letter for letter in letters if letter.reason]
    report = redrive(
        h.sqs, h.stack.dlq_url, h.stack.queue_url, repair=lambda letter: repairs.get(letter.body, letter.body)
    )
    h.settle()
    counts = check_customers(h, "Poison", ids, 0)
    return Figures(
        scenario="poison messages",
        size=f"{len(repairs)} poison bodies ({len(kinds)} kinds), {len(transient)} transient failures",
        lost=counts["missing"] + counts["not_latest"],
        duplicates=counts["extra"],
        zero={
            "poison_retried": retried_poison,
            "poison_without_reason": len(repairs) - sum(1 for letter in with_reason if letter.body in repairs),
            "transient_not_in_dlq": len(transient) - (len(letters) - len(with_reason)),
            "dlq_after_redrive": h.queue_depth(h.stack.dlq_url),
        },
        other={
            "dead_lettered_with_reason": len(with_reason),
            "moved_by_redrive_policy": len(letters) - len(with_reason),
            "redriven": report.moved,
            "example_reason": with_reason[0].reason if with_reason else "-",
        },
        seconds=time.monotonic() - started,
    )
