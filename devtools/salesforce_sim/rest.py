"""REST resources under /services/data/vXX.X/ (query, sobjects, sObject Collections, describe, limits)."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from . import ids
from .errors import SalesforceError, not_found
from .event_relay import api_call
from .query import QueryEngine
from .record_faults import RecordFaults
from .schema import FieldDef, ObjectDef
from .security import EDIT, NONE, FieldSecurity
from .store import Record, Store
from .values import rest_value

MAX_COLLECTION_RECORDS = 200
DEFAULT_BATCH_SIZE = 2000  # Salesforce's default and maximum query batch ("Query Options Header")
MIN_BATCH_SIZE = 200  # Salesforce's minimum; tests that need tiny batches lower it (it is read per query)
_DATA_PATH = re.compile(r"^/services/data/v(?P<version>\d+\.\d)/(?P<rest>.*)$")
# API versions Salesforce serves: 21.0–30.0 were retired in Summer '25 ("SOAP API End-of-Life Policy",
# developer.salesforce.com/docs/platform/api/guide/api-eol-soap.html); the newest one is the org's release.
OLDEST_API_VERSION = 31.0
LATEST_API_VERSION = 66.0
Handler = Callable[[], tuple[int, Any]]


@dataclass
class Route:
    kind: str  # the api_calls key
    handler: Handler


def retired_version(version: str) -> tuple[int, Any]:
    """410 GONE for a retired API version: "If you request any resource or use an operation from a retired API
    version, REST API returns the 410:GONE error code" (REST API Developer Guide, "API End-of-Life",
    https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/api_rest_eol.htm; Help article
    000354473 for 21.0–30.0, retired in Summer '25). The body is not documented: the REST error array shape."""
    return 410, [{"message": f"API version {version} has been retired", "errorCode": "GONE"}]


def _parse_error(message: str) -> SalesforceError:
    return SalesforceError(400, "JSON_PARSER_ERROR", message)


