"""HTTP side of the Stripe emulator: request pipeline, control endpoints and the ``StripeEmulator`` API."""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import secrets
import socket
import string
import sys
import threading
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from devtools.stripe_emulator.faults import IMMEDIATE_KINDS, FaultInjector, fault_error, lock_timeout_error
from devtools.stripe_emulator.keys import LIVE, TEST, ApiKey, KeyRing, other_mode_missing
from devtools.stripe_emulator.store import (
    IDEMPOTENCY_KEY_MAX,
    CustomerStore,
    IdempotencyStore,
    StoredResponse,
    idempotency_error,
)
from devtools.stripe_emulator.tax_ids import TaxIdStore, check_tax_id, create_customer, tax_id_operation
from devtools.stripe_emulator.validation import ApiError, authenticate, decode_form, route, tax_id_in, validate_params

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
STRIPE_VERSION = "2023-08-16"  # the API version of the bundled OpenAPI request schemas
# Writes that lock the customer (a tax ID is created and deleted under its customer).
WRITE_OPERATIONS = ("update", "delete", "tax_id_create", "tax_id_delete")
_ID_CHARS = string.ascii_letters + string.digits


@dataclass
class _Request:
    method: str
    path: str
    params: dict[str, Any]
    headers: Message
    request_id: str
    api_key: str = ""
    mode: str = TEST


@dataclass
class _Outcome:
    status: int | None  # None: nothing was executed or answered
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    hold: float = 0.0  # seconds to keep the connection before answering or dropping it
    drop: bool = False  # close the connection without answering (simulated network timeout)


def _error(exc: ApiError) -> _Outcome:
    return _Outcome(exc.status, exc.body, dict(exc.headers))


def _new_request_id() -> str:
    return "req_" + "".join(secrets.choice(_ID_CHARS) for _ in range(14))


