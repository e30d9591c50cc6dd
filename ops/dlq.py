"""``sfsync redrive``: move dead letters back to the sync queue, and say what they were.

The moving is ``shared.sync.dead_letters.redrive`` (send, then delete: at least once, which the worker's
idempotency makes exactly once). This module adds the summary an operator needs before and after: how many
letters per object type and per failure reason (the ``failure_reason`` attribute the worker sets on poison
messages; letters without one exhausted their receives under the queue's redrive policy), and which of them
can succeed at all: a body that is not a sync request (poison) fails the same way on every receive, so it
stays in the DLQ for inspection instead of going round again.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from shared.sync import DeadLetter, DeadLetters, SyncRequest, redrive

EXHAUSTED = "failed on every receive (queue redrive policy)"
_PEEK_SECONDS = 30


@dataclass
class DeadLetterSummary:
    """Dead letters counted by object type and by failure reason."""

    by_object: Counter[str] = field(default_factory=Counter)
    by_reason: Counter[str] = field(default_factory=Counter)
    moved: int = 0
    kept: int = 0
    poison: int = 0

    @property
    def total(self) -> int:
        """Letters seen."""
        return sum(self.by_object.values())

    @property
    def can_succeed(self) -> int:
        """Letters that are sync requests: a redrive gives them another chance."""
        return self.total - self.poison

    def add(self, letter: DeadLetter) -> bool:
        """Count one letter; True when it can succeed on another try (it is a sync request)."""
        self.by_object[object_type(letter.body)] += 1
        self.by_reason[letter.reason or EXHAUSTED] += 1
        retryable = is_sync_request(letter.body)
        self.poison += not retryable
        return retryable


def is_sync_request(body: str) -> bool:
    """Whether ``body`` is a sync request the worker can process (poison bodies never can)."""
    try:
        SyncRequest.model_validate_json(body)
    except ValidationError:
        return False
    return True


def object_type(body: str) -> str:
    """The sync request's object type, or why there is none."""
    try:
        data = json.loads(body)
    except ValueError:
        return "(not JSON)"
    kind = data.get("object_type") if isinstance(data, dict) else None
    return str(kind) if kind else "(no object_type)"


def peek(client: Any, dlq_url: str, *, limit: int) -> DeadLetterSummary:
    """Count the dead letters without moving any: each is received once, then made visible again."""
    letters = DeadLetters(client, dlq_url)
    summary = DeadLetterSummary()
    seen: list[DeadLetter] = []
    try:
        while len(seen) < limit:
            batch = letters.receive(max_messages=min(10, limit - len(seen)), visibility_seconds=_PEEK_SECONDS)
            if not batch:
                break
            seen.extend(batch)
    finally:
        for letter in seen:
            letters.release(letter)
    for letter in seen:
        summary.add(letter)
    summary.kept = len(seen)
    return summary


def move_back(client: Any, dlq_url: str, queue_url: str, *, limit: int) -> DeadLetterSummary:
    """Move up to ``limit`` dead letters back to the sync queue, counting what they were."""
    summary = DeadLetterSummary()

    def count(letter: DeadLetter) -> str | None:
        return letter.body if summary.add(letter) else None  # poison stays in the DLQ

    report = redrive(client, dlq_url, queue_url, repair=count, limit=limit)
    summary.moved, summary.kept = report.moved, report.kept
    return summary


def summary_text(summary: DeadLetterSummary, *, dry_run: bool) -> str:
    """What a redrive did (or would do)."""
    if not summary.total:
        return "the dead-letter queue is empty"
    verb = "would move" if dry_run else "moved"
    lines = [f"{verb} {summary.can_succeed if dry_run else summary.moved} message(s) back to the sync queue"]
    if summary.poison:
        lines.append(
            f"{summary.poison} poison message(s) stay in the DLQ: not a sync request, they can never succeed "
            "(their failure reason says why; inspect them in the SQS console, then delete them)"
        )
    lines.append("by object type: " + ", ".join(f"{name} {n}" for name, n in sorted(summary.by_object.items())))
    lines.append("by failure reason:")
    lines.extend(f"  {n:>5}  {reason}" for reason, n in summary.by_reason.most_common())
    return "\n".join(lines)
