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
from .query import QueryEngine
from .schema import ObjectDef
from .store import Record, Store
from .values import rest_value

MAX_COLLECTION_RECORDS = 200
DEFAULT_BATCH_SIZE = 2000
_DATA_PATH = re.compile(r"^/services/data/v(?P<version>\d+\.\d)/(?P<rest>.*)$")
Handler = Callable[[], tuple[int, Any]]


@dataclass
class Route:
    kind: str  # the api_calls key
    handler: Handler


def _parse_error(message: str) -> SalesforceError:
    return SalesforceError(400, "JSON_PARSER_ERROR", message)


class RestApi:
    """Maps a request to (kind, handler); handlers return (status, JSON body or None)."""

    def __init__(self, store: Store, id_factory: ids.IdFactory, daily_limit: int) -> None:
        self.store = store
        self.schema = store.schema
        self.engine = QueryEngine(store)
        self.daily_limit = daily_limit
        self.used = 0
        self._ids = id_factory
        self._cursors: dict[str, tuple[str, str, int, list[dict[str, Any]]]] = {}  # version, kind, batch, rows
        self._lock = threading.Lock()

    def route(self, method: str, path: str, query: str, body: Any, headers: dict[str, str]) -> Route | None:
        match = _DATA_PATH.match(path)
        if match is None:
            return None
        version, rest = match["version"], match["rest"]
        parts = [p for p in rest.split("/") if p]
        params = parse_qs(query)
        if parts and parts[0] in ("query", "queryAll") and method == "GET":
            kind = parts[0]
            if len(parts) == 1:
                soql = params.get("q", [""])[0]
                return Route(kind, lambda: self.query(version, kind, soql, headers))
            if len(parts) == 2:
                return Route(kind, lambda: self.query_more(parts[1]))
        if parts[:1] == ["sobjects"] and len(parts) in (2, 3):
            return self._sobject_route(method, version, parts[1:], params, body)
        if parts == ["composite", "sobjects"] and method in ("PATCH", "POST"):
            if method == "PATCH":
                return Route("composite_patch", lambda: self.collection(body, creating=False))
            return Route("composite_post", lambda: self.collection(body, creating=True))
        if parts == ["limits"] and method == "GET":
            return Route("limits", self.limits)
        return None

    def _sobject_route(
        self, method: str, version: str, parts: list[str], params: dict[str, list[str]], body: Any
    ) -> Route | None:
        sobject = parts[0]
        if len(parts) == 1:
            if method == "POST":
                return Route("sobject_post", lambda: self.create(sobject, body))
            return None
        if parts[1] == "describe" and method == "GET":
            return Route("describe", lambda: self.describe(sobject))
        record_id = parts[1]
        if method == "GET":
            fields = params.get("fields", [""])[0]
            return Route("sobject_get", lambda: self.get(version, sobject, record_id, fields))
        if method == "PATCH":
            return Route("sobject_patch", lambda: self.patch(sobject, record_id, body))
        if method == "DELETE":
            return Route("sobject_delete", lambda: self.delete(sobject, record_id))
        return None

    # ---- query ------------------------------------------------------------------------------------
    def query(self, version: str, kind: str, soql: str, headers: dict[str, str]) -> tuple[int, Any]:
        if not soql.strip():
            raise SalesforceError(400, "MALFORMED_QUERY", "A query string has to be specified")
        total, records = self.engine.run(soql, kind == "queryAll", version)
        batch = DEFAULT_BATCH_SIZE
        option = re.search(r"batchSize=(\d+)", headers.get("sforce-query-options", ""))
        if option:
            batch = min(max(int(option[1]), 200), DEFAULT_BATCH_SIZE)
        with self._lock:
            locator = self._ids.new("01g")
            self._cursors[locator] = (version, kind, batch, records)
            return 200, self._page(locator, 0, total)

    def _page(self, locator: str, offset: int, total: int) -> dict[str, Any]:
        version, kind, batch, records = self._cursors[locator]
        page: dict[str, Any] = {"totalSize": total, "done": offset + batch >= len(records)}
        if not page["done"]:
            page["nextRecordsUrl"] = f"/services/data/v{version}/{kind}/{locator}-{offset + batch}"
        else:
            self._cursors.pop(locator, None)
        page["records"] = records[offset : offset + batch]
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

    def get(self, version: str, sobject: str, record_id: str, fields: str) -> tuple[int, Any]:
        obj = self._object(sobject)
        with self.store.lock:
            record = dict(self._live(obj, record_id))
        names = obj.field_names()
        if fields:
            wanted = [f.strip() for f in fields.split(",") if f.strip()]
            for name in wanted:
                if obj.field(name) is None:
                    raise SalesforceError(400, "INVALID_FIELD", f"No such column '{name}' on entity '{obj.name}'")
            names = ["Id", *(obj.field(n).name for n in wanted)]  # type: ignore[union-attr]
        out: dict[str, Any] = {
            "attributes": {"type": obj.name, "url": f"/services/data/v{version}/sobjects/{obj.name}/{record['Id']}"}
        }
        for name in dict.fromkeys(names):
            out[name] = rest_value(record.get(name))
        return 200, out

    def patch(self, sobject: str, record_id: str, body: Any) -> tuple[int, Any]:
        obj = self._object(sobject)
        if not isinstance(body, dict):
            raise _parse_error("Expected a JSON object in the request body")
        with self.store.lock:
            record = self._live(obj, record_id)
            clean = self.store.validate(obj, body, creating=False)
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
    def collection(self, body: Any, creating: bool) -> tuple[int, Any]:
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
            plans = [self._plan(obj, rec, creating) for obj, rec in zip(objects, records, strict=True)]
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

    def _plan(self, obj: ObjectDef, rec: dict[str, Any], creating: bool) -> Any:
        """(obj, live record or None, validated values, id) or the SalesforceError for this record."""
        values = {k: v for k, v in rec.items() if k not in ("attributes", "id", "Id")}
        try:
            if creating:
                return obj, None, self.store.validate(obj, values, creating=True), None
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
            return obj, record, self.store.validate(obj, values, creating=False), canonical
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
    def describe(self, sobject: str) -> tuple[int, Any]:
        obj = self._object(sobject)
        fields = [
            {
                "name": f.name,
                "type": f.type,
                "length": f.length or 0,
                "nillable": f.type != "boolean" and not f.required,
                "updateable": f.updateable,
                "createable": f.updateable,
                "custom": f.name.endswith("__c"),
                "referenceTo": [f.reference_to] if f.reference_to else [],
                "relationshipName": f.relationship_name,
            }
            for f in obj.fields.values()
        ]
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

    def limits(self) -> tuple[int, Any]:
        remaining = max(self.daily_limit - self.used, 0)
        return 200, {"DailyApiRequests": {"Max": self.daily_limit, "Remaining": remaining}}
