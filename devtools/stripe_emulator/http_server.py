"""The HTTP side of the Stripe emulator: a threading server that can cut its connections, and the handler
that turns each request into ``StripeEmulator.handle`` and its outcome into a Stripe-shaped response."""

from __future__ import annotations

import contextlib
import json
import secrets
import socket
import string
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from devtools.stripe_emulator import versions

_ID_CHARS = string.ascii_letters + string.digits


def new_request_id() -> str:
    """A Stripe-shaped ``req_...`` id."""
    return "req_" + "".join(secrets.choice(_ID_CHARS) for _ in range(14))


class EmulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[EmulatorHandler], emulator: Any) -> None:
        self.emulator = emulator
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (its own timeout) closes the socket mid-answer: expected, not an error.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    def close_connections(self) -> None:
        """Cut keep-alive connections so a stopped emulator stops answering on them too."""
        with self._connections_lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class EmulatorHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the SDK's pooled connections to Stripe
    timeout = 60  # drop idle keep-alive connections eventually
    server: EmulatorHTTPServer

    def do_GET(self) -> None:
        """Serve any supported method (GET/POST/DELETE): routing happens in StripeEmulator.handle."""
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        emulator = self.server.emulator
        outcome = emulator.handle(self.command, self.path, self.headers, body)
        emulator._sleep(outcome.hold)
        if outcome.drop or outcome.status is None:
            self.close_connection = True  # the connection closes with no answer: a client-side timeout
            return
        outcome.headers.setdefault("Request-Id", new_request_id())
        data = json.dumps(outcome.body).encode()
        self.send_response(outcome.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        outcome.headers.setdefault("Stripe-Version", versions.default_version())
        for name, value in outcome.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    do_POST = do_DELETE = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: request lines carry query strings (emails) and must not reach stdout/stderr."""