class RestApi:
    """Maps a request to (kind, handler); handlers return (status, JSON body or None)."""

    def __init__(self, store: Store, id_factory: ids.IdFactory, daily_limit: int) -> None:
        self.security = FieldSecurity()
        self.latest_version = LATEST_API_VERSION
        self.store = store
        self.schema = store.schema
        self.engine = QueryEngine(store)
        self.faults = RecordFaults()  # per-record refusals of API writes (record_faults)
        self.daily_limit = daily_limit
        self.used = 0
        self._ids = id_factory
        self._cursors: dict[str, tuple[str, str, int, list[dict[str, Any]]]] = {}  # version, kind, batch, rows
        self._lock = threading.Lock()

    def route(
        self, method: str, path: str, query: str, body: Any, headers: dict[str, str], user: str | None = None
    ) -> Route | None:
        """The resource for a request made by ``user`` (the session's username; its field-level security);
        the changes it makes carry the call's ``changeOrigin`` in their change events (``call_origin``)."""
        found = self._route(method, path, query, body, headers, user)
        match = _DATA_PATH.match(path)
        if found is None or match is None or method == "GET":
            return found
        origin, handler = call_origin(match["version"], headers), found.handler

        def with_origin() -> tuple[int, Any]:
            with api_call(origin):
                return handler()

        return Route(found.kind, with_origin)

    def _route(
        self, method: str, path: str, query: str, body: Any, headers: dict[str, str], user: str | None = None
    ) -> Route | None:
        if path.rstrip("/") == "/services/data" and method == "GET":
            return Route("versions", self.versions)
        match = _DATA_PATH.match(path)
        if match is None:
            return None
        version, rest = match["version"], match["rest"]
        if float(version) < OLDEST_API_VERSION:
            return Route("retired_version", lambda: retired_version(version))
        if float(version) > self.latest_version:
            return None  # a version not yet released is an unknown resource (404 NOT_FOUND)
        parts = [p for p in rest.split("/") if p]
        params = parse_qs(query)
        if parts and parts[0] in ("query", "queryAll") and method == "GET":
            kind = parts[0]
            if len(parts) == 1:
                soql = params.get("q", [""])[0]
                return Route(kind, lambda: self.query(version, kind, soql, headers, user))
            if len(parts) == 2:
                return Route(kind, lambda: self.query_more(parts[1]))
        if parts[:1] == ["sobjects"] and len(parts) in (2, 3):
            return self._sobject_route(method, version, parts[1:], params, body, user, allow_save(headers))
        if parts == ["composite", "sobjects"] and method in ("PATCH", "POST"):
            save = allow_save(headers)
            if method == "PATCH":
                return Route("composite_patch", lambda: self.collection(body, False, user, allow_save=save))
            return Route("composite_post", lambda: self.collection(body, True, user, allow_save=save))
        if parts == ["limits"] and method == "GET":
            return Route("limits", self.limits)
        return None

    def _sobject_route(
        self,
        method: str,
        version: str,
        parts: list[str],
        params: dict[str, list[str]],
        body: Any,
        user: str | None,
        save: bool = False,
    ) -> Route | None:
        sobject = parts[0]
        if len(parts) == 1:
            if method == "POST":
                return Route("sobject_post", lambda: self.create(sobject, body))
            return None
        if parts[1] == "describe" and method == "GET":
            return Route("describe", lambda: self.describe(sobject, user))
        record_id = parts[1]
        if method == "GET":
            fields = params.get("fields", [""])[0]
            return Route("sobject_get", lambda: self.get(version, sobject, record_id, fields, user))
        if method == "PATCH":
            return Route("sobject_patch", lambda: self.patch(sobject, record_id, body, user, allow_save=save))
        if method == "DELETE":
            return Route("sobject_delete", lambda: self.delete(sobject, record_id))
        return None

    # ---- query ------------------------------------------------------------------------------------
    # ---- field-level security -----------------------------------------------------------------------
    def _visible(self, user: str | None) -> Callable[[ObjectDef, FieldDef], bool]:
        return lambda obj, fdef: self.security.readable(user, obj.name, fdef.name)

    def _access(self, user: str | None) -> Callable[[ObjectDef, FieldDef], str]:
        return lambda obj, fdef: self.security.access(user, obj.name, fdef.name)

    def query(
        self, version: str, kind: str, soql: str, headers: dict[str, str], user: str | None = None
    ) -> tuple[int, Any]:
        if not soql.strip():
            raise SalesforceError(400, "MALFORMED_QUERY", "A query string has to be specified")
        total, records = self.engine.run(soql, kind == "queryAll", version, self._visible(user))
        batch = DEFAULT_BATCH_SIZE
        option = re.search(r"batchSize=(\d+)", headers.get("sforce-query-options", ""))
        if option:
            batch = min(max(int(option[1]), MIN_BATCH_SIZE), DEFAULT_BATCH_SIZE)
        with self._lock:
            locator = self._ids.new("01g")
            self._cursors[locator] = (version, kind, batch, records)
            return 200, self._page(locator, 0, total)

    def _page(self, locator: str, offset: int, total: int) -> dict[str, Any]:
        version, kind, batch, records = self._cursors[locator]
        end = _batch_end(records, offset, batch)
        page: dict[str, Any] = {"totalSize": total, "done": end >= len(records)}
        if not page["done"]:
            page["nextRecordsUrl"] = f"/services/data/v{version}/{kind}/{locator}-{end}"
        else:
            self._cursors.pop(locator, None)
        page["records"] = records[offset:end]
        return page

    def query_more(self, token: str) -> tuple[int, Any]:
        locator, _, offset = token.partition("-")
        with self._lock:
            if locator not in self._cursors or not offset.isdigit():
                raise SalesforceError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
            records = self._cursors[locator][3]
            return 200, self._page(locator, int(offset), len(records))

    # ---- single records ---------------------------------------------------------------------------
    def _object(self, sobject: str) -> ObjectDef:
        obj = self.schema.get(sobject)
        if obj is None:
            raise not_found()
        return obj

    def _live(self, obj: ObjectDef, record_id: str) -> Record:
        record = self.store.find(obj.name, record_id)
        if record is None or record["IsDeleted"] or record["Id"][:3] != obj.prefix:
            raise not_found(record_id)
        return record

    def get(self, version: str, sobject: str, record_id: str, fields: str, user: str | None = None) -> tuple[int, Any]:
        obj = self._object(sobject)
        visible = self._visible(user)
        with self.store.lock:
            record = dict(self._live(obj, record_id))
        names = [f.name for f in obj.fields.values() if visible(obj, f)]
        if fields:
            wanted = [f.strip() for f in fields.split(",") if f.strip()]
            for name in wanted:
                fdef = obj.field(name)
                if fdef is None or not visible(obj, fdef):
                    raise SalesforceError(400, "INVALID_FIELD", f"No such column '{name}' on entity '{obj.name}'")
            names = ["Id", *(obj.field(n).name for n in wanted)]  # type: ignore[union-attr]
        out: dict[str, Any] = {
            "attributes": {"type": obj.name, "url": f"/services/data/v{version}/sobjects/{obj.name}/{record['Id']}"}
        }
        for name in dict.fromkeys(names):
            out[name] = rest_value(record.get(name))
        return 200, out

    def patch(
        self, sobject: str, record_id: str, body: Any, user: str | None = None, *, allow_save: bool = False
    ) -> tuple[int, Any]:
        obj = self._object(sobject)
        if not isinstance(body, dict):
            raise _parse_error("Expected a JSON object in the request body")
        with self.store.lock:
            record = self._live(obj, record_id)
            clean = self.store.validate(obj, body, creating=False, access=self._access(user), record_id=record["Id"])
            self.faults.check(obj.name, record["Id"], {**record, **clean}, allow_save=allow_save)
            old, new = self.store.apply(obj, record, clean)
        self.store.notify(obj.name, old, new)
        return 204, None

    def create(self, sobject: str, body: Any) -> tuple[int, Any]:
        obj = self._object(sobject)
        if not isinstance(body, dict):
            raise _parse_error("Expected a JSON object in the request body")
        record_id = self.store.create(obj.name, body, enforce_required=True)
        return 201, {"id": record_id, "success": True, "errors": []}

    def delete(self, sobject: str, record_id: str) -> tuple[int, Any]:
        obj = self._object(sobject)
        with self.store.lock:
            record = self._live(obj, record_id)
            self.store.delete(obj.name, record["Id"])
        return 204, None

    # ---- sObject Collections ----------------------------------------------------------------------
    def collection(
        self, body: Any, creating: bool, user: str | None = None, *, allow_save: bool = False
    ) -> tuple[int, Any]:
        """Update (PATCH) or create (POST) up to 200 records; 200 with per-record results in order."""
        if not isinstance(body, dict) or not isinstance(body.get("records"), list):
            raise _parse_error("Expected a JSON object with a 'records' array")
        records = body["records"]
        if len(records) > MAX_COLLECTION_RECORDS:
            raise SalesforceError(
                400, "EXCEEDED_ID_LIMIT", "record limit reached. cannot submit more than 200 records into this call"
            )
        if not all(isinstance(r, dict) for r in records):
            raise _parse_error("Each record must be a JSON object")
        objects = [self._record_type(r) for r in records]
        all_or_none = body.get("allOrNone") is True
        changes: list[tuple[str, Record | None, Record]] = []
        with self.store.lock:
            access = self._access(user)
            plans = [
                self._plan(obj, rec, creating, access, allow_save) for obj, rec in zip(objects, records, strict=True)
            ]
            failed = any(isinstance(p, SalesforceError) for p in plans)
            results = [self._result(p, all_or_none and failed, changes) for p in plans]
        for sobject, old, new in changes:
            self.store.notify(sobject, old, new)
        return 200, results

    def _record_type(self, record: dict[str, Any]) -> ObjectDef:
        attributes = record.get("attributes")
        sobject = attributes.get("type") if isinstance(attributes, dict) else None
        if not isinstance(sobject, str) or not sobject:
            raise SalesforceError(400, "INVALID_TYPE", "Each record must name its sObject type in attributes.type")
        obj = self.schema.get(sobject)
        if obj is None:
            raise SalesforceError(400, "INVALID_TYPE", f"sObject type '{sobject}' is not supported.")
        return obj

    def _plan(
        self, obj: ObjectDef, rec: dict[str, Any], creating: bool, access: Any = None, allow_save: bool = False
    ) -> Any:
        """(obj, live record or None, validated values, id) or the SalesforceError for this record."""
        values = {k: v for k, v in rec.items() if k not in ("attributes", "id", "Id")}
        try:
            if creating:
                clean = self.store.validate(obj, values, creating=True, access=access)
                self.faults.check(obj.name, "", clean, creating=True, allow_save=allow_save)
                return obj, None, clean, None
            raw_id = rec.get("id", rec.get("Id"))
            if not raw_id:
                raise SalesforceError(400, "MISSING_ARGUMENT", "Id not specified in an update call", [])
            canonical = ids.canonical(raw_id)
            if canonical is None or canonical[:3] != obj.prefix:
                raise SalesforceError(
                    400, "MALFORMED_ID", f"{obj.name} ID: id value of incorrect type: {raw_id}", ["Id"]
                )
            record = self.store.find(obj.name, canonical)
            if record is None:
                raise SalesforceError(400, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [])
            if record["IsDeleted"]:
                raise SalesforceError(400, "ENTITY_IS_DELETED", "entity is deleted", [])
            clean = self.store.validate(obj, values, creating=False, access=access, record_id=canonical)
            # A row lock, a validation rule, a duplicate rule, read-only mode…
            self.faults.check(obj.name, canonical, {**record, **clean}, allow_save=allow_save)
            return obj, record, clean, canonical
        except SalesforceError as error:
            error.record_id = ids.canonical(rec.get("id", rec.get("Id")))
            return error

    def _result(self, plan: Any, rolled_back: bool, changes: list[tuple[str, Record | None, Record]]) -> dict[str, Any]:
        if isinstance(plan, SalesforceError):
            result: dict[str, Any] = {"success": False, "errors": [plan.save_error()]}
            known_id = plan.record_id and plan.code != "MALFORMED_ID"
            return {"id": plan.record_id, **result} if known_id else result
        obj, record, clean, record_id = plan
        if rolled_back:
            error = SalesforceError(
                400,
                "ALL_OR_NONE_OPERATION_ROLLED_BACK",
                "Record rolled back because not all records were valid and the request was using AllOrNone header",
                [],
            )
            base = {"id": record_id} if record_id else {}
            return {**base, "success": False, "errors": [error.save_error()]}
        if record is None:
            new_id = self.store.create(obj.name, clean, enforce_required=False, notify=False)
            new = self.store.get(obj.name, new_id) or {}
            changes.append((obj.name, None, new))
            return {"id": new_id, "success": True, "errors": []}
        changes.append((obj.name, *self.store.apply(obj, record, clean)))
        return {"id": record_id, "success": True, "errors": []}

    # ---- metadata ----------------------------------------------------------------------------------
    def describe(self, sobject: str, user: str | None = None) -> tuple[int, Any]:
        """sObject Describe as the user sees it: hidden fields left out, read-only ones not updateable."""
        obj = self._object(sobject)
        access = self._access(user)
        levels = {f.name: access(obj, f) for f in obj.fields.values()}
        fields = [_describe_field(f, levels[f.name] == EDIT) for f in obj.fields.values() if levels[f.name] != NONE]
        children = [
            {"childSObject": child, "field": fk, "relationshipName": obj.child_names[rel]}
            for rel, (child, fk) in obj.children.items()
        ]
        return 200, {
            "name": obj.name,
            "keyPrefix": obj.prefix,
            "custom": obj.name.endswith("__c"),
            "fields": fields,
            "childRelationships": children,
        }

    def versions(self) -> tuple[int, Any]:
        """``GET /services/data/``: every API version the org serves, oldest first."""
        count = int(self.latest_version - OLDEST_API_VERSION) + 1
        listed = [OLDEST_API_VERSION + step for step in range(count)]
        return 200, [
            {"label": f"API {v:.1f}", "url": f"/services/data/v{v:.1f}", "version": f"{v:.1f}"} for v in listed
        ]

    def limits(self) -> tuple[int, Any]:
        remaining = max(self.daily_limit - self.used, 0)
        return 200, {"DailyApiRequests": {"Max": self.daily_limit, "Remaining": remaining}}


