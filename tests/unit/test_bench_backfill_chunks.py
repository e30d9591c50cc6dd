"""The bulk-load benches keep moto server's SQS shallow (its receives slow down with the queue's depth)."""

from __future__ import annotations

from collections.abc import Sequence

from devtools.bench.backfill import CHUNK, PIECE, ChunkedQueue


class DrainingQueue:
    """A queue whose worker takes 50 messages each time the depth is looked at."""

    def __init__(self) -> None:
        self.sent: list[int] = []
        self.depth, self.deepest = 0, 0

    def send(self, requests: Sequence[int]) -> None:
        self.sent.extend(requests)
        self.depth += len(requests)
        self.deepest = max(self.deepest, self.depth)

    def queued(self) -> int:
        self.depth = max(0, self.depth - 50)
        return self.depth


def test_a_reconcile_page_larger_than_the_chunk_is_sent_in_pieces_without_overfilling_the_queue() -> None:
    # Given a queue the worker drains slowly
    queue = DrainingQueue()
    chunked = ChunkedQueue(queue, queue.queued, poll_seconds=0)
    # When reconcile queues two pages of 2,000 creates each
    chunked.send(list(range(2_000)))
    chunked.send(list(range(2_000, 4_000)))
    # Then every create is sent once, in order, and never more than CHUNK are queued at once
    assert queue.sent == list(range(4_000))
    assert PIECE < queue.deepest <= CHUNK
