"""The decision tests' guard itself: with it on, no socket reaches anything (so the suite can't rely on one)."""

from __future__ import annotations

import socket

import pytest

from tests.unit.sync.conftest import NetworkUsed


def test_a_socket_connect_fails_the_test() -> None:
    # Given the unit tests' network guard; When anything connects (even to this machine)
    # Then the test fails, naming where it tried to go
    with pytest.raises(NetworkUsed, match=r"127\.0\.0\.1"), socket.socket() as sock:
        sock.connect(("127.0.0.1", 9))
    with pytest.raises(NetworkUsed):
        socket.create_connection(("127.0.0.1", 9), timeout=0.1)
