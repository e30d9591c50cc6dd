"""HTTP side of the Stripe emulator: request pipeline, control endpoints and the ``StripeEmulator`` API."""

from __future__ import annotations

import copy
import logging
import re
import threading
from dataclasses import dataclass, field
from email.message import Message
from functools import partial
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from devtools.stripe_emulator.clock import EmulatorClock
from devtools.stripe_emulator.control import control
from devtools.stripe_emulator.faults import IMMEDIATE_KINDS, FaultInjector, fault_error, lock_timeout_error
from devtools.stripe_emulator.http_server import EmulatorHandler, EmulatorHTTPServer, new_request_id
from devtools.stripe_emulator.idempotency import (
    IDEMPOTENCY_KEY_MAX,
    IdempotencyStore,
    StoredResponse,
    idempotency_error,
)
from devtools.stripe_emulator.keys import LIVE, TEST, ApiKey, KeyRing, other_mode_missing
from devtools.stripe_emulator.store import CustomerStore
from devtools.stripe_emulator.stripe_tax import StripeTax, expanded
from devtools.stripe_emulator.tax_ids import TaxIdStore, check_tax_id, create_customer, tax_id_operation
from devtools.stripe_emulator.validation import (
    ApiError,
    authenticate,
    decode_form,
    resolve_version,
    route,
    tax_id_in,
    validate_params,
)

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
_CUSTOMER_PATH = re.compile(r"/v1/customers/[^/]+")
# Stripe: "Under normal operating conditions, data is searchable in less than a minute"
# (https://docs.stripe.com/search#data-freshness): the emulator's default search lag is that minute.
DEFAULT_SEARCH_LAG_SECONDS = 60.0
# Writes that lock the customer (a tax ID is created and deleted under its customer).
WRITE_OPERATIONS = ("update", "delete", "tax_id_create", "tax_id_delete")


@dataclass
class _Request:
    method: str
    path: str
    params: dict[str, Any]
    headers: Message
    request_id: str
    api_key: str = ""
    mode: str = TEST
    api_version: str = ""


@dataclass
class _Outcome:
    status: int | None  # None: nothing was executed or answered
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    hold: float = 0.0  # seconds to keep the connection before answering or dropping it
    drop: bool = False  # close the connection without answering (simulated network timeout)


def _error(exc: ApiError) -> _Outcome:
    return _Outcome(exc.status, exc.body, dict(exc.headers))


