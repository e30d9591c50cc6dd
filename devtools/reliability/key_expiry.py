"""Lost reply, key expired: a create that ran at Stripe whose every reply was lost, redriven a day later.

Every create reaches Stripe and runs, but each reply is lost (the SDK's attempt and both its retries time
out), so each message fails its receives and the redrive policy moves it to the DLQ. A day passes: Stripe
prunes the creates' Idempotency-Keys — "at least 24 hours old" (https://docs.stripe.com/api/idempotent_requests)
— and the accounts change in Salesforce. Then the operator redrives the DLQ. Replaying the creates under their
pruned keys would make a second customer for every account; the worker must find and adopt the customers the
lost creates made (Search on the account-id metadata, and the list of customers created since), then update
them to the latest data.

Time passes on both sides: the emulator's clock moves 25 h, and the state table's pending creates are dated
25 h back (what DynamoDB would hold after a real day), so the worker's own clock needs no hook.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from devtools.reliability.delivery import check_customers
from devtools.reliability.figures import Figures
from devtools.reliability.harness import MAX_RECEIVE_COUNT, Harness
from devtools.reliability.poison import request_body
from devtools.reliability.sizes import Size
from shared.sync.dead_letters import redrive

A_DAY_LATER = 25 * 3600
LOOKUP_PATHS = ("/v1/customers/search", "/v1/customers")


@contextmanager
def _short_redrive_policy(h: Harness, receives: int = 2) -> Iterator[None]:
    """Two receives instead of ten before the DLQ, to keep the run short (restored afterwards)."""
    attributes = h.sqs.get_queue_attributes(QueueUrl=h.stack.queue_url, AttributeNames=["All"])["Attributes"]
    policy = json.loads(attributes["RedrivePolicy"])
    short = {**policy, "maxReceiveCount": receives}
    h.sqs.set_queue_attributes(QueueUrl=h.stack.queue_url, Attributes={"RedrivePolicy": json.dumps(short)})
    try:
        yield
    finally:
        policy["maxReceiveCount"] = MAX_RECEIVE_COUNT
        h.sqs.set_queue_attributes(QueueUrl=h.stack.queue_url, Attributes={"RedrivePolicy": json.dumps(policy)})


def age_pending_creates(dynamodb: Any, table: str, seconds: int) -> int:
    """Date every pending create in the state table ``seconds`` back (as if that time had passed); count."""
    aged = 0
    pages = dynamodb.get_paginator("scan").paginate(TableName=table, FilterExpression="attribute_exists(pending_since)")
    for page in pages:
        for item in page["Items"]:
            since = int(item["pending_since"]["N"]) - seconds * 1000
            dynamodb.update_item(
                TableName=table,
                Key={"pk": item["pk"]},
                UpdateExpression="SET pending_since = :s",
                ExpressionAttributeValues={":s": {"N": str(since)}},
            )
            aged += 1
    return aged


def lost_reply_key_expired(h: Harness, size: Size) -> Figures:
    """Creates whose replies were lost, dead-lettered, redriven after their keys expired: one customer each."""
    started = time.monotonic()
    h.outbound(active=False)
    ids = h.create_accounts("Expired", size.expired_accounts)
    h.stripe.inject_rate("timeout_after", 1.0, method="POST", path_prefix="/v1/customers")
    with _short_redrive_policy(h):
        for account_id in ids:
            h.sqs.send_message(QueueUrl=h.stack.queue_url, MessageBody=request_body(h, account_id))
        h.settle()
    h.stripe.clear_faults()
    by_account = h.customers_by_account()
    made_before = sum(1 for account_id in ids if by_account.get(account_id))
    dead_lettered = h.queue_depth(h.stack.dlq_url)
    # A day passes: Stripe prunes the keys, the pending creates age, and the accounts change meanwhile.
    h.stripe.advance_clock(A_DAY_LATER)
    aged = age_pending_creates(h.stack.dynamodb, h.stack.state_table, A_DAY_LATER)
    h.update_accounts("Expired", ids, 1)
    writes_before, requests_before = len(h.stripe.write_requests()), len(h.stripe.requests)
    report = redrive(h.sqs, h.stack.dlq_url, h.stack.queue_url)
    h.settle()
    counts = check_customers(h, "Expired", ids, 1)
    creates_after = [w for w in h.stripe.write_requests()[writes_before:] if w["path"] == "/v1/customers"]
    lookups = [r for r in h.stripe.requests[requests_before:] if r["method"] == "GET" and r["path"] in LOOKUP_PATHS]
    return Figures(
        scenario="lost reply, key expired",
        size=f"{len(ids)} accounts, redriven {A_DAY_LATER // 3600} h later",
        lost=counts["missing"] + counts["not_latest"],
        duplicates=counts["extra"],
        zero={
            "not_dead_lettered": len(ids) - dead_lettered,
            "not_made_by_lost_creates": len(ids) - made_before,
            "creates_after_redrive": len(creates_after),
            "dlq_after_redrive": h.queue_depth(h.stack.dlq_url),
        },
        other={
            "pending_creates_aged": aged,
            "redriven": report.moved,
            "lookups": len(lookups),
            "customers": counts["customers"],
        },
        seconds=time.monotonic() - started,
    )
