"""End-to-end fixtures: the whole local stack (devtools/local_runtime, via tests/integration/stack.py), per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from devtools.local_runtime.stack import RunningParts, StackOptions
from tests.integration.stack import TEST_ENV, Stack

StackFactory = Callable[..., Stack]


@pytest.fixture
def stack_factory(
    monkeypatch: pytest.MonkeyPatch,
    stripe_emulator: Any,
    dynamodb_endpoint: str,
    moto_endpoint: str,
    state_table: str,
    idempotency_table: str,
) -> Iterator[StackFactory]:
    """Starts stacks with extra worker settings (``CREATION_MODE="every_account"``…); stops them afterwards.

    ``platform_events=True``: the simulator's Event Relay publishes change events and the order-activation
    platform event to the platform_event function (EventBridge rule target) too.
    """
    running = RunningParts(moto_endpoint, dynamodb_endpoint, stripe_emulator, state_table, idempotency_table)
    started: list[Stack] = []

    def make(
        *, platform_events: bool = False, start_live: bool = True, visibility_timeout: int = 1, **env: str
    ) -> Stack:
        options = StackOptions(
            event_relay=platform_events,
            # 1 s: a message a worker failed is redelivered within a test's time
            visibility_timeout=visibility_timeout,
            stripe_mode=None,  # STRIPE_MODE unset: the tests of the mode check set it themselves
            outbound_retry_seconds=(0.05, 0.5),
            running=running,
            start_live=start_live,  # False: the gate's observe hold stays, as on a new deployment
            extra_env={**TEST_ENV, **env},
        )
        # The environment is set through monkeypatch: undone after the test. A stack that fails to start has
        # stopped itself already.
        stack = Stack(options, environ=monkeypatch).start()
        started.append(stack)
        return stack

    yield make
    for stack in reversed(started):
        stack.stop()


@pytest.fixture
def stack(stack_factory: StackFactory) -> Stack:
    """The default stack: Outbound Messages, order-activation mode, the standard mapping."""
    return stack_factory()
