"""Invoke an EventBridge-triggered Lambda handler like a rule target does.

EventBridge invokes a Lambda target asynchronously with one event. A function that raises is run again (in
AWS by Lambda's asynchronous retries: 1 + 2 attempts by default, hence ``max_attempts=3``), and an event
that never succeeded is kept in a dead-letter queue (the function's on-failure destination; the rule's own
DLQ takes events EventBridge could not hand to Lambda at all). Here ``submit`` queues the event for a small
worker thread (so a caller such as the Salesforce simulator's event relay never blocks on the handler),
``invoke`` runs it synchronously; events that never succeeded end in ``dead_letters``.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from devtools.sam.lambda_events import FakeLambdaContext

Handler = Callable[[dict[str, Any], Any], Any]


@dataclass
class InvokeStats:
    """What the invoker did so far."""

    events: int = 0
    invocations: int = 0
    succeeded: int = 0
    handler_errors: int = 0
    results: list[Any] = field(default_factory=list)  # the handler's return values, in order


class EventBridgeInvoker:
    """Delivers EventBridge events to ``handler`` with retries and a dead-letter list."""

    def __init__(
        self,
        handler: Handler,
        max_attempts: int = 3,
        *,
        retry_delay_seconds: float = 0.0,
        function_name: str = "platform-event",
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._handler = handler
        self._max_attempts = max_attempts
        self._retry_delay = retry_delay_seconds
        self._function_name = function_name
        self.dead_letters: list[dict[str, Any]] = []  # the dead-letter queue
        self.errors: list[str] = []  # one line per failed attempt
        self.stats = InvokeStats()
        self._cond = threading.Condition()
        self._queue: deque[dict[str, Any]] = deque()
        self._busy = False
        self._stopped = False
        self._thread: threading.Thread | None = None

    def invoke(self, event: dict[str, Any]) -> Any:
        """Deliver one event now (retrying); returns the handler's result, or None when it went to the DLQ."""
        # EventBridge hands the target JSON: a copy, and proof that the event is serialisable.
        delivered = json.loads(json.dumps(event))
        with self._cond:
            self.stats.events += 1
        for attempt in range(1, self._max_attempts + 1):
            with self._cond:
                self.stats.invocations += 1
            try:
                result = self._handler(json.loads(json.dumps(delivered)), FakeLambdaContext(self._function_name))
            except Exception as exc:  # any handler failure counts as a failed invocation
                with self._cond:
                    self.stats.handler_errors += 1
                    self.errors.append(f"attempt {attempt}: {type(exc).__name__}: {exc}")
                if attempt < self._max_attempts and self._retry_delay:
                    time.sleep(self._retry_delay)
                continue
            with self._cond:
                self.stats.succeeded += 1
                self.stats.results.append(result)
            return result
        with self._cond:
            self.dead_letters.append(delivered)
        return None

    def submit(self, event: dict[str, Any]) -> None:
        """Queue an event for asynchronous delivery (the worker thread starts on first use)."""
        with self._cond:
            if self._stopped:
                raise RuntimeError("the invoker is stopped")
            self._queue.append(event)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="eventbridge-invoker", daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def pending(self) -> int:
        """Events queued or being delivered."""
        with self._cond:
            return len(self._queue) + int(self._busy)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until every submitted event was delivered (or dead-lettered); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._queue or self._busy:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 0.05))
            return True

    def stop(self) -> None:
        """Stop the worker thread (events still queued are not delivered)."""
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._stopped:
                    self._cond.wait(0.5)
                if self._stopped:
                    return
                event = self._queue.popleft()
                self._busy = True
            try:
                self.invoke(event)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()
