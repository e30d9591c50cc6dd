"""``SqsBatchWorker.handle``: one SQS event in, one partial batch response out (AWS Lambda, "Reporting batch
item failures": ``{"batchItemFailures": [{"itemIdentifier": <messageId>}]}``), on the fakes."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics

from shared.errors import TransientSyncError
from shared.sync.models import SyncRequest
from shared.sync.sqs_batch import SqsBatchWorker
from tests.unit.sync.world import BatchWorld, request_for


class _DeadLetters:
    """The DLQ as the worker uses it: ``send`` parks a body with its reason (or fails like SQS would)."""

    def __init__(self, refuse: bool = False) -> None:
        self.parked: list[tuple[str, str]] = []
        self.refuse = refuse

    def send(self, body: str, reason: str, *, source_message_id: str) -> None:
        if self.refuse:
            raise TransientSyncError("SQS unavailable")
        self.parked.append((source_message_id, reason))


def _event(*bodies: str) -> dict[str, Any]:
    return {"Records": [{"messageId": f"m{i}", "body": body} for i, body in enumerate(bodies)]}


def _body(request: SyncRequest) -> str:
    return request.model_dump_json()


def _worker(world: BatchWorld, dead_letters: Any = None) -> SqsBatchWorker:
    return SqsBatchWorker(world.batch, dead_letters, concurrency=2, logger=Logger(), metrics=Metrics())


def test_the_answer_names_exactly_the_messages_to_redeliver() -> None:
    # Given a batch of a good account, a locked one and a body that is no sync request, with a DLQ
    world = BatchWorld()
    locked = world.account()
    world.salesforce.lock_row(locked)
    dead_letters = _DeadLetters()
    event = _event(_body(request_for(world.account())), _body(request_for(locked, event="2")), '{"not": "a request"}')
    # When the worker handles it
    answer = _worker(world, dead_letters).handle(event, context=None)
    # Then only the locked account's message is redelivered; the poison one is parked with its reason
    assert answer == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
    assert [message_id for message_id, _ in dead_letters.parked] == ["m2"]


def test_a_batch_whose_every_message_failed_is_answered_not_raised() -> None:
    # Given Salesforce down for the batch's read, and a poison message the DLQ refuses
    world = BatchWorld()
    world.salesforce.fail_next("read_accounts", TransientSyncError("Salesforce unavailable: ConnectionError"))
    event = _event(_body(request_for(world.account())), "not json")
    # When the worker handles it
    answer = _worker(world, _DeadLetters(refuse=True)).handle(event, context=None)
    # Then both are redelivered, in the answer (a raised error would be a failed invocation)
    assert answer == {"batchItemFailures": [{"itemIdentifier": "m0"}, {"itemIdentifier": "m1"}]}
