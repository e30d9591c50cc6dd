"""End-to-end fixtures: the whole local stack (tests/integration/stack.py), started per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.integration.stack import Stack, start_stack, stop_stack

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
    """Starts stacks with extra worker settings (``CREATION_MODE="every_account"``…); stops them afterwards."""
    started: list[Stack] = []

    def make(*, platform_events: bool = False, **env: str) -> Stack:
        stack = start_stack(
            monkeypatch,
            stripe_emulator=stripe_emulator,
            dynamodb_endpoint=dynamodb_endpoint,
            moto_endpoint=moto_endpoint,
            state_table=state_table,
            idempotency_table=idempotency_table,
            env_overrides=env,
            platform_events=platform_events,
        )
        started.append(stack)
        return stack

    yield make
    for stack in started:
        stop_stack(stack)


@pytest.fixture
def stack(stack_factory: StackFactory) -> Stack:
    """The default stack: Outbound Messages, order-activation mode, the standard mapping."""
    return stack_factory()
