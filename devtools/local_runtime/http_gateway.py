"""Serve a Lambda HTTP handler on 127.0.0.1 like API Gateway's HTTP API (payload format 2.0)."""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from devtools.sam.lambda_events import FakeLambdaContext, http_api_event

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # http.server's default backlog of 5 drops connections under a handful of parallel senders; the
    # client's SYN retries then stall a request for seconds (measured: > 30 s with 8 clients).
    request_queue_size = 128


class HttpGateway:
    """Runs ``handler`` for every request; ``url`` is the base address (``http://127.0.0.1:PORT``)."""

    def __init__(self, handler: Handler, *, port: int = 0, function_name: str = "receiver") -> None:
        self._handler = handler
        self._function_name = function_name
        self._server = _Server(("127.0.0.1", port), self._request_class())
        # One execution environment: Lambda never runs two invocations in one process at once, and handlers
        # rely on it (Powertools keeps the current event and the metric set in class attributes; measured:
        # concurrent requests enqueued each other's notifications and failed while flushing metrics).
        self._invoke_lock = threading.Lock()
        self._thread = threading.Thread(target=self._server.serve_forever, name="http-gateway", daemon=True)
        self.invocations = 0

    @property
    def url(self) -> str:
        """Base URL of the gateway."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> HttpGateway:
        """Start serving in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> HttpGateway:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def invoke(self, method: str, target: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
        """Turn one HTTP request into a Lambda invocation; returns the handler's response dict."""
        parts = urlsplit(target)
        event = http_api_event(body, path=parts.path, query=parts.query, method=method, headers=headers)
        with self._invoke_lock:
            return self._invoke(event)

    def _invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        self.invocations += 1
        try:
            return self._handler(event, FakeLambdaContext(self._function_name))
        except Exception:  # an unhandled error in Lambda becomes API Gateway's 500
            return {
                "statusCode": 500,
                "headers": {"Content-Type": "application/json"},
                "body": '{"message":"Internal Server Error"}',
            }

    def _request_class(self) -> type[BaseHTTPRequestHandler]:
        gateway = self

        class _Request(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                response = gateway.invoke(self.command, self.path, dict(self.headers.items()), body)
                payload = response.get("body") or ""
                data = base64.b64decode(payload) if response.get("isBase64Encoded") else str(payload).encode()
                self.send_response(int(response.get("statusCode", 200)))
                for name, value in (response.get("headers") or {}).items():
                    self.send_header(name, str(value))
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_POST = do_GET = do_PUT = do_PATCH = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:
                return

        return _Request