class StripeEmulator:
    """A stateful, local imitation of the Stripe customers API for tests and local runs."""

    def __init__(self, port: int = 0, api_key: str | None = None) -> None:
        self.port = port
        self.api_key = api_key
        self.timeout_seconds = 2.0
        self.latency = 0.0
        self.keys = KeyRing(api_key)
        # Stripe keeps test-mode and live-mode data apart; the request's key picks the mode.
        self._stores = {TEST: CustomerStore(), LIVE: CustomerStore()}
        self._tax_id_stores = {TEST: TaxIdStore(), LIVE: TaxIdStore()}
        self._store, self._tax_ids = self._stores[TEST], self._tax_id_stores[TEST]
        self._idempotency = IdempotencyStore()
        self._faults = FaultInjector()
        self._log: list[dict[str, Any]] = []
        self._log_lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------------------
    def start(self) -> StripeEmulator:
        """Bind 127.0.0.1:port (0 = ephemeral) and serve in a background thread."""
        if self._server is not None:
            return self
        self._stopping.clear()
        self._server = _Server((HOST, self.port), _Handler, self)
        self.port = self._server.server_address[1]
        # A short poll interval keeps stop() fast (shutdown waits for the next poll).
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="stripe-emulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, wake held requests and close open connections."""
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> StripeEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (the real port once started)."""
        return f"http://{HOST}:{self.port}"

    # -- state for tests -----------------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget customers, idempotency keys, the request log, faults, latency and the write-overlap max."""
        for mode in (TEST, LIVE):
            self._stores[mode].reset()
            self._tax_id_stores[mode].reset()
        self._idempotency.reset()
        self._faults.clear()
        self.latency = 0.0
        with self._log_lock:
            self._log.clear()

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Copy of the Stripe API request log, oldest first (in memory only: it holds personal data)."""
        with self._log_lock:
            return copy.deepcopy(self._log)

    def write_requests(self) -> list[dict[str, Any]]:
        """The POST/DELETE subset of :attr:`requests`."""
        return [r for r in self.requests if r["method"] in ("POST", "DELETE")]

    def customers(self, include_deleted: bool = False, *, mode: str = TEST) -> list[dict[str, Any]]:
        """Stored customers of one mode, oldest first; deleted ones (if included) carry ``"deleted": True``."""
        return self._stores[mode].all(include_deleted)

    def customer(self, customer_id: str, *, mode: str = TEST) -> dict[str, Any] | None:
        """One stored customer (deleted ones carry ``"deleted": True``), or None if never created."""
        return self._stores[mode].get(customer_id)

    def add_key(self, key: str, permissions: dict[str, str] | None = None) -> None:
        """Accept ``key``: ``sk_live_…`` for live mode, ``rk_test_…`` / ``rk_live_…`` restricted to
        ``permissions`` (e.g. ``{"customers": "read"}``; levels none / read / write)."""
        self.keys.add(key, permissions)

    def tax_ids(self, customer_id: str) -> list[dict[str, Any]]:
        """The customer's tax ID objects, oldest first."""
        return self._tax_ids.of(customer_id)

    def add_tax_id(self, customer_id: str, tax_type: str, value: str) -> str:
        """Add a tax ID out of band, as someone in the dashboard would; returns its ``txi_`` id."""
        self._store.retrieve(customer_id)
        check_tax_id(tax_type, value)
        return str(self._tax_ids.create(customer_id, tax_type, value)["id"])

    def delete_customer(self, customer_id: str) -> None:
        """Delete a customer out of band, as someone clicking delete in the dashboard would.

        Raises KeyError for unknown or already deleted customers.
        """
        try:
            self._store.delete(customer_id)
        except ApiError as exc:
            raise KeyError(customer_id) from exc

    @property
    def max_concurrent_writes_per_customer(self) -> int:
        """Most writes (update/delete attempts) ever in flight at once for a single customer."""
        return self._store.max_concurrent_writes

    def inject(self, kind: str, count: int = 1, *, method: str | None = None, path_prefix: str | None = None) -> None:
        """Fail the next ``count`` matching Stripe API requests with ``kind`` (see faults.KINDS)."""
        self._faults.add_count(kind, count, method=method, path_prefix=path_prefix)

    def inject_rate(
        self,
        kind: str,
        rate: float,
        *,
        seed: int = 0,
        method: str | None = None,
        path_prefix: str | None = None,
    ) -> None:
        """Fail matching requests at random with probability ``rate`` until :meth:`clear_faults`."""
        self._faults.add_rate(kind, rate, seed=seed, method=method, path_prefix=path_prefix)

    def clear_faults(self) -> None:
        """Remove all counted and random fault rules."""
        self._faults.clear()

    # -- request pipeline ----------------------------------------------------------------------------------
    def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._stopping.wait(seconds)  # stop() wakes sleepers so shutdown stays fast

    def handle(self, method: str, target: str, headers: Message, body: bytes) -> _Outcome:
        """Handle one HTTP request (control endpoint or Stripe API) and decide the answer."""
        url = urlsplit(target)
        if url.path.startswith("/_emulator/"):
            return _control(self, method, url.path, url.query, body)
        raw = url.query if method in ("GET", "DELETE") else body.decode("utf-8", "replace")
        params = decode_form(parse_qsl(raw, keep_blank_values=True))
        req = _Request(method, url.path, params, headers, _new_request_id())
        entry: dict[str, Any] = {"method": method, "path": url.path, "params": params}
        entry["idempotency_key"] = headers.get("Idempotency-Key")
        entry |= {"status": None, "replayed": False, "customer_id": None, "error_code": None, "fault": None}
        outcome = self._pipeline(req, entry)
        outcome.headers.setdefault("Request-Id", req.request_id)
        entry["status"] = outcome.status
        if outcome.body and isinstance(outcome.body.get("error"), dict):
            entry["error_code"] = outcome.body["error"].get("code")
        with self._log_lock:
            self._log.append(entry)
        return outcome

    def _pipeline(self, req: _Request, entry: dict[str, Any]) -> _Outcome:
        try:
            req.api_key = authenticate(req.headers.get("Authorization"), lambda k: self.keys.lookup(k) is not None)
            key = self.keys.lookup(req.api_key)
            assert key is not None
            req.mode = key.mode
            operation, customer_id = route(req.method, req.path)
            _check_permission(key, req.method)
        except ApiError as exc:
            self._sleep(self.latency)
            return _error(exc)
        entry["customer_id"] = customer_id
        fault = entry["fault"] = self._faults.take(req.method, req.path)
        if fault == "timeout_before":
            return _Outcome(None, hold=self.timeout_seconds, drop=True)
        if fault in IMMEDIATE_KINDS:
            self._sleep(self.latency)
            return _error(fault_error(fault))
        outcome = self._idempotent(req, operation, customer_id, entry)
        if fault == "timeout_after":
            # Executed and stored under the key, but the client never hears back.
            outcome.hold, outcome.drop = self.timeout_seconds, True
        return outcome

    def _idempotent(self, req: _Request, operation: str, customer_id: str | None, entry: dict) -> _Outcome:
        key = req.headers.get("Idempotency-Key") if req.method == "POST" else None
        if not key:
            return self._execute(req, operation, customer_id, entry)[0]
        if len(key) > IDEMPOTENCY_KEY_MAX:
            self._sleep(self.latency)
            return _error(idempotency_error("too_long", key))
        scope = (req.api_key, key)
        fingerprint = IdempotencyStore.fingerprint(req.method, req.path, req.params)
        state, stored = self._idempotency.begin(scope, fingerprint)
        if state != "new":
            self._sleep(self.latency)
            return _idempotency_answer(state, stored, key, entry)
        outcome, executed = self._execute(req, operation, customer_id, entry)
        if executed and outcome.status is not None and outcome.body is not None:
            response = StoredResponse(
                outcome.status, outcome.body, req.request_id, dict(outcome.headers), entry["customer_id"]
            )
            self._idempotency.finish(scope, response)
        else:
            self._idempotency.release(scope)
        return outcome

    def _execute(self, req: _Request, operation: str, customer_id: str | None, entry: dict) -> tuple[_Outcome, bool]:
        """Run an operation; the flag says whether execution began (so the result belongs to the key)."""
        tracked = customer_id is not None and operation in WRITE_OPERATIONS
        store = self._stores[req.mode]
        # Why: the write counts as in flight from arrival (latency included), so two overlapping
        # writes to one customer are seen as such and the later one gets lock_timeout, as on Stripe.
        conflict = tracked and store.begin_write(customer_id or "")
        try:
            self._sleep(self.latency)
            if conflict:
                return _error(lock_timeout_error()), False
            try:
                params = validate_params(operation, req.params)
            except ApiError as exc:
                return _error(exc), False
            entry["params"] = params
            return self._run(req.mode, operation, customer_id, params, entry, tax_id_in(req.path)), True
        finally:
            if tracked:
                store.end_write(customer_id or "")

    def _run(
        self, mode: str, operation: str, customer_id: str | None, params: dict, entry: dict, tax_id: str | None = None
    ) -> _Outcome:
        store, tax_ids, cid, txi = self._stores[mode], self._tax_id_stores[mode], customer_id or "", tax_id or ""
        actions = {
            "create": lambda: create_customer(store, tax_ids, params),
            "tax_id_create": lambda: tax_id_operation(store, tax_ids, "create", cid, txi, params),
            "tax_id_list": lambda: tax_id_operation(store, tax_ids, "list", cid, txi, params),
            "tax_id_retrieve": lambda: tax_id_operation(store, tax_ids, "retrieve", cid, txi, params),
            "tax_id_delete": lambda: tax_id_operation(store, tax_ids, "delete", cid, txi, params),
            "list": lambda: store.list(params),
            "search": lambda: store.search(params),
            "retrieve": lambda: store.retrieve(cid),
            "update": lambda: store.update(cid, params),
            "delete": lambda: store.delete(cid),
        }
        try:
            body = actions[operation]()
            entry["customer_id"] = body["id"] if operation == "create" else customer_id
            return _Outcome(200, body)
        except ApiError as exc:
            other = LIVE if mode == TEST else TEST
            if exc.code == "resource_missing" and cid and self._stores[other].get(cid) is not None:
                return _error(other_mode_missing(cid, other))
            return _error(exc)
        except Exception:
            # Only the operation name is logged: params hold personal data.
            log.exception("stripe emulator: %s failed", operation)
            headers = {"Stripe-Should-Retry": "false"}  # stored under the key; a retry would only replay it
            return _error(ApiError(500, "An unknown error occurred.", type_="api_error", headers=headers))


