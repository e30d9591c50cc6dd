"""`SalesforceSimulator`: the Python API tying schema, store, auth, REST, outbound and the server together."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from . import ids
from .api_limits import ConcurrentRequests
from .auth import Auth
from .control import Control
from .errors import SalesforceError
from .event_relay import ENTITIES, EventCallback, EventRelay
from .hosts import InstanceHosts
from .outbound import Criteria, OutboundDispatcher, OutboundMessage
from .package import RecordFlowDef, SalesforcePackage, load_package
from .rest import RestApi
from .schema import Schema
from .server import FailureInjector, SimServer
from .store import Record, Store
from .tls import TlsMaterial, create_tls_material


class SalesforceSimulator:
    """A local Salesforce org over HTTPS on 127.0.0.1, served to simple-salesforce unchanged."""

    def __init__(
        self,
        port: int = 0,
        org_id: str | None = None,
        *,
        state_country_picklists: bool = False,
        cpq: bool = True,
        api_version: str = "59.0",
        daily_api_limit: int = 15000,
    ) -> None:
        canonical = ids.canonical(org_id) if org_id else ids.random_org_id()
        if canonical is None or not canonical.startswith("00D"):
            raise ValueError(f"org_id must be a 15/18-char 00D… id, got {org_id!r}")
        self.org_id = canonical
        self.api_version = api_version
        self.api_calls: Counter[str] = Counter()
        self.request_log: list[dict[str, Any]] = []
        self.schema = Schema(state_country_picklists, cpq)
        self._ids = ids.IdFactory()
        self.store = Store(self.schema, self._ids)
        self.store.org_id = self.org_id
        self.auth = Auth(self.org_id, self._ids)
        self.rest = RestApi(self.store, self._ids, daily_api_limit)
        self.outbound = OutboundDispatcher(self.store, self, self._ids)
        self.event_relays: list[EventRelay] = []
        self._commit_user = self._ids.new("005")  # the user change events name as commitUser
        self.store.on_change = self._changed
        self.store.on_delete = self._deleted
        self.control = Control(self)
        self.failures = FailureInjector()
        self.concurrency = ConcurrentRequests()  # other clients' long-running requests: occupy(n) / release()
        self._port = port
        self._lock = threading.Lock()
        self._package: SalesforcePackage | None = None
        self._custom_permissions: dict[str, set[str]] = {}  # username (lower) → custom permissions
        self._running = threading.local()  # the user whose change the store is making (REST calls)
        self._instance_url = ""
        self.hosts = InstanceHosts()
        self._server: SimServer | None = None
        self._thread: threading.Thread | None = None
        self._tls: TlsMaterial | None = None

    # ---- lifecycle ------------------------------------------------------------------------------
    def start(self) -> SalesforceSimulator:
        """Generate the TLS cert, bind 127.0.0.1 and serve in a background thread."""
        if self._server is not None:
            return self
        self._tls = create_tls_material()
        server = SimServer(self._port, self)
        # Handshake lazily in the handler thread, so one slow client cannot stall accept().
        server.socket = self._tls.server_context().wrap_socket(
            server.socket, server_side=True, do_handshake_on_connect=False
        )
        self._server = server
        self._instance_url = f"https://127.0.0.1:{server.server_address[1]}"
        self.hosts.instance_url = self.auth.instance_url = self._instance_url
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="sf-sim-http", daemon=True
        )
        self._thread.start()
        self.outbound.start()
        return self

    def stop(self) -> None:
        """Stop serving and delivering; removes the temp dir holding the cert and CA bundle."""
        self.outbound.stop()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server.close_connections()
            self._server = None
        if self._tls is not None:
            self._tls.remove()
            self._tls = None

    def __enter__(self) -> SalesforceSimulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def instance_url(self) -> str:
        """`https://127.0.0.1:PORT` (no trailing slash); available once started."""
        if not self._instance_url:
            raise RuntimeError("the simulator is not started")
        return self._instance_url

    def rename_instance(self, *, redirect: bool) -> str:
        """My Domain renamed (or the org moved): new logins get the new instance URL; the old host redirects
        REST requests there (``redirect``) or answers a 404 web page. Returns the new instance URL."""
        self._instance_url = self.auth.instance_url = self.hosts.rename(redirect=redirect)
        return self._instance_url

    @property
    def ca_bundle_path(self) -> str:
        """System CAs + the simulator's cert; point REQUESTS_CA_BUNDLE at it."""
        if self._tls is None:
            raise RuntimeError("the simulator is not started")
        return str(self._tls.ca_bundle_path)

    @property
    def cert_path(self) -> Path:
        if self._tls is None:
            raise RuntimeError("the simulator is not started")
        return self._tls.cert_path

    def info(self) -> dict[str, Any]:
        return {"instance_url": self.instance_url, "ca_bundle_path": self.ca_bundle_path, "org_id": self.org_id}

    # ---- records --------------------------------------------------------------------------------
    def create(self, sobject: str, fields: Mapping[str, Any]) -> str:
        """Insert a record (18-char id back); fires outbound messages. Required fields are not enforced."""
        return self.store.create(sobject, fields)

    def set_org_default(self, setting: str, values: Mapping[str, Any]) -> None:
        """An admin saves a hierarchy custom setting's org default (``$Setup`` in formulas; SOQL reads it as the
        setting's record whose ``SetupOwnerId`` is the org id); formulas follow."""
        self.store.set_org_default(setting, values)

    def quick_action(self, sobject: str, record_id: str, name: str, user: str | None = None) -> None:
        """A person presses the package's Update quick action ``name`` (e.g. ``Sync_to_Stripe_Now``) on a record.

        Its ``fieldOverrides`` are saved as ``user`` (a person, by default: no custom permission), so the
        record-triggered Flows run as for any edit in the UI. Formulas: ``NOW()`` only (QuickAction,
        Metadata API Developer Guide: "fieldOverrides — formula: the value of the field, as a formula").
        """
        action = (self._package or load_package()).quick_action(sobject, name)
        if action.type != "Update":
            raise ValueError(f"{sobject}.{name}: only Update quick actions are simulated")
        values: dict[str, Any] = {}
        for field_name, expression in action.field_overrides:
            if expression.replace(" ", "").upper() != "NOW()":
                raise ValueError(f"{sobject}.{name}: formula {expression!r} is not simulated")
            values[field_name] = self.store.next_stamp()
        with self.running_as(user):
            self.store.update(sobject, record_id, values)

    def update(self, sobject: str, record_id: str, fields: Mapping[str, Any]) -> None:
        """Update a record; always bumps LastModifiedDate/SystemModstamp; fires outbound messages."""
        self.store.update(sobject, record_id, fields)

    def get(self, sobject: str, record_id: str) -> Record | None:
        """A copy of the stored record (deleted ones too); datetimes are aware `datetime` objects."""
        return self.store.get(sobject, record_id)

    def delete(self, sobject: str, record_id: str) -> None:
        """Soft delete (IsDeleted = True): only queryAll sees it; no outbound message, a DELETE change event."""
        self.store.delete(sobject, record_id)

    def merge(
        self,
        sobject: str,
        winner_id: str,
        loser_ids: list[str],
        *,
        fire_outbound: bool = False,
        master_fields: Mapping[str, Any] | None = None,
    ) -> None:
        """Merge ≤ 2 losers into the winner: losers deleted with MasterRecordId, children reparented.

        ``master_fields`` are the values the master takes (the merge wizard's per-field choice, e.g. a loser's
        Stripe ID); see ``Store.merge``.

        Salesforce runs no workflow on merge, so no outbound message fires unless `fire_outbound`
        (then the winner's update fires like any other update). Change events always fire: DELETE for
        the losers, UPDATE for the winner.
        """
        changes = self.store.merge(sobject, winner_id, loser_ids, master_fields)
        for name, old, new in changes:
            if fire_outbound:
                self.store.notify(name, old, new)
            else:
                for relay in list(self.event_relays):
                    relay.on_change(name, old, new)

    def add_order_status(self, label: str, category: str = "Activated") -> None:
        """Add an org-defined Order Status value in a status category (see ``order_status``)."""
        self.schema.order_statuses.add(label, category)

    def load_system_fields(self, sobject: str, record_id: str, fields: Mapping[str, Any]) -> None:
        """Overwrite read-only values as a data migration leaves them (e.g. an activated order whose
        ``ActivatedDate`` is empty); no trigger, outbound message or change event fires."""
        with self.store.lock:
            record = self.store.live_record(self.schema.require(sobject), record_id)
            record.update(fields)

    def add_field(self, sobject: str, field_api_name: str, type: str = "string") -> None:
        """Add a custom field such as `Billing_Email__c` (type string by default)."""
        self.schema.add_field(sobject, field_api_name, type)

    # ---- sessions, credentials, failures ----------------------------------------------------------
    def issue_token(self, username: str = "") -> str:
        """A valid session id for `Salesforce(instance_url=…, session_id=…)`, running as `username` if given."""
        return self.auth.issue_token(username)

    def set_field_access(self, sobject: str, field_api_name: str, access: str, user: str | None = None) -> None:
        """Field-level security: `access` edit / read / none for `user` (username; None = every user).

        A hidden field disappears from describe and is "No such column" in SOQL and writes; a read-only
        one is described as not updateable and refused on write (see `security.py`).
        """
        self.schema.require(sobject)
        self.rest.security.set(sobject, field_api_name, access, user)

    def set_api_usage(self, used: int, daily_limit: int | None = None) -> None:
        """The org's API requests in the rolling 24 hours (other integrations' calls, or older calls ageing out
        of the window): what ``Sforce-Limit-Info`` and ``/limits`` report next; at the limit, calls are refused."""
        with self._lock:
            self.rest.used = used
            if daily_limit is not None:
                self.rest.daily_limit = daily_limit

    def expire_sessions(self) -> None:
        """Invalidate every issued token: the next REST call answers 401 INVALID_SESSION_ID."""
        self.auth.expire_sessions()

    def fail_next(self, kind: str, status: int = 503, count: int = 1) -> None:
        """The next `count` calls of `kind` ("query", "composite_patch", "token", "soap_login"…) answer `status`."""
        self.failures.add(kind, status, count)

    def add_connected_app(
        self,
        consumer_key: str,
        consumer_secret: str | None = None,
        public_key_pem: str | bytes | None = None,
        run_as: str | None = None,
        kind: str = "connected_app",
    ) -> None:
        """JWT bearer checks RS256 with `public_key_pem`; client credentials checks key:secret. ``kind``
        ``external_client_app`` follows that kind's login rules (auth.py)."""
        self.auth.add_connected_app(consumer_key, consumer_secret, public_key_pem, run_as, kind)

    def add_user(self, username: str, password: str, security_token: str = "") -> str:
        """A user for SOAP login / OAuth password flow (password + token); returns the 005… id."""
        return self.auth.add_user(username, password, security_token).user_id

    # ---- outbound messages ------------------------------------------------------------------------
    def add_outbound_message(
        self, name: str, sobject: str, fields: list[str], endpoint_url: str, criteria: Criteria | None = None
    ) -> OutboundMessage:
        """Define an outbound message; criteria(old_or_None, new) → bool, None = every create/update."""
        return self.outbound.define(name, sobject, fields, endpoint_url, criteria)

    def install_package(self, endpoint_url: str, package: SalesforcePackage | None = None) -> list[OutboundMessage]:
        """Deploy the package's Outbound Messages (`salesforce/`), sent to `endpoint_url` by its Flows.

        Each message fires when one of the active Flows that send it would run and reach it: its Start
        element's entry conditions (e.g. the Order's status category, StatusCode, becoming Activated) and its
        decisions (a field changed against ``$Record__Prior``; the running user lacks a custom permission, as
        ``$Permission`` checks: the REST session's user, see `assign_permission_set`).
        """
        package = package or load_package()
        self._package = package
        handles = []
        for message in package.outbound_messages:
            flows = [flow for flow in package.flows_sending(message) if flow.active]
            if not flows:
                continue
            criteria = _any_of([self._flow_criteria(flow) for flow in flows])
            handles.append(
                self.add_outbound_message(message.name, message.sobject, list(message.fields), endpoint_url, criteria)
            )
        return handles

    def assign_permission_set(self, username: str, name: str) -> None:
        """Give a user the package's permission set `name` (its custom permissions, as the Flows see them)."""
        permission_set = (self._package or load_package()).permission_sets.get(name)
        if permission_set is None:
            raise ValueError(f"no permission set {name} in salesforce/")
        with self._lock:
            self._custom_permissions.setdefault(username.lower(), set()).update(permission_set.custom_permissions)

    @contextmanager
    def running_as(self, username: str | None) -> Iterator[None]:
        """Changes made in this block are this user's (the REST server wraps each API call in it)."""
        previous = getattr(self._running, "user", None)
        self._running.user = username
        try:
            yield
        finally:
            self._running.user = previous

    def _has_permission(self, permission: str) -> bool:
        """`$Permission.<permission>` for the user running the current change (a person in the UI: none)."""
        user = getattr(self._running, "user", None)
        with self._lock:
            return bool(user) and permission in self._custom_permissions.get(str(user).lower(), set())

    def _flow_criteria(self, flow: RecordFlowDef) -> Criteria:
        permission = flow.skip_permission
        if permission is None:
            return flow.criteria()
        return lambda old, new: flow.fires(old, new) and not self._has_permission(permission)

    # ---- Event Relay (change data capture, platform events) ------------------------------------------
    def add_event_relay(
        self,
        callback: EventCallback,
        channel_id: str | None = None,
        order_event: str | None = "Stripe_Order_Activated__e",
        *,
        order_id_field: str | None = None,
        account_id_field: str | None = "",
        entities: tuple[str, ...] = ENTITIES,
    ) -> EventRelay:
        """Relay change events of `entities` and the order-activation platform event to `callback`.

        The callback gets each event as EventBridge delivers it from the partner event source
        `aws.partner/salesforce.com/<orgId>/<channelId>`; `order_event=None` publishes no platform event.
        The package's Flow publishes the event: when it runs (its entry conditions) and which order fields
        fill the event's fields come from `salesforce/`; `order_id_field` / `account_id_field` rename them
        (`account_id_field=None` leaves the account out).
        """
        publisher = _publisher(order_event)
        relay = EventRelay(
            self.org_id,
            callback,
            channel_id=channel_id or self._ids.new("0YL"),
            commit_user=self._commit_user,
            order_event=order_event,
            order_id_field=order_id_field or publisher.field_for("Id") or "OrderId__c",
            account_id_field=publisher.field_for("AccountId") if account_id_field == "" else account_id_field,
            entities=entities,
            api_version=self.api_version,
            activation=publisher.fires,
        )
        # Formula fields are calculated on read, never part of a change event ("Formula fields aren't
        # supported in Change Data Capture": Change Data Capture Developer Guide, "Change Event Trigger
        # Considerations"); read from the schema at each change, as a package adds fields later.
        relay.formula_fields = lambda sobject: {
            f.name for f in self.store.schema.require(sobject).fields.values() if f.formula is not None
        }
        self.event_relays.append(relay)
        return relay

    def _changed(self, sobject: str, old: Record | None, new: Record) -> None:
        self.outbound.on_change(sobject, old, new)
        for relay in list(self.event_relays):
            relay.on_change(sobject, old, new)

    def _deleted(self, sobject: str, record: Record) -> None:
        for relay in list(self.event_relays):
            relay.on_delete(sobject, record)

    # ---- bookkeeping used by the server -----------------------------------------------------------
    def count(self, kind: str, api: bool = False) -> int:
        """Count a call; REST calls also count against the daily limit. Returns API usage so far."""
        with self._lock:
            self.api_calls[kind] += 1
            if api:
                self.rest.used += 1
            return self.rest.used

    def snapshot(self) -> tuple[dict[str, int], list[dict[str, Any]]]:
        """Consistent copies of api_calls and request_log (the server appends concurrently)."""
        with self._lock:
            return dict(self.api_calls), list(self.request_log)

    def log_request(self, method: str, path: str, status: int, kind: str, body: Any) -> None:
        with self._lock:
            self.request_log.append({"method": method, "path": path, "status": status, "kind": kind, "body": body})


def _any_of(criteria: list[Criteria]) -> Criteria:
    if len(criteria) == 1:
        return criteria[0]
    return lambda old, new: any(c(old, new) for c in criteria)


@dataclass(frozen=True)
class _Publisher:
    """The package's Flow that publishes a platform event from an order: when, and which fields."""

    fires: Criteria
    assignments: dict[str, str]  # order field → event field

    def field_for(self, order_field: str) -> str | None:
        return self.assignments.get(order_field)


def _publisher(event: str | None) -> _Publisher:
    if event is None:
        return _Publisher(lambda old, new: False, {"Id": "OrderId__c"})
    flows = load_package().flows_publishing(event)
    if not flows:
        raise ValueError(f"no Flow in salesforce/ publishes {event}")
    assignments = dict(next(fields for name, fields in flows[0].publishes if name == event))
    return _Publisher(flows[0].criteria(), {source: target for target, source in assignments.items()})


__all__ = ["SalesforceError", "SalesforceSimulator"]