def call_origin(version: str, headers: dict[str, str]) -> str:
    """A REST call's ``changeOrigin``: "com/salesforce/api/rest/<version>", with ";client=<id>" when the call
    set ``Sforce-Call-Options: client=<id>`` (REST API Developer Guide, "Call Options Header":
    https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/headers_calloptions.htm; Change
    Data Capture Developer Guide, "Change Event Header Fields", changeOrigin)."""
    value = next((v for k, v in headers.items() if k.lower() == "sforce-call-options"), "")
    parts = [part.strip() for part in re.split(r"[,;]", value)]
    client = next((part.split("=", 1)[1] for part in parts if part.startswith("client=")), "")
    return f"com/salesforce/api/rest/{version}" + (f";client={client}" if client else "")


def allow_save(headers: dict[str, str]) -> bool:
    """The request's ``Sforce-Duplicate-Rule-Header: allowSave=true`` (REST API Developer Guide, "Duplicate
    Rule Header"; header names are case-insensitive)."""
    value = next((v for k, v in headers.items() if k.lower() == "sforce-duplicate-rule-header"), "")
    options = dict(part.strip().partition("=")[::2] for part in value.split(";") if part.strip())
    return options.get("allowSave", "").strip().lower() == "true"


def _describe_field(f: FieldDef, editable: bool) -> dict[str, Any]:
    """One entry of a describe's ``fields`` (the attributes this product reads, named as Salesforce does)."""
    return {
        "name": f.name,
        "label": f.name.removesuffix("__c").replace("_", " "),
        "type": f.type,
        "length": f.length or 0,
        "nillable": f.type != "boolean" and not f.required,
        "updateable": f.updateable and editable,
        "createable": f.updateable and editable,
        "calculated": False,
        "custom": f.name.endswith("__c"),
        "picklistValues": [],
        "referenceTo": [f.reference_to] if f.reference_to else [],
        "relationshipName": f.relationship_name,
    }


def _batch_end(records: list[dict[str, Any]], offset: int, batch: int) -> int:
    """Where the batch starting at ``offset`` ends: ``batch`` records, child records counted too.

    Salesforce, "Query Options Header" (REST API Developer Guide): batchSize is 200 to 2,000 (default 2,000),
    and "child objects count toward the number of records for the batch size. For example, in relationship
    queries, multiple child objects are returned per parent row returned." A parent row always fits.
    """
    end, weight = offset, 0
    while end < len(records):
        children = sum(
            len(value.get("records") or ())
            for value in records[end].values()
            if isinstance(value, dict) and "records" in value
        )
        if end > offset and weight + 1 + children > batch:
            break
        weight += 1 + children
        end += 1
    return end
