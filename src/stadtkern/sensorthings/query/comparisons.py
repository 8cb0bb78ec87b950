"""The comparison operators, including JSON values, nulls and time intervals.

Intervals are closed, [start, end], and an instant t is the interval [t, t]. For intervals
or instants A and B:

| operator | true when |
|---|---|
| A eq B | A.start = B.start and A.end = B.end |
| A ne B | not (A eq B) |
| A lt B | A.end < B.start (A lies wholly before B) |
| A le B | A.end <= B.start |
| A gt B | A.start > B.end (A lies wholly after B) |
| A ge B | A.start >= B.end |

So `phenomenonTime gt 2026-01-01T00:00:00Z` selects intervals starting after that instant,
and with instants on both sides every operator means what it means for timestamps.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, and_, false, func, or_, true
from sqlalchemy.sql.elements import ColumnElement, Grouping

from stadtkern.sensorthings.query.errors import QueryError
from stadtkern.sensorthings.query.expressions import Binary, Operator
from stadtkern.sensorthings.query.kinds import JSON_SCALARS, NUMERIC, ORDERED, Kind, comparable
from stadtkern.sensorthings.query.operands import Operand, is_null, json_as
from stadtkern.sensorthings.query.per_dialect import PerDialect

Sql = ColumnElement[Any]
_ORDERING = {
    Operator.GT: lambda a, b: a > b,
    Operator.GE: lambda a, b: a >= b,
    Operator.LT: lambda a, b: a < b,
    Operator.LE: lambda a, b: a <= b,
}


def compare(node: Binary, left: Operand, right: Operand, *, exact: bool) -> ColumnElement[bool]:
    """The SQL of `left <op> right`; `exact` makes null-operand comparisons false, not null."""
    left, right = _resolve_json(node, left, right)
    operator = node.operator
    if Kind.NULL in (left.kind, right.kind):
        return _with_null(operator, left, right)
    if not comparable(left.kind, right.kind):
        raise QueryError(f"cannot compare {left.kind} with {right.kind}", node.position)
    if operator not in (Operator.EQ, Operator.NE) and left.kind not in ORDERED:
        raise QueryError(f"{left.kind} values have no order for {operator}", node.position)
    if left.kind is Kind.GEOMETRY:
        raise QueryError("compare geometries with st_equals", node.position)
    if Kind.INTERVAL in (left.kind, right.kind):
        return _intervals(operator, left, right, exact=exact)
    a, b = left.sql, right.sql
    if left.kind is Kind.BOOLEAN:
        # SQLAlchemy writes NOT x IS DISTINCT FROM y, which SQL reads as NOT (x IS ... y).
        a, b = Grouping(a), Grouping(b)
    if operator is Operator.EQ:
        if exact or (left.literal is None and right.literal is None):
            return a.is_not_distinct_from(b)
        return a == b
    if operator is Operator.NE:
        return a.is_distinct_from(b)
    if left.kind is Kind.STRING:
        # Code point order, as in Python and SQLite, whatever the database's collation.
        a = PerDialect(postgresql=a.collate("C"), sqlite=a, type_=String())
    return _exactly(_ORDERING[operator](a, b), exact=exact)


def _exactly(condition: Sql, *, exact: bool) -> Sql:
    return func.coalesce(condition, false()) if exact else condition


def _resolve_json(node: Binary, left: Operand, right: Operand) -> tuple[Operand, Operand]:
    if left.json is not None and right.json is not None:
        raise QueryError(
            "cannot compare two JSON values; compare one with a literal", node.position
        )
    if left.json is not None:
        return _json_like(node, left, right), right
    if right.json is not None:
        return left, _json_like(node, right, left)
    return left, right


def _json_like(node: Binary, json_operand: Operand, other: Operand) -> Operand:
    assert json_operand.json is not None  # noqa: S101 - checked by the caller
    if other.kind is Kind.NULL:
        return json_operand
    kind = Kind.NUMBER if other.kind in NUMERIC else other.kind
    if kind not in JSON_SCALARS:
        raise QueryError(f"cannot compare a JSON value with {other.kind}", node.position)
    return json_as(json_operand.json, kind, node.position)


def _with_null(operator: Operator, left: Operand, right: Operand) -> Sql:
    if left.kind is Kind.NULL and right.kind is Kind.NULL:
        # Even null ge null is false: the ordering operators are false with a null operand.
        return true() if operator is Operator.EQ else false()
    other = right if left.kind is Kind.NULL else left
    if operator is Operator.EQ:
        return is_null(other)
    if operator is Operator.NE:
        return ~is_null(other)
    return false()


def _bounds(operand: Operand) -> tuple[Sql, Sql]:
    return operand.sql, operand.end if operand.end is not None else operand.sql


def _intervals(operator: Operator, left: Operand, right: Operand, *, exact: bool) -> Sql:
    (a_start, a_end), (b_start, b_end) = _bounds(left), _bounds(right)
    if operator is Operator.EQ:
        return and_(a_start.is_not_distinct_from(b_start), a_end.is_not_distinct_from(b_end))
    if operator is Operator.NE:
        return or_(a_start.is_distinct_from(b_start), a_end.is_distinct_from(b_end))
    if operator in (Operator.LT, Operator.LE):
        condition = _ORDERING[operator](a_end, b_start)
    else:
        condition = _ORDERING[operator](a_start, b_end)
    return _exactly(condition, exact=exact)
