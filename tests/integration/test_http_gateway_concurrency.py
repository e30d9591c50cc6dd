"""The local HTTP gateway under parallel senders: one invocation at a time, and no stalled connections."""

from __future__ import annotations

import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from devtools.local_runtime import HttpGateway


def test_parallel_requests_never_run_the_handler_concurrently() -> None:
    # Given a handler that notices overlapping invocations (Lambda never overlaps them in one process,
    # and the receiver relies on it: Powertools keeps the current event in class attributes)
    running = 0
    overlaps = 0
    lock = threading.Lock()

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        nonlocal running, overlaps
        with lock:
            running += 1
            overlaps += running > 1
        time.sleep(0.002)
        with lock:
            running -= 1
        return {"statusCode": 200, "body": event["body"]}

    # When 8 clients post at once
    with HttpGateway(handler) as gateway:

        def post(i: int) -> bytes:
            request = urllib.request.Request(f"{gateway.url}/x", data=f"body-{i}".encode(), method="POST")
            with urllib.request.urlopen(request, timeout=10) as response:
                return bytes(response.read())

        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(post, range(200)))
    # Then every request was answered, each by its own invocation, and none overlapped
    assert overlaps == 0
    assert len(set(answers)) == 200


def test_many_parallel_clients_are_not_stalled_by_the_listen_backlog() -> None:
    # Given a fast handler (a backlog of 5 made connections wait for SYN retries: 1 s, 3 s, 7 s …)
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {"statusCode": 200, "body": "ok"}

    with HttpGateway(handler) as gateway:

        def post(_: int) -> float:
            started = time.monotonic()
            request = urllib.request.Request(f"{gateway.url}/x", data=b"x", method="POST")
            with urllib.request.urlopen(request, timeout=30) as response:
                response.read()
            return time.monotonic() - started

        # When 16 clients send 1,500 requests
        with ThreadPoolExecutor(max_workers=16) as pool:
            durations = list(pool.map(post, range(1500)))
    # Then no request waited for a retransmitted SYN
    assert max(durations) < 0.9
