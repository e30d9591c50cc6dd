"""moto server with its SQS queue attributes read in constant time; same answers, a fraction of the CPU.

moto 5 computes *every* attribute of a queue — ``ApproximateNumberOfMessages`` and its siblings, each a scan
of all messages, calling ``unix_time`` twice per message — where it needs one:

- ``send_message`` reads ``queue.attributes["ContentBasedDeduplication"]`` for every message sent;
- ``receive_message`` reads ``MessageRetentionPeriod`` (``is_message_valid_based_on_retention_period``) for
  every message it hands out.

So each message sent or received costs two scans of the queue: a SendMessageBatch of 10 took 16–130 ms and
a ReceiveMessage of 10 about 60 ms on this 2-core machine (100 messages in the queue), where SQS answers in
milliseconds. The local runtime's end-to-end figures (``make bench``) measured that emulator CPU as if it
were ours. This launcher reads the one attribute directly, exactly as moto's own code derives it, and then
runs moto's server unchanged. What SQS does — retention, deduplication, visibility, the counts that
GetQueueAttributes answers — is moto's, untouched (tests/integration/test_moto_server.py).

Usage (``processes.moto_server`` does this): ``python -m devtools.local_runtime.moto_server -H HOST -p PORT``.
"""

from __future__ import annotations

import sys
import threading
from typing import Any

from moto import server
from moto.core.utils import unix_time
from moto.sqs import models

_sending = threading.local()
# moto's property, kept for every other reader; moto sets each attribute on the queue by name (``_set_attributes``).
_queue_attributes: Any = vars(models.Queue)["attributes"].fget
_send_message = models.SQSBackend.send_message


def _retention_valid(self: models.SQSBackend, queue_name: str, message: models.Message) -> bool:
    """moto's ``is_message_valid_based_on_retention_period``, reading the one attribute it needs."""
    queue = self.get_queue(queue_name)
    retain_until = int(vars(queue)["message_retention_period"]) + message.sent_timestamp / 1000  # type: ignore[operator]
    return bool(retain_until > unix_time())


def _attributes(self: models.Queue) -> dict[str, Any]:
    """``Queue.attributes``; while a message is being sent, only what ``send_message`` reads of it."""
    if not getattr(_sending, "active", False):
        return dict(_queue_attributes(self))
    if not self.fifo_queue:
        return {}
    value = vars(self)["content_based_deduplication"]
    return {"ContentBasedDeduplication": str(value).lower() if isinstance(value, bool) else value}


def _send(self: models.SQSBackend, *args: Any, **kwargs: Any) -> models.Message:
    """``send_message`` with the cheap attribute reader in force (thread-local: moto serves with threads)."""
    _sending.active = True
    try:
        return _send_message(self, *args, **kwargs)
    finally:
        _sending.active = False


def patch() -> None:
    """Apply the constant-time readers to moto's SQS backend (idempotent)."""
    models.SQSBackend.is_message_valid_based_on_retention_period = _retention_valid  # type: ignore[method-assign]
    models.Queue.attributes = property(_attributes)  # type: ignore[assignment,method-assign]
    models.SQSBackend.send_message = _send  # type: ignore[method-assign]


def main(argv: list[str] | None = None) -> None:
    """Patch, then hand over to moto's own server (``moto_server``'s arguments)."""
    patch()
    server.main(argv if argv is not None else sys.argv[1:])


if __name__ == "__main__":
    main()