def _check_permission(key: ApiKey, method: str) -> None:
    # Stripe's rule for restricted keys: GET needs Read, POST and DELETE need Write on the resource.
    key.require("customers", "read" if method == "GET" else "write")


def _idempotency_answer(state: str, stored: StoredResponse | None, key: str, entry: dict) -> _Outcome:
    if state == "replay" and stored is not None:
        entry["replayed"] = True
        entry["customer_id"] = stored.customer_id or entry["customer_id"]
        headers = {**stored.headers, "Idempotent-Replayed": "true", "Original-Request": stored.request_id}
        headers.pop("Request-Id", None)
        return _Outcome(stored.status, copy.deepcopy(stored.body), headers)
    return _error(idempotency_error(state, key))


def _control(emu: StripeEmulator, method: str, path: str, query: str, body: bytes) -> _Outcome:
    """``/_emulator/*``: the Python API's powers for other processes (unauthenticated: loopback only)."""
    flags = {k: v.lower() in ("1", "true", "yes") for k, v in parse_qsl(query)}
    try:
        payload = json.loads(body) if body.strip() else {}
        if not isinstance(payload, dict):
            raise ValueError("JSON body must be an object")
        result = _control_action(emu, method, path, flags, payload)
    except (ValueError, TypeError) as exc:
        return _Outcome(400, {"error": {"type": "invalid_request_error", "message": str(exc)}})
    if result is None:
        message = f"Unknown emulator endpoint ({method}: {path})"
        return _Outcome(404, {"error": {"type": "invalid_request_error", "message": message}})
    return _Outcome(200, result)


