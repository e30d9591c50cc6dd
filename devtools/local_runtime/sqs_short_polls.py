"""SQS short polling as AWS documents it, which the moto server does not model.

A ReceiveMessage with ``WaitTimeSeconds`` 0 (a short poll: the default, as no queue of the template sets
ReceiveMessageWaitTimeSeconds) samples some of the queue's servers only:

- "Short poll is the default behavior where a weighted random set of machines is sampled on a ReceiveMessage
  call. Therefore, only the messages on the sampled machines are returned. If the number of messages in the
  queue is small (fewer than 1,000), you most likely get fewer messages than you requested per ReceiveMessage
  call. If the number of messages in the queue is extremely small, you might not receive any messages in a
  particular ReceiveMessage response. If this happens, repeat the request."
  (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ReceiveMessage.html)
- Long polling (``WaitTimeSeconds`` 1-20) "eliminate[s] false empty responses by querying all — rather than a
  subset of — Amazon SQS servers" and returns as soon as a message is available
  (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-short-and-long-polling.html).

Seen in the field: a tool that moves a queue's messages to another queue stopped at the first empty answer
with thousands still visible, and had to be run over and over (https://github.com/scottjbarr/sqsmv/issues/15).
The moto server answers every visible message to every poll, so a loop that takes "no message" for "empty
queue" passes against it.

``ShortPolls(client)`` makes one boto3 SQS client see short polls as AWS answers them, deterministically so a
test fails the same way every run: every ``empty_every``-th short poll answers no message without reaching
the server, the others ask for at most ``sample`` messages. Long polls reach the server unchanged.
"""

from __future__ import annotations

import itertools
from typing import Any

from botocore.awsrequest import AWSResponse

_EMPTY = "sfsync_short_poll_empty"  # marks, in the request context, a short poll the sample found nothing on


class ShortPolls:
    """Attach to a boto3 SQS client (``client.meta.events``): its short polls sample, its long polls don't.

    ``empty_every`` ≥ 1: the 1st, (1 + empty_every)th, … short poll answers no message (a 200 without a
    ``Messages`` key, as SQS does). ``sample`` ≥ 1 caps ``MaxNumberOfMessages`` of the other short polls.
    ``short_polls`` / ``false_empties`` count what the client asked and what it was answered empty.
    """

    def __init__(self, client: Any, *, empty_every: int = 2, sample: int = 10) -> None:
        self.short_polls = 0
        self.false_empties = 0
        self._empty_every = empty_every
        self._sample = sample
        self._counter = itertools.count()
        events = client.meta.events
        events.register("before-parameter-build.sqs.ReceiveMessage", self._before_parameter_build)
        events.register_first("before-call.sqs.ReceiveMessage", self._before_call)

    def _before_parameter_build(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        if int(params.get("WaitTimeSeconds", 0)) > 0:
            return  # a long poll queries every server
        turn = next(self._counter)
        self.short_polls += 1
        if turn % self._empty_every == 0:
            context[_EMPTY] = True
            return
        params["MaxNumberOfMessages"] = min(int(params.get("MaxNumberOfMessages", 1)), self._sample)

    def _before_call(self, context: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        if not context.get(_EMPTY):
            return None
        self.false_empties += 1
        # What SQS answers when the sampled servers hold no visible message: 200 and no Messages at all.
        http = AWSResponse("https://sqs.local/", 200, {}, None)
        return http, {"ResponseMetadata": {"HTTPStatusCode": 200, "HTTPHeaders": {}, "RetryAttempts": 0}}
