"""Salesforce's restrictions on semi-join (``IN (SELECT …)``) and anti-join (``NOT IN (SELECT …)``) filters.

The parser accepts any subquery after ``IN``; Salesforce refuses several forms before running anything
(SOQL and SOSL Reference, "Comparison Operators" → "Semi-Join and Anti-Join Restrictions",
https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_select_comparisonoperators.htm):

- "No more than two IN or NOT IN statements per WHERE clause" (semi- and anti-joins together);
- "You can't use the NOT operator as a conjunction with semi-joins and anti-joins" (write ``NOT IN``);
- "You can't query on the same object in a subquery as in the main query";
- "You can't use subqueries in conjunction with OR" (a semi-join under parentheses, such as
  ``A AND (B OR Id IN (SELECT …))``, is answered "only allowed at the top level WHERE expressions");
- "COUNT, FOR UPDATE, ORDER BY, and LIMIT aren't supported in subqueries" (semi-join subqueries; a child
  relationship subquery in the SELECT list may sort and limit).

Each refusal is a ``MALFORMED_QUERY`` (HTTP 400) in Salesforce's caret layout. The messages for OR, a
semi-join in a nested WHERE expression, the same object and the count are the API's as its users report them
(e.g. the nested-WHERE one in https://www.apsona.com/docs/help-and-support/semijoin-subselect/); the reference
gives no wording for the NOT / ORDER BY / LIMIT / COUNT() / nested sub-select refusals, so those messages are ours
and name the restriction. A refused
query costs the whole call, as on Salesforce: nothing is evaluated.
"""

from __future__ import annotations

from collections.abc import Iterator

from .soql import BoolOp, Comparison, Cond, Not, Select, malformed

MAX_SEMI_JOINS = 2


def check(soql: str, query: Select) -> None:
    """Raise ``SalesforceError`` (400 MALFORMED_QUERY) if ``query``'s WHERE uses a semi-join Salesforce refuses."""
    if query.where is None:
        return
    joins = list(_semi_joins(query.where, parents=()))
    for cmp, parents in joins:
        sub = cmp.value
        assert isinstance(sub, Select)
        if parents and parents[-1] == "NOT":
            raise malformed(soql, sub.pos, "Semi join sub-selects are not allowed with the 'NOT' operator: use NOT IN")
        if len(parents) > 1:
            raise malformed(
                soql,
                sub.pos,
                "Semi join sub-selects are only allowed at the top level WHERE expressions and not in nested "
                "WHERE expressions.",
            )
        if parents == ("OR",):
            raise malformed(soql, sub.pos, "Semi join sub-selects are not allowed with the 'OR' operator")
        if sub.sobject.lower() == query.sobject.lower():
            raise malformed(soql, sub.sobject_pos, "The inner and outer selects should not be on the same object type")
        _check_subquery_clauses(soql, sub)
    if len(joins) > MAX_SEMI_JOINS:
        extra = joins[MAX_SEMI_JOINS][0].value
        assert isinstance(extra, Select)
        raise malformed(soql, extra.pos, f"Maximum {MAX_SEMI_JOINS} semi join sub-selects are allowed")


def _check_subquery_clauses(soql: str, sub: Select) -> None:
    if sub.count:
        raise malformed(soql, sub.pos, "COUNT() is not allowed in a semi join sub-select")
    if sub.order:
        raise malformed(soql, sub.order[0].path.pos, "ORDER BY is not allowed in a semi join sub-select")
    if sub.limit is not None or sub.offset is not None:
        raise malformed(soql, sub.pos, "LIMIT and OFFSET are not allowed in a semi join sub-select")
    if sub.where is not None and any(True for _ in _semi_joins(sub.where, parents=())):
        raise malformed(soql, sub.pos, "Nesting of semi join sub-selects is not supported")


def _semi_joins(cond: Cond, parents: tuple[str, ...]) -> Iterator[tuple[Comparison, tuple[str, ...]]]:
    """Each ``IN (SELECT …)`` comparison with the boolean operators above it (outermost first)."""
    if isinstance(cond, Comparison):
        if isinstance(cond.value, Select):
            yield cond, parents
    elif isinstance(cond, Not):
        yield from _semi_joins(cond.item, (*parents, "NOT"))
    elif isinstance(cond, BoolOp):
        for item in cond.items:
            yield from _semi_joins(item, (*parents, cond.op))