class StripeEmulator:
    """A stateful, local imitation of the Stripe customers API for tests and local runs."""

    def __init__(self, port: int = 0, api_key: str | None = None) -> None:
        self.port = port
        self.api_key = api_key
        self.timeout_seconds = 2.0
        self.latency = 0.0
        self.keys = KeyRing(api_key)
        # Stripe keeps test-mode and live-mode data apart; the request's key picks the mode.
        self.clock = EmulatorClock()
        self._stores = {mode: CustomerStore(self.clock.now, DEFAULT_SEARCH_LAG_SECONDS) for mode in (TEST, LIVE)}
        self._tax_id_stores = {TEST: TaxIdStore(), LIVE: TaxIdStore()}
        self.stripe_tax = {TEST: StripeTax(), LIVE: StripeTax()}  # Stripe Tax settings per mode
        self._store, self._tax_ids = self._stores[TEST], self._tax_id_stores[TEST]
        self._idempotency = IdempotencyStore(self.clock.now)
        self._faults = FaultInjector()
        self._log: list[dict[str, Any]] = []
        self._log_lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: EmulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------------------
    def start(self) -> StripeEmulator:
        """Bind 127.0.0.1:port (0 = ephemeral) and serve in a background thread."""
        if self._server is not None:
            return self
        self._stopping.clear()
        self._server = EmulatorHTTPServer((HOST, self.port), EmulatorHandler, self)
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
        """Forget customers, idempotency keys, the request log, faults, latency, the write-overlap max and
        the clock offset; the search lag returns to its default."""
        for mode in (TEST, LIVE):
            self._stores[mode].reset()
            self._stores[mode].search_lag_seconds = DEFAULT_SEARCH_LAG_SECONDS
            self._tax_id_stores[mode].reset()
            self.stripe_tax[mode].reset()
        self._idempotency.reset()
        self._faults.clear()
        self.clock.reset()
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

    def customer_deletions(self) -> list[dict[str, Any]]:
        """Logged API requests asking to delete a customer (``DELETE /v1/customers/{id}``, answered or not):
        what rule R12 says never happens."""
        return [r for r in self.requests if r["method"] == "DELETE" and _CUSTOMER_PATH.fullmatch(r["path"])]

    def customers(self, include_deleted: bool = False, *, mode: str = TEST) -> list[dict[str, Any]]:
        """Stored customers of one mode, oldest first; deleted ones (if included) carry ``"deleted": True``."""
        return self._stores[mode].all(include_deleted)

    def add_customer(self, params: dict[str, Any], *, mode: str = TEST) -> str:
        """Store a customer directly, without HTTP (seeding orgs of 100,000 for ``make bench``). Returns its id."""
        return str(self._stores[mode].create(params)["id"])

    def customer(self, customer_id: str, *, mode: str = TEST) -> dict[str, Any] | None:
        """One stored customer (deleted ones carry ``"deleted": True``), or None if never created."""
        return self._stores[mode].get(customer_id)

    def customer_tax(self, customer_id: str, *, mode: str = TEST) -> dict[str, Any]:
        """The customer's Stripe Tax view (its ``tax`` object: ``automatic_tax``, ``location``)."""
        return self.stripe_tax[mode].tax_object(self._stores[mode].retrieve(customer_id))

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

    def delete_tax_id(self, customer_id: str, tax_id: str) -> None:
        """Delete a tax ID out of band, as someone in the dashboard would; KeyError when unknown."""
        try:
            self._tax_ids.delete(customer_id, tax_id)
        except ApiError as exc:
            raise KeyError(tax_id) from exc

    def delete_customer(self, customer_id: str) -> None:
        """Delete a customer out of band, as someone clicking delete in the dashboard would.

        Raises KeyError for unknown or already deleted customers.
        """
        try:
            self._store.delete(customer_id)
        except ApiError as exc:
            raise KeyError(customer_id) from exc

    def advance_clock(self, seconds: float) -> None:
        """Move the emulator's clock forward: idempotency keys older than 24 h are pruned, search catches
        up, new customers get later ``created`` timestamps."""
        self.clock.advance(seconds)

    @property
    def search_lag_seconds(self) -> float:
        """How far (seconds, emulator clock) search results trail writes; 60 by default."""
        return self._store.search_lag_seconds

    @search_lag_seconds.setter
    def search_lag_seconds(self, seconds: float) -> None:
        for store in self._stores.values():
            store.search_lag_seconds = float(seconds)

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

    def slow_down(
        self, seconds: float, *, after: int = 0, method: str | None = None, path_prefix: str | None = None
    ) -> None:
        """After ``after`` matching requests, answer each further one ``seconds`` later, until cleared."""
        self._faults.add_slowdown(seconds, after=after, method=method, path_prefix=path_prefix)

    def refuse_param(self, param: str, code: str = "parameter_invalid_string") -> None:
        """Refuse every create or update sending ``param`` (bracketed) with a 400 naming it, until cleared."""
        self._faults.refuse_param(param, code)

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
            return _Outcome(*control(self, method, url.path, url.query, body))
        raw = url.query if method in ("GET", "DELETE") else body.decode("utf-8", "replace")
        params = decode_form(parse_qsl(raw, keep_blank_values=True))
        req = _Request(method, url.path, params, headers, new_request_id())
        entry: dict[str, Any] = {"method": method, "path": url.path, "params": params}
        entry["idempotency_key"] = headers.get("Idempotency-Key")
        entry["api_version"] = None
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
            req.api_version = entry["api_version"] = resolve_version(req.headers.get("Stripe-Version"))
            operation, customer_id = route(req.method, req.path)
            _check_permission(key, req.method)
        except ApiError as exc:
            self._sleep(self.latency)
            return _error(exc)
        entry["customer_id"] = customer_id
        self._sleep(self._faults.delay(req.method, req.path))
        fault = entry["fault"] = self._faults.take(req.method, req.path)
        if fault == "timeout_before":
            return _Outcome(None, hold=self.timeout_seconds, drop=True)
        if fault in IMMEDIATE_KINDS:
            self._sleep(self.latency)
            return _error(fault_error(fault))
        outcome = self._idempotent(req, operation, customer_id, entry, fault)
        outcome.headers["Stripe-Version"] = req.api_version
        if fault == "timeout_after":
            # Executed and stored under the key, but the client never hears back.
            outcome.hold, outcome.drop = self.timeout_seconds, True
        return outcome

    def _idempotent(
        self, req: _Request, operation: str, customer_id: str | None, entry: dict, fault: str | None
    ) -> _Outcome:
        key = req.headers.get("Idempotency-Key") if req.method == "POST" else None
        if not key:
            return self._execute(req, operation, customer_id, entry, fault)[0]
        if len(key) > IDEMPOTENCY_KEY_MAX:
            self._sleep(self.latency)
            return _error(idempotency_error("too_long", key))
        scope = (req.api_key, key)
        fingerprint = IdempotencyStore.fingerprint(req.method, req.path, req.params)
        state, stored = self._idempotency.begin(scope, fingerprint)
        if state != "new":
            self._sleep(self.latency)
            return _idempotency_answer(state, stored, key, entry)
        outcome, executed = self._execute(req, operation, customer_id, entry, fault)
        if executed and outcome.status is not None and outcome.body is not None:
            response = StoredResponse(
                outcome.status, outcome.body, req.request_id, dict(outcome.headers), entry["customer_id"]
            )
            self._idempotency.finish(scope, response)
        else:
            self._idempotency.release(scope)
        return outcome

    def _execute(
        self, req: _Request, operation: str, customer_id: str | None, entry: dict, fault: str | None
    ) -> tuple[_Outcome, bool]:
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
                params = validate_params(operation, req.params, req.api_version)
            except ApiError as exc:
                return _error(exc), False
            refused = self._faults.param_refusal(params) if operation in ("create", "update") else None
            if refused is not None:
                return _error(refused), False
            entry["params"] = params
            if fault == "server_error_during":
                return _error(fault_error(fault)), True
            outcome = self._run(req, operation, customer_id, params, entry)
            if fault == "server_error_after":
                return _error(fault_error(fault)), True  # it happened, but the answer is a 500
            return outcome, True
        finally:
            if tracked:
                store.end_write(customer_id or "")

    def _run(self, req: _Request, operation: str, customer_id: str | None, params: dict, entry: dict) -> _Outcome:
        mode, cid, txi = req.mode, customer_id or "", tax_id_in(req.path) or ""
        store, tax_ids, tax = self._stores[mode], self._tax_id_stores[mode], self.stripe_tax[mode]
        check = partial(tax.check, operation, params, req.api_version)
        actions = {
            "create": lambda: expanded(create_customer(store, tax_ids, params, check), params, tax),
            "tax_id_create": lambda: tax_id_operation(store, tax_ids, "create", cid, txi, params),
            "tax_id_list": lambda: tax_id_operation(store, tax_ids, "list", cid, txi, params),
            "tax_id_retrieve": lambda: tax_id_operation(store, tax_ids, "retrieve", cid, txi, params),
            "tax_id_delete": lambda: tax_id_operation(store, tax_ids, "delete", cid, txi, params),
            "list": lambda: store.list(params),
            "search": lambda: store.search(params),
            "retrieve": lambda: expanded(store.retrieve(cid), params, tax),
            "update": lambda: expanded(store.update(cid, params, check), params, tax),
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
