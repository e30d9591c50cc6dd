"""The engine: sync requests, the queue, per-event idempotency, the account snapshot, the customer sync and
the batch around it, the write-back, and the dead letters of messages that can never succeed.

Names are loaded on first use (PEP 562), so a light Lambda importing one of them never imports the
heavy SDKs behind the others (``tests/hygiene/test_package_exports.py`` keeps this list true)."""

from typing import TYPE_CHECKING

from shared._exports import lazy_exports

if TYPE_CHECKING:
    from shared.sync.account_snapshot import missing_snapshot, record_version, snapshot_from_record
    from shared.sync.batch_sync import BatchOutcome, BatchSync
    from shared.sync.customer_sync import AccountSnapshot, CustomerSync, Outcome, SyncResult
    from shared.sync.dead_letters import REASON_ATTRIBUTE, DeadLetter, DeadLetters, poison_reason, redrive
    from shared.sync.event_idempotency import EventProcessor
    from shared.sync.intake import HttpRequest, OutboundMessageIntake, PlatformEventIntake
    from shared.sync.models import KEY_PREFIXES, SObjectType, SyncRequest, TriggerSource
    from shared.sync.sqs_batch import SqsBatchWorker, parse_records
    from shared.sync.sync_queue import EnqueueError, SyncQueue
    from shared.sync.write_back import WriteBackFields, write_back_update

EXPORTS = {
    "models": (
        "KEY_PREFIXES",
        "SyncRequest",
        "SObjectType",
        "TriggerSource",
    ),
    "customer_sync": (
        "CustomerSync",
        "AccountSnapshot",
        "Outcome",
        "SyncResult",
    ),
    "event_idempotency": ("EventProcessor",),
    "batch_sync": (
        "BatchSync",
        "BatchOutcome",
    ),
    "write_back": ("WriteBackFields", "write_back_update"),
    "account_snapshot": (
        "snapshot_from_record",
        "missing_snapshot",
        "record_version",
    ),
    "intake": ("OutboundMessageIntake", "PlatformEventIntake", "HttpRequest"),
    "sqs_batch": ("SqsBatchWorker", "parse_records"),
    "sync_queue": (
        "SyncQueue",
        "EnqueueError",
    ),
    "dead_letters": (
        "DeadLetters",
        "DeadLetter",
        "REASON_ATTRIBUTE",
        "poison_reason",
        "redrive",
    ),
}
__getattr__, __dir__ = lazy_exports(__name__, EXPORTS)
