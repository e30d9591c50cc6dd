"""A local Lambda runtime: the same handlers as in AWS, driven by HTTP, SQS and EventBridge without Docker.

- ``HttpGateway``: an HTTP server that turns each request into the HTTP API (v2) event the receiver gets.
- ``SqsPoller``: invokes the worker like Lambda's SQS event source mapping (batch size, partial batch
  failures, visibility timeout; the queue's redrive policy moves repeat failures to the DLQ).
- ``EventBridgeInvoker``: invokes a handler like an EventBridge rule target (retries, then the rule's DLQ).
"""

from devtools.local_runtime.eventbridge import EventBridgeInvoker
from devtools.local_runtime.http_gateway import HttpGateway
from devtools.local_runtime.sqs_poller import SqsPoller

__all__ = ["EventBridgeInvoker", "HttpGateway", "SqsPoller"]
