"""SOQL evaluation: binds a parsed query to the schema, filters, sorts and renders REST records."""

from __future__ import annotations

import functools
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import ids, semi_joins
from .errors import SalesforceError
from .schema import TEXT_TYPES, FieldDef, ObjectDef
from .soql import BoolOp, Comparison, Cond, Literal, Not, Path, Select, malformed, parse
from .store import Record, Store
from .values import rest_value

MAX_RELATIONSHIP_DEPTH = 5
LONG_TEXT_AREA = 255  # a textarea longer than this is a Long Text Area: not filterable, not sortable
_TYPE_NAMES = {"boolean": "boolean", "datetime": "dateTime", "date": "date", "double": "double"}
Predicate = Callable[[Record], bool]
# The running user's field-level security: may this field be seen?
Visible = Callable[[ObjectDef, FieldDef], bool]


@dataclass
class BoundPath:
    """A field path resolved to the lookups it walks and the final field."""

    rels: list[FieldDef]
    field: FieldDef

    @property
    def key(self) -> str:
        return ".".join([*(r.relationship_name or "" for r in self.rels), self.field.name]).lower()


@dataclass
class ChildPlan:
    rel_name: str
    foreign_key: str
    plan: Plan


@dataclass
class Plan:
    obj: ObjectDef
    columns: list[BoundPath | ChildPlan] = field(default_factory=list)
    where: Predicate | None = None
    order: list[tuple[BoundPath, bool, bool]] = field(default_factory=list)
    limit: int | None = None
    offset: int | None = None
    count: bool = False


