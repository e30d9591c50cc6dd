"""Put sync requests on the SQS queue, all or nothing from the caller's point of view.

SendMessageBatch takes 10 entries per call and may fail some of them; failed entries are sent again a few
times. If any request still can't be enqueued the caller must not acknowledge the Outbound Message, so
Salesforce delivers it again (duplicates are harmless: the worker is idempotent).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from shared.sync.models import SyncRequest

_BATCH = 10
_PARALLEL = 10  # SendMessageBatch calls in flight at most (one Outbound Message of 100: all at once)
_ATTEMPTS = 3


class EnqueueError(Exception):
    """Some sync requests could not be enqueued."""


class SyncQueue:
    """The sync queue (SQS, standard)."""

    def __init__(self, queue_url: str, client: Any) -> None:
        self._url = queue_url
        self._client = client

    def send(self, requests: Sequence[SyncRequest]) -> None:
        """Enqueue every request or raise EnqueueError.

        The batches of one message go out in parallel: Salesforce waits for the Ack, and 100 notifications
        are 10 SendMessageBatch calls. At most ``_PARALLEL`` at once: a reconcile batch of 2,000 accounts is
        200 calls, and 200 threads would cost more memory and connections than they save time.
        """
        batches = [requests[start : start + _BATCH] for start in range(0, len(requests), _BATCH)]
        if len(batches) <= 1:
            for batch in batches:
                self._send_batch(batch)
            return
        with ThreadPoolExecutor(max_workers=min(len(batches), _PARALLEL), thread_name_prefix="enqueue") as pool:
            # list() re-raises the first EnqueueError after every batch was attempted.
            list(pool.map(self._send_batch, batches))

    def _send_batch(self, batch: Sequence[SyncRequest]) -> None:
        pending = {str(i): request.model_dump_json() for i, request in enumerate(batch)}
        for _ in range(_ATTEMPTS):
            entries = [{"Id": entry_id, "MessageBody": body} for entry_id, body in pending.items()]
            try:
                response = self._client.send_message_batch(QueueUrl=self._url, Entries=entries)
            except Exception as exc:  # botocore errors, connection failures: all mean "not enqueued"
                raise EnqueueError(f"SQS SendMessageBatch failed: {type(exc).__name__}") from exc
            failed = {entry["Id"] for entry in response.get("Failed", [])}
            pending = {entry_id: body for entry_id, body in pending.items() if entry_id in failed}
            if not pending:
                return
        raise EnqueueError(f"{len(pending)} sync requests were not accepted by SQS")