def _control_action(
    emu: StripeEmulator, method: str, path: str, flags: dict[str, bool], payload: dict[str, Any]
) -> dict[str, Any] | None:
    endpoint = (method, path.rstrip("/"))
    if endpoint == ("GET", "/_emulator/requests"):
        return {"data": emu.write_requests() if flags.get("writes") else emu.requests}
    if endpoint == ("GET", "/_emulator/customers"):
        mode = LIVE if flags.get("live") else TEST
        return {"data": emu.customers(include_deleted=flags.get("include_deleted", False), mode=mode)}
    if endpoint == ("GET", "/_emulator/stats"):
        return {
            "max_concurrent_writes_per_customer": emu.max_concurrent_writes_per_customer,
            "latency": emu.latency,
            "timeout_seconds": emu.timeout_seconds,
        }
    if endpoint == ("POST", "/_emulator/reset"):
        emu.reset()
    elif endpoint == ("POST", "/_emulator/faults"):
        emu.timeout_seconds = float(payload.get("timeout_seconds", emu.timeout_seconds))
        emu._faults.add_spec(payload)
    elif endpoint == ("DELETE", "/_emulator/faults"):
        emu.clear_faults()
    elif endpoint == ("POST", "/_emulator/keys"):
        emu.add_key(str(payload.get("key") or ""), payload.get("permissions"))
    elif endpoint == ("POST", "/_emulator/latency"):
        emu.latency = float(payload.get("seconds", 0.0))
    else:
        return None
    return {"ok": True}


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[_Handler], emulator: StripeEmulator) -> None:
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


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the SDK's pooled connections to Stripe
    timeout = 60  # drop idle keep-alive connections eventually
    server: _Server

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
        outcome.headers.setdefault("Request-Id", _new_request_id())
        data = json.dumps(outcome.body).encode()
        self.send_response(outcome.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Stripe-Version", STRIPE_VERSION)
        for name, value in outcome.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    do_POST = do_DELETE = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: request lines carry query strings (emails) and must not reach stdout/stderr."""