class QueryEngine:
    """Runs queries against the store (callers hold `store.lock` for a consistent snapshot)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.schema = store.schema
        self.tie_rng = random.Random()  # order of rows whose ORDER BY values tie (seed it to replay a run)

    def run(
        self, soql: str, include_deleted: bool, version: str, visible: Visible | None = None
    ) -> tuple[int, list[dict[str, Any]]]:
        """(totalSize, rendered records); COUNT() queries return (count, []).

        ``visible(object, field)`` is the running user's field-level security: a field it hides is
        "No such column", as Salesforce answers.
        """
        with self.store.lock:
            ast = parse(soql)
            semi_joins.check(soql, ast)
            binder = _Binder(self, soql, include_deleted, visible or (lambda obj, fdef: True))
            plan = binder.bind(ast, self._object(soql, ast), nested=False)
            rows = self.execute(plan, None, include_deleted)
            if plan.count:
                return len(rows), []
            return len(rows), [self.render(plan, row, include_deleted, version) for row in rows]

    def _object(self, soql: str, ast: Select) -> ObjectDef:
        obj = self.schema.get(ast.sobject)
        if obj is None:
            raise malformed(
                soql,
                ast.sobject_pos,
                f"sObject type '{ast.sobject}' is not supported. If you are attempting to use a custom object, "
                "be sure to append the '__c' after the entity name. Please reference your WSDL or the describe "
                "call for the appropriate names.",
                "INVALID_TYPE",
            )
        return obj

    def value(self, path: BoundPath, record: Record | None) -> Any:
        """Follow the lookups of `path` from `record`; None as soon as a lookup is empty."""
        for rel in path.rels:
            if record is None:
                return None
            record = self.store.find(rel.reference_to or "", record.get(rel.name))
        return None if record is None else record.get(path.field.name)

    def execute(self, plan: Plan, parent_id: tuple[str, str] | None, include_deleted: bool) -> list[Record]:
        rows = [
            r
            for r in self.store.records(plan.obj.name).values()
            if (include_deleted or not r["IsDeleted"])
            and (parent_id is None or r.get(parent_id[0]) == parent_id[1])
            and (plan.where is None or plan.where(r))
        ]
        if plan.order:
            # "ORDER BY isn't guaranteed to return rows in the same order when values tie" (SOQL reference):
            # shuffled before the stable sort, so a query without a unique tiebreaker shows it in tests.
            self.tie_rng.shuffle(rows)
            rows.sort(key=functools.cmp_to_key(lambda a, b: self._compare(plan, a, b)))
        start = plan.offset or 0
        return rows[start : start + plan.limit if plan.limit is not None else None]

    def _compare(self, plan: Plan, a: Record, b: Record) -> int:
        for path, desc, nulls_first in plan.order:
            va, vb = _norm(self.value(path, a)), _norm(self.value(path, b))
            if va == vb:
                continue
            if va is None or vb is None:
                return (-1 if va is None else 1) * (1 if nulls_first else -1)
            result = -1 if va < vb else 1
            return -result if desc else result
        return 0

    def render(self, plan: Plan, record: Record, include_deleted: bool, version: str) -> dict[str, Any]:
        """Record JSON: attributes first, then the selected fields in SELECT order."""
        out = _attributes(plan.obj.name, record["Id"], version)
        for column in plan.columns:
            if isinstance(column, ChildPlan):
                out[column.rel_name] = self._render_children(column, record, include_deleted, version)
            else:
                self._place(out, column, record, version)
        return out

    def _render_children(
        self, child: ChildPlan, record: Record, include_deleted: bool, version: str
    ) -> dict[str, Any] | None:
        rows = self.execute(child.plan, (child.foreign_key, record["Id"]), include_deleted)
        if not rows:
            return None  # an empty child subquery is null, not an empty list
        records = [self.render(child.plan, r, include_deleted, version) for r in rows]
        return {"totalSize": len(records), "done": True, "records": records}

    def _place(self, out: dict[str, Any], path: BoundPath, record: Record, version: str) -> None:
        target: dict[str, Any] | None = out
        current: Record | None = record
        for rel in path.rels:
            key = rel.relationship_name or rel.name
            assert target is not None and current is not None
            if key not in target:
                parent = self.store.find(rel.reference_to or "", current.get(rel.name))
                target[key] = None if parent is None else _attributes(rel.reference_to or "", parent["Id"], version)
            if target[key] is None:
                return  # null lookup: the relationship key stays present with null
            target = target[key]
            current = self.store.find(rel.reference_to or "", current.get(rel.name))
        assert target is not None and current is not None
        target[path.field.name] = rest_value(current.get(path.field.name))


def _attributes(sobject: str, record_id: str, version: str) -> dict[str, Any]:
    return {"attributes": {"type": sobject, "url": f"/services/data/v{version}/sobjects/{sobject}/{record_id}"}}


def _norm(value: Any) -> Any:
    # Text comparisons and sorting in SOQL are case-insensitive.
    return value.lower() if isinstance(value, str) else value


class _Binder:
    """Resolves names against the schema and compiles WHERE clauses into predicates."""

    def __init__(self, engine: QueryEngine, soql: str, include_deleted: bool, visible: Visible) -> None:
        self.visible = visible
        self.engine = engine
        self.schema = engine.schema
        self.soql = soql
        self.include_deleted = include_deleted

    def bind(self, ast: Select, obj: ObjectDef, nested: bool) -> Plan:
        plan = Plan(obj, limit=ast.limit, offset=ast.offset, count=ast.count)
        if ast.count and nested:
            raise malformed(self.soql, ast.pos, "COUNT() is not allowed in a subquery")
        seen: set[str] = set()
        for item in ast.items:
            column: BoundPath | ChildPlan = self.child(item, obj) if isinstance(item, Select) else self.path(obj, item)
            key = column.key if isinstance(column, BoundPath) else column.rel_name.lower()
            if key in seen:
                name = item.text if isinstance(item, Path) else column.rel_name  # type: ignore[union-attr]
                raise SalesforceError(400, "INVALID_FIELD", f"duplicate field selected: {name}")
            seen.add(key)
            plan.columns.append(column)
        plan.where = self.condition(obj, ast.where) if ast.where is not None else None
        plan.order = [
            (self.filterable(self.path(obj, o.path), o.path, "sorted"), o.desc, o.nulls_first) for o in ast.order
        ]
        return plan

    def child(self, ast: Select, obj: ObjectDef) -> ChildPlan:
        rel = obj.children.get(ast.sobject.lower())
        if rel is None:
            raise malformed(
                self.soql,
                ast.sobject_pos,
                f"Didn't understand relationship '{ast.sobject}' in FROM part of query call. If you are "
                "attempting to use a custom relationship, be sure to append the '__r' after the custom "
                "relationship name. Please reference your WSDL or the describe call for the appropriate names.",
                "INVALID_TYPE",
            )
        child_obj = self.schema.require(rel[0])
        return ChildPlan(obj.child_names[ast.sobject.lower()], rel[1], self.bind(ast, child_obj, nested=True))

    def path(self, obj: ObjectDef, path: Path) -> BoundPath:
        parts = path.parts
        if len(parts) > 1 and parts[0].lower() == obj.name.lower() and obj.parent_relationship(parts[0]) is None:
            parts = parts[1:]  # `Account.Name` on Account: the object name as a qualifier
        if len(parts) - 1 > MAX_RELATIONSHIP_DEPTH:
            raise malformed(
                self.soql,
                path.pos,
                "SOQL statements cannot query relationships that are more than 5 levels away from the root "
                "entity object.",
            )
        rels: list[FieldDef] = []
        current = obj
        for rel_name in parts[:-1]:
            rel = current.parent_relationship(rel_name)
            if rel is None or not self.visible(current, rel):
                raise malformed(
                    self.soql,
                    path.pos,
                    f"Didn't understand relationship '{rel_name}' in field path. If you are attempting to use a "
                    "custom relationship, be sure to append the '__r' after the custom relationship name. Please "
                    "reference your WSDL or the describe call for the appropriate names.",
                    "INVALID_FIELD",
                )
            rels.append(rel)
            current = self.schema.require(rel.reference_to or "")
        fdef = current.field(parts[-1])
        if fdef is None or not self.visible(current, fdef):
            raise malformed(
                self.soql,
                path.pos,
                f"No such column '{parts[-1]}' on entity '{current.name}'. If you are attempting to use a custom "
                "field, be sure to append the '__c' after the custom field name. Please reference your WSDL or "
                "the describe call for the appropriate names.",
                "INVALID_FIELD",
            )
        return BoundPath(rels, fdef)

    def condition(self, obj: ObjectDef, cond: Cond) -> Predicate:
        if isinstance(cond, BoolOp):
            preds = [self.condition(obj, c) for c in cond.items]
            if cond.op == "AND":
                return lambda r: all(p(r) for p in preds)
            return lambda r: any(p(r) for p in preds)
        if isinstance(cond, Not):
            inner = self.condition(obj, cond.item)
            return lambda r: not inner(r)
        return self.comparison(obj, cond)

    def filterable(self, path: BoundPath, at: Path, verb: str = "filtered") -> BoundPath:
        """``path`` when Salesforce filters and sorts on its field; a long text area (a ``textarea`` longer
        than 255 characters, e.g. Account.Description) it refuses: describe reports ``filterable`` and
        ``sortable`` false, and the SOQL reference says "You can't filter against the content of textarea
        fields" (Relationship Query Limitations:
        https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_relationships_query_limits.htm).
        """
        if path.field.type == "textarea" and (path.field.length or 0) > LONG_TEXT_AREA:
            message = f"field '{path.field.name}' can not be {verb} in a query call"
            raise malformed(self.soql, at.pos, message, "INVALID_FIELD")
        return path

    def comparison(self, obj: ObjectDef, cmp: Comparison) -> Predicate:
        path = self.filterable(self.path(obj, cmp.path), cmp.path)
        get = functools.partial(self.engine.value, path)
        if isinstance(cmp.value, Select):
            allowed = self.semi_join(path, cmp.value)
            negate = cmp.op == "NOT IN"
            return lambda r: (get(r) in allowed) != negate
        if isinstance(cmp.value, list):
            values = {_norm(self.literal(path.field, lit, cmp.path)) for lit in cmp.value}
            negate = cmp.op == "NOT IN"
            return lambda r: (_norm(get(r)) in values) != negate
        if cmp.op == "LIKE":
            return self.like(path, cmp)
        wanted = _norm(self.literal(path.field, cmp.value, cmp.path))
        return _operator(cmp.op, get, wanted)

    def semi_join(self, path: BoundPath, sub: Select) -> set[Any]:
        if path.field.type not in ("id", "reference"):
            raise malformed(self.soql, sub.pos, f"Invalid field for semi/anti join: {path.field.name}")
        inner_obj = self.engine._object(self.soql, sub)
        plan = self.bind(sub, inner_obj, nested=True)
        if len(plan.columns) != 1 or not isinstance(plan.columns[0], BoundPath):
            raise malformed(self.soql, sub.pos, "The inner select field must be a single field")
        column = plan.columns[0]
        rows = self.engine.execute(plan, None, include_deleted=False)
        return {self.engine.value(column, row) for row in rows} - {None}

    def like(self, path: BoundPath, cmp: Comparison) -> Predicate:
        lit = cmp.value
        assert isinstance(lit, Literal)
        if path.field.type not in TEXT_TYPES or lit.kind != "string":
            raise malformed(self.soql, cmp.pos, f"invalid operator on field: {path.field.name}", "INVALID_FIELD")
        pattern = "".join(_like_piece(piece) for piece in re.split(r"(\\[%_]|[%_])", lit.value))
        regex = re.compile(pattern, re.IGNORECASE | re.DOTALL)
        return lambda r: isinstance(v := self.engine.value(path, r), str) and regex.fullmatch(v) is not None

    def literal(self, fdef: FieldDef, lit: Literal, at: Path) -> Any:
        """Check that the literal's type fits the field, as Salesforce does at parse time."""
        if lit.kind == "null":
            return None
        if fdef.type in ("id", "reference"):
            canonical = ids.canonical(lit.value) if lit.kind == "string" else None
            if canonical is None:
                raise malformed(self.soql, lit.pos, f"invalid ID field: {lit.value}", "INVALID_QUERY_FILTER_OPERATOR")
            return canonical
        expected = "string" if fdef.type in TEXT_TYPES else "number" if fdef.type == "double" else fdef.type
        if lit.kind != expected:
            type_name = _TYPE_NAMES.get(fdef.type, "string")
            quoted = "be enclosed in quotes" if expected == "string" else "not be enclosed in quotes"
            raise malformed(
                self.soql,
                lit.pos,
                f"value of filter criterion for field '{at.text}' must be of type {type_name} and should {quoted}",
                "INVALID_QUERY_FILTER_OPERATOR",
            )
        return float(lit.value) if expected == "number" else lit.value


def _like_piece(piece: str) -> str:
    """LIKE wildcards: % any run, _ one char; \\% and \\_ are literal."""
    if piece == "%":
        return ".*"
    if piece == "_":
        return "."
    return re.escape(piece[1:] if piece in ("\\%", "\\_") else piece)


def _operator(op: str, get: Callable[[Record], Any], wanted: Any) -> Predicate:
    if op == "=":
        return lambda r: _norm(get(r)) == wanted
    if op == "!=":
        return lambda r: _norm(get(r)) != wanted

    def ordered(r: Record) -> bool:
        value = _norm(get(r))
        if value is None or wanted is None:
            return False  # null never compares with < > <= >=
        if op == "<":
            return bool(value < wanted)
        if op == ">":
            return bool(value > wanted)
        if op == "<=":
            return bool(value <= wanted)
        return bool(value >= wanted)

    return ordered
