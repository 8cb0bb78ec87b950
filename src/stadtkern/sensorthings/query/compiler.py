"""Compiling a $filter syntax tree into one SQLAlchemy boolean expression.

Null semantics follow OData 4.01 §5.1.1: `eq`/`ne` treat null as a value (null eq null is
true), `gt`/`ge`/`lt`/`le` are false when an operand is null, functions and arithmetic on
null give null, and `and`/`or`/`not` are three-valued; a row is selected when the filter is
true. Where only truth matters (under and/or up to the top) comparisons compile to plain SQL
operators, which indexes can serve; under `not` or as a value they compile exactly.
"""

from __future__ import annotations

from sqlalchemy import and_, cast, exists, not_, or_
from sqlalchemy import null as sql_null
from sqlalchemy.sql.elements import ColumnElement

from stadtkern.sensorthings.query.arithmetic import arithmetic
from stadtkern.sensorthings.query.comparisons import compare
from stadtkern.sensorthings.query.errors import QueryError
from stadtkern.sensorthings.query.expressions import (
    ARITHMETIC,
    COMPARISONS,
    Binary,
    Call,
    Expression,
    Literal,
    Negate,
    Not,
    Operator,
    Path,
)
from stadtkern.sensorthings.query.functions import SIGNATURES
from stadtkern.sensorthings.query.invocation import call
from stadtkern.sensorthings.query.kinds import NUMERIC, Kind
from stadtkern.sensorthings.query.operands import (
    Operand,
    bind_literal,
    json_as,
    sql_type,
    typed_null,
)
from stadtkern.sensorthings.query.properties import PropertyMap
from stadtkern.sensorthings.query.scope import Scope, paths_in


def compile_filter(expression: Expression, entity: PropertyMap) -> ColumnElement[bool]:
    """The WHERE condition of a parsed $filter on an entity; raises QueryError on type errors."""
    compiler = FilterCompiler(Scope(entity))
    return compiler.condition(expression, exact=False)


class FilterCompiler:
    """Compiles expressions within one scope of property paths."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    def condition(self, expression: Expression, *, exact: bool) -> ColumnElement[bool]:
        """A boolean expression as SQL; `exact` keeps false apart from null."""
        operand = self.value(expression, exact=exact)
        return as_boolean(operand, _position(expression)).sql

    def value(self, expression: Expression, *, exact: bool = True) -> Operand:
        """Any expression as SQL with its kind."""
        if _is_predicate(expression) and (bound := self._to_many(expression)) is not None:
            return bound
        if isinstance(expression, Literal):
            return bind_literal(expression)
        if isinstance(expression, Path):
            return self.scope.resolve(expression)
        if isinstance(expression, Not):
            operand = self.value(expression.operand)
            # `not a eq b` parses as `(not a) eq b`, which surprises; the hint says so.
            hint = "; not binds tighter than eq, so write not (a eq b)"
            operand = as_boolean(operand, expression.position, hint=hint)
            return Operand(not_(operand.sql), Kind.BOOLEAN)
        if isinstance(expression, Negate):
            return self._negate(expression)
        if isinstance(expression, Call):
            arguments = [self.value(argument) for argument in expression.arguments]
            return call(expression, arguments)
        return self._binary(expression, exact=exact)

    def _binary(self, node: Binary, *, exact: bool) -> Operand:
        if node.operator in (Operator.AND, Operator.OR):
            first = self.condition(node.left, exact=exact)
            second = self.condition(node.right, exact=exact)
            joined = and_(first, second) if node.operator is Operator.AND else or_(first, second)
            return Operand(joined, Kind.BOOLEAN)
        left, right = self.value(node.left), self.value(node.right)
        if node.operator in COMPARISONS:
            return Operand(compare(node, left, right, exact=exact), Kind.BOOLEAN)
        assert node.operator in ARITHMETIC  # noqa: S101 - the parser knows no other operators
        return arithmetic(node, left, right)

    def _negate(self, node: Negate) -> Operand:
        operand = self.value(node.operand)
        if operand.json is not None:
            operand = json_as(operand.json, Kind.NUMBER, node.position)
        if operand.kind is Kind.NULL:
            return typed_null(Kind.NUMBER)
        if operand.kind not in NUMERIC:
            raise QueryError(f"'-' needs a number, got {operand.kind}", node.position)
        return Operand(-operand.sql, operand.kind)

    def _to_many(self, expression: Expression) -> Operand | None:
        """An EXISTS over related rows when the expression reaches through a to-many hop."""
        for path in paths_in(expression):
            prefix = self.scope.unbound_to_many(path)
            if prefix is None:
                continue
            related, link = self.scope.join(prefix)
            inner = FilterCompiler(self.scope.bind(prefix, related))
            condition = inner.condition(expression, exact=False)
            # The link is a criterion of its own: and_(link, false()) would fold to false and
            # leave the EXISTS without a FROM (an error on both backends). Correlated
            # explicitly: a nested EXISTS may name the root entity two levels up, which
            # auto-correlation (the enclosing SELECT only) would cross join instead.
            related_rows = exists().where(link, condition).correlate_except(None)
            return Operand(related_rows, Kind.BOOLEAN)
        return None


def _is_predicate(expression: Expression) -> bool:
    if isinstance(expression, Binary):
        return expression.operator in COMPARISONS
    if isinstance(expression, Call):
        signatures = SIGNATURES[expression.name]
        return any(signature.result is Kind.BOOLEAN for signature in signatures)
    return isinstance(expression, Path)


def _position(expression: Expression) -> int:
    return expression.position


def as_boolean(operand: Operand, position: int, *, hint: str = "") -> Operand:
    """An operand where a boolean is required; JSON paths are read as JSON booleans."""
    if operand.json is not None:
        return json_as(operand.json, Kind.BOOLEAN, position)
    if operand.kind is Kind.NULL:
        return Operand(cast(sql_null(), sql_type(Kind.BOOLEAN)), Kind.BOOLEAN)
    if operand.kind is not Kind.BOOLEAN:
        raise QueryError(f"expected a boolean expression, got {operand.kind}{hint}", position)
    return Operand(operand.sql, Kind.BOOLEAN)
