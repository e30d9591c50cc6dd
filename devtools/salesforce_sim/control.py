"""JSON control API under /_sim/ so other processes can drive the simulator (no auth; 127.0.0.1 only)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from .errors import SalesforceError
from .outbound import Criteria
from .schema import ObjectDef
from .store import Record
from .values import rest_value

if TYPE_CHECKING:
    from .simulator import SalesforceSimulator

Result = tuple[int, Any]


def build_criteria(spec: Any, obj: ObjectDef) -> Criteria | None:
    """Declarative criteria → callable(old, new).

    Forms: `{"field": F, "equals": V, "on": "always"|"change"|"create"}` ("change" = now matches and did
    not before, i.e. "created, and every time it's edited to subsequently meet criteria"; without
    `equals` it means "F changed"); `{"changed": [F, …]}`; `{"any": [...]}` / `{"all": [...]}`; null.
    """
    if spec is None:
        return None
    if not isinstance(spec, dict):
        raise ValueError("criteria must be an object or null")
    if "any" in spec or "all" in spec:
        parts = [build_criteria(s, obj) for s in spec.get("any") or spec.get("all") or []]
        combine = any if "any" in spec else all
        return lambda old, new: combine(p is None or p(old, new) for p in parts)
    if "changed" in spec:
        names = [_field(obj, f) for f in spec["changed"]]
        return lambda old, new: old is None or any(old.get(n) != new.get(n) for n in names)
    name = _field(obj, spec.get("field"))
    on = spec.get("on", "always")
    if "equals" not in spec:
        if on != "change":
            raise ValueError('criteria without \'equals\' needs "on": "change"')
        return lambda old, new: old is None or old.get(name) != new.get(name)
    wanted = spec["equals"]

    def matches(record: Record | None) -> bool:
        return record is not None and rest_value(record.get(name)) == wanted

    predicates: dict[str, Callable[[Record | None, Record], bool]] = {
        "always": lambda old, new: matches(new),
        "create": lambda old, new: old is None and matches(new),
        "change": lambda old, new: matches(new) and not matches(old),
    }
    if on not in predicates:
        raise ValueError(f"unknown criteria 'on': {on!r}")
    return predicates[on]


def _field(obj: ObjectDef, name: Any) -> str:
    fdef = obj.field(str(name)) if name else None
    if fdef is None:
        raise ValueError(f"No such field {name!r} on {obj.name}")
    return fdef.name


def _json_record(record: Record | None) -> Any:
    return None if record is None else {k: rest_value(v) for k, v in record.items()}


class Control:
    """Routes `/_sim/...` requests to the simulator's Python API."""

    def __init__(self, sim: SalesforceSimulator) -> None:
        self.sim = sim

    def handle(self, method: str, path: str, query: str, body: Any) -> Result:
        parts = [p for p in path.split("/") if p][1:]  # drop "_sim"
        data = body if isinstance(body, dict) else {}
        try:
            if parts[:1] == ["records"]:
                return self._records(method, parts[1:], data)
            if parts[:1] == ["outbound"]:
                return self._outbound(method, parts[1:], data)
            handler = self._simple(method, "/".join(parts), data, parse_qs(query))
            if handler is None:
                return 404, {"error": f"unknown control endpoint {method} {path}"}
            return handler()
        except SalesforceError as exc:
            return exc.status, exc.rest_body()
        except (ValueError, KeyError, TypeError) as exc:
            return 400, {"error": str(exc)}

    def _records(self, method: str, parts: list[str], data: dict[str, Any]) -> Result:
        sim = self.sim
        if len(parts) == 1 and method == "POST":
            return 201, {"id": sim.create(parts[0], data)}
        if len(parts) != 2:
            return 404, {"error": "use /_sim/records/{sobject}[/{id}]"}
        sobject, record_id = parts
        if method == "GET":
            record = sim.get(sobject, record_id)
            return (200, _json_record(record)) if record is not None else (404, {"error": "no such record"})
        if method == "PATCH":
            sim.update(sobject, record_id, data)
            return 200, {"id": record_id}
        if method == "DELETE":
            sim.delete(sobject, record_id)
            return 200, {"id": record_id}
        return 405, {"error": f"{method} not allowed"}

    def _outbound(self, method: str, parts: list[str], data: dict[str, Any]) -> Result:
        outbound = self.sim.outbound
        action = "/".join(parts)
        if method == "POST" and action == "":
            sobject = self.sim.schema.require(data["sobject"])
            handle = self.sim.add_outbound_message(
                data["name"], sobject.name, list(data.get("fields", [])), data["endpoint_url"],
                build_criteria(data.get("criteria"), sobject),
            )  # fmt: skip
            return 201, {"name": handle.name, "action_id": handle.action_id, "fields": handle.fields}
        if method == "GET" and action == "deliveries":
            return 200, list(outbound.deliveries)
        if method == "GET" and action == "pending":
            return 200, {"pending": outbound.pending()}
        if method == "POST" and action in ("pause", "resume"):
            getattr(outbound, action)()
            return 200, {"paused": action == "pause"}
        if method == "POST" and action == "send_now":
            wanted = set(data.get("record_ids") or [])
            return 200, outbound.send_now((lambda n: n["record_id"] in wanted) if wanted else None)
        if method == "POST" and action == "settings":
            for key in ("retry_base_seconds", "retry_max_seconds", "expire_after_seconds", "duplicate_rate"):
                if key in data:
                    setattr(outbound, key, float(data[key]))
            return 200, {"ok": True}
        return 404, {"error": f"unknown outbound endpoint {method} /{action}"}

    def _simple(
        self, method: str, action: str, data: dict[str, Any], params: dict[str, list[str]]
    ) -> Callable[[], Result] | None:
        sim = self.sim
        routes: dict[tuple[str, str], Callable[[], Result]] = {
            ("POST", "merge"): _done(
                lambda: sim.merge(
                    data.get("sobject", "Account"),
                    data["winner"],
                    list(data["losers"]),
                    master_fields=data.get("master_fields"),
                )
            ),
            ("POST", "expire_sessions"): _done(sim.expire_sessions),
            ("GET", "api_calls"): lambda: (200, sim.snapshot()[0]),
            ("GET", "request_log"): lambda: (200, sim.snapshot()[1]),
            ("GET", "info"): lambda: (200, sim.info()),
            ("POST", "tokens"): lambda: (201, {"access_token": sim.issue_token()}),
            ("POST", "fail_next"): _done(
                lambda: sim.fail_next(data["kind"], int(data.get("status", 503)), int(data.get("count", 1)))
            ),
            ("POST", "users"): lambda: (
                201,
                {"user_id": sim.add_user(data["username"], data["password"], data.get("security_token", ""))},
            ),
            ("POST", "connected_apps"): _done(
                lambda: sim.add_connected_app(
                    data["consumer_key"], data.get("consumer_secret"), data.get("public_key_pem"), data.get("run_as")
                )
            ),
            ("POST", "field_access"): _done(
                lambda: sim.set_field_access(data["sobject"], data["field"], data["access"], data.get("user"))
            ),
            ("POST", "quick_actions"): _done(
                lambda: sim.quick_action(data.get("sobject", "Account"), data["record_id"], data["action"])
            ),
            ("POST", "fields"): _done(
                lambda: sim.add_field(data["sobject"], data["field"], data.get("type", "string"))
            ),
        }
        return routes.get((method, action))


def _done(action: Callable[[], object]) -> Callable[[], Result]:
    """Wrap a command without a result into a handler answering `{"ok": true}`."""

    def run() -> Result:
        action()
        return 200, {"ok": True}

    return run
