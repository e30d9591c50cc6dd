"""The sync's decision tests run on the in-memory fakes with the network off: a socket connect fails the test.

So "runs in milliseconds, touches no emulator" is enforced here, not assumed.
"""

from __future__ import annotations

import socket
from typing import Any

import pytest


class NetworkUsed(AssertionError):
    """A unit test of the sync's decisions tried to reach the network."""


@pytest.fixture(autouse=True)
def _network_off(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(_self: socket.socket, address: Any, *_: Any) -> Any:
        raise NetworkUsed(f"a unit test of the sync tried to connect to {address!r}: use the fakes in tests/fakes")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
