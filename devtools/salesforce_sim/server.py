"""HTTPS server: OAuth token endpoint, SOAP login, REST API and the /_sim/ control API."""

from __future__ import annotations

import contextlib
import json
import re
import socket
import sys
import threading
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from .auth import OAuthError
from .errors import SalesforceError, not_found

if TYPE_CHECKING:
    from .simulator import SalesforceSimulator

_SOAP_LOGIN = re.compile(r"^/services/Soap/u/(?P<version>\d+\.\d)/?$")
_FAILURE_CODES = {
    401: ("INVALID_SESSION_ID", "Session expired or invalid"),
    403: ("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."),
    500: ("UNKNOWN_EXCEPTION", "An unexpected error occurred. Please include this ErrorId if you contact support."),
    503: ("SERVER_UNAVAILABLE", "Server is temporarily unavailable. Please try again later."),
}


class FailureInjector:
    """`fail_next(kind, status, count)`: the next `count` calls of `kind` answer `status`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[str, list[int]] = {}

    def add(self, kind: str, status: int, count: int) -> None:
        with self._lock:
            self._pending.setdefault(kind, []).extend([status] * count)

    def take(self, kind: str) -> int | None:
        with self._lock:
            queue = self._pending.get(kind)
            return queue.pop(0) if queue else None


class SimServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int, sim: SalesforceSimulator) -> None:
        self.sim = sim
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(("127.0.0.1", port), Handler)

    def get_request(self) -> tuple[Any, Any]:
        conn, address = super().get_request()
        with self._connections_lock:
            self._connections.add(conn)
        return conn, address

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Drop keep-alive connections so no client keeps talking to a stopped simulator."""
        with self._connections_lock:
            connections, self._connections = list(self._connections), set()
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # TLS handshakes refused by clients and dropped keep-alive connections are routine here.
        exc = sys.exc_info()[1]
        if not isinstance(exc, OSError):
            super().handle_error(request, client_address)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as requests sessions expect
    timeout = 30  # idle keep-alive connections give their thread back
    server: SimServer
    server_version = "SalesforceSimulator"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: the request log is kept in sim.request_log

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        sim = self.server.sim
        try:
            if url.path.startswith("/_sim/"):
                status, payload = sim.control.handle(method, url.path, url.query, _json_or_none(raw))
                self._send_json(status, payload)
            elif url.path == "/services/oauth2/token" and method == "POST":
                self._token(raw, url.path)
            elif _SOAP_LOGIN.match(url.path) and method == "POST":
                self._soap_login(raw, url.path)
            else:
                self._rest(method, url.path, url.query, raw)
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception as exc:
            # A simulator bug: answer like Salesforce's opaque 500 instead of dropping the connection.
            traceback.print_exc()
            self._send_json(500, [{"message": f"simulator error: {exc!r}", "errorCode": "UNKNOWN_EXCEPTION"}])

    # ---- login ----------------------------------------------------------------------------------
    def _token(self, raw: bytes, path: str) -> None:
        sim = self.server.sim
        sim.count("token")
        form = {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}
        injected = sim.failures.take("token")
        try:
            if injected is not None:
                raise OAuthError("unknown_error", "retry your request", injected)
            status, payload = (
                200,
                sim.auth.token(form, self.headers.get("Authorization"), self.headers.get("X-Forwarded-Host")),
            )
        except OAuthError as exc:
            status, payload = exc.status, {"error": exc.error, "error_description": exc.description}
        sim.log_request("POST", path, status, "token", None)
        self._send_json(status, payload)

    def _soap_login(self, raw: bytes, path: str) -> None:
        sim = self.server.sim
        sim.count("soap_login")
        match = _SOAP_LOGIN.match(path)
        version = match["version"] if match else sim.api_version
        injected = sim.failures.take("soap_login")
        if injected is not None:
            status, xml = injected, "Service Unavailable"  # not XML: the client reports the HTTP status
        else:
            status, xml = sim.auth.soap_login(raw, version)
        sim.log_request("POST", path, status, "soap_login", None)
        self._send(status, xml.encode("utf-8"), "text/xml;charset=UTF-8")

    # ---- REST -----------------------------------------------------------------------------------
    def _rest(self, method: str, path: str, query: str, raw: bytes) -> None:
        sim = self.server.sim
        moved = sim.hosts.moved(self.headers.get("Host"), self.path)
        if moved is not None:  # a renamed org's old host (hosts.py): no REST API here
            status, html, headers = moved
            sim.log_request(method, path, status, "moved", None)
            self._send(status, html.encode("utf-8"), "text/html;charset=UTF-8", headers)
            return
        body = _json_or_none(raw)
        headers = {k.lower(): v for k, v in self.headers.items()}
        user = sim.auth.session_user(_bearer(self.headers.get("Authorization")))
        route = sim.rest.route(method, path, query, body, headers, user)
        kind = route.kind if route is not None else "unknown"
        usage = sim.count(kind, api=True)
        if route is None:
            status, payload = 404, not_found().rest_body()
        else:
            with sim.running_as(user):  # Flows see the session's user as the running user
                status, payload = self._run_route(route.kind, route.handler, bad_json=bool(raw) and body is None)
        sim.log_request(method, path + (f"?{query}" if query else ""), status, kind, body)
        extra = {"Sforce-Limit-Info": f"api-usage={usage}/{sim.rest.daily_limit}"}
        self._send_json(status, payload, extra)

    def _run_route(self, kind: str, handler: Any, bad_json: bool) -> tuple[int, Any]:
        sim = self.server.sim
        injected = sim.failures.take(kind)
        if injected is not None:
            code, message = _FAILURE_CODES.get(injected, ("UNKNOWN_EXCEPTION", "Injected failure"))
            return injected, [{"message": message, "errorCode": code}]
        refused = sim.concurrency.refusal()  # the org's long-running requests at their limit (api_limits.py)
        if refused is not None:
            return refused
        # The Versions resource needs no session (Salesforce serves it to anyone).
        if kind != "versions" and not sim.auth.is_valid(_bearer(self.headers.get("Authorization"))):
            return 401, [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
        if bad_json:
            return 400, [{"message": "The request body is not valid JSON", "errorCode": "JSON_PARSER_ERROR"}]
        try:
            status, payload = handler()
            return int(status), payload
        except SalesforceError as exc:
            return exc.status, exc.rest_body()

    # ---- responses ----------------------------------------------------------------------------------
    def _send_json(self, status: int, payload: Any, extra: dict[str, str] | None = None) -> None:
        data = b"" if payload is None else json.dumps(payload).encode("utf-8")
        self._send(status, data, "application/json;charset=UTF-8", extra)

    def _send(self, status: int, data: bytes, content_type: str, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        if data:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if data:
            self.wfile.write(data)


def _bearer(header: str | None) -> str | None:
    # Salesforce accepts both `Bearer <token>` and the legacy `OAuth <token>`.
    if header and header.split(" ", 1)[0] in ("Bearer", "OAuth") and " " in header:
        return header.split(" ", 1)[1].strip()
    return None


def _json_or_none(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
